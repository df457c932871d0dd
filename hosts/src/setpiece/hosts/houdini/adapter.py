"""``HoudiniHost``: setpiece inside SideFX Houdini 20+ (Solaris / LOPs).

Containers: one ``reference`` LOP per container in ``/stage``, each followed by a
``xform`` (Transform) LOP holding its layout when the scene places it, chained in load
order (each takes the previous one as input; the last one carries the display flag)::

    /stage/Chair          reference LOP: filepath1 = Chair's interface layer, primpath1 = /World/Chair
    /stage/Chair_layout   Transform LOP: primpattern = /World/Chair, the scene's placement
    /stage/Table          reference LOP, input = Chair_layout (no layout: no Transform LOP)

Each container node carries the record as spare string parameters in a ``setpiece``
folder (``setpiece_name``, ``setpiece_version``, ``setpiece_identifier``,
``setpiece_requirement``, ``setpiece_kind``, ``setpiece_prim_path``, ``setpiece_layer``),
added through ``hou.ParmTemplateGroup`` / ``hou.StringParmTemplate``. ``update`` changes
``filepath1`` and presses ``reload``; the node keeps its name, its place in the network
and whatever the artist wired after it (its ``_layout`` Transform LOP, which the artist
may edit, and any LOP after that), so those survive an update: the layout is applied
once, at load. ``remove`` takes the container's ``_layout`` LOP with it.

``hou`` is imported inside the methods, never at import time; tests put a fake ``hou``
in ``sys.modules``. Signatures checked against ``types-houdini`` (hou-stubs).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

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
from setpiece.hosts.protocol import Container, HostBase, MenuCommand, SceneLoad

if TYPE_CHECKING:
    import hou

log = logging.getLogger("setpiece.hosts.houdini")

STAGE = "/stage"
#: User data on a container's layout Transform LOP: the name of its reference LOP.
LAYOUT_OF = "setpiece_layout_of"
FOLDER_NAME = "setpiece_folder"
FOLDER_LABEL = "setpiece"

#: The commands of the ``setpiece`` main menu (MainMenuCommon.xml reads them through
#: ``setpiece.hosts.houdini.menu_items`` / ``run_menu_item``). One Houdini per process.
MENU: list[MenuCommand] = []


class HoudiniHost(HostBase):
    """The Houdini adapter (see module docstring)."""

    name = "houdini"

    def __init__(self) -> None:
        self._scene_callbacks: list[Callable[[Any], None]] = []

    # -- identity ----------------------------------------------------------------------
    def app_version(self) -> str:
        import hou

        return hou.applicationVersionString()

    def is_headless(self) -> bool:
        import hou

        return not hou.isUIAvailable()

    # -- scene files -------------------------------------------------------------------
    def new_scene(self) -> None:
        import hou

        hou.hipFile.clear(suppress_save_prompt=True)

    def open_scene(self, path: str) -> None:
        import hou

        if not os.path.isfile(path):
            raise SetpieceError(f"houdini: cannot open {path}: no such file")
        try:
            hou.hipFile.load(path, suppress_save_prompt=True, ignore_load_warnings=True)
        except hou.OperationFailed as exc:
            raise SetpieceError(f"houdini: cannot open {path}: {exc}")

    def save_scene(self, path: str | None = None) -> str:
        import hou

        if path is None and hou.hipFile.isNewFile():
            raise SetpieceError("houdini: the scene was never saved; give a path to save it to")
        if path is not None:
            if Path(path).suffix.lower() not in (".hip", ".hiplc", ".hipnc"):
                raise SetpieceError(f"houdini: cannot save {path}: use a .hip, .hiplc or .hipnc file name")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            hou.hipFile.save(path)
        except hou.OperationFailed as exc:
            raise SetpieceError(f"houdini: cannot save {path or hou.hipFile.path()}: {exc}")
        return hou.hipFile.path()

    def current_scene(self) -> str | None:
        import hou

        return None if hou.hipFile.isNewFile() else hou.hipFile.path()

    # -- containers --------------------------------------------------------------------
    def load(self, scene: SceneLoad) -> list[Container]:
        import hou

        stage = self._stage()
        from setpiece.usd.containers import read_containers

        records = list(scene.containers) or read_containers(scene.root_layer)
        layout = SceneLayout(scene.root_layer)
        previous = cast("hou.LopNetwork", stage).displayNode()
        loaded: list[Container] = []
        for record in records:
            try:
                node = cast("hou.LopNode", stage.createNode("reference", node_name(record)))
            except hou.OperationFailed as exc:
                raise SetpieceError(f"houdini: cannot create a reference LOP for {record.asset}: {exc}")
            if previous is not None:
                node.setInput(0, previous)
            path = layer_path(record, scene.root_layer)
            _set_file_reference(node, path, record.prim_path)
            stored = with_loaded_layer(record, path)
            _write_metadata(node, stored)
            node.moveToGoodPosition()
            tail = _layout_node(stage, node, record, layout, path) or node
            tail.setDisplayFlag(True)
            previous = tail
            loaded.append(Container(node.path(), stored))
        return loaded

    def ls(self) -> list[Container]:
        import hou

        stage = hou.node(STAGE)
        if stage is None:
            return []
        found: list[Container] = []
        for child in stage.children():
            node = cast("hou.OpNode", child)
            if node.parm(MARKER) is None:
                continue
            record = record_from_attrs(_reader(node))
            if record is not None:
                found.append(Container(node.path(), record))
        return found

    def update(self, container: Container, record: ContainerRecord) -> Container:
        import hou

        node = self._existing(container)
        try:
            _parm(node, "filepath1").set(layer_path(record))
            reload = node.parm("reload")
            if reload is not None:
                reload.pressButton()
        except hou.OperationFailed as exc:
            raise SetpieceError(f"houdini: cannot update {container.node}: {exc}")
        _write_metadata(node, record)
        return Container(node.path(), record)

    def remove(self, container: Container) -> None:
        node = self._existing(container)
        # the container's layout Transform LOP goes with it (it transforms its prim only)
        for downstream in node.outputs():
            if downstream.userData(LAYOUT_OF) == node.name():
                _unplug(downstream)
        _unplug(node)

    # -- export ------------------------------------------------------------------------
    def export_usd(self, path: str, *, selection: bool = False) -> str:
        import hou

        stage = self._stage()
        if selection:
            chosen = [n for n in hou.selectedNodes() if (p := n.parent()) is not None and p.path() == STAGE]
            if not chosen:
                raise SetpieceError(
                    "houdini: no LOP node is selected in /stage to export; select one or export the scene"
                )
            source: hou.Node | None = chosen[-1]
        else:
            source = cast("hou.LopNetwork", stage).displayNode()
            if source is None:
                raise SetpieceError("houdini: /stage is empty; load a scene before exporting it")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        rop = cast("hou.LopNode", stage.createNode("usd_rop", "setpiece_export"))
        try:
            rop.setInput(0, source)
            _parm(rop, "lopoutput").set(path)
            _parm(rop, "execute").pressButton()
        except hou.OperationFailed as exc:
            raise SetpieceError(f"houdini: USD export to {path} failed: {exc}")
        finally:
            rop.destroy()
        if not os.path.isfile(path):
            raise SetpieceError(f"houdini: the USD ROP wrote nothing to {path}; check the node's errors")
        return path

    # -- publishing (setpiece.hosts.publish; plugins in setpiece.hosts.houdini.publish) --
    def publish_plugins(self) -> list[Any]:
        """Houdini's pyblish plugins: collect flagged LOPs, check cooking, default prim, units."""
        from setpiece.hosts.houdini.publish import PLUGINS

        return list(PLUGINS)

    def publish_export(self, instance: Any, path: str) -> str:
        """Export one publish instance: select its LOP, ``export_usd(selection=True)``, then
        give the artist's selection back."""
        import hou

        from setpiece.hosts.houdini.publish import publish_node

        node = publish_node(instance)
        before = list(hou.selectedNodes())
        try:
            self.select([node.path()])
            return self.export_usd(path, selection=True)
        finally:
            hou.clearAllSelected()
            for other in before:
                other.setSelected(True)

    def save_copy(self, path: str) -> str:
        """Save the .hip (``hou.hipFile.save``) and copy it to ``path``; the artist keeps
        working on their own file."""
        import hou

        if hou.hipFile.isNewFile():
            raise SetpieceError(
                "houdini: the scene was never saved; save it under outputs/<Asset>/work/ first"
            )
        try:
            hou.hipFile.save()
        except hou.OperationFailed as exc:
            raise SetpieceError(f"houdini: cannot save {hou.hipFile.path()}: {exc}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(hou.hipFile.path(), path)
        return path

    # -- integration -------------------------------------------------------------------
    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        """Houdini's main menu is XML (``startup/setpiece/MainMenuCommon.xml``); its
        ``setpiece`` submenu is a dynamic strip that lists these commands when opened."""
        MENU[:] = list(commands)

    def on_scene_opened(self, callback: Callable[[], None]) -> None:
        import hou

        after_load = hou.hipFileEventType.AfterLoad

        def _on_event(event_type: Any) -> None:
            if event_type == after_load:
                callback()

        hou.hipFile.addEventCallback(_on_event)
        self._scene_callbacks.append(_on_event)

    def remove_callbacks(self) -> None:
        import hou

        while self._scene_callbacks:
            hou.hipFile.removeEventCallback(self._scene_callbacks.pop())

    def defer(self, fn: Callable[[], None]) -> None:
        if self.is_headless():
            fn()
            return
        import hdefereval  # Houdini's own module (not in the stubs)

        hdefereval.executeDeferred(fn)

    def main_window(self) -> Any | None:
        import hou

        if not hou.isUIAvailable():
            return None
        return hou.qt.mainWindow()

    # -- optional hooks the in-app runtime uses (setpiece.hosts.runtime) ----------------
    def get_scene_data(self, key: str) -> str | None:
        """A value stored in the .hip (user data on the root node ``/``), or None."""
        import hou

        root = hou.node("/")
        return None if root is None else root.userData(key)

    def set_scene_data(self, key: str, value: str) -> None:
        import hou

        root = hou.node("/")
        if root is None:
            raise SetpieceError("houdini: the scene has no root node")
        root.setUserData(key, str(value))

    def get_container_data(self, container: Container, key: str) -> Any:
        """A JSON value stored on the container node (its user data ``key``)."""
        text = self._existing(container).userData(key)
        return json.loads(text) if text else None

    def set_container_data(self, container: Container, key: str, value: Any) -> None:
        self._existing(container).setUserData(key, json.dumps(value, sort_keys=True))

    def notify(self, message: str) -> None:
        """Tell the artist: a message box in the UI, one line on stderr in hython."""
        import hou

        if not hou.isUIAvailable():
            print(f"setpiece: {message}", file=sys.stderr)
            return
        hou.ui.displayMessage(message, title="setpiece")

    def ask(self, message: str, on_yes: Callable[[], None], label: str = "Update") -> bool:
        """Offer ``on_yes`` in a message box; in hython, False (no one to ask)."""
        import hou

        if not hou.isUIAvailable():
            return False
        choice = hou.ui.displayMessage(
            message, buttons=(label, "Later"), default_choice=0, close_choice=1, title="setpiece"
        )
        if choice == 0:
            on_yes()
        return True

    # -- optional hook of the inventory window (setpiece.hosts.ui.inventory) -----------
    def select(self, nodes: Sequence[str]) -> None:
        """Select these containers' LOPs, replacing the selection (none: clear it)."""
        import hou

        found = {path: hou.node(path) for path in nodes}
        missing = [path for path, node in found.items() if node is None]
        if missing:
            raise SetpieceError(
                f"houdini: {', '.join(missing)} is no longer in the scene; refresh the inventory"
            )
        chosen = [node for node in found.values() if node is not None]
        if not chosen:
            hou.clearAllSelected()
        for index, node in enumerate(chosen):
            node.setSelected(True, clear_all_selected=index == 0)

    # -- helpers -----------------------------------------------------------------------
    def _stage(self) -> hou.Node:
        import hou

        stage = hou.node(STAGE)
        if stage is None:
            raise SetpieceError("houdini: there is no /stage LOP network in this scene; create one (Solaris)")
        return stage

    def _existing(self, container: Container) -> hou.LopNode:
        import hou

        node = hou.node(container.node)
        if node is None:
            raise SetpieceError(
                f"houdini: container {container.node} ({container.asset}) is no longer in the "
                "scene; refresh the inventory"
            )
        return cast("hou.LopNode", node)


def menu_items() -> list[str]:
    """For ``scriptMenuStripDynamic``: ``[token, label, token, label, ...]``."""
    items: list[str] = []
    group: str | None = None
    for index, command in enumerate(MENU):
        if group is not None and command.group != group:
            items += ["_separator_", ""]
        group = command.group
        items += [str(index), command.label]
    return items


def run_menu_item(token: str) -> None:
    """Run the command chosen in the ``setpiece`` menu; a SetpieceError is a one-line message."""
    if not token.isdigit() or int(token) >= len(MENU):
        return
    try:
        MENU[int(token)].callback()
    except SetpieceError as exc:
        import hou

        if hou.isUIAvailable():
            hou.ui.displayMessage(f"setpiece: {exc}", severity=hou.severityType.Error)
        else:
            print(f"setpiece: {exc}")


def _unplug(node: hou.OpNode) -> None:
    """Destroy ``node``, wiring what followed it to what fed it (and the display flag)."""
    upstream = node.inputs()[0] if node.inputs() else None
    for downstream in node.outputs():
        for index, source in enumerate(downstream.inputs()):
            if source is not None and source.path() == node.path():
                downstream.setInput(index, upstream)
    if cast("hou.LopNode", node).isDisplayFlagSet() and upstream is not None:
        cast("hou.LopNode", upstream).setDisplayFlag(True)
    node.destroy()


def _set_file_reference(node: hou.LopNode, path: str, prim_path: str) -> None:
    """Reference LOP 2.0 (Houdini 19.5+): one file entry, set explicitly. Its ``primpath``
    parm is the multi-input's prim path, not the file's: the file lands at ``primpath1``
    (SideFX reference.html; see tests/hosts/fakes/hou.py)."""
    count = node.parm("num_files")
    if count is None:
        raise SetpieceError(
            f"houdini: {node.path()} is not a Reference LOP 2.0 (no num_files): setpiece needs "
            "Houdini 19.5 or later"
        )
    count.set(1)
    _parm(node, "filepath1").set(path)
    _parm(node, "reftype1").set("file")
    if prim_path:
        _parm(node, "primpath1").set(prim_path)


def _layout_node(
    stage: hou.Node, reference: hou.LopNode, record: ContainerRecord, layout: SceneLayout, layer: str
) -> hou.LopNode | None:
    """A Transform LOP after ``reference`` that puts its prim where the scene's layout does.

    The reference LOP creates ``record.prim_path`` from the asset's interface layer, with
    the transform that layer carries on its default prim. The Transform LOP sets the
    prim's local transform to the container's local-to-world matrix in the scene
    (``Apply Transform in World Space`` off, ``Set Absolute Transform`` on: its op
    replaces the prim's ``xformOpOrder``, as the layout's stronger opinion does in the
    scene; the parents the reference LOP creates carry no transform). Values are in the
    scene's units and axes: Houdini composes USD without converting units, like opening
    the root layer itself. None when the prim already lands there (no layout).
    """
    import hou

    relative = layout.placement(record.prim_path, layer)
    world = layout.world_matrix(record.prim_path)
    if relative is None or world is None or is_identity(relative):
        return None
    values = decompose(world)
    if values.has_shear():
        log.warning(
            "setpiece: the layout of %s has shear %s; the Transform LOP gets its translate, "
            "rotate and scale only",
            record.prim_path,
            values.shear,
        )
    try:
        node = cast("hou.LopNode", stage.createNode("xform", f"{reference.name()}_layout"))
        node.setInput(0, reference)
        node.setParms(
            {
                "primpattern": record.prim_path,
                "xforminworldspace": 0,
                "setabsolutexform": 1,
                **dict(zip(("tx", "ty", "tz"), values.translate, strict=True)),
                **dict(zip(("rx", "ry", "rz"), values.rotate, strict=True)),
                **dict(zip(("sx", "sy", "sz"), values.scale, strict=True)),
            }
        )
    except hou.OperationFailed as exc:
        raise SetpieceError(
            f"houdini: cannot place {record.asset} at its layout with a Transform LOP: {exc}"
        )
    node.setUserData(LAYOUT_OF, reference.name())
    node.moveToGoodPosition()
    return node


def _parm(node: hou.OpNode, name: str) -> hou.Parm:
    parm = node.parm(name)
    if parm is None:
        raise SetpieceError(
            f"houdini: {node.path()} ({node.type().name()}) has no parameter {name!r}; "
            "this Houdini version is not supported"
        )
    return parm


def _write_metadata(node: hou.OpNode, record: ContainerRecord) -> None:
    import hou

    values = record_to_attrs(record)
    group = node.parmTemplateGroup()
    if group.find(MARKER) is None:
        folder = hou.FolderParmTemplate(
            FOLDER_NAME,
            FOLDER_LABEL,
            parm_templates=[
                hou.StringParmTemplate(PREFIX + key, key.replace("_", " "), 1) for key in FIELDS
            ],
        )
        group.append(folder)
        node.setParmTemplateGroup(group)
    for name, value in values.items():
        _parm(node, name).set(value)


def _reader(node: hou.OpNode) -> Callable[[str], str | None]:
    def get(name: str) -> str | None:
        parm = node.parm(name)
        return None if parm is None else parm.evalAsString()

    return get
