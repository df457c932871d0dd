"""A notice that never blocks the app: a small panel in the top-right corner of the app's
main window with the message, an optional action button and *Close*; it goes away by
itself after a while. The artist keeps working while it shows.

Used for "a newer version was published" (:mod:`setpiece.hosts.published`) in the apps
whose UI is Qt (Maya, Houdini, Nuke): their own message calls (``cmds.confirmDialog``,
``hou.ui.displayMessage``, ``nuke.message``) are modal and stop the artist. Blender's UI
is not Qt: it keeps its own popup (``setpiece.hosts.blender.ui.popup``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from setpiece.hosts.ui.qtutil import enum, headless, main_window, qt_available

log = logging.getLogger("setpiece.hosts")

_shown: list[Any] = []  # keep notices alive until they close


def can_show(host: Any) -> bool:
    """A notice shows here: Qt, a GUI session and an app main window made of Qt."""
    return qt_available() and not headless(host) and main_window(host) is not None


def show_notice(host: Any, text: str, *, action: str = "",
                on_action: Callable[[], Any] | None = None, seconds: float = 20.0) -> Any:
    """Show ``text`` without blocking; ``action`` labels a button that runs ``on_action``
    (then the notice closes). Returns the notice widget, or None when it cannot show
    (:func:`can_show`)."""
    if not can_show(host):
        return None
    from Qt import QtCore, QtWidgets

    parent = main_window(host)
    qt: Any = QtCore.Qt
    panel: Any = QtWidgets.QFrame(parent)
    panel.setObjectName("setpieceNotice")
    panel.setWindowFlags(enum(qt, "WindowType", "Tool")
                         | enum(qt, "WindowType", "FramelessWindowHint"))
    panel.setAttribute(enum(qt, "WidgetAttribute", "WA_ShowWithoutActivating"))
    panel.setStyleSheet("#setpieceNotice { background: #37474f; border: 1px solid #90a4ae; "
                        "border-radius: 4px } QLabel { color: #eceff1 }")
    layout = QtWidgets.QVBoxLayout(panel)
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    label.setMaximumWidth(420)
    layout.addWidget(label)
    buttons = QtWidgets.QHBoxLayout()
    buttons.addStretch(1)
    panel.action_button = None
    if action and on_action is not None:
        button = QtWidgets.QPushButton(action)

        def run() -> None:
            panel.close()
            try:
                on_action()
            except Exception as exc:  # the artist sees it in the log and a new notice
                log.exception("setpiece: %s failed", action)
                show_notice(host, f"{action} failed: {type(exc).__name__}: {exc}")

        button.clicked.connect(run)
        buttons.addWidget(button)
        panel.action_button = button
    close = QtWidgets.QPushButton("Close")
    close.clicked.connect(panel.close)
    buttons.addWidget(close)
    panel.close_button = close
    layout.addLayout(buttons)
    panel.label = label
    panel.adjustSize()
    if parent is not None:
        corner = parent.mapToGlobal(parent.rect().topRight())
        panel.move(corner.x() - panel.width() - 16, corner.y() + 48)
    timer = QtCore.QTimer(panel)
    timer.setSingleShot(True)
    timer.timeout.connect(panel.close)
    timer.start(int(seconds * 1000))
    panel.timer = timer
    panel.show()
    _shown[:] = [w for w in _shown if _alive(w)]
    _shown.append(panel)
    return panel


def _alive(widget: Any) -> bool:
    try:
        return bool(widget.isVisible())
    except RuntimeError:
        return False
