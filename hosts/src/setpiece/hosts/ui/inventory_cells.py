"""The inventory table's cells (Qt): versions that sort as versions, and the *Scene*
cell's version dropdown. Imported by the window only (Qt is imported inside
:func:`cell_classes`)."""

from __future__ import annotations

from typing import Any

from setpiece.hosts.ui.inventory_actions import version_choices
from setpiece.hosts.ui.inventory_model import HEADERS

#: the column whose cell is the version dropdown
VERSION_COLUMN = HEADERS.index("Scene")
#: how the dropdown marks a version the row's requirement does not admit
OUTSIDE = " (outside the requirement)"


def cell_classes(sort_role: int) -> tuple[Any, Any]:
    """(the sortable item class, the version delegate class)."""
    from Qt import QtCore, QtWidgets

    qt: Any = QtCore.Qt
    sort_order: Any = getattr(qt, "SortOrder", qt)
    delegate: Any = QtWidgets.QAbstractItemDelegate
    no_hint = getattr(delegate, "EndEditHint", delegate).NoHint

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

    class _VersionDelegate(QtWidgets.QStyledItemDelegate):
        """The *Scene* cell's editor: every published version of the row's asset, the ones
        its requirement does not admit marked; choosing one switches the container."""

        def __init__(self, window: Any) -> None:
            super().__init__(window.table)
            self.window = window

        def createEditor(self, parent: Any, option: Any, index: Any) -> Any:
            row = self.window.row_at(index.row())
            combo = QtWidgets.QComboBox(parent)
            combo.setObjectName("version")
            if row is None:
                return combo
            for version, admitted in version_choices(row.container, self.window.versions):
                combo.addItem(version + ("" if admitted else OUTSIDE), version)
            if combo.findData(row.container.version) < 0:
                combo.addItem(row.container.version, row.container.version)
            combo.setCurrentIndex(combo.findData(row.container.version))

            def chosen(_i: int) -> None:
                self.commitData.emit(combo)
                self.closeEditor.emit(combo, no_hint)

            combo.activated.connect(chosen)
            return combo

        def setEditorData(self, editor: Any, index: Any) -> None:
            pass  # createEditor selected the container's version

        def setModelData(self, editor: Any, model: Any, index: Any) -> None:
            row = self.window.row_at(index.row())
            version = editor.currentData()
            if row is not None and version and version != row.container.version:
                # after the editor closed: the switch refreshes the table under it
                QtCore.QTimer.singleShot(0, lambda: self.window.request_switch(row.node, version))

    return _Item, _VersionDelegate
