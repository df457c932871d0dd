"""Shelves from tool assets in Maya (through the adapter, against the Maya fake): a real
tool asset with ``setpiece.shelf`` entries, published and installed with uv, gets its shelf
at start-up; its button runs the asset's code; uninstalled, its shelf goes at the next
start; safe mode makes none."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import pytest
from fakes.maya import SHELF_TOP, FakeMaya

TOOL = '''
RAN = []


def randomise(runtime):
    RAN.append(runtime.host.name)
'''


@pytest.fixture
def tools_ws(make_workspace: Callable[..., Any]) -> Any:
    """A workspace with ChairTools 0.1.0 (kind tool, two shelf buttons) installed."""
    ws = make_workspace()
    ws.create("ChairTools", kind="tool")
    asset = ws.output("ChairTools")
    (asset.package_dir / "shelf.py").write_text(TOOL, encoding="utf-8")
    asset.add_entry_point("setpiece.shelf", "Randomise", f"{asset.module}.shelf:randomise")
    asset.add_entry_point("setpiece.shelf", "Align", f"{asset.module}.shelf:randomise")
    ws.publish("ChairTools")
    shutil.rmtree(asset.path)  # as a studio does: the published version is what installs
    ws.uv_pip("uninstall", ["ChairTools"], what="cleanup", with_index=False)
    ws.install(["ChairTools"])
    return ws


def _start(ws: Any, monkeypatch: pytest.MonkeyPatch, fake: FakeMaya, **kw: Any) -> Any:
    import setpiece.hosts
    from setpiece.hosts.maya import MayaHost

    runtime = setpiece.hosts.install(MayaHost(), ws, **kw)
    for fn in list(fake.deferred):  # Maya runs evalDeferred work when idle
        fn()
    fake.deferred.clear()
    return runtime


def test_tool_asset_shelf_made_run_and_removed(tools_ws: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMaya(batch=False).install(monkeypatch)
    fake.shelves["Custom"] = []  # the artist's own shelf: never touched
    _start(tools_ws, monkeypatch, fake)
    assert list(fake.shelves) == ["Custom", "setpiece_ChairTools"]
    buttons = fake.shelves["setpiece_ChairTools"]
    assert [b["label"] for b in buttons] == ["Align", "Randomise"]
    assert {b["sourceType"] for b in buttons} == {"python"}
    assert buttons[1]["annotation"] == "Randomise (ChairTools 0.1.0)"
    # the button's command is a script (what Maya saves with the shelf): run it
    exec(buttons[1]["command"], {})
    from chairtools import shelf  # type: ignore[import-not-found]

    assert shelf.RAN == ["maya"]
    # a second start rebuilds it once (no setpiece_ChairTools2)
    _start(tools_ws, monkeypatch, fake)
    assert list(fake.shelves) == ["Custom", "setpiece_ChairTools"]

    tools_ws.uninstall(["ChairTools"])
    _start(tools_ws, monkeypatch, fake)
    assert list(fake.shelves) == ["Custom"]  # gone with its asset


def test_safe_mode_and_batch_make_no_shelf(tools_ws: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMaya(batch=False).install(monkeypatch)
    _start(tools_ws, monkeypatch, fake, no_setup=True)
    assert fake.shelves == {}
    batch = FakeMaya(batch=True).install(monkeypatch)
    batch.standalone.initialize()
    _start(tools_ws, monkeypatch, batch)
    assert batch.shelves == {}


def test_the_fake_refuses_what_maya_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeMaya(batch=False).install(monkeypatch)
    from maya import cmds

    with pytest.raises(RuntimeError, match="parent"):
        cmds.shelfLayout("x", parent="nowhere")
    shelf = cmds.shelfLayout("x", parent=SHELF_TOP)
    with pytest.raises(RuntimeError, match="Object's name 'x' is not unique"):
        cmds.shelfLayout("x", parent=SHELF_TOP)  # Maya names are unique: no "x2" made for you
    assert cmds.shelfTabLayout(SHELF_TOP, query=True, childArray=True) == ["x"]
    with pytest.raises(RuntimeError, match="sourceType"):
        cmds.shelfButton(parent=shelf, label="a", command="pass", sourceType="ruby")
    with pytest.raises(RuntimeError, match="not found"):
        cmds.deleteUI("y", layout=True)

