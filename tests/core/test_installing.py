"""Installing into inputs/: closures, listings, requests, errors, dependency confusion,
external packages, freeze and sync."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from setpiece.core import Workspace


def requests_of(ws: Workspace) -> list[str]:
    data: dict[str, Any] = tomlkit.parse((ws.root / "setpiece.toml").read_text()).unwrap()
    return list(data["requests"]["install"])


def versions_installed(ws: Workspace) -> dict[str, str]:
    return {k: a.version for k, a in Workspace(ws.root).installed_assets().items()}


def test_install_build_closure(sample_ws, run_cli) -> None:
    ws = sample_ws
    r = run_cli("-w", ws.root, "install", "KitchenSet[build]")
    assert r.exit_code == 0, r.err
    assert sorted(r.out.split()) == sorted(
        ["+", "chair==1.1.0", "+", "kitchenset==1.0.0", "+", "lamp==3.2.1", "+", "table==1.3.0"])
    # push: newest Chair; semi-push: newest Table below 2; pull: exactly Lamp 3.2.1
    assert versions_installed(ws) == {"chair": "1.1.0", "kitchenset": "1.0.0", "lamp": "3.2.1",
                                      "table": "1.3.0"}
    assert requests_of(ws) == ["KitchenSet[build]"]


def test_install_closure_is_transitive(sample_ws, run_cli) -> None:
    ws = sample_ws
    assert run_cli("-w", ws.root, "install", "Apartment[build]").exit_code == 0
    assert versions_installed(ws) == {"apartment": "0.1.0", "chair": "1.1.0", "kitchenset": "1.0.0",
                                      "lamp": "3.2.1", "table": "1.3.0"}


def test_install_without_group_installs_only_the_asset(sample_ws, run_cli) -> None:
    ws = sample_ws
    assert run_cli("-w", ws.root, "install", "KitchenSet").exit_code == 0
    assert versions_installed(ws) == {"kitchenset": "1.0.0"}


def test_install_json_and_reinstall_is_a_no_op(sample_ws, run_cli) -> None:
    ws = sample_ws
    changes = run_cli("-w", ws.root, "install", "Chair==1.0.0", "--json").json()
    assert changes == ["+ chair==1.0.0"]
    assert run_cli("-w", ws.root, "install", "Chair==1.0.0", "--json").json() == []
    assert run_cli("-w", ws.root, "install", "Chair", "--json").json() == []  # 1.0.0 satisfies
    assert requests_of(ws) == ["Chair"]  # the latest request for a name replaces the old one
    changes = run_cli("-w", ws.root, "install", "Chair>=1.1", "--json").json()
    assert "+ chair==1.1.0" in changes


def test_install_no_record(sample_ws, run_cli) -> None:
    ws = sample_ws
    assert run_cli("-w", ws.root, "install", "Chair", "--no-record").exit_code == 0
    assert requests_of(ws) == []
    assert "chair" in versions_installed(ws)


def test_install_blessed_first(sample_ws, run_cli, tmp_path: Path) -> None:
    """A version in both repos comes from blessed; review's newer version is still seen."""
    ws = sample_ws
    ws.create("Chair", version="1.1.0", description="review copy")
    # review now has Chair 1.1.0 too, with another description (written by another tool:
    # 'setpiece publish' refuses a version that another repo has)
    ws.repo("review").publish(ws.build("Chair"))
    shutil.rmtree(ws.outputs / "Chair")
    ws.uv_pip("uninstall", ["Chair"], with_index=False)
    assert run_cli("-w", ws.root, "install", "Chair==1.1.0").exit_code == 0
    assert ws.installed_assets()["chair"].description == "A kitchen chair"  # blessed's
    assert run_cli("-w", ws.root, "install", "Chair", "--repo", "review", "--reinstall").exit_code == 2


def test_install_from_one_repo(sample_ws, run_cli) -> None:
    ws = sample_ws
    run_cli("-w", ws.root, "install", "Chair", "--repo", "review").user_error("chair", "review")
    assert run_cli("-w", ws.root, "install", "Chair", "--repo", "blessed").exit_code == 0


def test_uninstall(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.install(["KitchenSet[build]"])
    r = run_cli("-w", ws.root, "uninstall", "KitchenSet", "--json")
    assert r.exit_code == 0, r.err
    assert r.json() == ["- kitchenset==1.0.0"]
    assert "kitchenset" not in versions_installed(ws)
    assert requests_of(ws) == []
    run_cli("-w", ws.root, "uninstall", "KitchenSet").user_error("not installed")
    events = [json.loads(x) for x in run_cli("-w", ws.root, "events", "--json").out.splitlines()]
    assert [e["event"] for e in events][-2:] == ["installed", "uninstalled"]


def test_uninstall_warns_when_an_installed_asset_needs_it(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.install(["KitchenSet[build]"])
    r = run_cli("-w", ws.root, "uninstall", "Chair")
    assert r.exit_code == 0, r.err
    warnings = [ln for ln in r.err.splitlines() if ln.startswith("warning:")]
    assert warnings == ["warning: KitchenSet 1.0.0 requires chair (build group): it will be "
                        "missing; reinstall it with 'setpiece install \"chair\"'"]
    r = run_cli("-w", ws.root, "uninstall", "Table")
    assert "KitchenSet 1.0.0 requires table<2,>=1.2.3 (build group)" in r.err
    assert "warning" not in run_cli("-w", ws.root, "uninstall", "KitchenSet").err


def test_install_with_no_requirement_installs_what_is_recorded(sample_ws, run_cli) -> None:
    ws = sample_ws
    run_cli("-w", ws.root, "install").user_error("nothing to install", "records no requests")
    assert run_cli("-w", ws.root, "install", "KitchenSet[build]", "Chair==1.0.0").exit_code == 0
    ws.uv_pip("uninstall", ["kitchenset", "chair", "table"], what="cleanup", with_index=False)
    assert "kitchenset" not in versions_installed(ws)
    r = run_cli("-w", ws.root, "install", "--json")
    assert r.exit_code == 0, r.err
    assert sorted(r.json()) == ["+ chair==1.0.0", "+ kitchenset==1.0.0", "+ table==1.3.0"]
    assert requests_of(ws) == ["Chair==1.0.0", "KitchenSet[build]"]  # unchanged


# -- listings ----------------------------------------------------------------------------------


def test_assets_are_kept_apart_from_ordinary_packages(sample_ws, run_cli, tmp_path: Path) -> None:
    ws = sample_ws
    ws.external_dir.mkdir(exist_ok=True)
    _plain_wheel(ws.external_dir, "plainlib", "2.0.0")
    ws.create("Shot", kind="shot", description="uses a plain library")
    ws.output("Shot").set_requirements("", ["plainlib"])
    ws.install(["KitchenSet[build]", "plainlib"])
    listed = run_cli("-w", ws.root, "list", "--json").json()
    assert [a["name"] for a in listed] == ["Chair", "KitchenSet", "Lamp", "Shot", "Table"]
    kinds = {a["name"]: (a["kind"], a["editable"]) for a in listed}
    assert kinds["KitchenSet"] == ("set", False) and kinds["Shot"] == ("shot", True)
    assert run_cli("-w", ws.root, "list", "--installed", "--json").json() == listed
    both = run_cli("-w", ws.root, "list", "--all", "--json").json()
    assert both["assets"] == listed
    assert {"name": "plainlib", "version": "2.0.0"} in both["packages"]
    assert "plainlib" not in {a["name"] for a in listed}
    text = run_cli("-w", ws.root, "list", "--all").out
    assets_part, _, others_part = text.partition("other packages")
    assert "KitchenSet" in assets_part and "plainlib" not in assets_part
    assert "plainlib" in others_part
    assert "plainlib" not in run_cli("-w", ws.root, "list").out


def _plain_wheel(dest: Path, name: str, version: str) -> Path:
    """An ordinary (non-asset) pure-Python wheel."""
    import zipfile

    dist = f"{name}-{version}.dist-info"
    path = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "VALUE = 42\n")
        zf.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(f"{dist}/WHEEL",
                    "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{dist}/RECORD", "")
    return path


def test_info_of_installed_and_published(sample_ws, run_cli) -> None:
    ws = sample_ws
    data = run_cli("-w", ws.root, "info", "KitchenSet", "--json").json()
    assert data["source"] == "repo blessed" and data["installed"] is None
    assert data["published"] == {"blessed": ["1.0.0"]}
    assert data["kind"] == "set"
    kinds = {d["name"].lower(): d["kind"] for d in data["dependencies"]}
    assert kinds == {"chair": "push", "table": "semi-push", "lamp": "pull"}
    assert {d["group"] for d in data["dependencies"]} == {"build"}
    ws.install(["KitchenSet"])
    data = run_cli("-w", ws.root, "info", "kitchenset", "--json").json()
    assert data["source"] == "installed" and data["installed"] == "1.0.0"
    assert {d["name"].lower(): d["kind"] for d in data["dependencies"]} == kinds
    run_cli("-w", ws.root, "info", "Sofa").user_error("no asset 'Sofa'")


def test_every_listing_has_json(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.install(["KitchenSet[build]"])
    ws.create("Shot")
    for args in (
        ["list"], ["list", "--installed"], ["list", "--outputs"], ["list", "--repo", "blessed"],
        ["list", "--all"], ["versions", "Chair"], ["versions", "Chair", "--repo", "blessed"],
        ["info", "KitchenSet"], ["info", "Shot"], ["repo", "list"], ["external", "list"],
        ["install", "Chair"], ["uninstall", "Shot"],
    ):
        r = run_cli("-w", ws.root, *args, "--json")
        assert r.exit_code == 0, (args, r.err)
        json.loads(r.out)
    r = run_cli("-w", ws.root, "events", "--json")
    assert all(json.loads(line) for line in r.out.splitlines())


# -- resolution errors ------------------------------------------------------------------------


def test_requirement_no_repo_satisfies(sample_ws, run_cli, snap, tmp_path: Path) -> None:
    ws = sample_ws
    ws.install(["Chair==1.0.0"])
    before = snap(ws.inputs)
    before_cfg = (ws.root / "setpiece.toml").read_text()
    message = run_cli("-w", ws.root, "install", "Sofa").user_error("Sofa")
    # names the repos searched (and external_packages/)
    for where in ("blessed", "review", str(tmp_path / "repos" / "samples"), "external_packages"):
        assert where in message
    message = run_cli("-w", ws.root, "install", "Chair>=5").user_error("chair")
    assert "blessed" in message
    # a dependency that no repo has: the asset that needs it is named
    message = run_cli("-w", ws.root, "install", "Table==9.9.9").user_error("table")
    assert snap(ws.inputs) == before
    assert (ws.root / "setpiece.toml").read_text() == before_cfg


def test_missing_dependency_of_an_asset(sample_ws, sample_repo: Path, run_cli) -> None:
    ws = sample_ws
    (sample_repo / "lamp-3.2.1-py3-none-any.whl").unlink()  # KitchenSet pins Lamp==3.2.1
    from setpiece.core.repos.folder import FolderRepo

    FolderRepo("s", str(sample_repo)).reindex()
    message = run_cli("-w", ws.root, "install", "KitchenSet[build]").user_error("lamp")
    assert "3.2.1" in message
    assert versions_installed(ws) == {}


def test_conflicting_requirements(sample_ws, run_cli, snap) -> None:
    ws = sample_ws
    before = snap(ws.inputs)
    # KitchenSet[build] needs Table>=1.2.3,<2; asking Table>=2 alongside cannot work
    message = run_cli("-w", ws.root, "install", "KitchenSet[build]", "Table>=2").user_error()
    low = message.lower()
    assert "table" in low and "kitchenset" in low
    assert "<2" in message or "2.0.0" in message
    # and a pin against a pin
    message = run_cli("-w", ws.root, "install", "KitchenSet[build]", "Lamp==3.3.0").user_error("lamp")
    assert "3.2.1" in message and "3.3.0" in message
    assert snap(ws.inputs) == before
    assert requests_of(ws) == []


@pytest.mark.parametrize("req", ["Chair @ file:///tmp/chair.whl", "Chair[", "../chair", "Chair;;"])
def test_install_bad_requirement(sample_ws, run_cli, req: str) -> None:
    run_cli("-w", sample_ws.root, "install", req).user_error()


# -- dependency confusion: assets named like public packages ----------------------------------


@pytest.mark.parametrize("public", ["six", "requests"])
def test_asset_named_like_a_public_package(make_workspace, run_cli, public: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # even with every index setting a shell or pip config could add, nothing comes from PyPI
    monkeypatch.setenv("UV_INDEX_URL", "https://pypi.org/simple")
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", "https://pypi.org/simple")
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.org/simple")
    monkeypatch.setenv("UV_FIND_LINKS", "/opt/wheels")
    ws = make_workspace()
    # not in any repo yet: a clean error, never a fetch of the public package
    message = run_cli("-w", ws.root, "install", public).user_error(public)
    assert "blessed" in message
    assert public not in versions_installed(ws)
    _, others = ws.installed()
    assert others == []
    # published as an asset (version 0.0.1, far below the public ones): that is what installs
    ws.create(public, kind="prop", version="0.0.1", description="studio asset")
    ws.publish(public)
    shutil.rmtree(ws.outputs / public)
    ws.uv_pip("uninstall", [public], with_index=False)
    assert run_cli("-w", ws.root, "install", public).exit_code == 0
    asset = ws.installed_assets()[public]
    assert (asset.version, asset.description) == ("0.0.1", "studio asset")
    # asking for a public version fails cleanly: the repos do not have it
    run_cli("-w", ws.root, "install", f"{public}>=1").user_error(public)
    assert ws.installed_assets()[public].version == "0.0.1"


# -- external packages ----------------------------------------------------------------------


def test_external_add_six(make_workspace, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real fetch of a tiny pure wheel (this machine's pip config serves it locally)."""
    ws = make_workspace()
    r = run_cli("-w", ws.root, "external", "add", "six==1.17.0")
    assert r.exit_code == 0, r.err
    assert r.out.split() == ["six-1.17.0-py2.py3-none-any.whl"]
    assert run_cli("-w", ws.root, "external", "list", "--json").json() == [
        "six-1.17.0-py2.py3-none-any.whl"]
    # an asset may now depend on it, and it installs from external_packages/
    ws.create("Tool1", kind="tool")
    ws.output("Tool1").set_requirements("", ["six"])
    ws.publish("Tool1")
    other = make_workspace("other")
    shutil.copy(ws.external_dir / "six-1.17.0-py2.py3-none-any.whl", other.external_dir)
    assert run_cli("-w", other.root, "install", "Tool1").exit_code == 0
    _, others = other.installed()
    assert ("six", "1.17.0") in others
    assert list(other.installed_assets()) == ["tool1"]
    # without it in external_packages/, the same install fails cleanly
    third = make_workspace("third")
    run_cli("-w", third.root, "install", "Tool1").user_error("six")


def test_external_add_errors(make_workspace, run_cli) -> None:
    ws = make_workspace()
    run_cli("-w", ws.root, "external", "add", "six>>1").user_error("invalid requirement")
    run_cli("-w", ws.root, "external", "add", "no-such-package-setpiece-test==0.0.1").user_error(
        "could not fetch")
    assert list(ws.external_dir.iterdir()) == []


# -- freeze and sync ----------------------------------------------------------------------


def test_freeze_and_sync_recreate_inputs_exactly(sample_ws, make_workspace, run_cli,
                                                 tmp_path: Path, sample_repo: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ws = sample_ws
    _plain_wheel(ws.external_dir, "plainlib", "2.0.0")
    ws.install(["Apartment[build]", "plainlib"])
    ws.create("Shot")  # editable: noted, not locked
    lock = tmp_path / "setpiece.lock"
    r = run_cli("-w", ws.root, "freeze", "-o", lock)
    assert r.exit_code == 0, r.err
    text = lock.read_text()
    assert run_cli("-w", ws.root, "freeze").out == text
    for pin in ("apartment==0.1.0", "chair==1.1.0", "kitchenset==1.0.0", "lamp==3.2.1",
                "table==1.3.0", "plainlib==2.0.0"):
        assert pin in text
    assert text.count("--hash=sha256:") == 6
    assert "editable output, not locked: Shot" in text

    # another machine: fresh uv cache, a workspace with the same repos, an old install
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "machine2-cache"))
    other = make_workspace("other", repos={"blessed": sample_repo, "review": tmp_path / "repos" / "review"},
                           blessed="blessed", default="review")
    shutil.copy(ws.external_dir / "plainlib-2.0.0-py3-none-any.whl", other.external_dir)
    other.install(["Table==2.0.0"])
    r = run_cli("-w", other.root, "sync", lock, "--json")
    assert r.exit_code == 0, r.err
    assert "- table==2.0.0" in r.json()
    mine = {k: v for k, v in versions_installed(ws).items() if k != "shot"}
    assert versions_installed(other) == mine
    assert sorted(other.installed()[1]) == sorted(ws.installed()[1])
    # hashes of the installed files match
    assert run_cli("-w", other.root, "freeze").out.split("\n", 2)[2] == text.split("\n", 3)[3]


def test_sync_into_a_workspace_without_venv(sample_ws, make_workspace, tmp_path: Path,
                                            sample_repo: Path, run_cli) -> None:
    ws = sample_ws
    ws.install(["KitchenSet[build]"])
    lock = tmp_path / "lock.txt"
    ws.freeze(lock)
    other = make_workspace("other", repos={"blessed": sample_repo}, blessed="blessed",
                           default="blessed")
    shutil.rmtree(other.inputs)
    assert run_cli("-w", other.root, "sync", lock).exit_code == 0
    assert versions_installed(other) == versions_installed(ws)


def test_sync_refuses_a_tampered_wheel(sample_ws, make_workspace, tmp_path: Path, sample_repo: Path,
                                       run_cli, snap, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = sample_ws
    ws.install(["KitchenSet[build]"])
    lock = tmp_path / "lock.txt"
    ws.freeze(lock)
    # someone replaces Table 1.3.0 in the repo with a different (valid) wheel of that version
    import zipfile

    wheel = sample_repo / "table-1.3.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("table/payload.py", "EVIL = True\n")
    from setpiece.core.repos.folder import FolderRepo

    (sample_repo / "simple" / "table" / "index.html").unlink()
    FolderRepo("s", str(sample_repo)).reindex()
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "machine2-cache"))
    other = make_workspace("other", repos={"blessed": sample_repo}, blessed="blessed",
                           default="blessed")
    before = snap(other.inputs)
    message = run_cli("-w", other.root, "sync", lock).user_error("table")
    assert "hash" in message.lower()
    assert snap(other.inputs) == before


def test_sync_errors(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    run_cli("-w", ws.root, "sync", tmp_path / "nope.lock").user_error("does not exist", "freeze")
    bad = tmp_path / "bad.lock"
    bad.write_text("chair==1.0.0\n")  # no hash
    run_cli("-w", ws.root, "sync", bad).user_error()


def test_subprocess_exit_codes(sample_ws, run_setpiece) -> None:
    ws = sample_ws
    ok = run_setpiece("-w", ws.root, "install", "KitchenSet[build]")
    assert ok.exit_code == 0, ok.err
    assert "+ kitchenset==1.0.0" in ok.out
    bad = run_setpiece("-w", ws.root, "install", "Sofa")
    bad.user_error("Sofa")
    usage = run_setpiece("-w", ws.root, "install", "--bogus")
    assert usage.exit_code == 2 and "Usage" in usage.err
    lst = run_setpiece("list", "--json", cwd=ws.outputs)
    assert lst.exit_code == 0 and len(json.loads(lst.out)) == 4
    proc = subprocess.run([str(ws.python), "-c", "import kitchenset, chair, table, lamp"], check=False)
    assert proc.returncode == 0


def test_external_wheel_never_replaces_a_repo_asset(sample_ws, run_cli, snap) -> None:
    """uv treats external_packages/ as one more source where the highest version wins: a
    plain 'chair-9.0.0' wheel there would replace the repo's Chair. Install refuses it."""
    ws = sample_ws
    _plain_wheel(ws.external_dir, "chair", "9.0.0")
    before = snap(ws.inputs)
    message = run_cli("-w", ws.root, "install", "Chair").user_error(
        "external_packages/chair-9.0.0-py3-none-any.whl", "asset 'chair'", "repo 'blessed'", "delete")
    assert str(ws.external_dir) in message
    assert snap(ws.inputs) == before and ws.installed() == ({}, [])
    # removed, the repo's Chair installs as before; other external wheels are fine
    (ws.external_dir / "chair-9.0.0-py3-none-any.whl").unlink()
    _plain_wheel(ws.external_dir, "plainlib", "2.0.0")
    assert run_cli("-w", ws.root, "install", "Chair", "plainlib").exit_code == 0
    assets, others = ws.installed()
    assert assets["chair"].version == "1.1.0" and ("plainlib", "2.0.0") in others


def test_external_add_refuses_an_asset_name(make_workspace, run_cli) -> None:
    ws = make_workspace()
    ws.create("six", kind="tool")
    ws.publish("six")
    message = run_cli("-w", ws.root, "external", "add", "six==1.17.0").user_error(
        "'six' is an asset in repo 'review'", "setpiece install six")
    assert "external_packages" in message
    assert list(ws.external_dir.iterdir()) == []
