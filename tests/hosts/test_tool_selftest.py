"""The selftest step of Nuke, Houdini and Maya that checks tool assets reached the app:
the folders installed tool assets add (a gizmo, an HDA-like file, a plug-in, published and
installed with uv) are on the path the app reports, when the app gets the environment
``setpiece env`` composes; missing, the step fails naming the folder and the asset. The
apps are the fakes (tests/hosts/fakes), whose path readers cite the apps' docs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes.hou import FakeHou
from fakes.nuke import FakeNuke

TOOLS = {"nuke": ("CompTools", "nuke-gizmo"), "houdini": ("HdaTools", "houdini-hda"),
         "maya": ("RigTools", "maya-plugin")}


@pytest.fixture
def tools_ws(make_workspace: Callable[..., Any], run_cli: Callable[..., Any]) -> Any:
    ws = make_workspace()
    for name, template in TOOLS.values():
        assert run_cli("-w", ws.root, "create", name, "--template", template, "-q").exit_code == 0
        assert run_cli("-w", ws.root, "publish", name, "-q").exit_code == 0
    shutil.rmtree(ws.outputs)
    names = [n for n, _ in TOOLS.values()]
    ws.uv_pip("uninstall", names, what="test", with_index=False)
    ws.install(names)
    return ws


def _step(host: str) -> Any:
    import importlib

    module = importlib.import_module(f"setpiece.hosts.{host}.selftest")
    from setpiece.hosts.tool_check import tool_folders_step

    var = {"nuke": "NUKE_PATH", "houdini": "HOUDINI_OTLSCAN_PATH", "maya": "MAYA_PLUG_IN_PATH"}
    reader = {"nuke": "_plugin_path", "houdini": "_otl_scan_path", "maya": "_plug_in_path"}
    return tool_folders_step(host, var[host], getattr(module, reader[host]))


@pytest.mark.parametrize("host", ["nuke", "houdini", "maya"])
def test_tool_folders_reach_the_app_path(
    tools_ws: Any, host: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from setpiece.hosts.launching import environment, merged_environment

    if host == "nuke":
        FakeNuke().install(monkeypatch)
    elif host == "houdini":
        FakeHou().install(monkeypatch)
    label, check = _step(host)
    name = TOOLS[host][0]

    # the app started with what 'setpiece launch HOST' gives it
    launched = merged_environment(environment(host, tools_ws), dict(os.environ))
    for key, value in launched.items():
        monkeypatch.setenv(key, value)
    message = check([], tmp_path)
    assert message == f"1 folder(s) of {name} 0.1.0 on {label.rsplit(' ', 1)[-1]}"

    # an app started without it: the step fails, naming the folder and the asset
    var = label.rsplit(" ", 1)[-1]
    monkeypatch.setenv(var, "/studio/only")
    with pytest.raises(AssertionError) as failed:
        check([], tmp_path)
    assert f"({name} 0.1.0) not on the app's {var}" in str(failed.value)
    assert f"setpiece launch {host}" in str(failed.value)

    monkeypatch.setenv("SETPIECE_SAFE_MODE", "1")
    assert check([], tmp_path) == "safe mode: tool assets left out"
    monkeypatch.delenv("SETPIECE_WORKSPACE")
    assert check([], tmp_path).startswith("no workspace")


def test_houdini_keeps_its_own_folders(tools_ws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The composed HOUDINI_OTLSCAN_PATH ends with '&': Houdini's own otls folders stay."""
    from setpiece.hosts.launching import environment, merged_environment

    fake = FakeHou().install(monkeypatch)
    monkeypatch.delenv("HOUDINI_OTLSCAN_PATH", raising=False)
    houdinis_own = fake.module.houdiniPath("HOUDINI_OTLSCAN_PATH")  # nothing set: @/otls
    composed = merged_environment(environment("houdini", tools_ws), dict(os.environ))
    assert composed["HOUDINI_OTLSCAN_PATH"].endswith(os.pathsep + "&")
    monkeypatch.setenv("HOUDINI_OTLSCAN_PATH", composed["HOUDINI_OTLSCAN_PATH"])
    paths = fake.module.houdiniPath("HOUDINI_OTLSCAN_PATH")
    assert Path(paths[0]).parts[-2:] == ("hdatools", "otls")
    assert paths[1:] == houdinis_own and len(houdinis_own) == 2
