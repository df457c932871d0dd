"""Pipeline dependencies and errors on real dvc: a stage whose output comes out
byte-identical stops its downstream stages; a dependency on another installed asset's
files (``Plate:frames``), re-run by a reaction when Plate is published; a cycle, a
dependency not pulled, a stage submitted to the farm."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc")


def py(code: str, *args: str) -> str:
    """A stage command: this Python running ``code`` (``sys.argv[1:]`` = args)."""
    return " ".join([shlex.quote(sys.executable), "-c", shlex.quote(code),
                     *(shlex.quote(a) for a in args)])


# concatenates the files of folder argv[1] into argv[2], appends a line to argv[3]
CONCAT = ("import pathlib,sys; fs=sorted(pathlib.Path(sys.argv[1]).iterdir()); "
          "out=pathlib.Path(sys.argv[2]); out.parent.mkdir(parents=True, exist_ok=True); "
          "out.write_bytes(b''.join(f.read_bytes() for f in fs)); "
          "open(sys.argv[3],'a').write('ran\\n')")
# the first 5 bytes of argv[1] to argv[2]
HEAD = ("import pathlib,sys; pathlib.Path(sys.argv[2]).write_bytes("
        "pathlib.Path(sys.argv[1]).read_bytes()[:5]); open(sys.argv[3],'a').write('ran\\n')")
COPY = ("import pathlib,sys,shutil; shutil.copyfile(sys.argv[1], sys.argv[2]); "
        "open(sys.argv[3],'a').write('ran\\n')")


def pull_on_install(ws: Any, on: bool) -> None:
    with ws.config.edit() as doc:
        doc.setdefault("settings", {})["pull_on_install"] = on


def count(p: Path) -> int:
    return len(p.read_text().splitlines()) if p.exists() else 0


def add(run_cli: Any, ws: Any, *args: str) -> None:
    r = run_cli("-w", ws.root, "pipeline", "add", "Shot", *args)
    assert r.exit_code == 0, r.err


def test_byte_identical_output_stops_downstream(make_workspace: Any, run_cli: Any,
                                                tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    (pkg / "in.txt").write_text("hello world")
    head, copy = tmp_path / "head.log", tmp_path / "copy.log"
    add(run_cli, ws, "head", "--cmd", py(HEAD, "in.txt", "head.txt", str(head)),
        "--dep", "in.txt", "--out", "head.txt")
    add(run_cli, ws, "copy", "--cmd", py(COPY, "head.txt", "copy.txt", str(copy)),
        "--dep", "head.txt", "--out", "copy.txt")
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json")
    assert r.json()["ran"] == ["head", "copy"], r.err
    # the input changes after its first 5 bytes: head re-runs, its output is the same
    # bytes, so copy does not run
    (pkg / "in.txt").write_text("hello there")
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json")
    assert r.json()["ran"] == ["head"], r.err
    assert (count(head), count(copy)) == (2, 1)
    # the first 5 bytes change: both run
    (pkg / "in.txt").write_text("HELLO there")
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json")
    assert r.json()["ran"] == ["head", "copy"]
    assert (pkg / "copy.txt").read_text() == "HELLO"


def test_cycle_and_missing_dependency(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    add(run_cli, ws, "a", "--cmd", "true", "--dep", "b.txt", "--out", "a.txt")
    r = run_cli("-w", ws.root, "pipeline", "add", "Shot", "b", "--cmd", "true",
                "--dep", "a.txt", "--out", "b.txt")
    r.user_error("stages b -> a -> b form a cycle")
    assert "b:" not in (pkg / "dvc.yaml").read_text(), "the refused stage is not written"
    # a cycle written by hand: dvc's graph check, in one line
    (pkg / "dvc.yaml").write_text("stages:\n  a: {cmd: 'true', deps: [b.txt], outs: [a.txt]}\n"
                                  "  b: {cmd: 'true', deps: [a.txt], outs: [b.txt]}\n")
    run_cli("-w", ws.root, "pipeline", "run", "Shot").user_error("cycle")
    # a dependency that nothing makes and nobody tracks
    (pkg / "dvc.yaml").write_text("stages:\n  a: {cmd: 'true', deps: [nope.txt], outs: [a.txt]}\n")
    run_cli("-w", ws.root, "pipeline", "run", "Shot").user_error(
        "dependency 'nope.txt' of stage 'a' does not exist")
    run_cli("-w", ws.root, "pipeline", "add", "Shot", "x", "--cmd", "true", "--dep",
            "Nobody:frames", "--out", "x.txt").user_error("asset 'Nobody' is not installed")
    # a tracked folder of the asset itself whose files are not here (not pulled)
    src = pkg.parent / "render"
    src.mkdir()
    (src / "f1.txt").write_text("one")
    assert run_cli("-w", ws.root, "files", "add", "Shot", str(src), "--as", "frames").exit_code == 0
    import shutil

    shutil.rmtree(pkg / "frames")
    (pkg / "dvc.yaml").write_text("stages:\n  a: {cmd: 'true', deps: [frames/f1.txt], outs: [a.txt]}\n")
    run_cli("-w", ws.root, "pipeline", "run", "Shot").user_error(
        "dependency 'frames/f1.txt' of stage 'a' is not pulled", "setpiece files pull Shot")


def publish_plate(ws: Any, run_cli: Any, src: Path, version: str) -> None:
    if version == "1.0.0":
        ws.create("Plate", version=version)
    else:
        assert run_cli("-w", ws.root, "bump", "Plate", "micro").exit_code == 0
    r = run_cli("-w", ws.root, "files", "add", "Plate", str(src), "--as", "frames")
    assert r.exit_code == 0, r.err
    r = run_cli("-w", ws.root, "publish", "Plate")
    assert r.exit_code == 0, r.err


@pytest.mark.slow
def test_dependency_on_another_assets_files_and_the_reaction(
        make_workspace: Any, run_cli: Any, tmp_path: Path) -> None:
    author = make_workspace("author")
    src = tmp_path / "plate"
    src.mkdir()
    for i in range(3):
        (src / f"p{i}.txt").write_text(f"plate v1 frame {i}\n")
    publish_plate(author, run_cli, src, "1.0.0")

    shots = make_workspace("shots")
    pull_on_install(shots, False)
    with shots.config.path.open("a") as fh:  # the rule docs/pipelines.md shows
        fh.write('[[reactions]]\nname = "shot-movie"\nwhen = "Plate"\ndo = "pipeline.run"\n'
                 'with = { asset = "Shot", update = true }\n')
    shots = type(shots)(shots.root)
    assert run_cli("-w", shots.root, "install", "Plate", "--repo", "review").exit_code == 0
    shots.create("Shot")
    pkg = shots.output("Shot").package_dir
    log = tmp_path / "movie.log"
    add(run_cli, shots, "movie", "--cmd", py(CONCAT, "../../../../inputs", "x", "y"),
        "--dep", "Plate:frames", "--out", "movie.txt")
    dvc_yaml = (pkg / "dvc.yaml").read_text()
    dep = next(ln.strip()[2:] for ln in dvc_yaml.splitlines() if "site-packages" in ln)
    plate_frames = Path(shots.installed_asset("Plate").package_dir) / "frames"
    assert (pkg / dep).resolve() == plate_frames.resolve()
    add(run_cli, shots, "movie", "--cmd", py(CONCAT, dep, "movie.txt", str(log)),
        "--dep", "Plate:frames", "--out", "movie.txt")

    # Plate's files were not pulled (pull_on_install is off): say which pull to run
    run_cli("-w", shots.root, "pipeline", "run", "Shot").user_error(
        "dependency 'Plate:frames' of stage 'movie' is not pulled", "setpiece files pull Plate")
    assert run_cli("-w", shots.root, "files", "pull", "Plate").exit_code == 0
    r = run_cli("-w", shots.root, "pipeline", "run", "Shot", "--json")
    assert r.json()["ran"] == ["movie"], r.err
    assert "plate v1 frame 2" in (pkg / "movie.txt").read_text()
    # a dvc.yaml from another workspace layout: the path is resolved again before a run
    moved = dvc_yaml_text = (pkg / "dvc.yaml").read_text()
    moved = dvc_yaml_text.replace(dep, "../elsewhere/plate/frames")
    assert moved != dvc_yaml_text
    (pkg / "dvc.yaml").write_text(moved)
    r = run_cli("-w", shots.root, "pipeline", "status", "Shot")
    assert r.out.strip() == "movie: up to date", r.out + r.err
    assert (pkg / "dvc.yaml").read_text() == dvc_yaml_text
    # only whole words of the command are the moved path: a longer word that starts with it
    # (another file next to it) is left alone
    import yaml

    data = yaml.safe_load(moved)
    data["stages"]["movie"]["cmd"] += " ../elsewhere/plate/frames_proxy"
    (pkg / "dvc.yaml").write_text(yaml.safe_dump(data))
    run_cli("-w", shots.root, "pipeline", "status", "Shot")
    cmd = yaml.safe_load((pkg / "dvc.yaml").read_text())["stages"]["movie"]["cmd"]
    assert shlex.split(cmd)[-1] == "../elsewhere/plate/frames_proxy", cmd
    assert dep in shlex.split(cmd) and "../elsewhere/plate/frames" not in shlex.split(cmd)
    (pkg / "dvc.yaml").write_text(dvc_yaml_text)

    # Plate 1.0.1 is published elsewhere; the reaction installs it and re-runs the stage
    (src / "p2.txt").write_text("plate v2 frame 2\n")
    publish_plate(author, run_cli, src, "1.0.1")
    pull_on_install(shots, True)
    r = run_cli("-w", shots.root, "react", "--once")
    assert r.exit_code == 0, r.out + r.err
    assert shots.installed_asset("Plate").version == "1.0.1"
    assert "plate v2 frame 2" in (pkg / "movie.txt").read_text()
    assert count(log) == 2


def test_pipeline_run_on_the_local_farm(make_workspace: Any, run_cli: Any, tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    (pkg / "frames").mkdir()
    (pkg / "frames" / "f1.txt").write_text("one")
    log = tmp_path / "log"
    add(run_cli, ws, "movie", "--cmd", py(CONCAT, "frames", "movie.txt", str(log)),
        "--dep", "frames", "--out", "movie.txt")
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot", "--farm", "--backend", "local",
                "--wait", "--json")
    assert r.exit_code == 0, r.out + r.err
    assert r.json()["state"] == "done", r.out
    assert (pkg / "movie.txt").read_text() == "one" and count(log) == 1
    r = run_cli("-w", ws.root, "pipeline", "status", "Shot")
    assert r.out.strip() == "movie: up to date"
    run_cli("-w", ws.root, "pipeline", "run", "Shot", "nope", "--farm").user_error("no stage 'nope'")
    run_cli("-w", ws.root, "pipeline", "run", "Shot", "--wait").user_error("--farm")


def test_noop_run_is_stats_only_and_sees_every_change(make_workspace: Any, run_cli: Any,
                                                      tmp_path: Path) -> None:
    import subprocess

    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    (pkg / "frames").mkdir()
    for i in range(3):
        (pkg / "frames" / f"f{i}.txt").write_text(f"frame {i}")
    log = tmp_path / "log"
    add(run_cli, ws, "movie", "--cmd", py(CONCAT, "frames", "movie.txt", str(log)),
        "--dep", "frames", "--out", "movie.txt", "--param", "fps=24")
    assert run_cli("-w", ws.root, "pipeline", "run", "Shot").exit_code == 0

    def noop_imports() -> str:
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "setpiece.core.cli",
                               "-w", str(ws.root), "pipeline", "run", "Shot"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "up to date, nothing ran" in proc.stdout
        return proc.stderr

    imported = noop_imports()
    assert "dvc" not in imported and "ruamel" not in imported, "a no-op imports neither"
    # the same size, rewritten in place: seen (mtime), re-run
    (pkg / "frames" / "f1.txt").write_text("FRAME 1")
    assert run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json").json()["ran"] == ["movie"]
    assert "FRAME 1" in (pkg / "movie.txt").read_text()
    assert "dvc" not in noop_imports()
    # a new file in a dependency folder, a param, the output removed: each is seen
    (pkg / "frames" / "f3.txt").write_text("frame 3")
    assert run_cli("-w", ws.root, "pipeline", "status", "Shot", "--json").json()[0]["stale"]
    assert run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json").json()["ran"] == ["movie"]
    params = pkg / "params.yaml"
    params.write_text(params.read_text().replace("24", "25"))
    assert "param movie.fps modified" in run_cli("-w", ws.root, "pipeline", "status", "Shot").out
    assert run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json").json()["ran"] == ["movie"]
    (pkg / "movie.txt").unlink()
    assert run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json").json()["ran"] != []
    assert (pkg / "movie.txt").is_file()
    assert count(log) <= 5


# a studio's stage template, shipped by a tool asset: concatenates the frames of DEP into OUT
# behind a banner that names the tool's version
TOOL_STAGE = '''import argparse, pathlib
ap = argparse.ArgumentParser()
ap.add_argument("--params")
ap.add_argument("dep")
ap.add_argument("out")
a = ap.parse_args()
body = b"".join(f.read_bytes() for f in sorted(pathlib.Path(a.dep).iterdir()))
pathlib.Path(a.out).write_bytes(b"BANNER:" + body)
'''


def publish_tool(ws: Any, run_cli: Any, banner: str, first: bool) -> None:
    if first:
        ws.create("StudioMovie", kind="tool")
        with ws.output("StudioMovie").editing() as doc:
            doc["project"]["entry-points"]["setpiece.stages"] = {
                "studio-movie": "studiomovie.stage"}
    else:
        assert run_cli("-w", ws.root, "bump", "StudioMovie", "micro").exit_code == 0
    pkg = ws.output("StudioMovie").package_dir
    (pkg / "stage.py").write_text(TOOL_STAGE.replace("BANNER", banner))
    r = run_cli("-w", ws.root, "publish", "StudioMovie")
    assert r.exit_code == 0, r.err


@pytest.mark.slow
def test_stage_template_from_a_tool_asset(make_workspace: Any, run_cli: Any) -> None:
    author = make_workspace("tools")
    publish_tool(author, run_cli, "studio v1", first=True)
    shots = make_workspace("shots")
    assert run_cli("-w", shots.root, "install", "StudioMovie", "--repo", "review").exit_code == 0
    shots.create("Shot")
    pkg = shots.output("Shot").package_dir
    (pkg / "frames").mkdir()
    (pkg / "frames" / "f1.txt").write_text("one ")
    listed = run_cli("-w", shots.root, "pipeline", "templates", "--json").json()
    assert {"name": "studio-movie", "asset": "StudioMovie", "module": "studiomovie.stage"}.items() \
        <= next(r for r in listed if r["name"] == "studio-movie").items()
    add(run_cli, shots, "movie", "--template", "studio-movie", "--dep", "frames",
        "--out", "movie.txt")
    assert "setpiece.core.stages.asset studiomovie.stage" in (pkg / "dvc.yaml").read_text()
    assert run_cli("-w", shots.root, "pipeline", "run", "Shot", "--json").json()["ran"] == ["movie"]
    assert (pkg / "movie.txt").read_text() == "studio v1:one "
    # a new version of the tool is a changed dependency: the stage runs again with it
    publish_tool(author, run_cli, "studio v2", first=False)
    assert run_cli("-w", shots.root, "install", "StudioMovie==0.1.1", "--repo",
                   "review").exit_code == 0
    st = run_cli("-w", shots.root, "pipeline", "status", "Shot").out
    assert "movie: stale (dependency" in st and "stage.py modified" in st, st
    assert run_cli("-w", shots.root, "pipeline", "run", "Shot", "--json").json()["ran"] == ["movie"]
    assert (pkg / "movie.txt").read_text() == "studio v2:one "
    run_cli("-w", shots.root, "pipeline", "add", "Shot", "x", "--template", "nobody-has-it",
            "--dep", "frames", "--out", "x.txt").user_error("no stage template 'nobody-has-it'")
