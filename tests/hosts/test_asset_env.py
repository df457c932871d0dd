"""Environment contributions of installed assets (``asset.toml [env]``) and the DCC tool
templates: what ``setpiece env HOST`` / ``launch --dry-run`` compose, with real uv installs
from a real folder repo."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _env_json(run_cli: Callable[..., Any], ws: Any, host: str, *extra: str) -> dict[str, Any]:
    r = run_cli("-w", ws.root, "env", host, "--format", "json", *extra)
    assert r.exit_code == 0, r.err
    data: dict[str, Any] = json.loads(r.out)
    return data


def _write_env(ws: Any, name: str, text: str) -> Path:
    pkg = Path(ws.output(name).package_dir)
    (pkg / "asset.toml").write_text("[env]\n" + text, encoding="utf-8")
    return pkg


@pytest.fixture
def tools_ws(make_workspace: Callable[..., Any], run_cli: Callable[..., Any]) -> Any:
    """HoudiniTools (houdini-hda, with an HDA-like file) and CompTools (nuke-gizmo) published
    to the review repo, then installed from it (not editable)."""
    ws = make_workspace()
    for name, template in (("HoudiniTools", "houdini-hda"), ("CompTools", "nuke-gizmo")):
        r = run_cli("-w", ws.root, "create", name, "--template", template)
        assert r.exit_code == 0, r.err
    hda = Path(ws.output("HoudiniTools").package_dir) / "otls" / "scatter.hda"
    hda.write_bytes(b"INDX\x00an HDA-like file")
    for name in ("HoudiniTools", "CompTools"):
        assert run_cli("-w", ws.root, "publish", name).exit_code == 0
    import shutil

    shutil.rmtree(ws.outputs)
    ws.uv_pip("uninstall", ["HoudiniTools", "CompTools"], what="test", with_index=False)
    ws.install(["HoudiniTools", "CompTools"])
    return ws


def test_installed_hda_and_gizmo_reach_the_composed_paths(
    tools_ws: Any, run_cli: Callable[..., Any]
) -> None:
    ws = tools_ws
    houdini = _env_json(run_cli, ws, "houdini")
    otls = houdini["prepend"]["HOUDINI_OTLSCAN_PATH"]
    assert len(otls) == 1 and Path(otls[0]).parent.parent == ws.site_packages
    assert (Path(otls[0]) / "scatter.hda").read_bytes().startswith(b"INDX")
    assert houdini["default"] == {"HOUDINI_OTLSCAN_PATH": "&"}  # Houdini's own folders kept

    nuke = _env_json(run_cli, ws, "nuke")
    folders = nuke["prepend"]["NUKE_PATH"]
    # setpiece's startup folder first, then the asset's gizmos
    assert folders[0].endswith(os.path.join("nuke", "startup"))
    gizmos = Path(folders[1])
    assert (gizmos / "CompTools.gizmo").read_text().startswith("version 14.0\nGizmo {")
    assert Path(gizmos).is_relative_to(ws.site_packages)
    # the tool's env is the app's only: NUKE_PATH is not in houdini's
    assert "NUKE_PATH" not in houdini["prepend"]


def test_sh_lines_keep_the_studio_value_and_houdinis_default(
    tools_ws: Any, run_cli: Callable[..., Any]
) -> None:
    r = run_cli("-w", tools_ws.root, "env", "houdini")
    assert r.exit_code == 0, r.err
    script = r.out + '\nprintf "%s" "$HOUDINI_OTLSCAN_PATH"'
    env = {k: v for k, v in os.environ.items() if k != "HOUDINI_OTLSCAN_PATH"}
    unset = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    studio = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                            env={**env, "HOUDINI_OTLSCAN_PATH": "/studio/otls:&"})
    assert unset.stdout.endswith(os.pathsep + "&") and unset.stdout.count("&") == 1
    assert studio.stdout.endswith(os.pathsep + "/studio/otls:&")
    assert unset.stdout.split(os.pathsep)[0] == studio.stdout.split(os.pathsep)[0]
    assert Path(unset.stdout.split(os.pathsep)[0], "scatter.hda").is_file()


def test_launch_dry_run_gives_the_app_the_composed_env(
    tools_ws: Any, run_cli: Callable[..., Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exe = tmp_path / "Nuke16.0v1" / "Nuke16.0"
    exe.parent.mkdir()
    exe.write_text("")
    exe.chmod(0o755)
    monkeypatch.setenv("SETPIECE_NUKE_EXECUTABLE", str(exe))
    monkeypatch.setenv("NUKE_PATH", "/studio/nuke")
    monkeypatch.setattr(
        "setpiece.hosts.launching.check_python", lambda *a, **k: None
    )  # the empty executable stands for a Nuke on this test run's Python (3.10-3.13 lines)
    r = run_cli("-w", tools_ws.root, "launch", "nuke", "--dry-run", "--json")
    assert r.exit_code == 0, r.err
    nuke_path = json.loads(r.out)["env"]["NUKE_PATH"].split(os.pathsep)
    assert nuke_path[-1] == "/studio/nuke"
    assert (Path(nuke_path[1]) / "CompTools.gizmo").is_file()


def test_dependency_order_conflicts_and_safe_mode(
    make_workspace: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    ws = make_workspace()
    for name in ("StudioBase", "ShowTools", "OtherColor"):
        ws.create(name, kind="tool")
    ws.require("ShowTools", ["StudioBase"], group="build")
    _write_env(ws, "StudioBase", 'STUDIO_TOOLS = { prepend = ["base"] }\n'
               'STUDIO_LATE = { append = ["base"] }\nOCIO = { set = "ocio/studio.ocio" }\n')
    _write_env(ws, "ShowTools", 'STUDIO_TOOLS = { prepend = ["show"] }\n'
               'STUDIO_LATE = { append = ["show"] }\nSHOW = { value = "kitchen" }\n')
    env = _env_json(run_cli, ws, "maya")
    # ShowTools depends on StudioBase: its prepend comes first, its append last
    assert [Path(p).name for p in env["prepend"]["STUDIO_TOOLS"]] == ["show", "base"]
    assert [Path(p).name for p in env["append"]["STUDIO_LATE"]] == ["base", "show"]
    assert env["set"]["SHOW"] == "kitchen"
    assert env["from_assets"]["STUDIO_TOOLS"] == ["StudioBase 0.1.0", "ShowTools 0.1.0"]
    assert env["set"]["OCIO"].endswith(os.path.join("studiobase", "ocio", "studio.ocio"))

    # safe mode: no asset contributes anything
    safe = _env_json(run_cli, ws, "maya", "--no-setup")
    assert "STUDIO_TOOLS" not in safe["prepend"] and "OCIO" not in safe["set"]

    # two assets setting one variable: one line naming both
    _write_env(ws, "OtherColor", 'OCIO = { set = "aces.ocio" }\n')
    run_cli("-w", ws.root, "env", "maya").user_error(
        "OCIO is set by both OtherColor 0.1.0 and StudioBase 0.1.0")

    # a variable setpiece sets itself, and a path outside the package
    _write_env(ws, "OtherColor", 'PYTHONPATH = { set = "lib" }\n')
    run_cli("-w", ws.root, "env", "maya").user_error("OtherColor 0.1.0", "PYTHONPATH",
                                                     "prepend to it instead")
    _write_env(ws, "OtherColor", 'OCIO_DIR = { prepend = ["../../elsewhere"] }\n')
    run_cli("-w", ws.root, "env", "maya").user_error("OtherColor 0.1.0", "inside the asset")
    _write_env(ws, "OtherColor", 'OCIO_DIR = ["x"]\n')
    run_cli("-w", ws.root, "env", "maya").user_error("OtherColor 0.1.0", "OCIO_DIR must be")


def test_tool_templates_scaffold_their_layouts(
    make_workspace: Callable[..., Any], run_cli: Callable[..., Any]
) -> None:
    ws = make_workspace()
    r = run_cli("-w", ws.root, "create", "RigTools", "--template", "maya-plugin", "--json")
    assert r.exit_code == 0, r.err
    assert r.json()["kind"] == "tool"
    pkg = Path(ws.output("RigTools").package_dir)
    plugin = pkg / "maya" / "plug-ins" / "rigtools_plugin.py"
    compile(plugin.read_text(), str(plugin), "exec")  # valid Python
    assert "def initializePlugin(plugin)" in plugin.read_text()
    env = _env_json(run_cli, ws, "maya")
    assert env["prepend"]["MAYA_PLUG_IN_PATH"] == [str(plugin.parent)]
    assert not (pkg / "asset.usda").exists()  # tools carry no USD

    run_cli("-w", ws.root, "create", "Bad", "--template", "nuke-gizmo", "--kind", "prop"
            ).user_error("template 'nuke-gizmo' makes a tool asset")
    run_cli("-w", ws.root, "create", "Bad", "--template", "no-such").user_error(
        "no template 'no-such'", "houdini-hda")
    assert not (ws.outputs / "Bad").exists()
