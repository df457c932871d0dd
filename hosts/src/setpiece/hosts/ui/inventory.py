"""The scene inventory window: every container of the open scene against what is
installed and published, with a version dropdown per row, *Update selected*, *Update
all*, *Remove*, *Select in scene* and *Refresh*.

:func:`show` is what the ``setpiece`` menu's **Inventory** entry runs: a Qt.py window
parented to the app's main window, or the same table printed on the console when Qt is
not available (Blender without PySide, ``SETPIECE_NO_QT=1``) or the app is headless. Qt
is imported only inside :func:`show` and the window class.

The rows come from :mod:`setpiece.hosts.ui.inventory_model` and every action from
:mod:`setpiece.hosts.ui.inventory_actions` (the same API as ``setpiece scene update``).
The *Scene* cell of a row is a dropdown of every published version of its asset: one its
requirement admits is taken at once, one it does not only after a confirmation. Repo
lookups run in a background thread: the table shows at once with the scene and installed
versions and the *Newest* column fills in when the repos answer.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize
from setpiece.hosts.protocol import Container
from setpiece.hosts.runtime import Change, Runtime
from setpiece.hosts.ui.inventory_actions import (
    UpdateResult,
    outside_question,
    remove_containers,
    switch_version,
    update_containers,
)
from setpiece.hosts.ui.inventory_cells import VERSION_COLUMN, cell_classes
from setpiece.hosts.ui.inventory_model import (
    COLORS,
    HEADERS,
    PENDING,
    STATUSES,
    Row,
    collect,
    format_table,
    rows_for,
    sort_key,
    summary,
)
from setpiece.hosts.ui.published_versions import RepoVersions, repo_versions
from setpiece.hosts.ui.qtutil import (
    ask,
    ensure_app,
    headless,
    one_line,
    qt_available,
    set_progress,
    show_once,
)

log = logging.getLogger("setpiece.hosts.inventory")



def show(runtime: Runtime) -> Any:
    """Show the inventory: the Qt window (returned; an open one is refreshed and raised),
    or, headless or without Qt, the table on stderr (the rows are returned)."""
    is_headless = headless(runtime.host)
    if is_headless or not qt_available():  # no window without a display (it would abort)
        rows = collect(runtime)
        print("setpiece inventory\n" + format_table(rows), file=sys.stderr)
        notify = getattr(runtime.host, "notify", None)
        if callable(notify) and not is_headless:
            lines = [r.change.line() if r.status in ("outdated", "not-installed") else
                     f"{r.asset}: {r.status} ({r.newest})" for r in rows if r.outdated]
            notify("\n".join([summary(rows), *lines[:20], "(the full table is on the console)"]))
        return rows
    return show_once("inventory", runtime, lambda parent: InventoryWindow(runtime, parent))


def _window_class() -> Any:
    from Qt import QtCore, QtGui, QtWidgets

    qt: Any = QtCore.Qt
    item_flag: Any = getattr(qt, "ItemFlag", qt)
    user_role = getattr(qt, "ItemDataRole", qt).UserRole
    views: Any = QtWidgets.QAbstractItemView
    behavior: Any = getattr(views, "SelectionBehavior", views)
    selection: Any = getattr(views, "SelectionMode", views)
    triggers: Any = getattr(views, "EditTrigger", views)
    sort_order: Any = getattr(qt, "SortOrder", qt)
    cursor_shape: Any = getattr(qt, "CursorShape", qt)
    dark = QtGui.QBrush(QtGui.QColor("#212121"))
    sort_role = user_role + 1

    _Item, _VersionDelegate = cell_classes(sort_role)

    class _InventoryWindow(QtWidgets.QDialog):
        def __init__(self, runtime: Runtime, parent: Any = None, versions: RepoVersions | None = None):
            super().__init__(parent)
            self.runtime = runtime
            self.versions = versions or repo_versions(runtime.workspace)
            self.rows: list[Row] = []
            self.fill_seconds = 0.0
            self._containers: list[Container] = []
            self._changes: list[Change] = []
            self._worker: threading.Thread | None = None
            self._icons: dict[tuple[str, str], Any] = {}  # (asset, version) -> QIcon
            self._installed: dict[str, Any] = {}
            self.setWindowTitle("setpiece inventory")
            self.resize(980, 560)

            layout = QtWidgets.QVBoxLayout(self)
            self.summary = QtWidgets.QLabel()
            self.summary.setStyleSheet("font-weight: bold")
            layout.addWidget(self.summary)
            self.only_outdated = QtWidgets.QCheckBox("Only rows that need attention")
            self.only_outdated.toggled.connect(self._apply_filter)
            layout.addWidget(self.only_outdated)

            self.table = QtWidgets.QTableWidget(0, len(HEADERS))
            self.table.setHorizontalHeaderLabels(list(HEADERS))
            self.table.setSelectionBehavior(behavior.SelectRows)
            self.table.setSelectionMode(selection.ExtendedSelection)
            self.table.verticalHeader().setVisible(False)
            self.table.horizontalHeader().setStretchLastSection(True)
            self.table.horizontalHeader().setResizeContentsPrecision(200)
            self.table.horizontalHeader().setSortIndicator(-1, sort_order.AscendingOrder)
            self.table.itemSelectionChanged.connect(self._selection_changed)
            self.table.itemDoubleClicked.connect(lambda _item: self.select_in_scene())
            self.table.setEditTriggers(triggers.SelectedClicked | triggers.EditKeyPressed)
            self.table.setItemDelegateForColumn(VERSION_COLUMN, _VersionDelegate(self))
            layout.addWidget(self.table)

            self.progress = QtWidgets.QProgressBar()
            self.progress.setVisible(False)
            layout.addWidget(self.progress)
            self.confirmation: Any = None  # the open question (switch outside, remove)

            self.status = QtWidgets.QLabel()
            self.status.setWordWrap(True)
            self.status.setTextInteractionFlags(
                getattr(qt, "TextInteractionFlag", qt).TextSelectableByMouse
            )
            layout.addWidget(self.status)

            buttons = QtWidgets.QHBoxLayout()
            self.update_selected_button = QtWidgets.QPushButton("Update selected")
            self.update_selected_button.clicked.connect(self.update_selected)
            self.update_all_button = QtWidgets.QPushButton("Update all")
            self.update_all_button.clicked.connect(self.update_all)
            self.select_button = QtWidgets.QPushButton("Select in scene")
            self.select_button.clicked.connect(self.select_in_scene)
            self.select_button.setVisible(callable(getattr(runtime.host, "select", None)))
            self.remove_button = QtWidgets.QPushButton("Remove")
            self.remove_button.setToolTip("Take the selected containers out of the scene")
            self.remove_button.clicked.connect(self.remove_selected)
            self.refresh_button = QtWidgets.QPushButton("Refresh")
            self.refresh_button.setToolTip("List the containers again and ask the repos again")
            self.refresh_button.clicked.connect(lambda: self.refresh(refetch=True))
            close = QtWidgets.QPushButton("Close")
            close.clicked.connect(self.close)
            for button in (self.update_selected_button, self.update_all_button,
                           self.select_button, self.remove_button):
                buttons.addWidget(button)
            buttons.addStretch(1)
            buttons.addWidget(self.refresh_button)
            buttons.addWidget(close)
            layout.addLayout(buttons)

            self.update_selected_button.setToolTip(
                "Bring the selected containers to the newest version their requirement admits "
                "(installed into the workspace first when needed) and run their setup code"
            )
            self.update_all_button.setToolTip(
                "Update every container that can move; held ones stay within their requirement"
            )
            self._say(
                "Update brings containers to the newest version their requirement admits "
                "(installing it first) and runs their setup code; click a row's Scene version "
                "to choose another; hover a status for what to do."
            )
            self._timer = QtCore.QTimer(self)
            self._timer.setInterval(100)
            self._timer.timeout.connect(self._poll)
            self.refresh(refetch=False)

        # -- data ----------------------------------------------------------------
        def refresh(self, refetch: bool = False) -> None:
            """List the containers again (``refetch``: and ask the repos again)."""
            if refetch and not self.fetching:
                self.versions.clear()
            try:
                self._containers = list(self.runtime.host.ls())
                self._changes = self.runtime.check(self._containers)
            except SetpieceError as exc:
                self._containers, self._changes = [], []
                self._say(str(exc), error=True)
            self._recompute()
            self._start_fetch()

        @property
        def fetching(self) -> bool:
            return self._worker is not None and self._worker.is_alive()

        def _start_fetch(self) -> None:
            if self.fetching:
                return  # _poll starts another lookup for what is still missing
            missing = self.versions.missing(c.asset for c in self._containers)
            if not missing:
                return
            self._worker = threading.Thread(
                target=self.versions.fetch, args=(missing,), name="setpiece-inventory", daemon=True
            )
            self._worker.start()
            self._timer.start()
            self._show_summary()

        def _poll(self) -> None:
            if self.fetching:
                return
            self._timer.stop()
            self._worker = None
            self._recompute()
            if self.versions.errors:
                self._say("; ".join(dict.fromkeys(self.versions.errors)), error=True)
            self._start_fetch()

        def wait_for_versions(self, timeout: float = 30.0) -> bool:
            """Process events until the repo lookups are in (for scripts and tests)."""
            app = QtWidgets.QApplication.instance()
            end = time.monotonic() + timeout
            while (self.fetching or self._timer.isActive()) and time.monotonic() < end:
                app.processEvents()
                time.sleep(0.01)
                if not self.fetching:
                    self._poll()
            return not self.fetching

        def _thumbnail(self, row: Row) -> Any:
            """The installed version's thumbnail (``thumbnail.png`` in its package) as an
            icon, read once per asset version; None when it has none."""
            key = (normalize(row.asset), row.installed or "")
            if key not in self._icons:
                self._icons[key] = None
                asset = self._installed.get(normalize(row.asset))
                path = Path(asset.package_dir) / "thumbnail.png" if asset is not None else None
                if path is not None and path.is_file():
                    self._icons[key] = QtGui.QIcon(str(path))
            return self._icons[key]

        def _recompute(self) -> None:
            try:
                self._installed = dict(self.runtime.workspace.installed_assets())
            except SetpieceError:
                self._installed = {}
            self.rows = rows_for(self._containers, self._changes, self.versions)
            self._fill()

        # -- view ----------------------------------------------------------------
        def _fill(self) -> None:
            start = time.perf_counter()
            table = self.table
            selected = set(self.selected_nodes())
            table.setUpdatesEnabled(False)
            table.blockSignals(True)
            table.setSortingEnabled(False)
            table.clearContents()
            table.setRowCount(len(self.rows))
            for i, row in enumerate(self.rows):
                color = COLORS.get(row.status)
                background = QtGui.QBrush(QtGui.QColor(color)) if color else None
                hint = row.hint()
                for j, text in enumerate(row.cells()):
                    item = _Item(text)
                    item.setData(sort_role, sort_key(j, text))
                    item.setFlags(item_flag.ItemIsSelectable | item_flag.ItemIsEnabled)
                    if background is not None:
                        item.setBackground(background)
                        item.setForeground(dark)
                    if j == VERSION_COLUMN and row.looked_up:
                        item.setFlags(item.flags() | item_flag.ItemIsEditable)
                        item.setToolTip("click to choose another version")
                    if j == 0:
                        item.setData(user_role, row.node)
                    elif j == 1 and (icon := self._thumbnail(row)) is not None:
                        item.setIcon(icon)
                    elif j == len(HEADERS) - 1:
                        item.setToolTip(hint)
                        if row.outdated:
                            font = item.font()
                            font.setBold(True)
                            item.setFont(font)
                    table.setItem(i, j, item)
            table.setSortingEnabled(True)
            if len(self.rows) <= 2000:
                table.resizeColumnsToContents()
            if selected:
                self.select_nodes(selected)
            table.blockSignals(False)
            table.setUpdatesEnabled(True)
            self._apply_filter()
            self._show_summary()
            self._selection_changed()
            self.fill_seconds = time.perf_counter() - start

        def _apply_filter(self) -> None:
            only = self.only_outdated.isChecked()
            by_node = {r.node: r for r in self.rows}
            for i in range(self.table.rowCount()):
                row = by_node.get(self._node_at(i) or "")
                self.table.setRowHidden(i, bool(only and row is not None and not row.outdated))

        def _show_summary(self) -> None:
            text = summary(self.rows)
            if self.fetching:
                pending = len(self.versions.missing(c.asset for c in self._containers))
                text += f"; asking the repos for {pending} asset(s)..."
            self.summary.setText(text)

        def _say(self, text: str, error: bool = False) -> None:
            """One line in the status area (the full text, if cut, in its tooltip)."""
            line = one_line(text)
            self.status.setStyleSheet("color: #c62828" if error else "")
            self.status.setText(line)
            self.status.setToolTip(str(text) if line != " ".join(str(text).split()) else "")

        def row_at(self, index: int) -> Row | None:
            node = self._node_at(index)
            return next((r for r in self.rows if r.node == node), None)

        def _node_at(self, index: int) -> str | None:
            item = self.table.item(index, 0)
            return None if item is None else str(item.data(user_role))

        def selected_nodes(self) -> list[str]:
            indexes = sorted({i.row() for i in self.table.selectedIndexes()})
            return [n for n in (self._node_at(i) for i in indexes) if n is not None]

        def select_nodes(self, nodes: Iterable[str]) -> None:
            """Select these containers' rows in the table."""
            wanted = set(nodes)
            self.table.clearSelection()
            mode = self.table.selectionMode()
            self.table.setSelectionMode(selection.MultiSelection)
            for i in range(self.table.rowCount()):
                if self._node_at(i) in wanted:
                    self.table.selectRow(i)
            self.table.setSelectionMode(mode)

        def _selection_changed(self) -> None:
            has = bool(self.table.selectedIndexes())
            self.update_selected_button.setEnabled(has)
            self.select_button.setEnabled(has)
            self.remove_button.setEnabled(has)

        # -- actions -------------------------------------------------------------
        def update_selected(self) -> None:
            nodes = set(self.selected_nodes())
            if not nodes:
                self._say("select the containers to update first")
                return
            self._update([r.container for r in self.rows if r.node in nodes])

        def update_all(self) -> None:
            self._update([r.container for r in self.rows])

        def _update(self, containers: list[Container]) -> None:
            """Install what is needed, then update (see :func:`update_containers`)."""
            if self.fetching:  # the targets need the published versions
                self.wait_for_versions()
            self._say(f"updating {len(containers)} container(s)...")
            self._run("update", lambda: update_containers(
                self.runtime, containers, self.versions, progress=self._progress))

        def _run(self, what: str, action: Callable[[], Any]) -> None:
            """Run an action with the wait cursor and the progress bar; say how it went."""
            QtWidgets.QApplication.setOverrideCursor(cursor_shape.WaitCursor)
            QtWidgets.QApplication.processEvents()
            try:
                result = action()
            except SetpieceError as exc:  # nothing moved: say why, on one line
                log.error("setpiece inventory: %s", exc)
                self.refresh(refetch=False)
                self._say(str(exc), error=True)
                return
            except Exception as exc:  # an adapter failed: say so, keep the window usable
                log.exception("setpiece inventory: %s failed", what)
                self.refresh(refetch=False)
                self._say(f"{what} failed: {type(exc).__name__}: {exc} (see the log)", error=True)
                return
            finally:
                QtWidgets.QApplication.restoreOverrideCursor()
                self.progress.setVisible(False)
            self.refresh(refetch=False)
            if isinstance(result, UpdateResult):
                self._say(result.message(), error=bool(getattr(result.report, "failed", None)))
            else:
                self._say(str(result))

        def _progress(self, done: int, total: int, what: str) -> None:
            set_progress(self.progress, done, total, what)

        def _ask(self, title: str, text: str, yes: str, then: Callable[[], None]) -> None:
            self.confirmation = ask(self, title, text, yes, then)

        def open_version_menu(self, node: str) -> Any:
            """Open ``node``'s version dropdown (what a click on its Scene cell does)."""
            for i in range(self.table.rowCount()):
                if self._node_at(i) == node:
                    index = self.table.model().index(i, VERSION_COLUMN)
                    self.table.setCurrentIndex(index)
                    self.table.edit(index)
                    return self.table.indexWidget(index)
            return None

        def request_switch(self, node: str, version: str) -> None:
            """Switch ``node`` (and the selected rows of the same asset) to ``version``;
            a version the requirement does not admit only after the artist confirms."""
            row = next((r for r in self.rows if r.node == node), None)
            if row is None:
                return
            nodes = set(self.selected_nodes()) | {node}
            containers = [r.container for r in self.rows if r.node in nodes
                          and r.asset.lower() == row.asset.lower()]
            question = outside_question(containers, version)
            if question is None:
                self._switch(containers, version, outside=False)
            else:
                self._ask("Outside the requirement", question, f"Take {version}",
                          lambda: self._switch(containers, version, outside=True))

        def _switch(self, containers: list[Container], version: str, outside: bool) -> None:
            self._say(f"switching {len(containers)} container(s) to {version}...")
            self._run("switch", lambda: switch_version(
                self.runtime, containers, version, outside_requirement=outside,
                progress=self._progress))

        def remove_selected(self) -> None:
            nodes = set(self.selected_nodes())
            containers = [r.container for r in self.rows if r.node in nodes]
            if not containers:
                self._say("select the containers to remove first")
                return
            names = ", ".join(c.node for c in containers[:5]) + ("..." if len(containers) > 5 else "")
            self._ask(
                "Remove from the scene",
                f"Remove {len(containers)} container(s) from the scene ({names})? The installed "
                "assets stay in the workspace.",
                "Remove",
                lambda: self._run("remove", lambda: (
                    f"removed {len(removed := remove_containers(self.runtime, containers))} "
                    f"container(s): {', '.join(removed[:5])}")),
            )

        def select_in_scene(self) -> None:
            select = getattr(self.runtime.host, "select", None)
            nodes = self.selected_nodes()
            if not callable(select) or not nodes:
                return
            try:
                select(nodes)
            except Exception as exc:
                log.exception("setpiece inventory: selecting %s failed", nodes)
                self._say(f"could not select {', '.join(nodes[:3])}: {exc}", error=True)

    return _InventoryWindow


def InventoryWindow(runtime: Runtime, parent: Any = None, versions: RepoVersions | None = None) -> Any:
    ensure_app()
    return _window_class()(runtime, parent, versions)


__all__ = [  # the model's names too, for scripts that import this module
    "COLORS", "HEADERS", "PENDING", "STATUSES", "InventoryWindow", "RepoVersions", "Row",
    "UpdateResult", "collect", "format_table", "one_line", "qt_available", "remove_containers",
    "repo_versions", "rows_for", "show", "sort_key", "summary", "switch_version",
    "update_containers",
]
