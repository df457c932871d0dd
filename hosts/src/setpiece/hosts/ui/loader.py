"""The loader window: browse what the workspace's repos hold and bring a version into the
scene.

Left, every asset of every repo (blessed first, then the default repo, then the others)
with a search box and kind / repo filters. Right, the chosen asset's versions (repo,
author, date, comment), the thumbnail and the dependencies of the chosen version, and
two buttons: **Load** (install that version and its files, bring it into the open scene
as a container, run its setup code) and **Load into new scene** (a new scene holding the
asset's whole set, built as the menu's *Build scene* does). The work is done by
:mod:`setpiece.hosts.ui.loader_model`; Qt is imported only when the window is made.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.ui import loader_model as model
from setpiece.hosts.ui.qtutil import (
    ensure_app,
    enum,
    headless,
    one_line,
    qt_available,
    set_progress,
    show_once,
)

log = logging.getLogger("setpiece.hosts.loader")

ASSET_HEADERS = ("Asset", "Kind", "Newest", "Repos")
VERSION_HEADERS = ("Version", "Repo", "Author", "Date", "Comment")
ALL = ""  # the "every kind" / "every repo" filter value


def show(runtime: Any) -> Any:
    """The loader window (an open one is raised); headless or without Qt, the catalog is
    printed on the console (and returned)."""
    if headless(runtime.host) or not qt_available():
        assets, errors = model.catalog(runtime.workspace)
        for a in assets:
            print(f"{a.name:<24} {a.kind:<8} {a.newest:<10} {', '.join(a.repos)}", file=sys.stderr)
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        return assets
    return show_once("loader", runtime, lambda parent: LoaderWindow(runtime, parent))


def _window_class() -> Any:
    from Qt import QtCore, QtGui, QtWidgets

    qt: Any = QtCore.Qt
    user_role = enum(qt, "ItemDataRole", "UserRole")
    views: Any = QtWidgets.QAbstractItemView
    cursor = enum(qt, "CursorShape", "WaitCursor")
    keep_aspect = enum(qt, "AspectRatioMode", "KeepAspectRatio")
    smooth = enum(qt, "TransformationMode", "SmoothTransformation")

    class _LoaderWindow(QtWidgets.QDialog):
        def __init__(self, runtime: Any, parent: Any = None) -> None:
            super().__init__(parent)
            self.runtime = runtime
            self.assets: list[model.CatalogAsset] = []
            self.details: list[model.VersionDetail] = []
            self.setWindowTitle("setpiece loader")
            self.resize(1040, 600)
            layout = QtWidgets.QVBoxLayout(self)

            filters = QtWidgets.QHBoxLayout()
            self.search = QtWidgets.QLineEdit()
            self.search.setPlaceholderText("Search assets by name or description")
            self.search.setClearButtonEnabled(True)
            self.search.textChanged.connect(self._apply_filter)
            self.kind = QtWidgets.QComboBox()
            self.kind.currentIndexChanged.connect(self._apply_filter)
            self.repo = QtWidgets.QComboBox()
            self.repo.currentIndexChanged.connect(self._apply_filter)
            filters.addWidget(self.search, 3)
            filters.addWidget(QtWidgets.QLabel("Kind"))
            filters.addWidget(self.kind, 1)
            filters.addWidget(QtWidgets.QLabel("Repo"))
            filters.addWidget(self.repo, 1)
            layout.addLayout(filters)

            split = QtWidgets.QSplitter()
            self.asset_list: Any = QtWidgets.QTreeWidget()
            self.asset_list.setHeaderLabels(list(ASSET_HEADERS))
            self.asset_list.setRootIsDecorated(False)
            self.asset_list.setSortingEnabled(True)
            self.asset_list.sortByColumn(0, enum(qt, "SortOrder", "AscendingOrder"))
            self.asset_list.currentItemChanged.connect(lambda *_: self._asset_chosen())
            split.addWidget(self.asset_list)

            right = QtWidgets.QWidget()
            rlayout = QtWidgets.QVBoxLayout(right)
            rlayout.setContentsMargins(0, 0, 0, 0)
            self.title = QtWidgets.QLabel()
            self.title.setStyleSheet("font-weight: bold")
            self.title.setWordWrap(True)
            rlayout.addWidget(self.title)
            self.versions: Any = QtWidgets.QTableWidget(0, len(VERSION_HEADERS))
            self.versions.setHorizontalHeaderLabels(list(VERSION_HEADERS))
            self.versions.verticalHeader().setVisible(False)
            self.versions.horizontalHeader().setStretchLastSection(True)
            self.versions.setSelectionBehavior(enum(views, "SelectionBehavior", "SelectRows"))
            self.versions.setSelectionMode(enum(views, "SelectionMode", "SingleSelection"))
            self.versions.setEditTriggers(enum(views, "EditTrigger", "NoEditTriggers"))
            self.versions.itemSelectionChanged.connect(self._version_chosen)
            rlayout.addWidget(self.versions, 2)
            below = QtWidgets.QHBoxLayout()
            self.thumbnail = QtWidgets.QLabel("no thumbnail")
            self.thumbnail.setFixedSize(160, 120)
            self.thumbnail.setAlignment(enum(qt, "AlignmentFlag", "AlignCenter"))
            self.thumbnail.setStyleSheet("border: 1px solid #777")
            below.addWidget(self.thumbnail)
            self.dependencies: Any = QtWidgets.QTreeWidget()
            self.dependencies.setHeaderLabels(["Dependency", "Group", "Kind"])
            self.dependencies.setRootIsDecorated(False)
            below.addWidget(self.dependencies, 1)
            rlayout.addLayout(below, 1)
            split.addWidget(right)
            split.setSizes([380, 660])
            layout.addWidget(split, 1)

            self.progress = QtWidgets.QProgressBar()
            self.progress.setVisible(False)
            layout.addWidget(self.progress)
            self.status = QtWidgets.QLabel()
            self.status.setWordWrap(True)
            layout.addWidget(self.status)
            buttons = QtWidgets.QHBoxLayout()
            self.load_button = QtWidgets.QPushButton("Load")
            self.load_button.setToolTip(
                "Install this version (and its files) and bring it into the open scene")
            self.load_button.clicked.connect(self.load)
            self.new_scene_button = QtWidgets.QPushButton("Load into new scene")
            self.new_scene_button.setToolTip(
                "Open a new scene holding this asset and everything its set brings")
            self.new_scene_button.clicked.connect(self.load_new_scene)
            self.refresh_button = QtWidgets.QPushButton("Refresh")
            self.refresh_button.clicked.connect(self.refresh)
            close = QtWidgets.QPushButton("Close")
            close.clicked.connect(self.close)
            for b in (self.load_button, self.new_scene_button):
                buttons.addWidget(b)
            buttons.addStretch(1)
            buttons.addWidget(self.refresh_button)
            buttons.addWidget(close)
            layout.addLayout(buttons)
            self.refresh()

        # -- data ------------------------------------------------------------------
        def refresh(self) -> None:
            """Ask the repos again."""
            try:
                self.assets, errors = model.catalog(self.runtime.workspace)
                roles = model.repo_roles(self.runtime.workspace)
            except SetpieceError as exc:
                self.assets, errors, roles = [], [str(exc)], {}
            self._fill_filters(roles)
            self._fill_assets()
            self._say("; ".join(errors) if errors else
                      f"{len(self.assets)} asset(s) in {len(roles)} repo(s)", error=bool(errors))

        def _fill_filters(self, roles: dict[str, str]) -> None:
            for combo, values, everything in (
                (self.kind, sorted({a.kind for a in self.assets if a.kind}), "every kind"),
                (self.repo, list(roles), "every repo"),
            ):
                current = combo.currentData()
                combo.blockSignals(True)
                combo.clear()
                combo.addItem(everything, ALL)
                for v in values:
                    role = roles.get(v, "") if combo is self.repo else ""
                    combo.addItem(f"{v} ({role})" if role else v, v)
                combo.setCurrentIndex(max(0, combo.findData(current)))
                combo.blockSignals(False)

        def _fill_assets(self) -> None:
            chosen = self.current_asset()
            self.asset_list.clear()
            for a in self.assets:
                item = QtWidgets.QTreeWidgetItem([a.name, a.kind, a.newest, ", ".join(a.repos)])
                item.setData(0, user_role, a.name)
                item.setToolTip(0, a.description)
                self.asset_list.addTopLevelItem(item)
            for i in range(len(ASSET_HEADERS)):
                self.asset_list.resizeColumnToContents(i)
            self._apply_filter()
            if chosen is not None:
                self.choose(chosen.name)

        def _apply_filter(self) -> None:
            text, kind, repo = self.search.text(), self.kind.currentData(), self.repo.currentData()
            by_name = {a.name: a for a in self.assets}
            for i in range(self.asset_list.topLevelItemCount()):
                item = self.asset_list.topLevelItem(i)
                asset = by_name[item.data(0, user_role)]
                item.setHidden(not asset.matches(text, kind or "", repo or ""))

        def visible_assets(self) -> list[str]:
            items = [self.asset_list.topLevelItem(i)
                     for i in range(self.asset_list.topLevelItemCount())]
            return [it.text(0) for it in items if not it.isHidden()]

        def choose(self, name: str, version: str | None = None) -> None:
            """Select ``name`` in the list (and ``version`` in its versions)."""
            for i in range(self.asset_list.topLevelItemCount()):
                item = self.asset_list.topLevelItem(i)
                if item.data(0, user_role) == name:
                    self.asset_list.setCurrentItem(item)
            if version is not None:
                for row, d in enumerate(self.details):
                    if d.version == version:
                        self.versions.selectRow(row)
                        return

        def current_asset(self) -> model.CatalogAsset | None:
            item = self.asset_list.currentItem()
            name = item.data(0, user_role) if item is not None else None
            return next((a for a in self.assets if a.name == name), None)

        def current_version(self) -> model.VersionDetail | None:
            rows = sorted({i.row() for i in self.versions.selectedIndexes()})
            return self.details[rows[0]] if rows and rows[0] < len(self.details) else None

        def _asset_chosen(self) -> None:
            asset = self.current_asset()
            self.versions.setRowCount(0)
            self.details = []
            if asset is None:
                self.title.setText("")
                self._version_chosen()
                return
            self.title.setText(f"{asset.name}  ({asset.kind or 'no kind'}): {asset.description}")
            try:
                self.details = model.version_details(self.runtime.workspace, asset.name)
            except SetpieceError as exc:
                self._say(str(exc), error=True)
            self.versions.setRowCount(len(self.details))
            for row, d in enumerate(self.details):
                cells = (d.version, d.repo + (" (promoted)" if d.promoted else ""), d.author,
                         d.date, d.comment or ("" if d.time else "(no record)"))
                for col, text in enumerate(cells):
                    item = QtWidgets.QTableWidgetItem(text)
                    item.setToolTip(text)
                    self.versions.setItem(row, col, item)
            self.versions.resizeColumnsToContents()
            if self.details:
                self.versions.selectRow(0)
            else:
                self._version_chosen()

        def _version_chosen(self) -> None:
            d = self.current_version()
            asset = self.current_asset()
            self.load_button.setEnabled(d is not None)
            self.new_scene_button.setEnabled(d is not None)
            self.dependencies.clear()
            self.thumbnail.setPixmap(QtGui.QPixmap())
            self.thumbnail.setText("no thumbnail")
            if d is None or asset is None:
                return
            ws = self.runtime.workspace
            try:
                for dep in model.dependencies(ws, d.repo, asset.name, d.version):
                    self.dependencies.addTopLevelItem(QtWidgets.QTreeWidgetItem(
                        [dep["requirement"], dep["group"], dep["kind"]]))
                path = model.thumbnail(ws, d.repo, asset.name, d.version)
            except SetpieceError as exc:
                self._say(str(exc), error=True)
                return
            if path is not None:
                pixmap = QtGui.QPixmap(str(path))
                self.thumbnail.setPixmap(pixmap.scaled(160, 120, keep_aspect, smooth))

        # -- actions ---------------------------------------------------------------
        def load(self) -> None:
            self._load("load", model.load)

        def load_new_scene(self) -> None:
            self._load("load into a new scene", model.load_new_scene)

        def _load(self, what: str, action: Callable[..., Any]) -> None:
            asset, d = self.current_asset(), self.current_version()
            if asset is None or d is None:
                self._say("choose an asset and a version first")
                return
            QtWidgets.QApplication.setOverrideCursor(cursor)
            try:
                result = action(self.runtime, asset.name, d.version, repo=d.repo,
                                progress=lambda n, t, w: set_progress(self.progress, n, t, w))
            except SetpieceError as exc:
                self._say(str(exc), error=True)
                return
            except Exception as exc:  # an adapter failed: keep the window usable
                log.exception("setpiece loader: %s failed", what)
                self._say(f"{what} failed: {type(exc).__name__}: {exc} (see the log)", error=True)
                return
            finally:
                QtWidgets.QApplication.restoreOverrideCursor()
                self.progress.setVisible(False)
            self.last_result = result
            self._say(result.message(), error=bool(result.setup and result.setup.failed))
            self._version_chosen()  # the thumbnail now comes from the installed package

        def _say(self, text: str, error: bool = False) -> None:
            line = one_line(text)
            self.status.setStyleSheet("color: #c62828" if error else "")
            self.status.setText(line)
            self.status.setToolTip(str(text) if line != " ".join(str(text).split()) else "")

    return _LoaderWindow


def LoaderWindow(runtime: Any, parent: Any = None) -> Any:
    ensure_app()
    return _window_class()(runtime, parent)
