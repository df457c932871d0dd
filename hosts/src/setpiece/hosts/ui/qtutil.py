"""What every setpiece window shares: is Qt here, the QApplication, the enums of both
bindings, the parent window and "one window per tool and runtime".

Qt.py gives one API over the binding the app ships (PySide2 in Maya 2024, Houdini 20 and
Nuke 15; PySide6 in Maya 2025+, Houdini 20.5+, Nuke 16+). PySide6 moved the enums into
scoped classes (``Qt.ItemFlag.ItemIsEnabled``) that PySide2 lacks
(``Qt.ItemIsEnabled``): :func:`enum` reads either. Nothing here imports Qt at import time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

log = logging.getLogger("setpiece.hosts.ui")

_windows: dict[tuple[str, int], Any] = {}  # (tool, id(runtime)) -> window; keeps them alive
_apps: list[Any] = []  # the QApplication made here, when the app had none


def qt_available() -> bool:
    """Qt.py and a binding import (``SETPIECE_NO_QT=1`` says no)."""
    if os.environ.get("SETPIECE_NO_QT"):
        return False
    try:
        from Qt import QtWidgets  # noqa: F401
    except Exception:
        return False
    return True


def ensure_app() -> Any:
    """The app's QApplication, or one made here (a standalone Python)."""
    from Qt import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([])
        _apps.append(app)
    return app


def enum(namespace: Any, group: str, name: str) -> Any:
    """``namespace.group.name`` (PySide6) or ``namespace.name`` (PySide2)."""
    return getattr(getattr(namespace, group, namespace), name)


def main_window(host: Any) -> Any:
    """The app's main window to parent tools to (None: Blender, headless, a failing app)."""
    getter = getattr(host, "main_window", None)
    if not callable(getter):
        return None
    try:
        return getter()
    except Exception:
        log.debug("no main window", exc_info=True)
        return None


def headless(host: Any) -> bool:
    try:
        return bool(host.is_headless())
    except Exception:
        return False


def show_once(tool: str, runtime: Any, make: Callable[[Any], Any]) -> Any:
    """Show ``tool``'s window for ``runtime``: the open one raised (and ``refresh()``-ed
    when it has one), else ``make(parent)`` shown. The window is kept alive here."""
    ensure_app()
    key = (tool, id(runtime))
    window = _windows.get(key)
    if window is not None:
        try:
            visible = bool(window.isVisible())
        except RuntimeError:  # its C++ object was deleted (the app closed it)
            visible = False
        if visible and getattr(window, "runtime", runtime) is runtime:
            refresh = getattr(window, "refresh", None)
            if callable(refresh):
                refresh()
            window.raise_()
            window.activateWindow()
            return window
    window = make(main_window(runtime.host))
    window.show()
    _windows[key] = window
    return window


def process_until(done: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Process Qt events until ``done()`` (for scripts and tests); False on timeout."""
    import time

    app = ensure_app()
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.01)
    return True


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (an error for a status area), cut at ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def ask(parent: Any, title: str, text: str, yes: str, then: Callable[[], None]) -> Any:
    """A question that does not block the app (``QMessageBox.open``): ``then()`` runs when
    the artist presses ``yes``; Cancel (the default) does nothing. Returns the box."""
    from Qt import QtWidgets

    box_cls: Any = QtWidgets.QMessageBox
    buttons: Any = getattr(box_cls, "StandardButton", box_cls)
    box = box_cls(parent)
    box.setIcon(enum(box_cls, "Icon", "Warning"))
    box.setWindowTitle(title)
    box.setText(text)
    box.setStandardButtons(buttons.Yes | buttons.Cancel)
    box.button(buttons.Yes).setText(yes)
    box.setDefaultButton(buttons.Cancel)

    def answered(button: Any) -> None:
        if box.standardButton(button) == buttons.Yes:
            then()

    box.buttonClicked.connect(answered)
    box.open()
    return box


def set_progress(bar: Any, done: int, total: int, what: str) -> None:
    """Show ``done/total what`` in a QProgressBar and let the app paint it."""
    from Qt import QtWidgets

    bar.setRange(0, max(total, 1))
    bar.setValue(done)
    bar.setFormat(f"%v/%m  {what}")
    bar.setVisible(True)
    QtWidgets.QApplication.processEvents()
