"""Pre-warming a site (``files pull --closure``) and a sync run as a farm job."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from setpiece.core.files.store import cache_root


def _cached(ws: Any) -> set[str]:
    root = cache_root(ws) / "files" / "md5"
    return {f"{p.parent.name}{p.name}" for p in root.glob("*/*")} if root.is_dir() else set()


def test_files_pull_closure_prewarms_cache_and_workspace(two_sites: Any, run_cli: Any) -> None:
    s = two_sites
    assert run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai",
                   "KitchenSet[build]").exit_code == 0
    ws = s.mumbai
    r = run_cli("-w", ws.root, "install", "Chair")
    assert r.exit_code == 0, r.err
    geo = ws.site_packages / "chair" / "geo.abc"
    geo.unlink()  # not pulled yet (pull_on_install = false, say)
    dry = run_cli("-w", ws.root, "files", "pull", "--closure", "KitchenSet[build]", "--dry-run",
                  "--json")
    assert dry.exit_code == 0, dry.err
    # Chair's geometry is in the cache already (only to be linked): Table's textures to fetch
    want = sum(len(f"table texture {i} ") * 3000 for i in range(3))
    assert (dry.json()["closure"], dry.json()["bytes"]) == (3, want)
    assert not geo.exists()
    r = run_cli("-w", ws.root, "files", "pull", "--closure", "KitchenSet[build]")
    assert r.exit_code == 0, r.err
    assert "in the workspace: Chair 0.1.0" in r.out and "in the cache only: table 1.0.0" in r.out
    assert geo.read_bytes() == b"chair geometry " * 8000  # installed: into the workspace
    assert not (ws.site_packages / "table").exists()  # not installed: the cache only
    cached = _cached(ws)
    import hashlib

    for i in range(3):
        assert hashlib.md5(f"table texture {i} ".encode() * 3000).hexdigest() in cached
    # the install that follows needs no remote for its files: london and mumbai are away
    s.mumbai_repo.joinpath("files").rename(s.mumbai_repo / "files.away")
    s.london_repo.joinpath("files").rename(s.london_repo / "files.away")
    r = run_cli("-w", ws.root, "install", "Table")
    assert r.exit_code == 0, r.err
    assert (ws.site_packages / "table" / "textures" / "t2.png").read_bytes() == \
        b"table texture 2 " * 3000
    again = run_cli("-w", ws.root, "files", "pull", "--closure", "KitchenSet[build]", "--json")
    assert again.exit_code == 0 and again.json()["files"] == 0


def test_files_pull_closure_errors(two_sites: Any, run_cli: Any) -> None:
    ws = two_sites.mumbai.root
    run_cli("-w", ws, "files", "pull", "Chair", "--closure", "KitchenSet[build]").user_error(
        "either NAME")
    # mumbai has nothing yet: installs (and so pre-warming) resolve from mumbai only
    run_cli("-w", ws, "files", "pull", "--closure", "KitchenSet[build]").user_error(
        "kitchenset", "nothing was pulled")


def test_sync_as_a_farm_job_with_a_priority(two_sites: Any, run_cli: Any) -> None:
    s = two_sites
    r = run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai", "KitchenSet[build]",
                "--farm", "--priority", "7", "--json")
    assert r.exit_code == 0, r.err
    handle = r.json()
    job = json.loads((Path(handle["job_dir"]) / "job.json").read_text())
    assert job["priority"] == 7
    assert job["layers"][0]["command"][-5:] == ["repo", "sync", "london", "mumbai",
                                               "KitchenSet[build]"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        st = run_cli("-w", s.london.root, "farm", "status", handle["job_id"], "--json")
        if st.json()["state"] != "running" and st.json()["state"] != "waiting":
            break
        time.sleep(0.3)
    assert st.json()["state"] == "done", st.out
    assert sorted(p.name for p in s.mumbai_repo.glob("*.whl")) == [
        "chair-0.1.0-py3-none-any.whl", "kitchenset-1.0.0-py3-none-any.whl",
        "table-1.0.0-py3-none-any.whl"]
    logs = run_cli("-w", s.london.root, "farm", "logs", handle["job_id"])
    assert "copied 3 wheel(s)" in logs.out
    run_cli("-w", s.london.root, "repo", "sync", "london", "mumbai", "--farm",
            "--dry-run").user_error("--dry-run")


def test_the_farm_queue_orders_syncs_by_priority(two_sites: Any, run_cli: Any) -> None:
    """``[farm.backends.local] jobs = 1``: while one job runs, three syncs wait (``queued``)
    and then run highest priority first, whatever order they were submitted in."""
    s = two_sites
    ws = s.london
    with ws.config.edit() as doc:
        doc["farm"] = {"backends": {"local": {"jobs": 1}}}
    gate = s.root / "gate"
    blocker = s.root / "blocker.json"
    blocker.write_text(json.dumps({"name": "blocker", "priority": 1000, "layers": [
        {"name": "wait", "command": ["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.1; done"]}]}))
    first = run_cli("-w", ws.root, "farm", "submit", blocker, "--json")
    assert first.exit_code == 0, first.err
    ids = {}
    for asset, priority in (("Lamp", "1"), ("Chair", "9"), ("Table", "5")):
        r = run_cli("-w", ws.root, "repo", "sync", "london", "mumbai", asset, "--farm",
                    "--priority", priority, "--json")
        assert r.exit_code == 0, r.err
        ids[asset] = r.json()["job_id"]
    time.sleep(1.0)
    st = run_cli("-w", ws.root, "farm", "status", ids["Chair"], "--json")
    assert st.json()["state"] == "queued", st.out
    assert not list(s.mumbai_repo.glob("*.whl"))
    gate.touch()
    deadline = time.monotonic() + 180
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {a: run_cli("-w", ws.root, "farm", "status", i, "--json").json()["state"]
                  for a, i in ids.items()}
        if all(v not in ("running", "queued", "waiting") for v in states.values()):
            break
        time.sleep(0.3)
    assert set(states.values()) == {"done"}, states
    started = {a: min(json.loads(p.read_text()).get("started") or 1e18 for p in
                      (Path(run_cli("-w", ws.root, "farm", "status", i, "--json").json()["chunks"][0]["log"])
                       .parents[2] / "state").rglob("*.json"))
               for a, i in ids.items()}
    assert sorted(started, key=started.__getitem__) == ["Chair", "Table", "Lamp"], started
