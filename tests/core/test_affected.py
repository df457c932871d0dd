"""``setpiece affected``: what a published version reaches, from the reverse-dependency index.

The sample repo (tests/conftest.py SAMPLES): KitchenSet 1.0.0 requires (build) ``Chair``
(push), ``Table>=1.2.3,<2`` (semi-push), ``Lamp==3.2.1`` (pull); Apartment 0.1.0 requires
(build) ``KitchenSet`` (push).
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import zipfile
from pathlib import Path

import pytest

from setpiece.core.affected import affected
from setpiece.core.repos.folder import FolderRepo


def rows(result) -> list[tuple[str, str, str, list[str]]]:
    return [(a["name"], a["version"], a["kind"], a["via"]) for a in result.json()["affected"]]


def test_bounded_and_transitive(sample_ws, run_cli) -> None:
    r = run_cli("-w", sample_ws.root, "affected", "Table==1.3.0", "--json")
    assert r.exit_code == 0, r.err
    assert "warning" not in r.err  # new repos are indexed from their first publish
    assert rows(r) == [
        ("KitchenSet", "1.0.0", "semi-push", []),
        ("Apartment", "0.1.0", "push", ["KitchenSet 1.0.0"]),
    ]
    apartment = r.json()["affected"][1]
    assert apartment["groups"] == ["build"]
    assert [(e["dependent"], e["dependent_version"], e["requirement"], e["kind"], e["name"], e["version"])
            for e in apartment["path"]] == [
        ("Apartment", "0.1.0", "kitchenset", "push", "KitchenSet", "1.0.0"),
        ("KitchenSet", "1.0.0", "table<2,>=1.2.3", "semi-push", "Table", "1.3.0"),
    ]
    text = run_cli("-w", sample_ws.root, "affected", "Table==1.3.0").out
    assert "KitchenSet 1.0.0  semi-push  [build]  requires 'table<2,>=1.2.3'" in text
    assert "Apartment 0.1.0  push  [build]  requires 'kitchenset'  via KitchenSet 1.0.0" in text


def test_pin_and_out_of_range_are_not_affected(sample_ws, run_cli) -> None:
    for spec in ("Lamp==3.3.0", "Lamp==3.2.1", "Table==2.0.0", "Apartment==0.1.0"):
        r = run_cli("-w", sample_ws.root, "affected", spec, "--json")
        assert r.exit_code == 0, r.err
        assert r.json()["affected"] == [], spec
    out = run_cli("-w", sample_ws.root, "affected", "Table==2.0.0").out
    assert out.strip() == "Table 2.0.0 reaches no published version"
    r = run_cli("-w", sample_ws.root, "affected", "Chair==1.1.0", "--json")
    assert rows(r) == [("KitchenSet", "1.0.0", "push", []),
                       ("Apartment", "0.1.0", "push", ["KitchenSet 1.0.0"])]


def test_answered_without_opening_a_wheel(sample_ws, sample_repo, run_cli) -> None:
    assert (sample_repo / "deps" / "dependents" / "table" / "kitchenset==1.0.0.json").is_file()
    record = json.loads((sample_repo / "deps" / "versions" / "kitchenset" / "1.0.0.json").read_text())
    assert sorted(record["requires"]["build"]) == ["chair[build]", "lamp[build]==3.2.1",
                                                   "table[build]<2,>=1.2.3"]
    for wheel in sample_repo.glob("*.whl"):
        wheel.write_bytes(b"not a zip")  # the name stays (has_version), the bytes are gone
    r = run_cli("-w", sample_ws.root, "affected", "Table==1.3.0", "--json")
    assert [a["name"] for a in r.json()["affected"]] == ["KitchenSet", "Apartment"]


def test_groups_follow_the_extras(sample_ws, run_cli) -> None:
    """Street needs KitchenSet to edit it: KitchenSet's edit group does not hold Table."""
    ws = sample_ws
    ws.create("Street", kind="set")
    ws.require("Street", ["KitchenSet"], group="edit")
    ws.publish("Street", repo="blessed")
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--json")
    assert [a[0] for a in rows(r)] == ["KitchenSet", "Apartment"]
    r = run_cli("-w", ws.root, "affected", "KitchenSet==1.0.0", "--json")
    assert [(a["name"], a["groups"]) for a in r.json()["affected"]] == [
        ("Apartment", ["build"]), ("Street", ["edit"])]
    r = run_cli("-w", ws.root, "affected", "KitchenSet==1.0.0", "--group", "build", "--json")
    assert [a[0] for a in rows(r)] == ["Apartment"]
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--group", "export", "--json")
    assert rows(r) == []


def test_every_version_or_latest(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.edit("KitchenSet==1.0.0")  # editable as 1.0.1, same requirements
    ws.publish("KitchenSet", repo="review")
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--json")
    assert [(n, v) for n, v, *_ in rows(r)] == [
        ("KitchenSet", "1.0.0"), ("KitchenSet", "1.0.1"), ("Apartment", "0.1.0")]
    assert {a["name"]: a["repos"] for a in r.json()["affected"]}["KitchenSet"] in (
        ["blessed"], ["review"])
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--latest", "--json")
    assert [(n, v) for n, v, *_ in rows(r)] == [("KitchenSet", "1.0.1"), ("Apartment", "0.1.0")]
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--repo", "review", "--json")
    assert [(n, v) for n, v, *_ in rows(r)] == [("KitchenSet", "1.0.1")]


def test_unpublished_and_bad_input(sample_ws, run_cli) -> None:
    ws = sample_ws
    run_cli("-w", ws.root, "affected", "Table==1.4.0").user_error(
        "Table 1.4.0 is not published", "--unpublished")
    r = run_cli("-w", ws.root, "affected", "Table==1.4.0", "--unpublished", "--json")
    assert [a[0] for a in rows(r)] == ["KitchenSet", "Apartment"]
    run_cli("-w", ws.root, "affected", "Sofa==1.0.0").user_error("no repo publishes", "Sofa")
    run_cli("-w", ws.root, "affected", "Table>=1.0").user_error("Table>=1.0", "NAME==VER")
    run_cli("-w", ws.root, "affected", "Table").user_error("NAME==VER")
    run_cli("-w", ws.root, "affected", "Table==one").user_error("one")
    run_cli("-w", ws.root, "affected", "Ta ble==1.0.0").user_error("Ta ble")
    run_cli("-w", ws.root, "affected").user_error("NAME==VER")
    run_cli("-w", ws.root, "affected", "Table==1.3.0", "--repo", "nope").user_error("nope")


def test_promote_and_reindex_keep_the_index(sample_ws, sample_repo, run_cli) -> None:
    ws = sample_ws
    ws.promote("KitchenSet==1.0.0", to="review")
    review = Path(ws.repo("review").location)
    assert (review / "deps" / "dependents" / "table" / "kitchenset==1.0.0.json").is_file()
    shutil.rmtree(sample_repo / "deps")  # a repo from before the index
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--repo", "blessed", "--json")
    assert rows(r) == []  # the index is the answer: gone until reindexed, and it says so
    assert r.err.strip() == (
        "warning: repo 'blessed' holds versions published before setpiece kept its "
        "reverse-dependency index: run 'setpiece repo reindex blessed' once, until then they "
        "are missing here")
    assert run_cli("-w", ws.root, "repo", "reindex", "blessed").exit_code == 0
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--repo", "blessed", "--json")
    assert [a[0] for a in rows(r)] == ["KitchenSet", "Apartment"]
    assert "warning" not in r.err
    # a wheel removed by hand: reindex drops its records
    next(sample_repo.glob("apartment-0.1.0-*.whl")).unlink()
    run_cli("-w", ws.root, "repo", "reindex", "blessed")
    assert not (sample_repo / "deps" / "dependents" / "kitchenset" / "apartment==0.1.0.json").exists()
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--repo", "blessed", "--json")
    assert [a[0] for a in rows(r)] == ["KitchenSet"]


# -- many publishers at once ---------------------------------------------------------------


def make_wheel(folder: Path, name: str, version: str, build: list[str]) -> Path:
    """A minimal valid wheel whose METADATA requires ``build`` in group build."""
    dist = f"{name.lower()}-{version}"
    meta = ["Metadata-Version: 2.3", f"Name: {name}", f"Version: {version}",
            "Provides-Extra: build"]
    meta += [f"Requires-Dist: {r}; extra == 'build'" for r in build]
    path = folder / f"{name.lower()}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{dist}.dist-info/METADATA", "\n".join(meta) + "\n")
        zf.writestr(f"{dist}.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
        zf.writestr(f"{dist}.dist-info/RECORD", "")
    return path


def _publish_all(repo: str, wheels: list[str]) -> None:
    r = FolderRepo("shared", repo)
    for w in wheels:
        r.publish(Path(w))


def _read_loop(repo: str, rounds: int) -> None:
    r = FolderRepo("shared", repo)
    for _ in range(rounds):
        r.dependents("table")  # rewrites the compacted cache as it goes


@pytest.mark.slow
def test_concurrent_publishers_lose_nothing(tmp_path: Path, make_repo) -> None:
    repo = make_repo("shared")
    src = tmp_path / "wheels"
    src.mkdir()
    make_wheel(src, "Table", "1.0.0", [])
    FolderRepo("shared", str(repo)).publish(src / "table-1.0.0-py3-none-any.whl")
    wheels = [str(make_wheel(src, f"Set{i:02d}", "1.0.0",
                             ["Table[build]>=1", f"Prop{i % 3}[build]"])) for i in range(48)]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_publish_all, args=(str(repo), wheels[i::6])) for i in range(6)]
    procs += [ctx.Process(target=_read_loop, args=(str(repo), 30)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    found = affected([FolderRepo("shared", str(repo))], "Table", "1.0.0")
    assert sorted(a.name for a in found) == [f"Set{i:02d}" for i in range(48)]
    by_prop = affected([FolderRepo("shared", str(repo))], "Prop1", "2.0.0")
    assert sorted(a.name for a in by_prop) == [f"Set{i:02d}" for i in range(1, 48, 3)]
    # the compacted cache, when a reader wrote it last, holds only what is on disk
    cache = repo / "deps" / "dependents" / "table.json"
    if cache.exists():
        assert set(json.loads(cache.read_text())["files"]) <= {
            p.name for p in (repo / "deps" / "dependents" / "table").iterdir()}


def test_repo_gc_collects_index_temps_of_killed_publishers(sample_ws, sample_repo, run_cli) -> None:
    import os
    import time

    table = sample_repo / "deps" / "dependents" / "table"
    old = [table / ".shelf==1.0.0.json.k3j2.tmp", sample_repo / "deps" / "dependents" / ".table.json.x1.tmp",
           sample_repo / "deps" / "versions" / "shelf" / ".1.0.0.json.q9.tmp"]
    young = table / ".stool==1.0.0.json.z8.tmp"
    for p in [*old, young]:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b'{"name": "Sh')  # cut short
    for p in old:
        os.utime(p, (time.time() - 7200, time.time() - 7200))
    r = run_cli("-w", sample_ws.root, "repo", "gc", "blessed", "--json")
    assert r.exit_code == 0, r.err
    assert sorted(r.json()[0]["removed"]) == sorted(str(p.relative_to(sample_repo)) for p in old)
    assert young.exists() and not any(p.exists() for p in old)
    r = run_cli("-w", sample_ws.root, "affected", "Table==1.3.0", "--json")  # temps never read
    assert [a["name"] for a in r.json()["affected"]] == ["KitchenSet", "Apartment"]


def test_yanked_dependents_are_marked(sample_ws, run_cli) -> None:
    root = sample_ws.root
    assert run_cli("-w", root, "yank", "KitchenSet==1.0.0", "--reason", "wrong scale").exit_code == 0
    r = run_cli("-w", root, "affected", "Table==1.3.0", "--json")
    assert [(a["name"], a["yanked"]) for a in r.json()["affected"]] == [
        ("KitchenSet", True), ("Apartment", False)]
    assert "KitchenSet 1.0.0  semi-push  [build]  requires 'table<2,>=1.2.3'  (yanked)" in (
        run_cli("-w", root, "affected", "Table==1.3.0").out)


def test_a_record_cut_short_is_skipped_and_reindex_repairs_it(sample_ws, sample_repo, run_cli) -> None:
    """A power cut right after a publish may leave a record empty (no fsync): it is read as
    absent, never as an error, and 'repo reindex' writes it again."""
    edge = sample_repo / "deps" / "dependents" / "table" / "kitchenset==1.0.0.json"
    for cache in (sample_repo / "deps" / "dependents").glob("*.json"):
        cache.unlink()
    edge.write_bytes(b"")
    r = run_cli("-w", sample_ws.root, "affected", "Table==1.3.0", "--json")
    assert r.exit_code == 0, r.err
    assert rows(r) == []
    assert run_cli("-w", sample_ws.root, "repo", "reindex", "blessed").exit_code == 0
    assert json.loads(edge.read_bytes())["requires"] == {"build": ["table[build]<2,>=1.2.3"]}
    r = run_cli("-w", sample_ws.root, "affected", "Table==1.3.0", "--json")
    assert [a[0] for a in rows(r)] == ["KitchenSet", "Apartment"]


def test_a_wheel_with_an_unreadable_requirement_still_publishes(tmp_path: Path, make_repo) -> None:
    repo = make_repo("odd")
    src = tmp_path / "w"
    src.mkdir()
    wheel = make_wheel(src, "Odd", "1.0.0", ["Table[build]>=>1"])  # not PEP 508
    FolderRepo("odd", str(repo)).publish(wheel)
    assert (repo / "simple" / "odd" / "index.html").is_file()  # published and indexed
    assert not (repo / "deps" / "versions" / "odd").exists()  # no record: nothing to say
    assert affected([FolderRepo("odd", str(repo))], "Table", "1.0.0") == []
