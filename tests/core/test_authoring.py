"""Output assets: create, require/unrequire (groups, kinds, cycles), bump, build, info."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from setpiece.core.wheels import parse_metadata, read_metadata_bytes


def test_create_makes_an_editable_installed_asset(make_workspace, run_cli) -> None:
    ws = make_workspace()
    r = run_cli("-w", ws.root, "create", "Chair", "--kind", "prop", "--version", "1.2.0",
                "--description", "A kitchen chair")
    assert r.exit_code == 0, r.err
    project = ws.outputs / "Chair"
    assert (project / "pyproject.toml").is_file()
    assert (project / "src" / "chair" / "__init__.py").is_file()
    installed = ws.installed_assets()["chair"]
    assert installed.editable
    assert installed.version == "1.2.0"
    assert installed.kind == "prop"
    assert installed.description == "A kitchen chair"
    assert installed.source_dir == project
    assert installed.package_dir == project / "src" / "chair"
    # outputs listing
    rows = run_cli("-w", ws.root, "list", "--outputs", "--json").json()
    assert rows == [{"name": "Chair", "version": "1.2.0", "kind": "prop", "path": str(project)}]
    # the asset is importable from the workspace's Python
    import subprocess

    out = subprocess.run([str(ws.python), "-c", "import chair; print(chair.ASSET)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "Chair"
    # an event
    events = [json.loads(line) for line in run_cli("-w", ws.root, "events", "--json").out.splitlines()]
    assert any(e["event"] == "created" and e["asset"] == "Chair" for e in events)


def test_create_defaults(make_workspace) -> None:
    ws = make_workspace()
    asset = ws.create("Lamp")
    assert (asset.name, asset.version, asset.kind, asset.description) == ("Lamp", "0.1.0", "prop", "")


@pytest.mark.parametrize("kind", ["", "two words", "a,b"])
def test_create_bad_kind(make_workspace, run_cli, kind: str) -> None:
    ws = make_workspace()
    run_cli("-w", ws.root, "create", "Chair", "--kind", kind).user_error("kind")
    assert list(ws.outputs.iterdir()) == []


def test_kind_is_free_text(make_workspace) -> None:
    ws = make_workspace()
    ws.create("Hero", kind="character-rig")
    assert ws.installed_assets()["hero"].kind == "character-rig"


def test_kind_and_description_travel_in_the_wheel(make_workspace, run_cli) -> None:
    ws = make_workspace()
    ws.create("Set1", kind="set", description="A whole set, with commas, and: colons")
    wheel = Path(run_cli("-w", ws.root, "build", "Set1").out.strip())
    assert wheel.parent == ws.build_dir and wheel.is_file()
    meta = parse_metadata(read_metadata_bytes(wheel))
    assert meta["Name"] == "Set1"
    assert "setpiece-kind:set" in meta["Keywords"]
    assert meta["Summary"] == "A whole set, with commas, and: colons"
    with zipfile.ZipFile(wheel) as zf:
        eps = next(n for n in zf.namelist() if n.endswith("entry_points.txt"))
        assert "[setpiece.asset]" in zf.read(eps).decode()


def test_build_is_atomic_and_leaves_only_the_wheel(make_workspace, run_cli) -> None:
    ws = make_workspace()
    ws.create("Chair")
    r = run_cli("-w", ws.root, "build", "Chair")
    assert r.exit_code == 0, r.err
    assert sorted(p.name for p in ws.build_dir.iterdir()) == ["chair-0.1.0-py3-none-any.whl"]


def test_build_unknown_output(make_workspace, run_cli, snap) -> None:
    ws = make_workspace()
    before = snap(ws.root)
    run_cli("-w", ws.root, "build", "Nope").user_error("'Nope' is not an output asset", "setpiece create")
    assert snap(ws.root) == before


def test_build_failure_is_one_line(make_workspace, run_cli) -> None:
    ws = make_workspace()
    ws.create("Chair")
    # a broken project: its package folder is gone
    import shutil

    shutil.rmtree(ws.outputs / "Chair" / "src")
    run_cli("-w", ws.root, "build", "Chair").user_error("building Chair failed")
    assert list(ws.build_dir.iterdir()) == []


# -- require / unrequire -------------------------------------------------------------------


def test_require_groups_and_kinds(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.create("Shot010", kind="shot", description="First shot")
    r = run_cli("-w", ws.root, "require", "Shot010", "Chair", "Table>=1.2.3,<2", "Lamp==3.2.1")
    assert r.exit_code == 0, r.err
    # require installed the build dependencies into inputs/ (newest that fits each one)
    installed = ws.installed_assets()
    assert installed["lamp"].version == "3.2.1"
    assert installed["table"].version == "1.3.0"
    assert installed["chair"].version == "1.1.0"
    r = run_cli("-w", ws.root, "require", "Shot010", "KitchenSet", "--group", "edit")
    assert r.exit_code == 0, r.err
    r = run_cli("-w", ws.root, "require", "Shot010", "Table>=2", "--group", "export")
    assert r.exit_code == 0, r.err
    info = run_cli("-w", ws.root, "info", "Shot010", "--json").json()
    deps = {(d["group"], d["name"]): (d["requirement"], d["kind"]) for d in info["dependencies"]}
    assert deps == {
        ("build", "Chair"): ("Chair", "push"),
        ("build", "Table"): ("Table<2,>=1.2.3", "semi-push"),
        ("build", "Lamp"): ("Lamp==3.2.1", "pull"),
        ("edit", "KitchenSet"): ("KitchenSet", "push"),
        ("export", "Table"): ("Table>=2", "semi-push"),
    }
    assert info["kind"] == "shot" and info["description"] == "First shot"
    assert info["source"] == "output"
    text = run_cli("-w", ws.root, "info", "Shot010").out
    for word in ("push", "semi-push", "pull", "[build]", "[edit]", "[export]"):
        assert word in text
    assert ws.installed_assets()["kitchenset"].version == "1.0.0"


def test_require_replaces_the_same_dependency(sample_ws) -> None:
    ws = sample_ws
    ws.create("Shot")
    ws.require("Shot", ["Table"])
    ws.require("Shot", ["table>=1.3"])
    reqs = [str(r) for r in ws.output("Shot").requirements("build")]
    assert reqs == ["table[build]>=1.3"]


def test_unrequire(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.create("Shot")
    ws.require("Shot", ["Chair", "Lamp"])
    ws.require("Shot", ["Chair"], group="edit")
    r = run_cli("-w", ws.root, "unrequire", "Shot", "chair", "--group", "build")
    assert r.exit_code == 0, r.err
    out = ws.output("Shot")
    assert [r.name for r in out.requirements("build")] == ["Lamp"]
    assert [r.name for r in out.requirements("edit")] == ["Chair"]
    assert run_cli("-w", ws.root, "unrequire", "Shot", "Chair").exit_code == 0  # every group
    assert out.requirements("edit") == []
    run_cli("-w", ws.root, "unrequire", "Shot", "Chair").user_error("does not require 'Chair'")


def test_require_unknown_group_is_usage_error(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.create("Shot")
    r = run_cli("-w", ws.root, "require", "Shot", "Chair", "--group", "render")
    assert r.exit_code == 2
    assert "render" in r.err


def test_require_nothing_satisfies_restores_the_project(sample_ws, run_cli, snap) -> None:
    ws = sample_ws
    ws.create("Shot")
    before = snap(ws.outputs)
    message = run_cli("-w", ws.root, "require", "Shot", "Sofa").user_error("Sofa")
    assert "blessed" in message and "review" in message  # the repos searched
    assert snap(ws.outputs) == before
    message = run_cli("-w", ws.root, "require", "Shot", "Table>=9").user_error("table")
    assert snap(ws.outputs) == before


@pytest.mark.parametrize("req", ["Chair @ https://example.com/chair.whl", "Chair[", "Chair>>1"])
def test_require_bad_requirement(sample_ws, run_cli, req: str) -> None:
    ws = sample_ws
    ws.create("Shot")
    run_cli("-w", ws.root, "require", "Shot", req).user_error("requirement")


def test_self_dependency_refused(make_workspace, run_cli) -> None:
    ws = make_workspace()
    ws.create("Chair")
    run_cli("-w", ws.root, "require", "Chair", "chair").user_error("itself")


def test_cycle_between_outputs_is_refused_and_named(make_workspace, run_cli, snap) -> None:
    ws = make_workspace()
    for name in ("A1", "B1", "C1"):
        ws.create(name)
    assert run_cli("-w", ws.root, "require", "A1", "B1").exit_code == 0
    assert run_cli("-w", ws.root, "require", "B1", "C1", "--group", "edit").exit_code == 0
    before = snap(ws.outputs)
    message = run_cli("-w", ws.root, "require", "C1", "A1").user_error("cycle")
    assert "C1 -> a1 -> b1 -> c1" in message
    assert snap(ws.outputs) == before


def test_cycle_through_a_published_asset(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.create("Chair", version="2.0.0")  # an output version of a published prop
    # KitchenSet (published) depends on Chair: Chair -> KitchenSet closes a cycle
    message = run_cli("-w", ws.root, "require", "Chair", "Apartment").user_error("cycle")
    assert "apartment -> kitchenset -> chair" in message.lower()


# -- bump ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "expected"),
    [("major", "2.0.0"), ("minor", "1.3.0"), ("micro", "1.2.4"), ("pre", "1.2.4rc1"),
     ("post", "1.2.3.post1"), ("dev", "1.2.4.dev1")],
)
def test_bump(make_workspace, run_cli, part: str, expected: str) -> None:
    ws = make_workspace()
    ws.create("Chair", version="1.2.3")
    r = run_cli("-w", ws.root, "bump", "Chair", part)
    assert r.exit_code == 0, r.err
    assert r.out.strip() == expected
    assert ws.output("Chair").version == expected
    assert ws.installed_assets()["chair"].version == expected  # reinstalled editable


def test_bump_usage_errors(make_workspace, run_cli) -> None:
    ws = make_workspace()
    ws.create("Chair")
    assert run_cli("-w", ws.root, "bump", "Chair", "patch").exit_code == 2
    assert run_cli("-w", ws.root, "bump", "Chair").exit_code == 2
    run_cli("-w", ws.root, "bump", "Nope", "micro").user_error("not an output asset")


def test_require_refuses_environment_markers(sample_ws, run_cli, snap) -> None:
    """Dependency groups carry no markers: one would be dropped silently, so it is refused."""
    ws = sample_ws
    ws.create("Shot")
    before = snap(ws.outputs)
    message = run_cli("-w", ws.root, "require", "Shot", "Table>=1.2.3; python_version >= '3.10'").user_error(
        "environment marker", "python_version")
    assert "write 'Table>=1.2.3'" in message
    run_cli("-w", ws.root, "require", "Shot", "Chair", "Lamp; sys_platform == 'win32'",
            "--group", "edit").user_error("Lamp", "environment marker")
    assert snap(ws.outputs) == before
    assert run_cli("-w", ws.root, "require", "Shot", "Table>=1.2.3").exit_code == 0
