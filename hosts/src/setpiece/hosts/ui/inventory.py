"""The scene inventory: every container of the open scene against what is installed in the
workspace and what is published in its repos, with *Update selected*, *Update all*,
*Select in scene* and *Refresh*.

:func:`show` is what the ``setpiece`` menu's **Inventory** entry runs
(``setpiece.hosts.runtime.inventory_command`` looks it up): a Qt.py window parented to
``host.main_window()``, or the same table printed on the console when Qt is not available
(Blender without PySide, ``SETPIECE_NO_QT=1``). Qt is imported only inside :func:`show`
and the window class, never when this module is imported.

The logic is shared, not re-implemented: :meth:`Runtime.check` compares each container
with the installed version, :func:`setpiece.usd.inventory.inventory` adds the newest
published version and whether the container's requirement (push / semi-push / pull)
admits it. The update buttons (:func:`update_containers`) bring each container to the
newest version its requirement admits: :func:`setpiece.usd.inventory.plan_update` picks
it, ``Workspace.install([...], record=False)`` installs it (what ``setpiece scene
update`` does) and :meth:`Runtime.update` moves the container and runs its setup code. A
container is never moved to a version its requirement refuses (``held``), and when the
install fails no container changes.

Cost, whatever the number of containers: one ``host.ls()`` and one read of the installed
packages' metadata per refresh. Published versions are looked up once per *distinct
asset* (never per container) and kept for the session; *Refresh* looks again. A folder
repo is listed once for all the assets (one ``scandir``: 0.05 s for 3,000 wheels, where
asking asset by asset took 4.3 s); an index repo costs one request per distinct asset
(``/simple/<asset>/``, eight at a time), and an unreachable repo costs one timeout, not
one per asset. In the window those lookups run in a background thread: the table shows
at once with the scene and installed versions, and the *Newest* column fills in when the
repos answer.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize
from setpiece.hosts.protocol import Container
from setpiece.hosts.runtime import Change, Runtime

log = logging.getLogger("setpiece.hosts.inventory")

HEADERS = (
    "Container",
    "Asset",
    "Scene",
    "Installed",
    "Newest",
    "Kind",
    "Requirement",
    "Admits newest",
    "Status",
)
#: every status, worst first
STATUSES = ("not-installed", "outdated", "update-available", "held", "up-to-date")
#: row background per status (with dark text, so rows read on the DCCs' dark themes)
COLORS = {
    "not-installed": "#ef9a9a",
    "outdated": "#ffcc80",
    "update-available": "#fff59d",
    "held": "#cfd8dc",
}
PENDING = "..."  # newest version not looked up yet
#: columns holding versions: they sort as versions, not text
VERSION_COLUMNS = ("Scene", "Installed", "Newest")

_windows: list[Any] = []  # keep windows alive (Qt deletes unreferenced ones)
_apps: list[Any] = []  # the QApplication made here, when the app had none


def qt_available() -> bool:
    if os.environ.get("SETPIECE_NO_QT"):
        return False
    try:
        from Qt import QtWidgets  # noqa: F401
    except Exception:
        return False
    return True


# -- published versions, cached -----------------------------------------------------------


def _version_key(text: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


def sort_key(column: int, text: str) -> tuple[bool, Any]:
    """How a cell sorts: (unknown, key). The version columns (Scene, Installed, Newest)
    sort as versions (1.9.0 before 1.10.0), ``-``, ``...`` and invalid versions after
    every version; the other columns as case-insensitive text."""
    if HEADERS[column] not in VERSION_COLUMNS:
        return (False, text.lower())
    from packaging.version import InvalidVersion, Version

    try:
        return (False, Version(text))
    except InvalidVersion:
        return (True, text)


class RepoVersions:
    """Published versions per asset across a workspace's repos, looked up once per
    distinct asset and kept until :meth:`clear`.

    ``fetch`` lists a folder repo once for all the names it is given and asks an index
    repo one name at a time (eight requests at once); a repo that fails is skipped after
    its first error (``errors``), as ``Workspace.available_versions`` skips it.
    """

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace
        self._known: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.lookups = 0  # repo calls made (one listing or one request each)
        self.seconds = 0.0
        self.errors: list[str] = []

    def known(self, name: str) -> list[str] | None:
        """The versions of ``name``, or None when not looked up yet."""
        with self._lock:
            return self._known.get(normalize(name))

    def missing(self, names: Iterable[str]) -> list[str]:
        """The distinct (normalised) names not looked up yet, in first-seen order."""
        with self._lock:
            out = dict.fromkeys(k for k in map(normalize, names) if k not in self._known)
        return list(out)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self.errors = []

    def fetch(self, names: Iterable[str]) -> None:
        todo = self.missing(names)
        if not todo:
            return
        start = time.perf_counter()
        found: dict[str, set[str]] = {n: set() for n in todo}
        errors: list[str] = []
        try:
            repos = getattr(self.workspace, "repos", None)
            if callable(repos):
                for repo in repos().values():
                    try:
                        self._from_repo(repo, todo, found)
                    except SetpieceError as exc:
                        errors.append(str(exc))
            else:  # a workspace-like object without repos(): ask it asset by asset
                for n in todo:
                    self.lookups += 1
                    found[n].update(self.workspace.available_versions(n))
        except Exception as exc:  # never leave names pending forever
            log.exception("setpiece inventory: looking up published versions failed")
            errors.append(f"looking up published versions failed: {exc}")
        finally:
            with self._lock:
                for n, versions in found.items():
                    self._known[n] = sorted(versions, key=_version_key)
                self.errors.extend(errors)
            self.seconds += time.perf_counter() - start

    def _from_repo(self, repo: Any, todo: list[str], found: dict[str, set[str]]) -> None:
        if getattr(repo, "kind", "") == "folder" and len(todo) > 1:
            self.lookups += 1
            projects = {normalize(k): v for k, v in repo.projects().items()}
            for n in todo:
                found[n].update(projects.get(n, ()))
            return
        # the first request alone: an unreachable repo costs one timeout, not one per asset
        self.lookups += 1
        found[todo[0]].update(repo.versions(todo[0]))
        rest = todo[1:]
        if not rest:
            return

        def one(name: str) -> list[str]:
            try:
                return list(repo.versions(name))
            except SetpieceError:
                return []

        with ThreadPoolExecutor(max_workers=min(8, len(rest))) as pool:
            for n, versions in zip(rest, pool.map(one, rest), strict=True):
                found[n].update(versions)
        self.lookups += len(rest)


_CACHES: dict[str, RepoVersions] = {}


def repo_versions(workspace: Any) -> RepoVersions:
    """The session's cache of published versions for ``workspace``."""
    key = str(getattr(workspace, "root", id(workspace)))
    cache = _CACHES.get(key)
    if cache is None or cache.workspace is not workspace:
        cache = _CACHES[key] = RepoVersions(workspace)
    return cache


# -- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One container in the inventory."""

    container: Container
    change: Change  # what Runtime.check said (and what Runtime.update takes)
    installed: str | None
    newest: str | None
    admits_newest: bool | None
    status: str  # one of STATUSES
    looked_up: bool  # published versions known (False while the repos are being asked)
    target: str | None = None  # a newer published version the requirement admits (the newest)

    @property
    def node(self) -> str:
        return self.container.node

    @property
    def asset(self) -> str:
        return self.container.asset

    @property
    def outdated(self) -> bool:
        return self.status != "up-to-date"

    def cells(self) -> tuple[str, ...]:
        rec = self.container.record
        if self.looked_up:
            newest = self.newest or "-"
            admits = "-" if self.admits_newest is None else ("yes" if self.admits_newest else "no")
        else:
            newest = admits = PENDING
        return (
            self.node,
            rec.asset,
            rec.version,
            self.installed or "-",
            newest,
            rec.kind or "-",
            rec.requirement or "-",
            admits,
            self.status,
        )

    def hint(self) -> str:
        """What the status means and what to do about it."""
        rec = self.container.record
        if self.status == "not-installed":
            return f"{rec.asset} is not installed in the workspace: run 'setpiece install {rec.asset}'"
        requirement = rec.requirement or rec.asset
        if self.status == "outdated":
            if self.target:
                return (
                    f"{rec.asset} {self.installed} is installed, {rec.version} is in the scene "
                    f"and {self.target} is published: Update installs {self.target} (the newest "
                    f"'{requirement}' admits), brings the container to it and runs its setup code"
                )
            return (
                f"{rec.asset} {self.installed} is installed, {rec.version} is in the scene: "
                "Update brings the container to it and runs its setup code"
            )
        if self.status == "update-available":
            target = self.target or self.newest
            refused = (
                f" ({self.newest} is published too, but '{requirement}' does not admit it)"
                if self.newest and self.newest != target else ""
            )
            return (
                f"{rec.asset} {target} is published and '{requirement}' admits it{refused}: "
                "Update installs it in the workspace, brings the container to it and runs its "
                "setup code"
            )
        if self.status == "held":
            by = str(rec.extra.get("requiredBy", "")) if rec.extra else ""
            owner = f" ({rec.kind}{', required by ' + by if by else ''})"
            change = "change the requirement with 'setpiece require' to take it"
            if by:
                change = (
                    f"change the requirement with 'setpiece require {by.split(',')[0]} "
                    f"\"{rec.asset}...\"' to take it"
                )
            if self.installed and self.installed != rec.version:
                return (
                    f"{rec.asset} {self.installed} is installed but '{rec.requirement}'{owner} "
                    f"does not admit it: Update leaves the container at {rec.version}; {change}"
                )
            return (
                f"{rec.asset} {self.newest} is published but '{rec.requirement}'{owner} does "
                f"not admit it: Update leaves the container at {rec.version}; {change}"
            )
        if not self.looked_up:
            return "up to date with the installed version; the repos are being asked"
        return "up to date"

    def to_json(self) -> dict[str, Any]:
        rec = self.container.record
        return {
            "node": self.node,
            "asset": rec.asset,
            "scene": rec.version,
            "installed": self.installed,
            "newest": self.newest,
            "kind": rec.kind,
            "requirement": rec.requirement,
            "admits_newest": self.admits_newest,
            "status": self.status,
        }


def rows_for(
    containers: Sequence[Container], changes: Sequence[Change], versions: RepoVersions
) -> list[Row]:
    """Rows from containers, their ``Runtime.check`` changes and the cached repo versions
    (no host, installed or repo call).

    A container whose installed version differs from the scene's is ``outdated``, unless
    its requirement refuses the installed version (another container's update installed
    it): then it is ``held``, as Update never moves it past its requirement.
    """
    from setpiece.usd.closure import admits
    from setpiece.usd.inventory import inventory

    installed = {normalize(ch.asset): ch.installed_version for ch in changes}
    inv = inventory(
        [c.record for c in containers],
        lambda name: installed.get(normalize(name)),
        lambda name: versions.known(name) or [],
    )
    # few distinct (asset, requirement, installed) whatever the number of containers
    admitted: dict[tuple[str, str], bool] = {}
    targets: dict[tuple[str, str, str], str | None] = {}

    def status_and_target(record: Any, row: Any) -> tuple[str, str | None]:
        if row.installed is None:
            return str(row.status), None
        key = (normalize(record.asset), record.requirement or "", str(row.installed))
        if key not in targets:
            targets[key] = newest_admitted(record, row.installed, versions)
        target = targets[key]
        if row.status == "rebuild":
            akey = (record.requirement or "", str(row.installed))
            if akey not in admitted:
                admitted[akey] = admits(*akey)
            return ("outdated" if admitted[akey] else "held"), target
        if row.status == "held" and target is not None:
            return "update-available", target  # newer within the bounds, the newest outside
        return str(row.status), target

    out = []
    for c, ch, r in zip(containers, changes, inv, strict=True):
        status, target = status_and_target(c.record, r)
        out.append(
            Row(c, ch, r.installed, r.newest, r.admits_newest, status,
                versions.known(c.asset) is not None, target)
        )
    return out


def newest_admitted(record: Any, installed: str, versions: RepoVersions) -> str | None:
    """The version newer than ``installed`` that Update brings ``record``'s container to:
    :func:`setpiece.usd.inventory.plan_update`'s ``--to latest`` target (the newest
    published version its requirement admits), or None when there is none."""
    from setpiece.usd.inventory import plan_update

    plan = plan_update(
        [record], {record.asset: installed}.get, lambda name: versions.known(name) or []
    )
    step = plan.steps[0]
    return str(step.target) if step.action == "update" and step.target else None


# -- updating ----------------------------------------------------------------------------


@dataclass
class UpdateResult:
    """What :func:`update_containers` did."""

    updated: list[Container]
    report: Any  # the setup report (``run_setups``); None when nothing moved
    installed: list[str]  # ``Name==version`` installed into the workspace first
    skipped: dict[str, str]  # node -> why it was left where it is

    def message(self) -> str:
        """One line for the window's status area."""
        if not self.updated:
            text = "nothing to update"
            if self.skipped:
                reasons = sorted(set(self.skipped.values()))
                text += f": {'; '.join(reasons[:3])}{'; ...' if len(reasons) > 3 else ''}"
            return text
        done = ", ".join(f"{c.asset} {c.version}" for c in self.updated[:5])
        more = f" and {len(self.updated) - 5} more" if len(self.updated) > 5 else ""
        text = f"updated {len(self.updated)} container(s) ({done}{more})"
        if self.installed:
            text += f" after installing {', '.join(self.installed)}"
        if self.report is not None:
            text += f"; {self.report.summary()}"
        if self.skipped:
            text += f"; {len(self.skipped)} left as they are (see their Status)"
        return text


def update_containers(
    runtime: Runtime, containers: Sequence[Container], versions: RepoVersions | None = None
) -> UpdateResult:
    """Bring ``containers`` to the newest version their requirements admit.

    The target of each container is what :func:`setpiece.usd.inventory.plan_update` says
    (``--to latest``; the installed version when nothing newer is admitted). Versions not
    installed yet are installed first, all in one ``Workspace.install([...],
    record=False)`` (as ``setpiece scene update`` does); then :meth:`Runtime.update` moves
    the containers and runs their setup code. A SetpieceError (repo unreachable, install
    conflict, corrupted wheel) is raised before any container changes. Containers whose
    requirement refuses the installed and newer versions (held), that are not installed,
    or whose asset is an editable output are left as they are (``skipped``).
    """
    from setpiece.usd.closure import admits

    ws = runtime.workspace
    versions = versions or repo_versions(ws)
    containers = list(containers)
    versions.fetch(c.asset for c in containers)  # only the assets not looked up yet
    rows = rows_for(containers, runtime.check(containers), versions)
    installed_assets = ws.installed_assets()
    targets: dict[str, str] = {}  # node -> version
    skipped: dict[str, str] = {}
    for row in rows:
        rec = row.container.record
        if row.installed is None:
            skipped[row.node] = f"{rec.asset} is not installed ('setpiece install {rec.asset}')"
            continue
        installed_version = row.installed
        target = row.target or installed_version
        if not admits(rec.requirement, target):
            skipped[row.node] = f"{rec.asset}: '{rec.requirement}' holds it at {rec.version}"
            continue
        if target == rec.version:
            if row.status == "held":
                skipped[row.node] = f"{rec.asset}: '{rec.requirement}' holds it at {rec.version}"
            continue
        asset = installed_assets.get(normalize(rec.asset))
        if target != installed_version and asset is not None and asset.editable:
            skipped[row.node] = (
                f"{rec.asset} is an editable output asset (its version is the one in "
                f"outputs/{rec.asset})"
            )
            continue
        targets[row.node] = target
    # one version per asset in a workspace: the containers to move must agree on it
    by_asset: dict[str, dict[str, list[str]]] = {}  # asset -> version -> nodes
    names: dict[str, str] = {}
    installed_now = {normalize(r.asset): r.installed for r in rows}
    for row in rows:
        if row.node in targets:
            key = names.setdefault(normalize(row.asset), row.asset)
            by_asset.setdefault(key, {}).setdefault(targets[row.node], []).append(row.node)
    for asset, wanted in by_asset.items():
        if len(wanted) > 1:
            detail = ", ".join(f"{v} for {', '.join(nodes[:2])}" for v, nodes in wanted.items())
            raise SetpieceError(
                f"{asset}: these containers' requirements lead to different versions ({detail}) "
                "and a workspace installs one: update them one requirement at a time"
            )
    requirements = [
        f"{asset}=={version}"
        for asset, wanted in by_asset.items()
        for version in wanted
        if version != installed_now.get(normalize(asset))
    ]
    if requirements:
        ws.install(requirements, record=False)  # raises before any container is touched
    changes = []
    for ch in runtime.check([r.container for r in rows if r.node in targets]):
        if ch.status == "outdated" and ch.installed_version == targets[ch.node]:
            changes.append(ch)
        else:
            skipped[ch.node] = f"{ch.asset}: {ch.installed_version} is installed, not {targets[ch.node]}"
    if not changes:
        return UpdateResult([], None, requirements, skipped)
    updated, report = done = runtime.update(changes)
    for failure in getattr(done, "failed", ()):  # not updated: kept at its version
        skipped[failure.node] = failure.line()
    return UpdateResult(updated, report, requirements, skipped)


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (an error for the status area), cut at ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def collect(runtime: Runtime, versions: RepoVersions | None = None, *, fetch: bool = True) -> list[Row]:
    """Every container of the open scene: one ``host.ls()``, one read of the installed
    metadata and (``fetch``) the repo lookups still missing, one per distinct asset."""
    containers = list(runtime.host.ls())
    changes = runtime.check(containers)
    versions = versions or repo_versions(runtime.workspace)
    if fetch:
        versions.fetch(c.asset for c in containers)
    return rows_for(containers, changes, versions)


def summary(rows: Sequence[Row]) -> str:
    if not rows:
        return "no containers in this scene"
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = [f"{n} {s.replace('-', ' ')}" for s, n in counts.items() if n]
    return f"{len(rows)} container(s): " + ", ".join(parts)


def format_table(rows: Sequence[Row]) -> str:
    """The inventory as a text table (what the console fallback prints)."""
    table = [HEADERS, *(r.cells() for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    return "\n".join([*lines, summary(rows)])


# -- showing it ----------------------------------------------------------------------------


def show(runtime: Runtime) -> Any:
    """Show the inventory: the Qt window (returned; an open one is refreshed and raised),
    or, headless or without Qt, the table on stderr (the rows are returned)."""
    try:
        headless = bool(runtime.host.is_headless())
    except Exception:
        headless = False
    if headless or not qt_available():  # no window without a display (it would abort)
        rows = collect(runtime)
        print("setpiece inventory\n" + format_table(rows), file=sys.stderr)
        notify = getattr(runtime.host, "notify", None)
        if callable(notify) and not headless:
            lines = [r.change.line() if r.status in ("outdated", "not-installed") else
                     f"{r.asset}: {r.status} ({r.newest})" for r in rows if r.outdated]
            notify("\n".join([summary(rows), *lines[:20], "(the full table is on the console)"]))
        return rows
    from Qt import QtWidgets

    if QtWidgets.QApplication.instance() is None:
        _apps.append(QtWidgets.QApplication([]))
    _windows[:] = [w for w in _windows if w.isVisible()]
    for window in _windows:
        if window.runtime is runtime:
            window.refresh(refetch=False)
            window.raise_()
            window.activateWindow()
            return window
    try:
        parent = runtime.host.main_window()
    except Exception:
        parent = None
    window = InventoryWindow(runtime, parent)
    window.show()
    _windows.append(window)
    return window


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

    class _Item(QtWidgets.QTableWidgetItem):
        """A cell that sorts by :func:`sort_key` (versions as versions), unknown ones
        (``-``, ``...``) last whichever the order."""

        def __lt__(self, other: Any) -> bool:
            mine, theirs = self.data(sort_role), other.data(sort_role)
            if mine is None or theirs is None:
                return bool(super().__lt__(other))
            (mine_unknown, a), (theirs_unknown, b) = mine, theirs
            if mine_unknown or theirs_unknown:
                if mine_unknown == theirs_unknown:
                    return bool(a < b)
                table = self.tableWidget()
                descending = table is not None and (
                    table.horizontalHeader().sortIndicatorOrder() == sort_order.DescendingOrder
                )
                return bool(mine_unknown if descending else theirs_unknown)
            return bool(a < b)

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
            self.table.setEditTriggers(triggers.NoEditTriggers)
            self.table.verticalHeader().setVisible(False)
            self.table.horizontalHeader().setStretchLastSection(True)
            self.table.horizontalHeader().setResizeContentsPrecision(200)
            self.table.horizontalHeader().setSortIndicator(-1, sort_order.AscendingOrder)
            self.table.itemSelectionChanged.connect(self._selection_changed)
            self.table.itemDoubleClicked.connect(lambda _item: self.select_in_scene())
            layout.addWidget(self.table)

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
            self.refresh_button = QtWidgets.QPushButton("Refresh")
            self.refresh_button.setToolTip("List the containers again and ask the repos again")
            self.refresh_button.clicked.connect(lambda: self.refresh(refetch=True))
            close = QtWidgets.QPushButton("Close")
            close.clicked.connect(self.close)
            for button in (self.update_selected_button, self.update_all_button, self.select_button):
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
                "(installing it in the workspace first) and runs their setup code; hover a "
                "status for what to do."
            )
            self._timer = QtCore.QTimer(self)
            self._timer.setInterval(100)
            self._timer.timeout.connect(self._poll)
            self.refresh(refetch=False)

        # -- data ----------------------------------------------------------------
        def refresh(self, refetch: bool = True) -> None:
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

        def _recompute(self) -> None:
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
                    if j == 0:
                        item.setData(user_role, row.node)
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
            QtWidgets.QApplication.setOverrideCursor(cursor_shape.WaitCursor)
            QtWidgets.QApplication.processEvents()
            try:
                result = update_containers(self.runtime, containers, self.versions)
            except SetpieceError as exc:  # nothing moved: say why, on one line
                log.error("setpiece inventory: %s", exc)
                self.refresh(refetch=False)
                self._say(str(exc), error=True)
                return
            except Exception as exc:  # an adapter failed: say so, keep the window usable
                log.exception("setpiece inventory: update failed")
                self.refresh(refetch=False)
                self._say(f"update failed: {type(exc).__name__}: {exc} (see the log)", error=True)
                return
            finally:
                QtWidgets.QApplication.restoreOverrideCursor()
            self.refresh(refetch=False)
            self._say(result.message(), error=bool(getattr(result.report, "failed", None)))

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
    return _window_class()(runtime, parent, versions)


__all__ = [
    "HEADERS",
    "InventoryWindow",
    "RepoVersions",
    "Row",
    "UpdateResult",
    "collect",
    "format_table",
    "one_line",
    "qt_available",
    "repo_versions",
    "show",
    "sort_key",
    "summary",
    "update_containers",
]
