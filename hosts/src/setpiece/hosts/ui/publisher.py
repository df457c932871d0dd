"""The publisher window: what will be published, a tick per instance and a comment, then
the publish with live progress per plug-in, each failure in full with its log and a
Repair button where the plug-in offers one, and the report afterwards.

:func:`show` is what the ``setpiece`` menu's **Publish** entry runs in an app with a
window; headless or without Qt it publishes at once and prints the report (as before).
The work is :mod:`setpiece.hosts.ui.publisher_model`; Qt is imported only here.
"""

from __future__ import annotations

import logging
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.ui import publisher_model as model
from setpiece.hosts.ui.qtutil import (
    ensure_app,
    enum,
    headless,
    one_line,
    qt_available,
    set_progress,
    show_once,
)

log = logging.getLogger("setpiece.publish")

HEADERS = ("Step", "Stage", "Status", "ms")
COLORS = {"success": "#2e7d32", "failed": "#c62828", "not-run": "#9e9e9e",
          "running": "#1565c0", "skipped": "#9e9e9e"}


def show(runtime: Any) -> Any:
    """The publisher window; headless or without Qt, publish now and print the report."""
    if headless(runtime.host) or not qt_available():
        from setpiece.hosts.publish import run_in_app

        ws = None
        try:
            ws = runtime.workspace
        except SetpieceError:
            ws = None
        return run_in_app(runtime.host, ws)
    return show_once("publisher", runtime, lambda parent: PublisherWindow(runtime, parent))


def _window_class() -> Any:
    from Qt import QtCore, QtGui, QtWidgets

    qt: Any = QtCore.Qt
    user_role = enum(qt, "ItemDataRole", "UserRole")
    checked, unchecked = enum(qt, "CheckState", "Checked"), enum(qt, "CheckState", "Unchecked")
    checkable = enum(qt, "ItemFlag", "ItemIsUserCheckable")
    cursor = enum(qt, "CursorShape", "WaitCursor")

    class _PublisherWindow(QtWidgets.QDialog):
        def __init__(self, runtime: Any, parent: Any = None) -> None:
            super().__init__(parent)
            self.runtime = runtime
            self.plan = model.Plan()
            self.report: Any = None
            self.setWindowTitle("setpiece publish")
            self.resize(900, 620)
            layout = QtWidgets.QVBoxLayout(self)
            self.headline = QtWidgets.QLabel()
            self.headline.setStyleSheet("font-weight: bold; font-size: 14px")
            self.headline.setWordWrap(True)
            layout.addWidget(self.headline)

            split = QtWidgets.QSplitter()
            left = QtWidgets.QWidget()
            llayout = QtWidgets.QVBoxLayout(left)
            llayout.setContentsMargins(0, 0, 0, 0)
            llayout.addWidget(QtWidgets.QLabel("Publish these:"))
            self.instances: Any = QtWidgets.QListWidget()
            self.instances.setToolTip("Untick what should not be published this time")
            llayout.addWidget(self.instances, 1)
            llayout.addWidget(QtWidgets.QLabel("Comment (what changed):"))
            self.comment = QtWidgets.QPlainTextEdit()
            self.comment.setPlaceholderText("e.g. longer legs, new wood texture")
            self.comment.setMaximumHeight(80)
            llayout.addWidget(self.comment)
            split.addWidget(left)

            right = QtWidgets.QWidget()
            rlayout = QtWidgets.QVBoxLayout(right)
            rlayout.setContentsMargins(0, 0, 0, 0)
            self.steps: Any = QtWidgets.QTreeWidget()
            self.steps.setHeaderLabels(list(HEADERS))
            self.steps.setRootIsDecorated(False)
            self.steps.currentItemChanged.connect(lambda *_: self._step_chosen())
            rlayout.addWidget(self.steps, 2)
            self.show_housekeeping = QtWidgets.QCheckBox(
                "Show housekeeping collectors (date, user, folder)")
            self.show_housekeeping.toggled.connect(self._apply_housekeeping)
            rlayout.addWidget(self.show_housekeeping)
            self.details = QtWidgets.QPlainTextEdit()
            self.details.setReadOnly(True)
            self.details.setPlaceholderText("Choose a step to read what it did")
            rlayout.addWidget(self.details, 1)
            split.addWidget(right)
            split.setSizes([300, 600])
            layout.addWidget(split, 1)

            self.progress = QtWidgets.QProgressBar()
            self.progress.setVisible(False)
            layout.addWidget(self.progress)
            self.summary = QtWidgets.QLabel()
            self.summary.setWordWrap(True)
            self.summary.setTextInteractionFlags(
                enum(qt, "TextInteractionFlag", "TextSelectableByMouse"))
            layout.addWidget(self.summary)
            buttons = QtWidgets.QHBoxLayout()
            self.publish_button = QtWidgets.QPushButton("Publish")
            self.publish_button.setDefault(True)
            self.publish_button.clicked.connect(self.publish)
            self.repair_button = QtWidgets.QPushButton("Repair")
            self.repair_button.setToolTip("Let this step fix the scene, then publish again")
            self.repair_button.clicked.connect(self.repair)
            self.finish_button = QtWidgets.QPushButton("Finish publishing")
            self.finish_button.setToolTip(
                "The files were exported but the publish stopped: finish it from them")
            self.finish_button.clicked.connect(self.finish)
            self.refresh_button = QtWidgets.QPushButton("Refresh")
            self.refresh_button.setToolTip("Look at the scene again")
            self.refresh_button.clicked.connect(self.refresh)
            close = QtWidgets.QPushButton("Close")
            close.clicked.connect(self.close)
            for b in (self.publish_button, self.repair_button, self.finish_button):
                buttons.addWidget(b)
            buttons.addStretch(1)
            buttons.addWidget(self.refresh_button)
            buttons.addWidget(close)
            layout.addLayout(buttons)
            self.refresh()

        # -- before ------------------------------------------------------------------
        def refresh(self) -> None:
            """Collect again: the instances and the steps, nothing published."""
            self.report = None
            try:
                self.plan = model.plan(self.runtime.host, self._ws())
            except SetpieceError as exc:
                self.plan = model.Plan(errors=[str(exc)])
            self.headline.setText(f"Publish {self.plan.headline()}")
            self.instances.clear()
            for inst in self.plan.instances:
                what = f"{inst.name}  ({inst.family}" + (
                    f", {inst.objects} object(s))" if inst.objects is not None else ")")
                item = QtWidgets.QListWidgetItem(what)
                item.setData(user_role, inst.name)
                item.setFlags(item.flags() | checkable)
                item.setCheckState(checked)
                self.instances.addItem(item)
            self._fill_steps()
            if self.plan.errors:
                self._say("Before publishing: " + "\n".join(self.plan.errors), error=True)
            else:
                self._say(f"{len(self.plan.instances)} thing(s) to publish. Untick what should "
                          "wait, say what changed, then Publish.")
            self._buttons()

        def _ws(self) -> Any:
            try:
                return self.runtime.workspace
            except SetpieceError:
                return None

        def _fill_steps(self) -> None:
            self.steps.clear()
            for p in self.plan.plugins:
                item = QtWidgets.QTreeWidgetItem([p.label, p.stage, "", ""])
                item.setData(0, user_role, p.name)
                item.setToolTip(0, p.name)
                self.steps.addTopLevelItem(item)
            self.steps.resizeColumnToContents(0)
            self._apply_housekeeping()

        def _apply_housekeeping(self) -> None:
            show = self.show_housekeeping.isChecked()
            for item, p in self._step_items():
                item.setHidden(p.housekeeping and not show)

        def _step_items(self) -> list[tuple[Any, model.PluginInfo]]:
            by_name = {p.name: p for p in self.plan.plugins}
            out = []
            for i in range(self.steps.topLevelItemCount()):
                item = self.steps.topLevelItem(i)
                p = by_name.get(item.data(0, user_role))
                if p is not None:
                    out.append((item, p))
            return out

        def visible_steps(self) -> list[str]:
            return [item.text(0) for item, _ in self._step_items() if not item.isHidden()]

        def turned_off(self) -> list[str]:
            return [self.instances.item(i).data(user_role)
                    for i in range(self.instances.count())
                    if self.instances.item(i).checkState() == unchecked]

        def set_instance(self, name: str, on: bool) -> None:
            for i in range(self.instances.count()):
                item = self.instances.item(i)
                if item.data(user_role) == name:
                    item.setCheckState(checked if on else unchecked)

        # -- the run -----------------------------------------------------------------
        def publish(self) -> None:
            off = self.turned_off()
            if self.plan.instances and len(off) == len(self.plan.instances):
                self._say("Every instance is unticked: tick at least one to publish.", error=True)
                return
            for item, _p in self._step_items():
                self._set_status(item, "", "")
            self._say("publishing...")
            done: set[str] = set()
            total = max(1, len(self.plan.plugins))

            def progress(result: Any) -> None:
                done.add(result.plugin)
                for item, p in self._step_items():
                    if p.name == result.plugin and item.text(2) != "failed":
                        self._set_status(item, result.status, f"{result.duration_ms:.0f}")
                set_progress(self.progress, len(done), total, result.label)

            QtWidgets.QApplication.setOverrideCursor(cursor)
            try:
                self.report = model.publish(self.runtime.host, self._ws(),
                                            comment=self.comment.toPlainText(), off=off,
                                            progress=progress)
            finally:
                QtWidgets.QApplication.restoreOverrideCursor()
                self.progress.setVisible(False)
            self.show_report(self.report)

        def show_report(self, report: Any) -> None:
            """The report in the steps list: each step's final status; the first failure
            chosen, its full message and log below."""
            self.report = report
            statuses: dict[str, str] = {}
            ms: dict[str, float] = {}
            for it in report.items:
                if statuses.get(it.plugin) != "failed":
                    statuses[it.plugin] = it.status
                ms[it.plugin] = ms.get(it.plugin, 0.0) + it.duration_ms
            first_failed = None
            for item, p in self._step_items():
                status = statuses.get(p.name, "skipped")
                self._set_status(item, status, f"{ms[p.name]:.0f}" if p.name in ms else "")
                if status == "failed" and first_failed is None:
                    first_failed = item
            if report.success:
                said = report.summary()
                self._say(said[:1].upper() + said[1:] + ".")
            else:
                self._say("Not published. " + "\n".join(
                    [*report.load_errors, report.summary()] if report.load_errors
                    else [report.summary()]), error=True)
            if first_failed is not None:
                self.steps.setCurrentItem(first_failed)
            self._buttons()

        def _set_status(self, item: Any, status: str, ms: str) -> None:
            item.setText(2, status)
            item.setText(3, ms)
            item.setForeground(2, QtGui.QBrush(QtGui.QColor(COLORS.get(status, "#000000"))))

        def _step_chosen(self) -> None:
            item = self.steps.currentItem()
            name = item.data(0, user_role) if item is not None else None
            if name is None or self.report is None:
                self.details.setPlainText("")
            else:
                self.details.setPlainText(model.details(self.report, name) or "did not run")
            self._buttons()

        def _chosen_failure(self) -> str | None:
            item = self.steps.currentItem()
            if item is None or self.report is None:
                return None
            name = item.data(0, user_role)
            failed = [i for i in self.report.failed if i.plugin == name and i.actions]
            return str(name) if failed else None

        def _buttons(self) -> None:
            self.repair_button.setEnabled(self._chosen_failure() is not None)
            self.finish_button.setVisible(bool(self.report is not None and self.report.resume))
            self.publish_button.setEnabled(bool(self.plan.instances) or not self.plan.errors)

        def repair(self) -> None:
            name = self._chosen_failure()
            if name is None:
                return
            try:
                done = model.repair(self.report, name)
            except SetpieceError as exc:
                self._say(str(exc), error=True)
                return
            self._say(f"Repaired: {', '.join(done)}. Publish again.")
            self.repair_button.setEnabled(False)

        def finish(self) -> None:
            if self.report is None:
                return
            try:
                self.show_report(model.finish(self.report, self._ws()))
            except SetpieceError as exc:
                self._say(str(exc), error=True)

        def _say(self, text: str, error: bool = False) -> None:
            lines = [one_line(line, 1000) for line in str(text).splitlines() if line.strip()]
            self.summary.setStyleSheet("color: #c62828" if error else "color: #2e7d32"
                                       if self.report is not None else "")
            self.summary.setText("\n".join(lines))

    return _PublisherWindow


def PublisherWindow(runtime: Any, parent: Any = None) -> Any:
    ensure_app()
    return _window_class()(runtime, parent)
