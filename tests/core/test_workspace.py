"""Workspaces: init, layout, default repos, discovery (-w / SETPIECE_WORKSPACE / walk-up), repos."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import tomlkit

from setpiece.core import Workspace


def read_toml(path: Path) -> dict[str, Any]:
    return tomlkit.parse(path.read_text()).unwrap()


def test_init_layout_and_default_repos(tmp_path: Path, setpiece_env: Path, run_cli) -> None:
    r = run_cli("init", tmp_path / "ws")
    assert r.exit_code == 0, r.err
    ws = Workspace(tmp_path / "ws")
    for folder in ("inputs", "outputs", "build", "external_packages"):
        assert (ws.root / folder).is_dir()
    assert ws.python.exists()
    assert (ws.inputs / "pyvenv.cfg").is_file()
    assert ws.python_version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    config = read_toml(ws.root / "setpiece.toml")
    assert config["workspace"]["blessed"] == "blessed"
    assert config["workspace"]["default"] == "review"
    # The default repos live under SETPIECE_HOME (never the real ~/.local/share).
    for name in ("blessed", "review"):
        location = Path(config["repos"][name]["location"])
        assert location == setpiece_env / "repos" / name
        assert location.is_dir()


def test_default_repos_are_shared_by_a_users_workspaces(tmp_path: Path, run_cli) -> None:
    assert run_cli("init", tmp_path / "a").exit_code == 0
    assert run_cli("init", tmp_path / "b").exit_code == 0
    a, b = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    assert {n: r.location for n, r in a.repos().items()} == {
        n: r.location for n, r in b.repos().items()
    }
    a.create("Chair")
    a.publish("Chair")
    assert b.versions("Chair") == {"blessed": [], "review": ["0.1.0"]}


def test_init_with_repos_blessed_default(tmp_path: Path, run_cli) -> None:
    r = run_cli(
        "init", tmp_path / "ws", "--repo", f"main={tmp_path / 'main'}", "--repo",
        f"wip={tmp_path / 'wip'}", "--blessed", "main", "--default", "wip",
    )
    assert r.exit_code == 0, r.err
    ws = Workspace(tmp_path / "ws")
    assert list(ws.repos()) == ["main", "wip"]
    assert ws.config.blessed == "main" and ws.config.default == "wip"
    assert (tmp_path / "main" / "simple").is_dir()


def test_init_python_version(tmp_path: Path, run_cli) -> None:
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    r = run_cli("init", tmp_path / "ws", "--python", version)
    assert r.exit_code == 0, r.err
    assert Workspace(tmp_path / "ws").python_version == version


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--repo", "nolocation"], "NAME=LOCATION"),
        (["--repo", "=/tmp/x"], "NAME=LOCATION"),
        (["--repo", "../x=/tmp/x"], "name"),
        (["--repo", "a=/tmp/a", "--blessed", "zzz"], "zzz"),
        (["--repo", "a=/tmp/a", "--default", "zzz"], "zzz"),
        (["--repo", "a=/tmp/a", "--repo", "a=/tmp/b"], "unique"),
        (["--repo", "a=ftp://example.com/x"], "unsupported location"),
        (["--python", "2.7"], "python 2.7"),
    ],
)
def test_init_errors_write_nothing(tmp_path: Path, run_cli, args: list[str], fragment: str) -> None:
    target = tmp_path / "ws"
    r = run_cli("init", target, *args)
    r.user_error(fragment)
    assert not target.exists()


def test_init_unreachable_index_writes_nothing(tmp_path: Path, run_cli, closed_port: int) -> None:
    target = tmp_path / "ws"
    r = run_cli("init", target, "--repo", f"lan=http://127.0.0.1:{closed_port}/simple/")
    r.user_error("unreachable", "lan")
    assert not target.exists()


def test_init_existing_workspace_refused(tmp_path: Path, run_cli, snap) -> None:
    assert run_cli("init", tmp_path / "ws").exit_code == 0
    before = snap(tmp_path / "ws")
    run_cli("init", tmp_path / "ws").user_error("already a setpiece workspace")
    assert snap(tmp_path / "ws") == before


def test_init_failure_in_existing_folder_keeps_its_files(tmp_path: Path, run_cli) -> None:
    target = tmp_path / "project"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    run_cli("init", target, "--python", "2.7").user_error()
    assert (target / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


# -- discovery -------------------------------------------------------------------------------


@pytest.fixture
def three(make_workspace):
    """Three workspaces a, b, c (sharing repos) with one output asset each, named after them."""
    out = {}
    for name in ("a", "b", "c"):
        ws = make_workspace(name)
        ws.create(f"Only{name.upper()}")
        out[name] = ws
    return out


def _outputs(result) -> list[str]:
    return [line.split()[0] for line in result.out.splitlines() if line.strip()]


def test_discovery_order(three, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = three["a"], three["b"], three["c"]
    sub = c.root / "outputs" / "OnlyC" / "src"
    # walk-up from a sub-folder
    assert _outputs(run_cli("list", "--outputs", cwd=sub)) == ["OnlyC"]
    # SETPIECE_WORKSPACE beats the current folder
    monkeypatch.setenv("SETPIECE_WORKSPACE", str(b.root))
    assert _outputs(run_cli("list", "--outputs", cwd=sub)) == ["OnlyB"]
    # -w beats both
    assert _outputs(run_cli("-w", a.root, "list", "--outputs", cwd=sub)) == ["OnlyA"]
    assert _outputs(run_cli("--workspace", a.root, "list", "--outputs", cwd=sub)) == ["OnlyA"]


def test_discovery_api(three, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = three["a"], three["b"], three["c"]
    monkeypatch.chdir(c.outputs)
    assert Workspace.find().root == c.root
    monkeypatch.setenv("SETPIECE_WORKSPACE", str(b.root))
    assert Workspace.find().root == b.root
    assert Workspace.find(a.root).root == a.root


def test_missing_workspace(tmp_path: Path, run_cli) -> None:
    message = run_cli("list", cwd=tmp_path).user_error("not inside a setpiece workspace")
    assert "setpiece init" in message
    run_cli("-w", tmp_path, "list").user_error("not a setpiece workspace", "setpiece init")


def test_missing_workspace_from_env(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETPIECE_WORKSPACE", str(tmp_path / "nowhere"))
    run_cli("list", cwd=tmp_path).user_error("not a setpiece workspace", "nowhere")


def test_missing_workspace_subprocess(tmp_path: Path, run_setpiece) -> None:
    r = run_setpiece("list", cwd=tmp_path)
    r.user_error("not inside a setpiece workspace", "setpiece init")


def test_broken_config_is_a_clean_error(make_workspace, run_cli) -> None:
    ws = make_workspace()
    (ws.root / "setpiece.toml").write_text("[workspace\nblessed = ")
    run_cli("-w", ws.root, "repo", "list").user_error("not valid TOML")


def test_missing_venv_is_a_clean_error(make_workspace, run_cli) -> None:
    import shutil

    ws = make_workspace()
    shutil.rmtree(ws.inputs)
    run_cli("-w", ws.root, "create", "Chair").user_error("venv", "missing")
    assert not (ws.outputs / "Chair").exists()


# -- repos -----------------------------------------------------------------------------------


def test_repo_add_list_remove(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    extra = tmp_path / "shared" / "wip"
    r = run_cli("-w", ws.root, "repo", "add", "wip", extra, "--default", "--create")
    assert r.exit_code == 0, r.err
    assert (extra / "simple").is_dir()
    rows = run_cli("-w", ws.root, "repo", "list", "--json").json()
    assert [row["name"] for row in rows] == ["blessed", "review", "wip"]
    wip = rows[2]
    assert wip == {"name": "wip", "kind": "folder", "location": str(extra), "blessed": False,
                   "default": True}
    # persisted in setpiece.toml
    config = read_toml(ws.root / "setpiece.toml")
    assert config["repos"]["wip"]["location"] == str(extra)
    assert config["workspace"]["default"] == "wip"
    text = run_cli("-w", ws.root, "repo", "list").out
    assert "wip" in text and "[default]" in text

    r = run_cli("-w", ws.root, "repo", "remove", "wip", "--force")  # the default repo
    assert r.exit_code == 0, r.err
    config = read_toml(ws.root / "setpiece.toml")
    assert "wip" not in config["repos"]
    assert "default" not in config["workspace"]
    assert extra.is_dir()  # contents are left alone
    # with no default repo, publish says what to do
    ws2 = Workspace(ws.root)
    ws2.create("Chair")
    run_cli("-w", ws.root, "publish", "Chair").user_error("no default repo", "repo add")


def test_repo_add_blessed_goes_first(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "repo", "add", "studio", tmp_path / "studio", "--blessed",
                   "--create").exit_code == 0
    rows = run_cli("-w", ws.root, "repo", "list", "--json").json()
    assert rows[0]["name"] == "studio" and rows[0]["blessed"]


def test_repo_add_relative_path_is_made_absolute(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    r = run_cli("-w", ws.root, "repo", "add", "rel", "relrepo", "--create", cwd=tmp_path)
    assert r.exit_code == 0, r.err
    config = read_toml(ws.root / "setpiece.toml")
    assert config["repos"]["rel"]["location"] == str(tmp_path / "relrepo")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["repo", "remove", "nope"], "unknown repo 'nope'"),
        (["repo", "add", "a b", "/tmp/x"], "name"),
        (["repo", "add", "x", "ftp://host/x"], "unsupported location"),
        (["publish", "Chair", "--repo", "nope"], "unknown repo 'nope'"),
        (["install", "Chair", "--repo", "nope"], "unknown repo 'nope'"),
        (["versions", "Chair", "--repo", "nope"], "unknown repo 'nope'"),
        (["list", "--repo", "nope"], "unknown repo 'nope'"),
        (["promote", "Chair==0.1.0", "--to", "nope"], "unknown repo 'nope'"),
        (["promote", "Chair==0.1.0", "--to", "blessed", "--from", "nope"], "unknown repo 'nope'"),
    ],
)
def test_unknown_repo(make_workspace, run_cli, snap, args: list[str], fragment: str) -> None:
    ws = make_workspace()
    ws.create("Chair")
    before = snap(ws.root, skip=(".setpiece", "inputs"))
    message = run_cli("-w", ws.root, *args).user_error(fragment)
    if "unknown repo" in fragment:
        assert "blessed" in message and "repo add" in message
    assert snap(ws.root, skip=(".setpiece", "inputs")) == before


def test_repo_add_unreachable_index(make_workspace, run_cli, snap, closed_port: int) -> None:
    ws = make_workspace()
    before = snap(ws.root)
    url = f"http://127.0.0.1:{closed_port}/simple/"
    run_cli("-w", ws.root, "repo", "add", "lan", url).user_error("unreachable", "lan")
    assert snap(ws.root) == before


def test_configured_repo_folder_missing(make_workspace, run_cli, tmp_path: Path) -> None:
    import shutil

    ws = make_workspace()
    ws.create("Chair")
    shutil.rmtree(tmp_path / "repos" / "review")  # e.g. a shared drive that is not mounted
    run_cli("-w", ws.root, "publish", "Chair").user_error("does not exist", "review")
    run_cli("-w", ws.root, "install", "Table").user_error("does not exist", "review")
    run_cli("-w", ws.root, "create", "Lamp").user_error("does not exist", "review")
    assert not (ws.outputs / "Lamp").exists()


def test_versions_of_an_asset_no_repo_has(sample_ws, run_setpiece) -> None:
    ws = sample_ws
    r = run_setpiece("-w", ws.root, "versions", "Nope")
    assert r.exit_code == 1 and "Traceback" not in r.err
    assert r.err.strip().splitlines()[-1].startswith("error: no repo has 'Nope': searched blessed, review")
    r = run_setpiece("-w", ws.root, "versions", "Chair", "--repo", "review")
    assert r.exit_code == 1 and "no repo has 'Chair': searched review" in r.err
    r = run_setpiece("-w", ws.root, "versions", "Chair", "--json")
    assert r.exit_code == 0 and r.out and "blessed" in r.out


def test_repo_add_missing_folder_needs_create(make_workspace, run_cli, tmp_path: Path, snap) -> None:
    """A typo or an unmounted share must not silently become a new, empty repo."""
    ws = make_workspace()
    missing = tmp_path / "mnt" / "studio" / "repo"
    before = snap(ws.root, skip=(".setpiece",))
    message = run_cli("-w", ws.root, "repo", "add", "studio", missing).user_error(
        "repo 'studio'", str(missing), "does not exist", "--create")
    assert "unmounted" in message
    assert not missing.exists() and not (tmp_path / "mnt").exists()
    assert snap(ws.root, skip=(".setpiece",)) == before
    # an existing (empty) folder is fine, and --create makes a missing one
    (tmp_path / "empty").mkdir()
    assert run_cli("-w", ws.root, "repo", "add", "empty", tmp_path / "empty").exit_code == 0
    assert (tmp_path / "empty" / "simple" / "index.html").is_file()
    assert run_cli("-w", ws.root, "repo", "add", "studio", missing, "--create").exit_code == 0
    assert (missing / "simple" / "index.html").is_file()
    assert "studio" in read_toml(ws.root / "setpiece.toml")["repos"]


def test_repo_remove_keeps_the_blessed_and_default_roles(make_workspace, run_cli, snap,
                                                         tmp_path: Path) -> None:
    ws = make_workspace()
    before = snap(ws.root, skip=(".setpiece",))
    run_cli("-w", ws.root, "repo", "remove", "blessed").user_error(
        "repo 'blessed' is the workspace's blessed repo",
        "setpiece repo add NAME LOCATION --blessed", "--force")
    run_cli("-w", ws.root, "repo", "remove", "review").user_error(
        "default repo", "setpiece repo add NAME LOCATION --default")
    assert snap(ws.root, skip=(".setpiece",)) == before
    # set another first, then it goes
    assert run_cli("-w", ws.root, "repo", "add", "studio", tmp_path / "studio", "--create",
                   "--blessed").exit_code == 0
    assert run_cli("-w", ws.root, "repo", "remove", "blessed").exit_code == 0
    config = read_toml(ws.root / "setpiece.toml")
    assert config["workspace"]["blessed"] == "studio" and "blessed" not in config["repos"]
    # or force it
    assert run_cli("-w", ws.root, "repo", "remove", "review", "--force").exit_code == 0
    assert "default" not in read_toml(ws.root / "setpiece.toml")["workspace"]
