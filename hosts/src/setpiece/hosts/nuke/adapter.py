"""``NukeHost``: setpiece inside Foundry Nuke 15+ (file in / file out for USD).

Nuke gives Python no documented access to a composed USD stage, so a container is the
node that reads one asset's interface layer:

- new 3D system (Nuke 15+): one ``GeoReference`` per container (``file_path`` = the
  asset's interface layer, ``prim_path`` = the container's prim path, ``/World/Chair``),
  chained in load order (each takes the previous one as its input stage, so the last one
  holds the whole set). Not ``GeoImport``: it cannot change prim paths, so an asset would
  land at its own root (``/Chair``) and two copies of one asset would overwrite each
  other (Foundry's GeoImport reference guide, 15.1 to 17.1);
- otherwise (or ``SETPIECE_NUKE_3D=classic``): one ``ReadGeo2`` per container.

The set's layout (the container prims' transforms in the scene root layer) is applied by
one ``GeoTransform`` per placed container, right after its GeoReference
(``<Container>_layout``): its Mask is the container's prim path (knob ``mask_patterns``
in Nuke 17; in 15/16 the name is unverified and ``mask`` is tried), its translate / rotate (order XYZ) / scaling what puts the
asset's default prim where the scene has it (``setpiece.hosts.layout``), its Prim
Transform Order Prepend (outermost, before the asset's own transform). Applied once, at
load; an update keeps it (the artist may have moved it); ``remove`` takes it along.

Each container node carries the record as ``String_Knob``s on a ``setpiece`` tab
(``setpiece_name``, ``setpiece_version``, ``setpiece_identifier``,
``setpiece_requirement``, ``setpiece_kind``, ``setpiece_prim_path``, ``setpiece_layer``).
``update`` sets the file knob (``file_path``; classic: ``file`` and ``reload``); the node
keeps its name and its connections, so transforms wired after it (GeoTransform,
TransformGeo) survive. Export writes the chain's stage with ``GeoExport`` (new 3D system
only; its Format knob ``file_type``, ``abc`` by default from Nuke 17, is set to ``usd``).

Render and terminal sessions (``nuke -x``, ``nuke -t``: no GUI) run ``init.py`` too: there
the runtime never updates containers on open unless ``SETPIECE_UPDATE_ON_OPEN=1``
(:meth:`NukeHost.may_update_on_open`).

``nuke`` is imported inside the methods (typed by ``_nuke_api``), never at import time.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.hosts.layout import SceneLayout, decompose, is_identity
from setpiece.hosts.node_records import (
    FIELDS,
    MARKER,
    PREFIX,
    layer_path,
    node_name,
    record_from_attrs,
    record_to_attrs,
    with_loaded_layer,
)
from setpiece.hosts.nuke._nuke_api import Node, NukeModule, import_nuke
from setpiece.hosts.protocol import Container, HostBase, MenuCommand, SceneLoad

NEW_READER = "GeoReference"
#: the file knob of each reader class (GeoReference: georeference.html; others: ``file``)
FILE_KNOB = {"GeoReference": "file_path", "GeoImport": "file", "ReadGeo2": "file"}
CLASSIC_READER = "ReadGeo2"
EXPORTER = "GeoExport"
LAYOUT_NODE = "GeoTransform"
#: the knob on a GeoTransform naming the container it places
LAYOUT_OF = "setpiece_layout_of"
#: GeoTransform's Mask knob: Nuke 17 (geotransform.html 17.0), then a guess for 15/16
#: (no Foundry page found names it there; ``setpiece selftest nuke`` checks it)
MASK_KNOBS = ("mask_patterns", "mask")
TAB = "setpiece_tab"
MENU_LABEL = "setpiece"


class NukeHost(HostBase):
    """The Nuke adapter (see module docstring)."""

    name = "nuke"

    def __init__(self) -> None:
        self._reader: str | None = None
        self._script_callbacks: list[Callable[[], None]] = []

    # -- identity ----------------------------------------------------------------------
    def app_version(self) -> str:
        return str(import_nuke().NUKE_VERSION_STRING)

    def is_headless(self) -> bool:
        return not bool(import_nuke().env.get("gui", False))

    # -- scene files -------------------------------------------------------------------
    def new_scene(self) -> None:
        # without clearUserKnobs the Root keeps its user knobs: setpiece_asset would stay
        import_nuke().scriptClear(clearUserKnobs=True)

    def open_scene(self, path: str) -> None:
        nuke = import_nuke()
        if not os.path.isfile(path):
            raise SetpieceError(f"nuke: cannot open {path}: no such file")
        nuke.scriptClear(clearUserKnobs=True)
        try:
            nuke.scriptOpen(path)
        except RuntimeError as exc:
            raise SetpieceError(f"nuke: cannot open {path}: {exc}")

    def save_scene(self, path: str | None = None) -> str:
        nuke = import_nuke()
        target = path or self.current_scene()
        if target is None:
            raise SetpieceError("nuke: the script was never saved; give a path to save it to")
        if Path(target).suffix.lower() != ".nk":
            raise SetpieceError(f"nuke: cannot save {target}: use a .nk file name")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        try:
            nuke.scriptSaveAs(target, overwrite=1)
        except RuntimeError as exc:
            raise SetpieceError(f"nuke: cannot save {target}: {exc}")
        return self.current_scene() or target

    def current_scene(self) -> str | None:
        name = import_nuke().root()["name"].value()
        return str(name) if name else None

    # -- containers --------------------------------------------------------------------
    def reader_class(self) -> str:
        """``GeoImport`` (new 3D system) or ``ReadGeo2`` (classic) for this Nuke."""
        if self._reader is None:
            choice = os.environ.get("SETPIECE_NUKE_3D", "").strip().lower()
            if choice == "classic":
                self._reader = CLASSIC_READER
            elif choice == "new" or import_nuke().NUKE_VERSION_MAJOR >= 15:
                self._reader = NEW_READER
            else:
                self._reader = CLASSIC_READER
        return self._reader

    def load(self, scene: SceneLoad) -> list[Container]:
        nuke = import_nuke()
        from setpiece.usd.containers import read_containers

        records = list(scene.containers) or read_containers(scene.root_layer)
        for selected in nuke.selectedNodes():
            selected.setSelected(False)
        previous = self._tail()
        layout = SceneLayout(scene.root_layer)
        loaded: list[Container] = []
        for record in records:
            node = self._create_reader(nuke)
            # createNode selects the new node and wires it to what was selected: undo both
            node.setSelected(False)
            node.setName(node_name(record))
            if node.Class() == NEW_READER:
                node.setInput(0, previous)
                previous = node
            else:
                node.setInput(0, None)
            path = layer_path(record, scene.root_layer)
            node[FILE_KNOB[node.Class()]].setValue(path)
            if node.Class() == NEW_READER and record.prim_path:
                node["prim_path"].setValue(record.prim_path)
                previous = _layout_node(nuke, node, record, layout, path) or node
            stored = with_loaded_layer(record, path)
            _write_metadata(nuke, node, stored)
            loaded.append(Container(node.fullName(), stored))
        return loaded

    def ls(self) -> list[Container]:
        found: list[Container] = []
        for node in import_nuke().allNodes():
            if node.knob(MARKER) is None:
                continue
            record = record_from_attrs(_reader(node))
            if record is not None:
                found.append(Container(node.fullName(), record))
        return found

    def update(self, container: Container, record: ContainerRecord) -> Container:
        nuke = import_nuke()
        node = self._existing(container)
        node[FILE_KNOB.get(node.Class(), "file")].setValue(layer_path(record))
        reload = node.knob("reload")
        if reload is not None:
            reload.execute()
        _write_metadata(nuke, node, record)
        return Container(node.fullName(), record)

    def remove(self, container: Container) -> None:
        nuke = import_nuke()
        node = self._existing(container)
        upstream = node.input(0) if node.inputs() else None
        placed = [d for d in node.dependent(nuke.INPUTS, forceEvaluate=False)
                  if d.knob(LAYOUT_OF) is not None
                  and (d.input(0) or node).fullName() == node.fullName()]
        for layout in placed:  # its GeoTransform goes with it
            _unplug(nuke, layout, upstream)
            nuke.delete(layout)
        _unplug(nuke, node, upstream)
        nuke.delete(node)

    # -- export ------------------------------------------------------------------------
    def export_usd(self, path: str, *, selection: bool = False) -> str:
        nuke = import_nuke()
        if self.reader_class() != NEW_READER:
            raise SetpieceError(
                "nuke: USD export needs the new 3D system (GeoExport, Nuke 15+); unset "
                "SETPIECE_NUKE_3D=classic or export from another host"
            )
        if selection:
            chosen = nuke.selectedNodes()
            if not chosen:
                raise SetpieceError("nuke: nothing is selected to export; select a 3D node or export the script")
            source: Node | None = chosen[0]
        else:
            source = self._tail()
            if source is None:
                raise SetpieceError("nuke: the script has no containers to export; load a scene first")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        frame = int(nuke.root()["first_frame"].value())
        try:
            exporter = nuke.createNode(EXPORTER, inpanel=False)
        except RuntimeError as exc:
            raise SetpieceError(f"nuke: cannot create a {EXPORTER} node: {exc}")
        try:
            exporter.setSelected(False)
            exporter.setInput(0, source)
            exporter["file"].setValue(path.replace("\\", "/"))
            file_type = exporter.knob("file_type")  # Nuke 17+: Format, "abc" by default
            if file_type is not None:
                file_type.setValue("usd")
            nuke.execute(exporter, frame, frame)
        except RuntimeError as exc:
            raise SetpieceError(f"nuke: USD export to {path} failed: {exc}")
        finally:
            nuke.delete(exporter)
        if not os.path.isfile(path):
            raise SetpieceError(f"nuke: {EXPORTER} wrote nothing to {path}; check the node's errors")
        return path

    # -- publishing (setpiece.hosts.publish; plugins in setpiece.hosts.nuke.publish) -----
    def publish_plugins(self) -> list[Any]:
        """Nuke's pyblish plugins: collect marked Write/GeoExport nodes, check and render."""
        from setpiece.hosts.nuke.publish import PLUGINS

        return list(PLUGINS)

    def publish_export(self, instance: Any, path: str) -> str:
        """Export a marked GeoExport's input stage: select that input,
        ``export_usd(selection=True)``, then give the artist's selection back."""
        from setpiece.hosts.nuke.publish import publish_node

        nuke = import_nuke()
        node = publish_node(instance)
        source = node.input(0) if node.inputs() else None
        if source is None:
            raise SetpieceError(
                f"nuke: {node.name()} has no input: connect the 3D nodes to publish to it"
            )
        before = nuke.selectedNodes()
        try:
            self.select([source.fullName()])
            return self.export_usd(path, selection=True)
        finally:
            source.setSelected(False)
            for selected in before:
                selected.setSelected(True)

    def save_copy(self, path: str) -> str:
        """Save the script (``nuke.scriptSave``) and copy it to ``path``; the artist keeps
        working on their own script."""
        current = self.current_scene()
        if current is None:
            raise SetpieceError(
                "nuke: the script was never saved; save it under outputs/<Asset>/work/ first"
            )
        try:
            import_nuke().scriptSave()
        except RuntimeError as exc:
            raise SetpieceError(f"nuke: cannot save {current}: {exc}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(current, path)
        return path

    # -- integration -------------------------------------------------------------------
    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        if self.is_headless():
            return
        bar = import_nuke().menu("Nuke")
        menu = bar.findItem(MENU_LABEL)
        if menu is None:
            menu = bar.addMenu(MENU_LABEL)
        else:
            menu.clearMenu()
        group: str | None = None
        for command in commands:
            if group is not None and command.group != group:
                menu.addSeparator()
            group = command.group
            # "/" in a Nuke menu path makes a submenu: escape it in labels
            menu.addCommand(command.label.replace("/", "\\/"), _menu_callback(command), tooltip=command.tooltip)

    def may_update_on_open(self) -> bool:
        """Never in a render or terminal session (``nuke -x``/``-t``, which run ``init.py``
        too), unless ``SETPIECE_UPDATE_ON_OPEN=1`` asks for it."""
        return not self.is_headless() or os.environ.get("SETPIECE_UPDATE_ON_OPEN") == "1"

    def on_scene_opened(self, callback: Callable[[], None]) -> None:
        import_nuke().addOnScriptLoad(callback)
        self._script_callbacks.append(callback)

    def remove_callbacks(self) -> None:
        nuke = import_nuke()
        while self._script_callbacks:
            nuke.removeOnScriptLoad(self._script_callbacks.pop())

    def defer(self, fn: Callable[[], None]) -> None:
        if self.is_headless():
            fn()
            return
        import_nuke().executeInMainThread(fn)

    def main_window(self) -> Any | None:
        if self.is_headless():
            return None
        try:
            from Qt import QtWidgets
        except ImportError:
            return None
        app = QtWidgets.QApplication.instance()
        if app is None:
            return None
        for widget in QtWidgets.QApplication.topLevelWidgets():
            if isinstance(widget, QtWidgets.QMainWindow) and widget.metaObject().className() == "Foundry::UI::DockMainWindow":
                return widget
        return None

    # -- optional hooks the in-app runtime uses (setpiece.hosts.runtime) ----------------
    def get_scene_data(self, key: str) -> str | None:
        """A value stored in the script (a knob on the Root node), or None."""
        knob = import_nuke().root().knob(key)
        value = None if knob is None else knob.value()
        return str(value) if value else None

    def set_scene_data(self, key: str, value: str) -> None:
        nuke = import_nuke()
        root = nuke.root()
        knob = root.knob(key)
        if knob is None:
            knob = nuke.String_Knob(key, key)
            root.addKnob(knob)
        knob.setValue(str(value))

    def get_container_data(self, container: Container, key: str) -> Any:
        """A JSON value stored on the container node (a String_Knob ``key``)."""
        knob = self._existing(container).knob(key)
        text = None if knob is None else knob.value()
        return json.loads(text) if text else None

    def set_container_data(self, container: Container, key: str, value: Any) -> None:
        nuke = import_nuke()
        node = self._existing(container)
        knob = node.knob(key)
        if knob is None:
            knob = nuke.String_Knob(key, key.replace("_", " "))
            node.addKnob(knob)
        knob.setValue(json.dumps(value, sort_keys=True))

    def notify(self, message: str) -> None:
        """Tell the artist: ``nuke.message`` in the GUI, one line on stderr with ``-t``."""
        if self.is_headless():
            print(f"setpiece: {message}", file=sys.stderr)
            return
        import_nuke().message(message)

    def ask(self, message: str, on_yes: Callable[[], None], label: str = "Update") -> bool:
        """Offer ``on_yes`` with ``nuke.ask``; in terminal mode, False (no one to ask)."""
        if self.is_headless():
            return False
        if import_nuke().ask(message):
            on_yes()
        return True

    # -- optional hook of the inventory window (setpiece.hosts.ui.inventory) -----------
    def select(self, nodes: Sequence[str]) -> None:
        """Select these containers' nodes, replacing the selection (none: clear it)."""
        nuke = import_nuke()
        found = {name: nuke.toNode(name) for name in nodes}
        missing = [name for name, node in found.items() if node is None]
        if missing:
            raise SetpieceError(
                f"nuke: {', '.join(missing)} is no longer in the script; refresh the inventory"
            )
        for selected in nuke.selectedNodes():
            selected.setSelected(False)
        for node in found.values():
            if node is not None:
                node.setSelected(True)

    # -- helpers -----------------------------------------------------------------------
    def _create_reader(self, nuke: NukeModule) -> Node:
        cls = self.reader_class()
        try:
            return nuke.createNode(cls, inpanel=False)
        except RuntimeError as exc:
            if cls != NEW_READER:
                raise SetpieceError(f"nuke: cannot create a {cls} node: {exc}")
        # GeoImport missing (new 3D system not available): fall back to the classic reader
        self._reader = CLASSIC_READER
        try:
            return nuke.createNode(CLASSIC_READER, inpanel=False)
        except RuntimeError as exc:
            raise SetpieceError(f"nuke: cannot create a {NEW_READER} or {CLASSIC_READER} node: {exc}")

    def _tail(self) -> Node | None:
        """The end of the chain of containers and their layout GeoTransforms (the node
        feeding no other of them)."""
        nuke = import_nuke()
        nodes = [n for n in nuke.allNodes(NEW_READER) if n.knob(MARKER) is not None]
        nodes += [n for n in nuke.allNodes(LAYOUT_NODE) if n.knob(LAYOUT_OF) is not None]
        names = {n.fullName() for n in nodes}
        tails = [
            n for n in nodes
            if not any(d.fullName() in names for d in n.dependent(nuke.INPUTS, forceEvaluate=False))
        ]
        return tails[-1] if tails else None

    def _existing(self, container: Container) -> Node:
        node = import_nuke().toNode(container.node)
        if node is None:
            raise SetpieceError(
                f"nuke: container {container.node} ({container.asset}) is no longer in the "
                "script; refresh the inventory"
            )
        return node


def _unplug(nuke: NukeModule, node: Node, upstream: Node | None) -> None:
    """Wire what ``node`` feeds to ``upstream`` instead."""
    for downstream in node.dependent(nuke.INPUTS, forceEvaluate=False):
        for index in range(downstream.inputs()):
            source = downstream.input(index)
            if source is not None and source.fullName() == node.fullName():
                downstream.setInput(index, upstream)


def _layout_node(nuke: NukeModule, reader: Node, record: ContainerRecord, layout: SceneLayout,
                 layer: str) -> Node | None:
    """A GeoTransform after ``reader`` that puts its prim where the scene's layout does
    (see the module docstring); None when the prim lands there already."""
    relative = layout.placement(record.prim_path, layer)
    if relative is None or is_identity(relative):
        return None
    values = decompose(relative)
    if values.has_shear():
        import logging

        logging.getLogger("setpiece.hosts.nuke").warning(
            "setpiece: the layout of %s has shear %s; its GeoTransform gets translate, rotate "
            "and scale only", record.prim_path, values.shear)
    try:
        node = nuke.createNode(LAYOUT_NODE, inpanel=False)
    except RuntimeError as exc:
        raise SetpieceError(f"nuke: cannot place {record.asset} at its layout with a "
                            f"{LAYOUT_NODE} node: {exc}")
    node.setSelected(False)
    node.setName(f"{reader.name()}_layout")
    node.setInput(0, reader)
    mask = next((k for k in (node.knob(n) for n in MASK_KNOBS) if k is not None), None)
    if mask is None:
        raise SetpieceError(f"nuke: {LAYOUT_NODE} has no Mask knob ({' or '.join(MASK_KNOBS)}): "
                            "this Nuke version is not supported; run 'setpiece selftest nuke'")
    mask.setValue(record.prim_path)
    for name, value in (("xform_order", "SRT"), ("rot_order", "XYZ"),
                        ("xform_op_order", "Prepend")):
        knob = node.knob(name)
        if knob is not None:
            knob.setValue(value)
    node["translate"].setValue(list(values.translate))
    node["rotate"].setValue(list(values.rotate))
    node["scaling"].setValue(list(values.scale))
    marker = nuke.String_Knob(LAYOUT_OF, "layout of")
    node.addKnob(marker)
    marker.setValue(reader.name())
    return node


def _write_metadata(nuke: NukeModule, node: Node, record: ContainerRecord) -> None:
    values = record_to_attrs(record)
    if node.knob(TAB) is None:
        node.addKnob(nuke.Tab_Knob(TAB, "setpiece"))
        for key in FIELDS:
            node.addKnob(nuke.String_Knob(PREFIX + key, key.replace("_", " ")))
    for name, value in values.items():
        node[name].setValue(value)


def _reader(node: Node) -> Callable[[str], str | None]:
    def get(name: str) -> str | None:
        knob = node.knob(name)
        return None if knob is None else str(knob.value())

    return get


def _menu_callback(command: MenuCommand) -> Callable[[], None]:
    """A SetpieceError becomes a one-line ``nuke.message`` instead of a traceback."""

    def run() -> None:
        try:
            command.callback()
        except SetpieceError as exc:
            import_nuke().message(f"setpiece: {exc}")

    return run
