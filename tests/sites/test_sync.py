"""``setpiece repo sync``: a closure replicated between two sites' folder repos."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

WHEELS = ["chair-0.1.0-py3-none-any.whl", "kitchenset-1.0.0-py3-none-any.whl",
          "table-1.0.0-py3-none-any.whl"]


def _objects(repo: Path) -> dict[str, bytes]:
    root = repo / "files" / "md5"
    return {f"{p.parent.name}{p.name}": p.read_bytes() for p in root.glob("*/*")
            if not p.name.startswith(".")} if root.is_dir() else {}


def _wheels(repo: Path) -> list[str]:
    return sorted(p.name for p in repo.glob("*.whl"))


def _events(repo: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (repo / ".setpiece" / "events").glob("2*/*/*.json")}


def test_sync_a_closure_then_nothing_moves_again(two_sites: Any, run_cli: Any) -> None:
    s = two_sites
    ws = s.london.root
    dry = run_cli("-w", ws, "repo", "sync", "london", "mumbai", "KitchenSet[build]", "--dry-run",
                  "--json")
    assert dry.exit_code == 0, dry.err
    plan = dry.json()
    assert (plan["versions"], plan["wheels"], plan["objects"], plan["events"]) == (3, 3, 5, 3)
    assert _wheels(s.mumbai_repo) == [] and _objects(s.mumbai_repo) == {}  # a dry run moves nothing

    r = run_cli("-w", ws, "repo", "sync", "london", "mumbai", "KitchenSet[build]")
    assert r.exit_code == 0, r.err
    assert "copied 3 wheel(s)" in r.out and "5 file(s)" in r.out and "3 event(s)" in r.out
    assert "Copying" not in r.err  # progress only on a terminal
    # the closure, not Lamp; byte-identical wheels; every object with its md5 name
    assert _wheels(s.mumbai_repo) == WHEELS
    for name in WHEELS:
        assert (s.mumbai_repo / name).read_bytes() == (s.london_repo / name).read_bytes()
    objects = _objects(s.mumbai_repo)
    assert len(objects) == 5
    for md5, data in objects.items():
        assert hashlib.md5(data).hexdigest() == md5.removesuffix(".dir")
    assert set(objects) <= set(_objects(s.london_repo))
    assert plan["object_bytes"] == sum(len(d) for d in objects.values())  # the dry run said so
    # the events of those versions, with their ids and bytes unchanged
    london_events = _events(s.london_repo)
    mumbai_events = _events(s.mumbai_repo)
    assert len(mumbai_events) == 3
    assert all(london_events[n] == data for n, data in mumbai_events.items())
    assert {json.loads(d)["asset"] for d in mumbai_events.values()} == {"Chair", "Table", "KitchenSet"}
    # mumbai's index serves them
    listed = run_cli("-w", s.mumbai.root, "versions", "KitchenSet", "--repo", "mumbai", "--json")
    assert listed.exit_code == 0 and "1.0.0" in listed.out

    again = run_cli("-w", ws, "repo", "sync", "london", "mumbai", "KitchenSet[build]", "--json")
    assert again.exit_code == 0, again.err
    assert (again.json()["wheels"], again.json()["objects"], again.json()["events"]) == (0, 0, 0)


def test_sync_without_a_request_copies_the_whole_repo(two_sites: Any, run_cli: Any) -> None:
    s = two_sites
    r = run_cli("-w", s.mumbai.root, "repo", "sync", "london", "mumbai", "--json")
    assert r.exit_code == 0, r.err
    assert r.json()["wheels"] == 4
    assert _wheels(s.mumbai_repo) == sorted([*WHEELS, "lamp-0.1.0-py3-none-any.whl"])
    assert len(_events(s.mumbai_repo)) == len(_events(s.london_repo))


def test_the_other_site_installs_and_pulls_only_from_its_own(two_sites: Any, run_cli: Any) -> None:
    s = two_sites
    assert run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai",
                   "KitchenSet[build]").exit_code == 0
    # london is out of reach from mumbai now (the link is down)
    away = s.london_repo.with_name("london.away")
    s.london_repo.rename(away)
    r = run_cli("-w", s.mumbai.root, "install", "KitchenSet[build]")
    assert r.exit_code == 0, r.err
    site = s.mumbai.site_packages
    assert (site / "chair" / "geo.abc").read_bytes() == b"chair geometry " * 8000
    assert sorted(p.name for p in (site / "table" / "textures").iterdir()) == ["t0.png", "t1.png", "t2.png"]
    assert "london" not in r.err


def test_pulls_prefer_the_local_sites_remote_and_fall_back(two_sites: Any, run_cli: Any) -> None:
    """mumbai's own copy is used while london's is bad; an object mumbai lacks comes from
    london, the next site in setpiece.toml."""
    s = two_sites
    assert run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai",
                   "KitchenSet[build]").exit_code == 0
    geo = hashlib.md5(b"chair geometry " * 8000).hexdigest()
    london_geo = s.london_repo / "files" / "md5" / geo[:2] / geo[2:]
    london_geo.chmod(0o644)
    london_geo.write_bytes(b"rotten" * 10)  # a bad copy at london: never read from mumbai
    assert run_cli("-w", s.mumbai.root, "install", "Chair").exit_code == 0
    assert (s.mumbai.site_packages / "chair" / "geo.abc").read_bytes() == b"chair geometry " * 8000

    # a texture mumbai's remote lacks comes from london
    tex = hashlib.md5(b"table texture 1 " * 3000).hexdigest()
    (s.mumbai_repo / "files" / "md5" / tex[:2] / tex[2:]).unlink()
    r = run_cli("-w", s.mumbai.root, "install", "Table")
    assert r.exit_code == 0, r.err
    assert (s.mumbai.site_packages / "table" / "textures" / "t1.png").read_bytes() == \
        b"table texture 1 " * 3000


def test_a_conflicting_version_is_refused_and_nothing_moves(two_sites: Any, run_cli: Any,
                                                            snap: Any) -> None:
    s = two_sites
    ws = s.mumbai
    ws.create("Chair")  # Chair 0.1.0 made again at mumbai, other bytes, while the link was down
    (ws.output("Chair").package_dir / "note.txt").write_text("mumbai's chair")
    away = s.london_repo.with_name("london.away")
    s.london_repo.rename(away)
    assert run_cli("-w", ws.root, "publish", "Chair", "--repo", "mumbai").exit_code == 0
    away.rename(s.london_repo)
    before = snap(s.mumbai_repo)
    r = run_cli("-w", ws.root, "repo", "sync", "london", "mumbai", "KitchenSet[build]")
    mine = hashlib.sha256((s.london_repo / WHEELS[0]).read_bytes()).hexdigest()
    theirs = hashlib.sha256((s.mumbai_repo / WHEELS[0]).read_bytes()).hexdigest()
    r.user_error("conflict: chair 0.1.0", "site 'london' (repo 'london')", mine,
                 "site 'mumbai' (repo 'mumbai')", theirs, "nothing was synced")
    assert snap(s.mumbai_repo) == before
    # the other way round too: london keeps its own
    before = snap(s.london_repo)
    run_cli("-w", ws.root, "repo", "sync", "mumbai", "london").user_error("conflict", theirs, mine)
    assert snap(s.london_repo) == before


def test_a_killed_sync_leaves_a_wheel_that_runs_again(two_sites: Any, run_cli: Any) -> None:
    """A wheel linked but not indexed (killed between the two) is finished by the re-run."""
    s = two_sites
    shutil.copyfile(s.london_repo / WHEELS[0], s.mumbai_repo / WHEELS[0])
    r = run_cli("-w", s.mumbai.root, "repo", "sync", "london", "mumbai", "Chair", "--json")
    assert r.exit_code == 0, r.err
    assert r.json()["repaired"] == 1 and r.json()["wheels"] == 0
    assert WHEELS[0] in (s.mumbai_repo / "simple" / "chair" / "index.html").read_text()


def test_sync_errors(two_sites: Any, run_cli: Any) -> None:
    ws = two_sites.london.root
    run_cli("-w", ws, "repo", "sync", "london", "london").user_error("both")
    run_cli("-w", ws, "repo", "sync", "london", "nowhere").user_error("unknown repo 'nowhere'")
    run_cli("-w", ws, "repo", "sync", "london", "mumbai", "Nope[build]").user_error(
        "nothing was synced")
    run_cli("-w", ws, "repo", "sync", "london", "mumbai", "--priority", "3").user_error("--farm")


def test_synced_events_fire_reactions_at_the_other_site(two_sites: Any, run_cli: Any) -> None:
    """mumbai's reaction service reads mumbai's repo log only: the published events copied
    by the sync fire its reaction once each (the real engine, ``react --once``)."""
    s = two_sites
    ws = s.mumbai.root
    with open(ws / "setpiece.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[reactions]]\nname = "arrived"\non = ["published"]\ndo = "notify"\n'
                 'with = { file = "arrived.log", message = "{asset} {version} arrived" }\n')
    assert run_cli("-w", ws, "react", "--once").exit_code == 0
    assert not (ws / "arrived.log").exists()  # london's log is not mumbai's to react to
    assert run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai",
                   "KitchenSet[build]").exit_code == 0
    s.london_repo.rename(s.london_repo.with_name("london.away"))
    r = run_cli("-w", ws, "react", "--once")
    assert r.exit_code == 0, r.err
    lines = sorted((ws / "arrived.log").read_text().splitlines())
    assert lines == ["Chair 0.1.0 arrived", "KitchenSet 1.0.0 arrived", "Table 1.0.0 arrived"]
    s.london_repo.with_name("london.away").rename(s.london_repo)
    # a second sync copies no event again, so nothing fires twice
    assert run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai").exit_code == 0
    assert run_cli("-w", ws, "react", "--once").exit_code == 0
    lines = sorted((ws / "arrived.log").read_text().splitlines())
    assert lines == ["Chair 0.1.0 arrived", "KitchenSet 1.0.0 arrived", "Lamp 0.1.0 arrived",
                     "Table 1.0.0 arrived"]


def test_progress_on_a_terminal_only_and_not_with_q(two_sites: Any) -> None:
    import os
    import pty
    import subprocess
    import sys

    setpiece = Path(sys.executable).parent / "setpiece"  # the real executable

    def on_a_tty(*args: str) -> str:
        primary, secondary = pty.openpty()
        proc = subprocess.run([str(setpiece), "-w", str(two_sites.london.root), *args],
                              stderr=secondary, stdout=subprocess.PIPE, check=False, timeout=120,
                              env={**os.environ, "TERM": "xterm-256color"})  # not CI's dumb
        os.close(secondary)
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(primary)
        assert proc.returncode == 0
        return b"".join(chunks).decode()

    err = on_a_tty("repo", "sync", "london", "mumbai", "Chair")
    assert "Copying files london -> mumbai: 1/1" in err and "Copying wheels london -> mumbai: 1/1" in err
    err = on_a_tty("-q", "repo", "sync", "london", "mumbai", "Table")
    assert "Copying" not in err


def test_synced_events_reach_the_local_sites_bus(two_sites: Any, run_cli: Any,
                                                  redis_server: Any, tmp_path: Path) -> None:
    """A sync run at mumbai into mumbai's repo forwards the copied events to mumbai's bus
    (a real redis); one run at london (another site's bus) leaves mumbai's bus alone."""
    from setpiece.core.bus import Bus

    s = two_sites
    for ws in (s.london, s.mumbai):
        with ws.config.edit() as doc:
            doc["events"] = {"bus": redis_server.url}
    b = Bus(redis_server.url, state_dir=tmp_path / "bus-state", connect_timeout=1.0)
    assert run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai", "Chair").exit_code == 0
    chair = [json.loads(d)["id"] for d in _events(s.mumbai_repo).values()]
    assert len(chair) == 1 and b.stream_id(chair[0]) is None  # london does not feed mumbai's bus
    assert run_cli("-w", s.mumbai.root, "repo", "sync", "london", "mumbai",
                   "KitchenSet[build]").exit_code == 0
    ids = [json.loads(d)["id"] for d in _events(s.mumbai_repo).values()]
    assert len(ids) == 3
    assert all(b.stream_id(i) is not None for i in ids if i not in chair)
