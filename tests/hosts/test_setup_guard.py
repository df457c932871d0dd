"""Asset setup code that ends or freezes a batch build, in real Blender (bpy): the
supervising ``setpiece batch`` parent reports the asset and version, and the scene built
before setup code ran is saved. Each build runs the real ``setpiece`` executable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy

SETUP = """
import os, signal, time

def setup(context):
    mode = os.environ.get("BOMB_MODE", "ok")
    if mode == "exit":
        os._exit(3)  # no try/except can catch this
    if mode == "loop":
        while True:  # pure Python: the time limit stops it
            pass
    if mode == "deaf":  # the time limit cannot reach it (as if stuck in C code)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            time.sleep(0.05)
    context.host.collection(context.container)["bomb_setup"] = context.version
"""


@pytest.fixture(scope="module")
def bomb_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A workspace with asset Bomb 1.0.0 installed; its setup does what BOMB_MODE says."""
    import os

    from setpiece.core.workspace import Workspace

    base = tmp_path_factory.mktemp("bomb")
    old = os.environ.get("SETPIECE_HOME")
    os.environ["SETPIECE_HOME"] = str(base / "home")
    try:
        ws = Workspace.init(base / "ws", repos=[("blessed", str(base / "repo"))],
                            blessed="blessed", default="blessed")
        out = ws.create("Bomb", kind="prop", version="1.0.0")
        (out.package_dir / "setup.py").write_text(SETUP, encoding="utf-8")
        pyproject = Path(out.path) / "pyproject.toml"
        pyproject.write_text(pyproject.read_text(encoding="utf-8")
                             + '\n[project.entry-points."setpiece.setup"]\nBomb = "bomb.setup:setup"\n',
                             encoding="utf-8")
        ws.publish("Bomb")
        ws.uv_pip("uninstall", ["Bomb"], what="test", with_index=False)
        ws.install(["Bomb"])
        with ws.config.edit() as doc:
            import tomlkit

            doc["setup"] = tomlkit.table()
            doc["setup"]["timeout"] = 2
    finally:
        if old is None:
            os.environ.pop("SETPIECE_HOME", None)
        else:
            os.environ["SETPIECE_HOME"] = old
    return ws


def _build(run_setpiece: Any, ws: Any, out: Path, mode: str, *extra: str) -> Any:
    return run_setpiece("-w", ws.root, "batch", "blender", "build", "Bomb", "-o", out, *extra,
                        env={"BOMB_MODE": mode}, timeout=120)


def _saved_setup_mark(blend: Path) -> Any:
    import subprocess
    import sys

    code = ("import bpy, json, sys; bpy.ops.wm.open_mainfile(filepath=sys.argv[1]); "
            "print('MARK', json.dumps([c.get('bomb_setup') for c in bpy.data.collections]))")
    proc = subprocess.run([sys.executable, "-c", code, str(blend)], capture_output=True,
                          text=True, check=True)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("MARK "))
    return [m for m in json.loads(line[5:]) if m is not None]


def test_setup_calling_os_exit_is_reported_and_the_build_saved(bomb_ws, run_setpiece,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "exit.blend"
    r = _build(run_setpiece, bomb_ws, out, "exit")
    r.user_error("the setup of Bomb 1.0.0 ended blender", "exit code 3", "os._exit",
                 f"saved to {out}", "--no-setup")
    assert out.is_file() and _saved_setup_mark(out) == []  # built, without the setup's work


def test_setup_looping_forever_is_stopped_by_the_time_limit(bomb_ws, run_setpiece,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "loop.blend"
    summary = tmp_path / "summary.json"
    r = _build(run_setpiece, bomb_ws, out, "loop", "--json-file", summary)
    assert r.exit_code == 1, r.err  # a failed setup: reported, the build goes on and saves
    data = json.loads(summary.read_text())
    (result,) = data["setup"]["results"]
    assert result["status"] == "failed" and result["asset"] == "Bomb"
    assert "ran longer than 2 s" in result["error"] and "[setup] timeout" in result["error"]
    assert out.is_file()


@pytest.mark.slow  # waits for the limit plus the parent's grace (12 s)
def test_setup_deaf_to_the_time_limit_is_stopped_by_the_parent(bomb_ws, run_setpiece,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "deaf.blend"
    r = _build(run_setpiece, bomb_ws, out, "deaf")
    r.user_error("the setup of Bomb 1.0.0 ran past its 2 s limit", "blender was stopped",
                 f"saved to {out}", "[setup] timeout")
    assert out.is_file()


def test_setup_that_behaves_runs_and_the_scene_has_its_work(bomb_ws, run_setpiece,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "ok.blend"
    r = _build(run_setpiece, bomb_ws, out, "ok")
    assert r.exit_code == 0, r.err
    assert _saved_setup_mark(out) == ["1.0.0"]
