"""The work files window: the versioned work files of an output asset, newest first, with
who saved each, when, their comment and thumbnail; **Save new version** (with a comment)
and **Open**. The work is :mod:`setpiece.hosts.workfiles`; Qt is imported only here.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts import workfiles as api
from setpiece.hosts.ui.qtutil import (
    ask,
    ensure_app,
    enum,
    headless,
    one_line,
    qt_available,
    show_once,
)

log = logging.getLogger("setpiece.hosts.workfiles")

HEADERS = ("Version", "File", "Date", "By", "Comment")


def show(runtime: Any) -> Any:
    """The window (an open one is raised); headless or without Qt, the list on stderr."""
    if headless(runtime.host) or not qt_available():
        asset = runtime.scene_asset()
        if asset is None:
            raise SetpieceError("this scene belongs to no output asset: open a work file first")
        found = api.workfiles(runtime.workspace, asset)
        for w in found:
            print(f"v{w.version:03d}  {w.name}  {w.date}  {w.user}  {w.comment}", file=sys.stderr)
        return found
    return show_once("workfiles", runtime, lambda parent: WorkfilesWindow(runtime, parent))


def _window_class() -> Any:
    from Qt import QtCore, QtGui, QtWidgets

    qt: Any = QtCore.Qt
    user_role = enum(qt, "ItemDataRole", "UserRole")
    views: Any = QtWidgets.QAbstractItemView
    keep_aspect = enum(qt, "AspectRatioMode", "KeepAspectRatio")
    smooth = enum(qt, "TransformationMode", "SmoothTransformation")

    class _WorkfilesWindow(QtWidgets.QDialog):
        def __init__(self, runtime: Any, parent: Any = None) -> None:
            super().__init__(parent)
            self.runtime = runtime
            self.files: list[api.Workfile] = []
            self.confirmation: Any = None
            self.setWindowTitle("setpiece work files")
            self.resize(860, 520)
            layout = QtWidgets.QVBoxLayout(self)
            top = QtWidgets.QHBoxLayout()
            top.addWidget(QtWidgets.QLabel("Asset"))
            self.asset = QtWidgets.QComboBox()
            self.asset.currentIndexChanged.connect(lambda _i: self._fill())
            top.addWidget(self.asset, 1)
            self.where = QtWidgets.QLabel()
            top.addWidget(self.where, 3)
            layout.addLayout(top)

            middle = QtWidgets.QHBoxLayout()
            self.table: Any = QtWidgets.QTableWidget(0, len(HEADERS))
            self.table.setHorizontalHeaderLabels(list(HEADERS))
            self.table.verticalHeader().setVisible(False)
            self.table.horizontalHeader().setStretchLastSection(True)
            self.table.setSelectionBehavior(enum(views, "SelectionBehavior", "SelectRows"))
            self.table.setSelectionMode(enum(views, "SelectionMode", "SingleSelection"))
            self.table.setEditTriggers(enum(views, "EditTrigger", "NoEditTriggers"))
            self.table.itemSelectionChanged.connect(self._chosen)
            self.table.itemDoubleClicked.connect(lambda _i: self.open_selected())
            middle.addWidget(self.table, 1)
            self.thumbnail = QtWidgets.QLabel("no thumbnail")
            self.thumbnail.setFixedSize(200, 150)
            self.thumbnail.setAlignment(enum(qt, "AlignmentFlag", "AlignCenter"))
            self.thumbnail.setStyleSheet("border: 1px solid #777")
            middle.addWidget(self.thumbnail)
            layout.addLayout(middle, 1)

            save_row = QtWidgets.QHBoxLayout()
            self.comment = QtWidgets.QLineEdit()
            self.comment.setPlaceholderText("What changed (kept with the new version)")
            save_row.addWidget(self.comment, 1)
            self.save_button = QtWidgets.QPushButton("Save new version")
            self.save_button.setToolTip("Save the open scene as the next work file of this asset")
            self.save_button.clicked.connect(self.save)
            save_row.addWidget(self.save_button)
            layout.addLayout(save_row)
            self.status = QtWidgets.QLabel()
            self.status.setWordWrap(True)
            layout.addWidget(self.status)
            buttons = QtWidgets.QHBoxLayout()
            self.open_button = QtWidgets.QPushButton("Open")
            self.open_button.clicked.connect(self.open_selected)
            buttons.addWidget(self.open_button)
            buttons.addStretch(1)
            self.refresh_button = QtWidgets.QPushButton("Refresh")
            self.refresh_button.clicked.connect(self.refresh)
            close = QtWidgets.QPushButton("Close")
            close.clicked.connect(self.close)
            buttons.addWidget(self.refresh_button)
            buttons.addWidget(close)
            layout.addLayout(buttons)
            self.refresh()

        def refresh(self) -> None:
            """The workspace's output assets again, the open scene's chosen."""
            try:
                names = sorted(o.name for o in self.runtime.workspace.output_assets().values())
                current = self.runtime.scene_asset()
            except SetpieceError as exc:
                names, current = [], None
                self._say(str(exc), error=True)
            before = self.asset.currentText()
            chosen = current if current in names else before if before in names else ""
            self.asset.blockSignals(True)
            self.asset.clear()
            self.asset.addItems(names)
            self.asset.setCurrentIndex(max(0, self.asset.findText(chosen)))
            self.asset.blockSignals(False)
            if not names:
                self._say("this workspace has no output asset: create one first "
                          "(an output asset is what you work on and publish)")
            self._fill()

        def _fill(self) -> None:
            name = self.asset.currentText()
            self.files = []
            if name:
                try:
                    self.files = api.workfiles(self.runtime.workspace, name)
                    self.where.setText(str(api.work_dir(self.runtime.workspace, name)))
                except SetpieceError as exc:
                    self._say(str(exc), error=True)
            open_now = api.current(self.runtime)
            self.table.setRowCount(len(self.files))
            for row, w in enumerate(self.files):
                is_open = open_now is not None and open_now.path == w.path
                cells = (f"v{w.version:03d}", w.name + ("  (open)" if is_open else ""),
                         w.date, w.user, w.comment)
                for col, text in enumerate(cells):
                    item = QtWidgets.QTableWidgetItem(text)
                    item.setData(user_role, str(w.path))
                    if is_open:
                        font = item.font()
                        font.setBold(True)
                        item.setFont(font)
                    self.table.setItem(row, col, item)
            self.table.resizeColumnsToContents()
            if self.files:
                self.table.selectRow(0)
            self._chosen()
            self.save_button.setEnabled(bool(name))

        def selected(self) -> api.Workfile | None:
            rows = sorted({i.row() for i in self.table.selectedIndexes()})
            return self.files[rows[0]] if rows and rows[0] < len(self.files) else None

        def select_version(self, version: int) -> None:
            for row, w in enumerate(self.files):
                if w.version == version:
                    self.table.selectRow(row)

        def _chosen(self) -> None:
            w = self.selected()
            self.open_button.setEnabled(w is not None)
            self.thumbnail.setPixmap(QtGui.QPixmap())
            self.thumbnail.setText("no thumbnail")
            if w is not None and w.thumbnail is not None:
                pixmap = QtGui.QPixmap(str(w.thumbnail))
                self.thumbnail.setPixmap(pixmap.scaled(200, 150, keep_aspect, smooth))

        def save(self) -> None:
            name = self.asset.currentText()
            try:
                w = api.save(self.runtime, name, self.comment.text())
            except SetpieceError as exc:
                self._say(str(exc), error=True)
                return
            except Exception as exc:  # the app failed to save: say so, keep the window
                log.exception("setpiece workfiles: saving failed")
                self._say(f"saving failed: {type(exc).__name__}: {exc}", error=True)
                return
            self.comment.clear()
            self._fill()
            self._say(f"saved {w.name}" + (f": {w.comment}" if w.comment else ""))

        def open_selected(self) -> None:
            w = self.selected()
            if w is None:
                return
            self.confirmation = ask(
                self, "Open work file",
                f"Open {w.name}? What is not saved in the open scene is lost (save a new "
                "version first to keep it).", "Open", lambda: self._open(w))

        def _open(self, w: api.Workfile) -> None:
            self.confirmation = None
            try:
                api.open_workfile(self.runtime, w.path)
            except SetpieceError as exc:
                self._say(str(exc), error=True)
                return
            except Exception as exc:
                log.exception("setpiece workfiles: opening %s failed", w.path)
                self._say(f"opening {w.name} failed: {type(exc).__name__}: {exc}", error=True)
                return
            self._fill()
            self._say(f"opened {w.name}")

        def _say(self, text: str, error: bool = False) -> None:
            self.status.setStyleSheet("color: #c62828" if error else "")
            self.status.setText(one_line(text))

    return _WorkfilesWindow


def WorkfilesWindow(runtime: Any, parent: Any = None) -> Any:
    ensure_app()
    return _window_class()(runtime, parent)
