"""Assets as code, through the CLI with real uv installs into real workspaces: clones (dvc
pointers kept, bytes linked not copied), castings (install their members, build their
scene), generated assets (hash-gated publishing, run by a reaction) and creator
templates (parameters, failures leaving nothing, safe mode)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]


def _ok(result: Any) -> Any:
    assert result.exit_code == 0, result.err
    return result


@pytest.fixture
def props_ws(make_workspace: Callable[..., Any], run_cli: Run) -> Any:
    """Chair, Table and Lamp 1.0.0 published to review (the default repo)."""
    ws = make_workspace()
    for name in ("Chair", "Table", "Lamp"):
        _ok(run_cli("-w", ws.root, "create", name, "--version", "1.0.0", "-q"))
        _ok(run_cli("-w", ws.root, "publish", name, "-q"))
    return ws


# -- clones --------------------------------------------------------------------------------


def test_clone_keeps_pointers_links_bytes_and_gets_its_own_name(
    props_ws: Any, run_cli: Run, tmp_path: Path
) -> None:
    ws = props_ws
    texture = tmp_path / "wood.png"
    texture.write_bytes(os.urandom(50_000))
    _ok(run_cli("-w", ws.root, "files", "add", "Chair", texture, "--as", "textures/wood.png"))
    pkg = Path(ws.output("Chair").package_dir)
    (pkg / "helpers.py").write_text("SIZE = 1\n")
    (pkg / "setup.py").write_text("from chair import helpers\n\ndef setup(ctx):\n    pass\n")
    ws.output("Chair").add_entry_point("setpiece.setup", "Chair", "chair.setup:setup")

    cache = ws.root / ".setpiece" / "files" / "cache"
    objects = sorted(p for p in cache.rglob("*") if p.is_file())
    fsynced: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        fsynced.append((st.st_dev, st.st_ino))
        real_fsync(fd)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", fsync)
        r = _ok(run_cli("-w", ws.root, "clone", "Chair", "ChairB", "--json"))
    assert r.json()["name"] == "ChairB" and r.json()["version"] == "0.1.0"
    clone = ws.output("ChairB")
    new = Path(clone.package_dir)
    # the copied files, their folders and outputs/ (the clone's new name) were fsynced
    for path in (new / "helpers.py", new, ws.root / "outputs"):
        assert (path.stat().st_dev, path.stat().st_ino) in fsynced, f"{path} not fsynced"
    assert clone.module == "chairb" and new.name == "chairb"
    # the pointer is the same (same md5): the cache holds the bytes once, for both; the
    # clone's working file is what [files] edit_link gives an output asset (root: a copy
    # or reflink, so an edit in place never reaches the cache)
    assert (new / "textures" / "wood.png.dvc").read_text() == (
        pkg / "textures" / "wood.png.dvc").read_text()
    assert sorted(p for p in cache.rglob("*") if p.is_file()) == objects
    assert (new / "textures" / "wood.png").read_bytes() == texture.read_bytes()
    # code follows the new package; the setup entry point is named after the clone
    assert (new / "setup.py").read_text().startswith("from chairb import helpers")
    eps = clone.data()["project"]["entry-points"]
    assert eps["setpiece.setup"] == {"ChairB": "chairb.setup:setup"}
    usda = (new / "asset.usda").read_text()
    assert 'string name = "ChairB"' in usda and '"chairb/asset.usda"' in usda
    # a version line of its own, publishable beside Chair's; the wheel ships no bytes
    _ok(run_cli("-w", ws.root, "publish", "ChairB", "-q"))
    assert ws.available_versions("ChairB") == ["0.1.0"]
    assert ws.available_versions("Chair") == ["1.0.0"]
    import zipfile

    wheel = next((tmp_path / "repos" / "review").rglob("chairb-0.1.0-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "chairb/textures/wood.png.dvc" in names and "chairb/textures/wood.png" not in names

    # where edit_link allows links, the clone's file is the cache object itself
    toml = ws.root / "setpiece.toml"
    assert "[files]" not in toml.read_text()
    toml.write_text(toml.read_text() + '\n[files]\nedit_link = ["hardlink", "symlink"]\n')
    _ok(run_cli("-w", ws.root, "clone", "Chair", "ChairC"))
    linked = Path(ws.output("ChairC").package_dir) / "textures" / "wood.png"
    assert [os.stat(linked).st_ino] == [os.stat(p).st_ino for p in objects
                                        if p.stat().st_size == 50_000]

    run_cli("-w", ws.root, "clone", "Chair", "Table").user_error(
        "'Table' already exists", "pick another name")
    run_cli("-w", ws.root, "clone", "Sofa", "SofaB").user_error(
        "'Sofa' is neither an output asset nor installed")


def test_clone_of_an_installed_published_asset(props_ws: Any, run_cli: Run) -> None:
    ws = props_ws
    shutil.rmtree(ws.outputs / "Lamp")
    ws.uv_pip("uninstall", ["Lamp"], what="test", with_index=False)
    _ok(run_cli("-w", ws.root, "install", "Lamp"))
    _ok(run_cli("-w", ws.root, "clone", "Lamp", "DeskLamp", "--version", "2.0.0"))
    assert ws.output("DeskLamp").version == "2.0.0"
    assert ws.installed_assets()["desklamp"].editable


# -- castings ------------------------------------------------------------------------------


def test_casting_installs_its_members_and_its_scene_composes_them(
    props_ws: Any, run_cli: Run, make_workspace: Callable[..., Any]
) -> None:
    ws = props_ws
    _ok(run_cli("-w", ws.root, "create", "Props", "--kind", "casting", "-q"))
    r = _ok(run_cli("-w", ws.root, "casting", "add", "Props", "Chair", "Table==1.0.0", "Lamp",
                    "--json"))
    assert r.json()["members"] == ["Chair==1.0.0", "Lamp==1.0.0", "Table==1.0.0"]
    run_cli("-w", ws.root, "casting", "add", "Props", "Chair>=1").user_error(
        "a casting pins exact versions")
    run_cli("-w", ws.root, "casting", "remove", "Props", "Sofa").user_error(
        "Props has no member 'Sofa'")
    _ok(run_cli("-w", ws.root, "publish", "Props", "-q"))

    # another workspace: installing the casting installs its members at their pins
    other = make_workspace("other")
    _ok(run_cli("-w", other.root, "install", "Props"))
    installed = other.installed_assets()
    assert {k: installed[k].version for k in ("chair", "table", "lamp")} == {
        "chair": "1.0.0", "table": "1.0.0", "lamp": "1.0.0"}
    r = _ok(run_cli("-w", other.root, "install", "Props[build]"))
    r = _ok(run_cli("-w", other.root, "scene", "build", "Props", "--json"))
    data = r.json()
    scene = Path(data.get("generated") or data.get("scene"))
    text = scene.read_text()
    for prop in ("chair", "table", "lamp"):
        assert f"@{prop}/asset.usda@" in text
    r = _ok(run_cli("-w", other.root, "scene", "inventory", data["scene"], "--json"))
    names = {c["asset"] for c in r.json()}
    assert {"Chair", "Table", "Lamp"} <= names

    r = _ok(run_cli("-w", ws.root, "casting", "remove", "Props", "Lamp", "--json"))
    assert r.json()["members"] == ["Chair==1.0.0", "Table==1.0.0"]
    r = _ok(run_cli("-w", ws.root, "info", "Props", "--json"))
    assert "Lamp" not in json.dumps(r.json()["dependencies"])


# -- generated assets ----------------------------------------------------------------------

GENERATOR = '''
def generate(ctx):
    newest = {}
    for ev in ctx.events(repo="review", since="today"):
        if ev["asset"] != ctx.name:
            newest[ev["asset"]] = ev["version"]
    if ctx.workspace.root.joinpath("FAIL").exists():
        raise RuntimeError("the review database is down")
    lines = "".join(f"{a} {v}\\n" for a, v in sorted(newest.items()))
    return {"members": [f"{a}=={v}" for a, v in sorted(newest.items())],
            "files": {"playlist.txt": lines}}
'''


def _todays_reviews(ws: Any, run_cli: Run) -> Path:
    _ok(run_cli("-w", ws.root, "create", "TodaysReviews", "--kind", "casting", "-q"))
    out = ws.output("TodaysReviews")
    (Path(out.package_dir) / "generate.py").write_text(GENERATOR)
    out.add_entry_point("setpiece.generators", "TodaysReviews", "todaysreviews.generate:generate")
    return Path(out.package_dir)


def test_generated_playlist_publishes_only_when_the_reviews_changed(
    props_ws: Any, run_cli: Run
) -> None:
    ws = props_ws
    pkg = _todays_reviews(ws, run_cli)
    r = _ok(run_cli("-w", ws.root, "generate", "TodaysReviews", "--json"))
    assert r.json()["changed"] is True and r.json()["version"] == "0.1.0"
    assert r.json()["members"] == ["Chair==1.0.0", "Lamp==1.0.0", "Table==1.0.0"]
    assert (pkg / "playlist.txt").read_text() == "Chair 1.0.0\nLamp 1.0.0\nTable 1.0.0\n"

    r = _ok(run_cli("-w", ws.root, "generate", "TodaysReviews", "--json"))
    assert r.json()["changed"] is False
    assert ws.available_versions("TodaysReviews") == ["0.1.0"]

    # a new review today: a new version with it
    _ok(run_cli("-w", ws.root, "bump", "Chair", "minor"))
    _ok(run_cli("-w", ws.root, "publish", "Chair", "-q"))
    r = _ok(run_cli("-w", ws.root, "generate", "TodaysReviews"))
    assert r.out.strip() == "TodaysReviews 0.1.1 published"
    assert ws.available_versions("TodaysReviews") == ["0.1.0", "0.1.1"]
    assert "Chair 1.1.0" in (pkg / "playlist.txt").read_text()

    # a failing generator: named with its version, nothing changed
    before = ws.output("TodaysReviews").pyproject.read_text()
    (ws.root / "FAIL").write_text("")
    run_cli("-w", ws.root, "generate", "TodaysReviews").user_error(
        "the generator of TodaysReviews 0.1.1 failed", "RuntimeError",
        "the review database is down")
    assert ws.output("TodaysReviews").pyproject.read_text() == before
    assert ws.available_versions("TodaysReviews") == ["0.1.0", "0.1.1"]
    (ws.root / "FAIL").unlink()

    # the wheel lands but its index cannot be written: the new version is kept (it is in
    # the repo), so once the index is rebuilt the next generate has nothing to publish
    page = Path(ws.repo("review").root) / "simple" / "todaysreviews"
    page.rename(page.with_name("away"))
    page.write_text("not a folder")
    _ok(run_cli("-w", ws.root, "bump", "Chair", "minor"))
    _ok(run_cli("-w", ws.root, "publish", "Chair", "-q"))
    run_cli("-w", ws.root, "generate", "TodaysReviews").user_error(
        "TodaysReviews 0.1.2 was published to repo 'review', but its index could not be written")
    assert ws.output("TodaysReviews").version == "0.1.2"
    assert "Chair 1.2.0" in (pkg / "playlist.txt").read_text()
    page.unlink()
    page.with_name("away").rename(page)
    _ok(run_cli("-w", ws.root, "repo", "reindex", "review"))
    r = _ok(run_cli("-w", ws.root, "generate", "TodaysReviews", "--json"))
    assert r.json()["changed"] is False and r.json()["version"] == "0.1.2"

    # the next version is already in the repo (someone else's wheel): refused, and the
    # version, the state and every file the generator wrote are put back
    repo = Path(ws.repo("review").root)
    theirs = repo / "todaysreviews-0.1.3-py3-none-any.whl"
    theirs.write_bytes((repo / "todaysreviews-0.1.2-py3-none-any.whl").read_bytes())
    playlist = (pkg / "playlist.txt").read_bytes()
    _ok(run_cli("-w", ws.root, "bump", "Lamp", "minor"))
    _ok(run_cli("-w", ws.root, "publish", "Lamp", "-q"))
    r = run_cli("-w", ws.root, "generate", "TodaysReviews")
    assert r.exit_code == 1 and "0.1.3" in r.err, r.out + r.err
    assert ws.output("TodaysReviews").version == "0.1.2"
    assert (pkg / "playlist.txt").read_bytes() == playlist


def test_safe_mode_runs_no_generator(props_ws: Any, run_cli: Run,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ws = props_ws
    _todays_reviews(ws, run_cli)
    monkeypatch.setenv("SETPIECE_SAFE_MODE", "1")
    run_cli("-w", ws.root, "generate", "TodaysReviews").user_error(
        "safe mode", "TodaysReviews 0.1.0", "was not run")
    assert ws.available_versions("TodaysReviews") == []
    run_cli("-w", ws.root, "generate", "Chair").user_error("Chair has no generator")


@pytest.mark.slow
def test_a_reaction_generates_on_each_publish(props_ws: Any, run_cli: Run,
                                              run_setpiece: Run) -> None:
    ws = props_ws
    _todays_reviews(ws, run_cli)
    exe = Path(sys.executable).parent / "setpiece"
    with open(ws.root / "setpiece.toml", "a", encoding="utf-8") as fh:
        fh.write(f'''
[[reactions]]
name = "todays-reviews"
on = ["published"]
do = "command"
with = {{ run = "{exe} generate TodaysReviews" }}
''')
    _ok(run_setpiece("-w", ws.root, "react", "--once"))
    assert ws.available_versions("TodaysReviews") == ["0.1.0"]
    _ok(run_cli("-w", ws.root, "bump", "Table", "minor"))
    _ok(run_cli("-w", ws.root, "publish", "Table", "-q"))
    _ok(run_setpiece("-w", ws.root, "react", "--once"))
    # the generator's own publish triggers it again: same result, no third version
    _ok(run_setpiece("-w", ws.root, "react", "--once"))
    assert ws.available_versions("TodaysReviews") == ["0.1.0", "0.1.1"]


# -- creator templates ---------------------------------------------------------------------

CREATOR = '''
class ShotTemplate:
    kind = "shot"
    parameters = {
        "frames": {"default": 100, "type": "int", "help": "length in frames"},
        "fps": {"default": "24", "choices": ["24", "25", "30"]},
        "set": {"help": "the set the shot happens in"},
    }

    def validate(self, params):
        if params["frames"] <= 0:
            raise ValueError("frames must be positive")

    def create(self, ctx):
        if ctx.params["set"] == "Explode":
            raise OSError("disk full")
        ctx.write("shot.json", '{"frames": %d, "fps": %s}' % (ctx.params["frames"], ctx.params["fps"]))
        ctx.write("layout/README.txt", "layout goes here")
        ctx.require(ctx.params["set"])
'''


def test_creator_template_with_parameters(props_ws: Any, run_cli: Run,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ws = props_ws
    _ok(run_cli("-w", ws.root, "create", "ShotTemplate", "--kind", "tool", "-q"))
    tpl = ws.output("ShotTemplate")
    (Path(tpl.package_dir) / "creator.py").write_text(CREATOR)
    tpl.add_entry_point("setpiece.creators", "ShotTemplate", "shottemplate.creator:ShotTemplate")
    _ok(run_cli("-w", ws.root, "publish", "ShotTemplate", "-q"))
    shutil.rmtree(ws.outputs / "ShotTemplate")
    ws.uv_pip("uninstall", ["ShotTemplate"], what="test", with_index=False)
    _ok(run_cli("-w", ws.root, "install", "ShotTemplate"))

    r = _ok(run_cli("-w", ws.root, "create", "Sh010", "--template", "ShotTemplate",
                    "-p", "frames=48", "-p", "set=Table", "--json"))
    assert r.json()["kind"] == "shot"
    shot = ws.output("Sh010")
    assert json.loads((Path(shot.package_dir) / "shot.json").read_text()) == {
        "frames": 48, "fps": 24}
    assert [str(q) for q in shot.requirements("build")] == ["Table[build]"]
    assert (Path(shot.package_dir) / "asset.usda").is_file()

    bad = [
        (["-p", "frames=ten", "-p", "set=Table"], "parameter 'frames' must be an int"),
        (["-p", "set=Table", "-p", "fps=60"], "parameter 'fps' is '60', not one of 24, 25, 30"),
        (["-p", "frames=0", "-p", "set=Table"], "refused the parameters: frames must be positive"),
        ([], "needs --param set=VALUE (the set the shot happens in)"),
        (["-p", "set=Table", "-p", "colour=red"], "has no parameter 'colour'"),
        (["-p", "set=Explode"], "the creator of ShotTemplate 0.1.0 failed: OSError: disk full"),
    ]
    for args, message in bad:
        run_cli("-w", ws.root, "create", "Sh020", "--template", "ShotTemplate", *args
                ).user_error(message)
        assert not (ws.outputs / "Sh020").exists()
        assert sorted(p.name for p in ws.outputs.iterdir()) == ["Chair", "Lamp", "Sh010", "Table"]

    monkeypatch.setenv("SETPIECE_SAFE_MODE", "1")
    run_cli("-w", ws.root, "create", "Sh020", "--template", "ShotTemplate", "-p", "set=Table"
            ).user_error("safe mode", "ShotTemplate 0.1.0")
    assert not (ws.outputs / "Sh020").exists()
