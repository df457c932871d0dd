"""Showing a publish report to the artist: a Qt.py window where Qt is available, the
console (and the host's own notification) otherwise. Qt is imported only here, inside
:func:`show_report`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setpiece.hosts.publish.report import PublishReport

_windows: list[Any] = []  # keep windows alive (Qt deletes unreferenced ones)


def qt_available() -> bool:
    if os.environ.get("SETPIECE_NO_QT"):
        return False
    try:
        from Qt import QtWidgets  # noqa: F401
    except Exception:
        return False
    return True


def show_report(report: PublishReport, parent: Any = None, *, on_repair: Any = None) -> Any:
    """Show ``report``; returns the Qt window, or None when it went to the console."""
    if not qt_available():
        print(report.format_text(), file=sys.stderr)
        return None
    from Qt import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([])
    window = ReportWindow(report, parent, on_repair=on_repair)
    window.show()
    _windows.append(window)
    return window


def _window_class() -> Any:
    from Qt import QtGui, QtWidgets

    class _ReportWindow(QtWidgets.QDialog):
        def __init__(self, report: PublishReport, parent: Any = None, on_repair: Any = None):
            super().__init__(parent)
            self.report = report
            self.setWindowTitle(f"setpiece publish: {report.asset or '?'} {report.version or ''}")
            self.resize(760, 520)
            layout = QtWidgets.QVBoxLayout(self)
            self.summary = QtWidgets.QLabel(("OK: " if report.success else "FAILED: ") + report.summary())
            self.summary.setWordWrap(True)
            self.summary.setStyleSheet(
                "font-weight: bold; color: %s" % ("#2e7d32" if report.success else "#c62828")
            )
            layout.addWidget(self.summary)
            self.tree = QtWidgets.QTreeWidget()
            self.tree.setHeaderLabels(["step", "instance", "status", "ms"])
            colors = {"success": "#2e7d32", "failed": "#c62828", "not-run": "#9e9e9e"}
            for item in report.items:
                row = QtWidgets.QTreeWidgetItem(
                    [item.label, item.instance or "", item.status, f"{item.duration_ms:.0f}"]
                )
                row.setForeground(2, QtGui.QBrush(QtGui.QColor(colors.get(item.status, "#000"))))
                if item.error:
                    row.addChild(QtWidgets.QTreeWidgetItem([item.error]))
                    if item.actions:
                        row.addChild(QtWidgets.QTreeWidgetItem(["fix: " + ", ".join(item.actions)]))
                for msg in item.messages:
                    row.addChild(QtWidgets.QTreeWidgetItem([f"{msg.level.lower()}: {msg.message}"]))
                self.tree.addTopLevelItem(row)
                if item.status == "failed":
                    row.setExpanded(True)
            mode: Any = getattr(QtWidgets.QHeaderView, "ResizeMode", QtWidgets.QHeaderView)
            self.tree.header().setSectionResizeMode(0, mode.Stretch)
            layout.addWidget(self.tree)
            self.details = QtWidgets.QLabel(
                "\n".join(x for x in (
                    f"stopped before order {report.stopped_before:g}: {report.stop_reason}"
                    if report.stopped_before is not None else "",
                    f"to finish it: {report.resume}" if report.resume else "",
                ) if x)
            )
            layout.addWidget(self.details)
            buttons = QtWidgets.QHBoxLayout()
            self.repair_button = QtWidgets.QPushButton("Repair and publish again")
            self.repair_button.setVisible(bool(on_repair) and any(i.actions for i in report.failed))
            if on_repair:
                self.repair_button.clicked.connect(lambda: (self.close(), on_repair()))
            close = QtWidgets.QPushButton("Close")
            close.clicked.connect(self.close)
            buttons.addStretch(1)
            buttons.addWidget(self.repair_button)
            buttons.addWidget(close)
            layout.addLayout(buttons)

    return _ReportWindow


def ReportWindow(report: PublishReport, parent: Any = None, on_repair: Any = None) -> Any:
    return _window_class()(report, parent, on_repair)
