"""Farm layers for the apps, run on the ``local`` backend.

A real Blender render (bpy) of the demo KitchenSet, chunked, with a frame-by-frame check
layer and the frames tracked as asset files; mayapy / hython / nuke layers built from
``setpiece env HOST``, run against stand-in executables that record what they were given
(Maya, Houdini and Nuke cannot be installed here).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from setpiece.core.farm import Depend, Job, Layer, save_job

ROOT = Path(__file__).resolve().parents[2]
SETPIECE = Path(sys.executable).parent / "setpiece"

CHECK = textwrap.dedent("""
    import os, sys
    path = os.path.join(sys.argv[1], "frame.%04d.png" % int(sys.argv[2]))
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\\x89PNG\\r\\n\\x1a\\n", path
    print("ok", path)
""")


def _setpiece(*args: Any, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SETPIECE_WORKSPACE"}
    return subprocess.run([str(SETPIECE), *map(str, args)], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``setpiece demo`` (the KitchenSet built and saved as a .blend), KitchenSet editable."""
    pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
    base = tmp_path_factory.mktemp("farm-demo")
    os.environ["SETPIECE_HOME"] = str(base / "home")
    made = _setpiece("demo", base / "demo")
    assert made.returncode == 0, made.stderr[-3000:]
    ws = base / "demo" / "workspace"
    assert (ws / "scenes" / "KitchenSet.blend").is_file()
    edited = _setpiece("-w", ws, "edit", "KitchenSet")
    assert edited.returncode == 0, edited.stderr
    return ws


@pytest.mark.slow
def test_blender_render_chunked_with_a_frame_by_frame_check(demo: Path, tmp_path: Path) -> None:
    from setpiece.core import Workspace
    from setpiece.hosts.farm import render_job

    ws = Workspace(demo)
    out = tmp_path / "frames" / "kitchen"
    # build the scene on the farm (a pre layer), render, check each frame, track the frames
    job = render_job(tmp_path / "built" / "KitchenSet.blend", out, "1-10", chunk=4, ws=ws,
                     asset="KitchenSet", build="KitchenSet", size="48x27", samples=1,
                     name="kitchen")
    assert [la.name for la in job.layers] == ["build", "render", "track"]
    (tmp_path / "check.py").write_text(CHECK)
    job.layers.insert(2, Layer("check", command=[sys.executable, str(tmp_path / "check.py"),
                                                 str(out), "{frame}"],
                               frames="1-10", depends=[Depend("render", "frame")], retries=0))
    jobfile = save_job(job, tmp_path / "kitchen.yaml")
    result = _setpiece("-w", demo, "farm", "submit", jobfile, "--wait", "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "done (15/15 chunks done)" in result.stdout
    assert (tmp_path / "built" / "KitchenSet.blend").is_file()

    frames = sorted(p.name for p in out.iterdir())
    assert frames == [f"frame.{f:04d}.png" for f in range(1, 11)]  # no temp files left
    status = json.loads(_setpiece("-w", demo, "farm", "status", "kitchen", "--json").stdout)
    chunks = {(c["layer"], c["index"]): c for c in status["chunks"]}
    assert [chunks[("render", i)]["frames"] for i in range(3)] == ["1-4", "5-8", "9-10"]
    state = Path(chunks[("render", 0)]["log"]).parents[2] / "state"
    started = {f: json.loads((state / "check" / f"{f - 1}.json").read_text())["started"]
               for f in range(1, 11)}
    ended = [json.loads((state / "render" / f"{i}.json").read_text())["ended"] for i in range(3)]
    assert all(started[f] >= ended[(f - 1) // 4] for f in range(1, 11))
    render_log = _setpiece("-w", demo, "farm", "logs", "kitchen", "render", "6").stdout
    assert "frames 5-8" in render_log and "frame 8: " in render_log
    # the frames are the asset's files now (dvc pointer in the output asset)
    pointer = demo / "outputs" / "KitchenSet" / "src" / "kitchenset" / "renders" / "kitchen.dvc"
    assert pointer.is_file(), _setpiece("-w", demo, "farm", "logs", "kitchen", "track").stdout
    assert "nfiles: 10" in pointer.read_text()


def test_farm_render_saves_a_job_that_renders_with_blender(demo: Path, tmp_path: Path) -> None:
    scene = demo / "scenes" / "KitchenSet.blend"
    saved = _setpiece("-w", demo, "farm", "render", scene, "--frames", "1-100x2", "--chunk", "5",
                      "--save", tmp_path / "job.json")
    assert saved.returncode == 0, saved.stderr
    data = json.loads((tmp_path / "job.json").read_text())
    (layer,) = data["layers"]
    assert layer["frames"] == "1-100x2" and layer["chunk"] == 5 and layer["tags"] == ["blender"]
    assert "{frames}" in layer["command"] and str(scene) in layer["command"]
    assert layer["env"]["SETPIECE_WORKSPACE"] == str(demo)
    bad = _setpiece("-w", demo, "farm", "render", scene, "--frames", "9-1")
    assert bad.returncode == 1 and bad.stderr.strip().startswith("error: --frames: range '9-1'")
    missing = _setpiece("-w", demo, "farm", "render", tmp_path / "nope.blend", "--frames", "1")
    assert missing.returncode == 1 and "scene" in missing.stderr and "does not exist" in missing.stderr


def _recorder(path: Path) -> Path:
    """A stand-in app executable: appends its argv and a few variables to a JSON-lines file."""
    path.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        keys = ("SETPIECE_HOST", "SETPIECE_FRAMES", "CUE_IFRAME", "PYTHONPATH", "NUKE_PATH")
        with open({str(path) + '.calls'!r}, "a") as fh:
            fh.write(json.dumps({{"argv": sys.argv[1:], "env": {{k: os.environ.get(k) for k in keys}}}}) + "\\n")
    """))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _calls(exe: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(str(exe) + ".calls").read_text().splitlines()]


@pytest.mark.parametrize("host", ["maya", "houdini", "nuke"])
def test_batch_layers_run_the_apps_batch_command_per_chunk(host: str, tmp_path: Path,
                                                           monkeypatch, run_cli) -> None:
    from setpiece.hosts.farm import batch_layer

    exe = _recorder(tmp_path / f"{host}-batch")
    monkeypatch.setenv(f"SETPIECE_{host.upper()}_BATCH_EXECUTABLE", str(exe))
    monkeypatch.setenv("SETPIECE_FARM_DIR", str(tmp_path / "jobs"))
    script = tmp_path / "cache.py"
    script.write_text("print('caching')\n")
    layer = batch_layer(host, script, ["--frames", "{frames}"], frames="1-5", chunk=2)
    assert layer.tags == [host] and layer.env["SETPIECE_HOST"] == host
    result = run_cli("farm", "submit", save_job(Job("cache", layers=[layer]), tmp_path / "j.json"),
                     "--wait")
    assert result.exit_code == 0, result.err
    calls = sorted(_calls(exe), key=lambda c: int(c["env"]["CUE_IFRAME"]))
    wanted = {  # each app's documented batch form (see setpiece.hosts.<host>.launch)
        "maya": ["-m", "setpiece.hosts.maya.launch", str(script)],
        "houdini": [str(script)],
        "nuke": ["-t", str(script)],
    }[host]
    assert [c["argv"] for c in calls] == [[*wanted, "--frames", f] for f in ("1,2", "3,4", "5")]
    assert [c["env"]["SETPIECE_FRAMES"] for c in calls] == ["1,2", "3,4", "5"]
    assert all(c["env"]["SETPIECE_HOST"] == host for c in calls)


def test_nuke_render_layer_passes_each_chunk_as_one_range(tmp_path: Path, monkeypatch,
                                                          run_cli) -> None:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.farm import nuke_render_layer

    exe = _recorder(tmp_path / "Nuke16.0")
    monkeypatch.setenv("SETPIECE_NUKE_BATCH_EXECUTABLE", str(exe))
    monkeypatch.setenv("SETPIECE_FARM_DIR", str(tmp_path / "jobs"))
    comp = tmp_path / "comp.nk"
    comp.write_text("Root {}\n")
    layer = nuke_render_layer(comp, "1-20x2", chunk=4, write="Write1")
    result = run_cli("farm", "submit", save_job(Job("comp", layers=[layer]), tmp_path / "j.json"),
                     "--wait")
    assert result.exit_code == 0, result.err
    calls = sorted(_calls(exe), key=lambda c: int(c["env"]["CUE_IFRAME"]))
    assert [c["argv"] for c in calls] == [
        ["-x", "-X", "Write1", "-F", spec, str(comp)] for spec in ("1-7x2", "9-15x2", "17-19x2")]
    with pytest.raises(SetpieceError, match="chunk 1-2,5 is not one range"):
        nuke_render_layer(comp, "1,2,5", chunk=3)
