"""Every artist tool is in the ``setpiece`` menu of every host and opens parented to the
app's main window (Houdini: ``hou.qt.mainWindow()``; Maya:
``maya.OpenMayaUI.MQtUtil.mainWindow()`` wrapped by Qt.py), through the adapters against
the fakes of tests/hosts/fakes, Qt offscreen; and the new-publish notice shows without
blocking the app."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
pytest.importorskip("Qt")

from fakes.hou import FakeHou
from fakes.maya import FakeMaya

TOOLS = ("Inventory", "Publish", "Loader", "Workfiles")
WINDOWS = {"Inventory": "_InventoryWindow", "Publish": "_PublisherWindow",
           "Loader": "_LoaderWindow", "Workfiles": "_WorkfilesWindow"}
KEYS = {"Inventory": "inventory", "Publish": "publisher", "Loader": "loader",
        "Workfiles": "workfiles"}


@pytest.fixture
def qt_main(monkeypatch: pytest.MonkeyPatch) -> Any:
    from Qt import QtWidgets

    from setpiece.hosts.ui.qtutil import ensure_app

    monkeypatch.delenv("SETPIECE_NO_QT", raising=False)
    ensure_app()
    main = QtWidgets.QMainWindow()
    main.resize(1200, 800)
    main.show()
    yield main
    main.close()


def _window(runtime: Any, label: str) -> Any:
    from setpiece.hosts.ui import qtutil

    window = qtutil._windows[(KEYS[label], id(runtime))]
    assert window.__class__.__name__ == WINDOWS[label]
    return window


def test_houdini_menu_opens_each_tool_on_its_main_window(
    monkeypatch: pytest.MonkeyPatch, sample_ws: Any, qt_main: Any,
) -> None:
    import setpiece.hosts
    from setpiece.hosts.houdini import HoudiniHost
    from setpiece.hosts.houdini.adapter import menu_items, run_menu_item

    fake = FakeHou(ui=True).install(monkeypatch)
    fake.main_window = qt_main  # what hou.qt.mainWindow() returns in Houdini
    runtime = setpiece.hosts.install(HoudiniHost(), sample_ws, defer=False)
    items = menu_items()
    tokens = dict(zip(items[1::2], items[0::2], strict=True))
    assert set(TOOLS) <= set(tokens)
    for label in TOOLS:
        run_menu_item(tokens[label])
        window = _window(runtime, label)
        try:
            assert window.parent() is qt_main and window.isVisible()
        finally:
            window.close()
    assert fake.messages == []  # no error said in Houdini's message box


def test_maya_menu_opens_each_tool_on_its_main_window(
    monkeypatch: pytest.MonkeyPatch, sample_ws: Any, qt_main: Any,
) -> None:
    import shiboken6

    import setpiece.hosts
    from setpiece.hosts.maya import MayaHost

    fake = FakeMaya(batch=False).install(monkeypatch)
    pointer = shiboken6.getCppPointer(qt_main)[0]
    # MQtUtil.mainWindow() gives the address of Maya's QMainWindow: here a real one
    monkeypatch.setattr(__import__("maya.OpenMayaUI").OpenMayaUI.MQtUtil, "mainWindow",
                        staticmethod(lambda: pointer))
    runtime = setpiece.hosts.install(MayaHost(), sample_ws, defer=False)
    items = {i["label"]: i for i in fake.menus["setpieceMenu"]["items"]}
    assert set(TOOLS) <= set(items)
    for label in TOOLS:
        (entry,) = [c for c in runtime.menu_commands() if c.label == label]
        entry.callback()
        window = _window(runtime, label)
        try:
            parent = window.parent()
            assert parent is not None and shiboken6.getCppPointer(parent)[0] == pointer
        finally:
            window.close()


def test_new_publish_notice_does_not_block(
    monkeypatch: pytest.MonkeyPatch, sample_ws: Any, qt_main: Any,
) -> None:
    from Qt import QtWidgets

    from setpiece.hosts import published
    from setpiece.hosts.houdini import HoudiniHost
    from setpiece.hosts.runtime import Runtime
    from setpiece.hosts.ui import notice

    fake = FakeHou(ui=True).install(monkeypatch)
    fake.main_window = qt_main
    runtime = Runtime(HoudiniHost(), sample_ws)
    update = published.PublishedUpdate("Chair", "/obj/Chair", "1.0.0", "1.0.0", "1.1.0", "Chair")
    applied: list[Any] = []
    monkeypatch.setattr(published, "apply", lambda rt, ups: applied.append(list(ups)))

    assert published.offer(runtime, "KitchenSet", [update], "ask") is True
    (panel,) = [w for w in notice._shown if w.isVisible()]
    assert panel.parent() is qt_main and not panel.isModal()
    assert QtWidgets.QApplication.activeModalWidget() is None  # the app keeps working
    assert "Chair: 1.1.0 is published ('Chair' admits it)" in panel.label.text()
    assert fake.messages == []  # not Houdini's modal message box
    panel.action_button.click()
    assert applied == [[update]] and not panel.isVisible()

    # report: the notice alone (no button); it goes away by itself
    assert published.offer(runtime, "KitchenSet", [update], "report") is False
    panel = notice._shown[-1]
    assert panel.isVisible() and panel.action_button is None
    panel.timer.setInterval(10)
    panel.timer.start()
    from setpiece.hosts.ui.qtutil import process_until

    assert process_until(lambda: not panel.isVisible(), 5)
