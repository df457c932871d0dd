"""``MayaHost``: setpiece inside Autodesk Maya 2024+ (mayaUsd plug-in).

Containers: one ``mayaUsdProxyShape`` per container, under its own transform::

    |Chair                    transform: the container; the artist moves this one
      |ChairShape             mayaUsdProxyShape, filePath = the asset's interface layer

The container transform carries the record as string attributes ``setpiece_name``,
``setpiece_version``, ``setpiece_identifier``, ``setpiece_requirement``,
``setpiece_kind``, ``setpiece_prim_path``, ``setpiece_layer``.

At load the container transform is set from the scene's layout: the container prim's
placement in the composed root layer (``setpiece.hosts.layout.SceneLayout``), converted
to Maya's units and up axis (the proxy shape converts nothing: one stage unit is drawn
as one Maya internal unit, a centimetre). ``update`` re-points the shape's ``filePath``
and rewrites the attributes; the transform (the artist's translate/rotate/scale,
parenting, constraints) is never touched, the layout is not applied again.

Why one proxy per container rather than one per scene: each container is a Maya node
the artist can select, move, hide, delete and that the Outliner shows; updating one
container reloads one small stage, not the whole set.

Maya modules are imported inside the methods (``from maya import cmds``), never at
import time, so this module imports anywhere; tests install fakes in ``sys.modules``.
API references (checked against ``maya-stubs``): ``cmds.createNode``, ``cmds.addAttr``,
``cmds.setAttr(..., type="string")``, ``cmds.xform``, ``cmds.currentUnit``,
``cmds.upAxis``, ``OpenMaya.MDistance.internalUnit``, ``cmds.file``, ``cmds.menu``/``cmds.menuItem``,
``cmds.evalDeferred(fn, lowestPriority=True)``,
``maya.api.OpenMaya.MSceneMessage.addCallback(kAfterOpen, fn)``,
``maya.OpenMayaUI.MQtUtil.mainWindow()``; the mayaUsd plug-in's ``mayaUsdProxyShape``
node (``filePath``, ``time``) and ``mayaUSDExport`` command (Autodesk "USD for Maya"
docs: Import and export USD data in Maya).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.hosts.layout import (
    IDENTITY,
    Matrix,
    SceneLayout,
    conversion,
    decompose,
    is_identity,
    matmul,
)
from setpiece.hosts.node_records import (
    MARKER,
    layer_path,
    node_name,
    record_from_attrs,
    record_to_attrs,
    with_loaded_layer,
)
from setpiece.hosts.protocol import Container, HostBase, MenuCommand, SceneLoad

PLUGIN = "mayaUsdPlugin"
#: ``mayaUSDExport -unit`` values by metres per unit (jobArgs.h v0.31.0)
_EXPORT_UNITS = {0.001: "mm", 0.01: "cm", 1.0: "m", 1000.0: "km", 0.0254: "inch",
                 0.3048: "foot", 0.9144: "yard", 1609.344: "mile"}  # fmt: skip
PROXY_TYPE = "mayaUsdProxyShape"
MENU_NAME = "setpieceMenu"
#: the shelves setpiece makes from tool assets: ``setpiece_<Asset>``
SHELF_PREFIX = "setpiece_"
#: (shelf, label) -> command: what a shelf button runs (its command names it)
SHELF_COMMANDS: dict[tuple[str, str], MenuCommand] = {}


class MayaHost(HostBase):
    """The Maya adapter (see module docstring)."""

    name = "maya"
    #: ``export_usd`` converts to an up axis and units (the UnitsExport capability)
    export_units = True

    def __init__(self) -> None:
        self._callback_ids: list[Any] = []

    # -- identity ----------------------------------------------------------------------
    def app_version(self) -> str:
        from maya import cmds

        return str(cmds.about(version=True))

    def is_headless(self) -> bool:
        from maya import cmds

        return bool(cmds.about(batch=True))

    # -- scene files -------------------------------------------------------------------
    def new_scene(self) -> None:
        from maya import cmds

        cmds.file(newFile=True, force=True)

    def open_scene(self, path: str) -> None:
        from maya import cmds

        if not os.path.isfile(path):
            raise SetpieceError(f"maya: cannot open {path}: no such file")
        try:
            cmds.file(path, open=True, force=True)
        except RuntimeError as exc:
            raise SetpieceError(f"maya: cannot open {path}: {exc}")

    def save_scene(self, path: str | None = None) -> str:
        from maya import cmds

        if path is None:
            path = self.current_scene()
            if path is None:
                raise SetpieceError("maya: the scene was never saved; give a path to save it to")
        ext = Path(path).suffix.lower()
        if ext not in (".ma", ".mb"):
            raise SetpieceError(f"maya: cannot save {path}: use a .ma or .mb file name")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        cmds.file(rename=path)
        cmds.file(save=True, force=True, type="mayaAscii" if ext == ".ma" else "mayaBinary")
        return str(cmds.file(query=True, sceneName=True)) or path

    def current_scene(self) -> str | None:
        from maya import cmds

        name = cmds.file(query=True, sceneName=True)
        return str(name) if name else None

    # -- containers --------------------------------------------------------------------
    def ensure_plugin(self) -> None:
        """Load the mayaUsd plug-in on demand; a one-line error when it is missing."""
        from maya import cmds

        if cmds.pluginInfo(PLUGIN, query=True, loaded=True):
            return
        try:
            cmds.loadPlugin(PLUGIN, quiet=True)
        except RuntimeError:
            raise SetpieceError(
                f"maya: the USD plug-in ({PLUGIN}) could not be loaded; install Autodesk's "
                "'USD for Maya' for this Maya version and check MAYA_PLUG_IN_PATH"
            )

    def load(self, scene: SceneLoad) -> list[Container]:
        from maya import cmds

        self.ensure_plugin()
        from setpiece.usd.containers import read_containers

        records = list(scene.containers) or read_containers(scene.root_layer)
        layout = SceneLayout(scene.root_layer)
        space = _MayaSpace.current()
        loaded: list[Container] = []
        for record in records:
            xform = cmds.createNode("transform", name=node_name(record), skipSelect=True)
            shape = cmds.createNode(
                PROXY_TYPE, name=f"{xform}Shape", parent=xform, skipSelect=True
            )
            path = layer_path(record, scene.root_layer)
            cmds.setAttr(f"{shape}.filePath", path, type="string")
            # shareStage on (mayaUsd's default) edits the stage of the file itself: the
            # artist's edits could be saved into the installed package's layer
            cmds.setAttr(f"{shape}.shareStage", False)  # type: ignore[arg-type]  # stubs: str only
            cmds.connectAttr("time1.outTime", f"{shape}.time")
            _place(xform, layout.placement(record.prim_path, path), layout, space)
            stored = with_loaded_layer(record, path)
            self._write_metadata(xform, stored)
            loaded.append(Container(_long_name(xform), stored))
        return loaded

    def ls(self) -> list[Container]:
        from maya import cmds

        found: list[Container] = []
        for node in cmds.ls(type="transform", long=True) or []:
            if not cmds.attributeQuery(MARKER, node=node, exists=True):
                continue
            record = record_from_attrs(_reader(node))
            if record is not None:
                found.append(Container(node, record))
        return found

    def update(self, container: Container, record: ContainerRecord) -> Container:
        from maya import cmds

        self.ensure_plugin()
        node = self._existing(container)
        shape = self._proxy_shape(node)
        new_path = layer_path(record)
        old_path = cmds.getAttr(f"{shape}.filePath")
        cmds.setAttr(f"{shape}.filePath", new_path, type="string")
        if old_path == new_path:
            # Same file (reinstalled in place): reload the layer from disk. mayaUsd's
            # layer editor command does that with -discardEdits (SdfLayer::Reload).
            layer_editor = getattr(cmds, "mayaUsdLayerEditor", None)
            if layer_editor is not None:
                try:
                    layer_editor(new_path, edit=True, discardEdits=True)
                except RuntimeError:
                    pass  # not open yet: the stage reads the file when it is next drawn
        self._write_metadata(node, record)
        return Container(node, record)

    def remove(self, container: Container) -> None:
        from maya import cmds

        node = self._existing(container)
        cmds.delete(node)

    # -- export ------------------------------------------------------------------------
    def mayausd_version(self) -> tuple[int, ...]:
        """The loaded mayaUsd plug-in's version (``pluginInfo -version``: MAYAUSD_VERSION)."""
        from maya import cmds

        self.ensure_plugin()
        text = str(cmds.pluginInfo(PLUGIN, query=True, version=True))
        return tuple(int(x) for x in text.split(".")[:3] if x.isdigit())

    def export_usd(
        self,
        path: str,
        *,
        selection: bool = False,
        root_prim: str | None = None,
        up_axis: str | None = None,
        meters_per_unit: float | None = None,
    ) -> str:
        """Export with ``mayaUSDExport`` (flags per mayaUsd version: see
        :func:`export_options`)."""
        from maya import cmds

        self.ensure_plugin()
        if selection and not cmds.ls(selection=True):
            raise SetpieceError(
                "maya: nothing is selected to export; select nodes or export the whole scene"
            )
        version = self.mayausd_version()
        options = export_options(
            version, path, selection=selection, root_prim=root_prim,
            up_axis=up_axis, meters_per_unit=meters_per_unit,
        )
        maya_up = str(cmds.upAxis(query=True, axis=True)).upper()
        if version < (0, 31) and not root_prim and up_axis and up_axis.upper() != maya_up:
            raise SetpieceError(
                f"maya: mayaUsd {'.'.join(map(str, version))} writes USD with Maya's up axis "
                f"({maya_up}; mayaUSDExport -upAxis came in mayaUsd 0.31), the workspace "
                f"wants {up_axis.upper()}: install mayaUsd 0.31 or later, or export under "
                "one root prim, which setpiece converts")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # mayaUSDExport is registered by the plug-in, so the stubs cannot know it.
        export: Callable[..., Any] = getattr(cmds, "mayaUSDExport")  # noqa: B009
        try:
            export(**options)
        except (RuntimeError, TypeError) as exc:
            raise SetpieceError(f"maya: USD export to {path} failed: {' '.join(str(exc).split())}")
        if not os.path.isfile(path):
            raise SetpieceError(f"maya: mayaUSDExport wrote nothing to {path}; see the Script Editor")
        if self.mayausd_version() < (0, 31) and root_prim and (
                meters_per_unit is not None or up_axis is not None):
            convert_export(path, root_prim, meters_per_unit, up_axis)
        return path

    # -- publishing (setpiece.hosts.publish; plugins in setpiece.hosts.maya.publish) -----
    def publish_plugins(self) -> list[Any]:
        """Maya's pyblish plugins: collect object sets, check units, meshes and file paths."""
        from setpiece.hosts.maya.publish import PLUGINS

        return list(PLUGINS)

    def publish_export(self, instance: Any, path: str) -> str:
        """Export one publish instance: select its transforms, ``export_usd(selection=True)``,
        then give the artist's selection back."""
        from maya import cmds

        nodes = [n for n in instance.data.get("nodes", []) if cmds.objExists(n)]
        if not nodes:
            raise SetpieceError(
                f"maya: {instance.name} holds no transform to export; add some to its set"
            )
        before = [str(n) for n in cmds.ls(selection=True, long=True) or []]
        try:
            self.select(nodes)
            # one root prim (the default prim) holding the whole instance: what the asset's
            # geometry layer references; in the workspace's units and up axis
            from setpiece.hosts.publish.session import session, stage_settings

            up, mpu = stage_settings(session(instance.context).ws)
            return self.export_usd(path, selection=True, root_prim=Path(path).stem,
                                   up_axis=up, meters_per_unit=mpu)
        finally:
            if before:
                cmds.select(*before, replace=True)
            else:
                cmds.select(clear=True)

    def save_copy(self, path: str) -> str:
        """Save the open scene (``cmds.file(save=True)``) and copy it to ``path``; the
        artist keeps working on their own file."""
        from maya import cmds

        current = self.current_scene()
        if current is None:
            raise SetpieceError(
                "maya: the scene was never saved; save it under outputs/<Asset>/work/ first"
            )
        try:
            cmds.file(save=True, force=True)
        except RuntimeError as exc:
            raise SetpieceError(f"maya: cannot save {current}: {exc}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(current, path)
        return path

    # -- integration -------------------------------------------------------------------
    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        from maya import cmds, mel

        if self.is_headless():
            return
        parent = str(mel.eval("$setpieceTmp = $gMainWindow"))
        if cmds.menu(MENU_NAME, exists=True):
            cmds.deleteUI(MENU_NAME, menu=True)
        menu = str(cmds.menu(MENU_NAME, label="setpiece", parent=parent, tearOff=True))
        group: str | None = None
        for command in commands:
            if group is not None and command.group != group:
                cmds.menuItem(divider=True, parent=menu)
            group = command.group
            cmds.menuItem(
                label=command.label,
                annotation=command.tooltip,
                command=_menu_callback(command),
                parent=menu,
            )

    def install_shelves(self, shelves: Mapping[str, Sequence[MenuCommand]]) -> list[str]:
        """One shelf per tool asset, ``setpiece_<Asset>``, under ``$gShelfTopLevel``; a
        ``setpiece_`` shelf whose asset is gone is deleted (Maya saves shelves with its
        prefs: without this an uninstalled asset's shelf would stay). Each button runs
        Python that names the command (``run_shelf_button``), so a shelf Maya saved and
        reloads stays valid. Returns the shelves made."""
        from maya import cmds, mel

        if self.is_headless():
            return []
        top = str(mel.eval("$setpieceTmp = $gShelfTopLevel"))
        wanted = {SHELF_PREFIX + _ui_name(asset): list(commands)
                  for asset, commands in shelves.items() if commands}
        children: Any = cmds.shelfTabLayout(top, query=True, childArray=True)  # None: no shelf
        for name in [str(n) for n in children or []]:
            if name.startswith(SHELF_PREFIX):
                cmds.deleteUI(name, layout=True)  # rebuilt below, or gone with its asset
        SHELF_COMMANDS.clear()
        made = []
        for name, commands in sorted(wanted.items()):
            shelf = str(cmds.shelfLayout(name, parent=top))
            for command in commands:
                SHELF_COMMANDS[(shelf, command.label)] = command
                cmds.shelfButton(
                    parent=shelf, label=command.label, annotation=command.tooltip or command.label,
                    image="pythonFamily.png", imageOverlayLabel=command.label[:6],
                    sourceType="python",
                    # a script string (Maya's shelfButton -command takes one, and saves
                    # it with the shelf; the stubs only list callables)
                    command=("import setpiece.hosts.maya.adapter as a; "  # type: ignore[arg-type]
                             f"a.run_shelf_button({shelf!r}, {command.label!r})"),
                )
            made.append(shelf)
        return made

    def on_scene_opened(self, callback: Callable[[], None]) -> None:
        from maya.api import OpenMaya

        def _after_open(*_: Any) -> None:
            callback()

        callback_id = OpenMaya.MSceneMessage.addCallback(
            OpenMaya.MSceneMessage.kAfterOpen, _after_open
        )
        self._callback_ids.append(callback_id)

    def remove_callbacks(self) -> None:
        """Remove every callback this adapter registered (for reloading setpiece)."""
        from maya.api import OpenMaya

        while self._callback_ids:
            OpenMaya.MMessage.removeCallback(self._callback_ids.pop())

    def defer(self, fn: Callable[[], None]) -> None:
        from maya import cmds

        if self.is_headless():
            fn()
            return
        cmds.evalDeferred(fn, lowestPriority=True)

    def main_window(self) -> Any | None:
        if self.is_headless():
            return None
        from maya import OpenMayaUI

        pointer = OpenMayaUI.MQtUtil.mainWindow()
        if pointer is None:
            return None
        try:
            from Qt import QtCompat, QtWidgets
        except ImportError:
            return None
        return QtCompat.wrapInstance(int(pointer), QtWidgets.QWidget)

    # -- optional hooks the in-app runtime uses (setpiece.hosts.runtime) ----------------
    def get_scene_data(self, key: str) -> str | None:
        """A value stored in the scene file (``cmds.fileInfo``), or None."""
        from maya import cmds

        value = cmds.fileInfo(key, query=True)
        if isinstance(value, list):
            return value[0] if value else None
        return value or None

    def set_scene_data(self, key: str, value: str) -> None:
        from maya import cmds

        cmds.fileInfo(key, str(value))

    def get_container_data(self, container: Container, key: str) -> Any:
        """A JSON value stored on the container transform (string attribute ``key``)."""
        node = self._existing(container)
        text = _get_string(node, key)
        return json.loads(text) if text else None

    def set_container_data(self, container: Container, key: str, value: Any) -> None:
        from maya import cmds

        node = self._existing(container)
        if not cmds.attributeQuery(key, node=node, exists=True):
            cmds.addAttr(node, longName=key, dataType="string")
        cmds.setAttr(f"{node}.{key}", json.dumps(value, sort_keys=True), type="string")

    def notify(self, message: str) -> None:
        """Tell the artist: a dialog in the UI, one line on stderr in batch."""
        if self.is_headless():
            print(f"setpiece: {message}", file=sys.stderr)
            return
        from maya import cmds

        cmds.confirmDialog(title="setpiece", message=message, button=["OK"])

    def ask(self, message: str, on_yes: Callable[[], None], label: str = "Update") -> bool:
        """Offer ``on_yes`` in a dialog; headless, False (no one to ask)."""
        if self.is_headless():
            return False
        from maya import cmds

        answer = cmds.confirmDialog(
            title="setpiece",
            message=message,
            button=[label, "Later"],
            defaultButton=label,
            cancelButton="Later",
            dismissString="Later",
        )
        if answer == label:
            on_yes()
        return True

    # -- optional hook of the inventory window (setpiece.hosts.ui.inventory) -----------
    def select(self, nodes: Sequence[str]) -> None:
        """Select these containers' transforms, replacing the selection (none: clear it)."""
        from maya import cmds

        missing = [n for n in nodes if not cmds.objExists(n)]
        if missing:
            raise SetpieceError(
                f"maya: {', '.join(missing)} is no longer in the scene; refresh the inventory"
            )
        if nodes:
            cmds.select(*nodes, replace=True)
        else:
            cmds.select(clear=True)

    # -- helpers -----------------------------------------------------------------------
    def _write_metadata(self, node: str, record: ContainerRecord) -> None:
        from maya import cmds

        for attr, value in record_to_attrs(record).items():
            if not cmds.attributeQuery(attr, node=node, exists=True):
                cmds.addAttr(node, longName=attr, dataType="string")
            cmds.setAttr(f"{node}.{attr}", value, type="string")

    def _existing(self, container: Container) -> str:
        from maya import cmds

        if not cmds.objExists(container.node):
            raise SetpieceError(
                f"maya: container {container.node} ({container.asset}) is no longer in the "
                "scene; refresh the inventory"
            )
        return container.node

    def _proxy_shape(self, node: str) -> str:
        from maya import cmds

        shapes = cmds.listRelatives(node, shapes=True, fullPath=True, type=PROXY_TYPE) or []
        if not shapes:
            raise SetpieceError(
                f"maya: container {node} has no {PROXY_TYPE} under it; remove it and load again"
            )
        return shapes[0]


#: Metres per unit of ``OpenMaya.MDistance`` units (``kInches`` = 1 ... ``kMeters`` = 8).
_MDISTANCE_METERS = {
    1: 0.0254, 2: 0.3048, 3: 0.9144, 4: 1609.344, 5: 0.001, 6: 0.01, 7: 1000.0, 8: 1.0
}  # fmt: skip

#: Metres per unit of ``cmds.currentUnit(query=True, linear=True)`` names (short and long).
_LINEAR_METERS = {
    "mm": 0.001, "millimeter": 0.001,
    "cm": 0.01, "centimeter": 0.01,
    "m": 1.0, "meter": 1.0,
    "km": 1000.0, "kilometer": 1000.0,
    "in": 0.0254, "inch": 0.0254,
    "ft": 0.3048, "foot": 0.3048,
    "yd": 0.9144, "yard": 0.9144,
    "mi": 1609.344, "mile": 1609.344,
}  # fmt: skip


@dataclass(frozen=True)
class _MayaSpace:
    """Maya's units and up axis, read once per load.

    ``internal``: metres per Maya internal distance unit (centimetres unless a plug-in
    changed it): a ``mayaUsdProxyShape`` draws one stage unit as one internal unit, it
    converts nothing. ``ui``: metres per UI unit, the unit ``xform``'s ``translation``
    takes. ``degrees``: whether the UI angle unit is degrees (else radians).
    """

    internal: float
    ui: float
    up: str
    degrees: bool

    @staticmethod
    def current() -> _MayaSpace:
        from maya import cmds
        from maya.api import OpenMaya

        internal = _MDISTANCE_METERS.get(int(OpenMaya.MDistance.internalUnit()), 0.01)
        linear = str(cmds.currentUnit(query=True, linear=True))
        if linear not in _LINEAR_METERS:
            raise SetpieceError(
                f"maya: unknown working unit {linear!r}; set cm or m and load again"
            )
        angle = str(cmds.currentUnit(query=True, angle=True))
        up = str(cmds.upAxis(query=True, axis=True)).upper()
        return _MayaSpace(internal, _LINEAR_METERS[linear], up, angle.startswith("deg"))


def _place(node: str, placement: Matrix | None, layout: SceneLayout, space: _MayaSpace) -> None:
    """Set a new container transform from the scene's layout, in Maya's units and up axis.

    ``placement`` (scene units and axes, see ``SceneLayout.placement``) is followed by the
    scene-to-Maya conversion mayaUsd's own "rotate/scale" stage conversion uses: scale by
    the scene's metresPerUnit over Maya's internal unit, rotate ±90° about X when the up
    axes differ. Values go through ``xform`` in UI units (working units, UI angle unit).
    """
    from maya import cmds

    to_maya = conversion(layout.meters_per_unit, layout.up_axis, space.internal, space.up)
    combined = matmul(placement or IDENTITY, to_maya)
    if is_identity(combined):
        return  # a new transform is the identity already
    values = decompose(combined)
    k = space.internal / space.ui
    tx, ty, tz = (v * k for v in values.translate)
    rx, ry, rz = (v if space.degrees else math.radians(v) for v in values.rotate)
    cmds.xform(
        node,
        objectSpace=True,
        translation=(tx, ty, tz),
        rotation=(rx, ry, rz),
        scale=values.scale,
        shear=values.shear,
    )


def _long_name(node: str) -> str:
    from maya import cmds

    names = cmds.ls(node, long=True)
    return names[0] if names else node


def _reader(node: str) -> Callable[[str], str | None]:
    return lambda attr: _get_string(node, attr)


def _get_string(node: str, attr: str) -> str | None:
    from maya import cmds

    if not cmds.attributeQuery(attr, node=node, exists=True):
        return None
    value = cmds.getAttr(f"{node}.{attr}")
    return None if value is None else str(value)


def _ui_name(text: str) -> str:
    """A Maya UI name from an asset name (letters, digits and underscores)."""
    return "".join(c if c.isalnum() else "_" for c in text)


def run_shelf_button(shelf: str, label: str) -> None:
    """What a setpiece shelf button runs: its tool asset's command, as the menu does."""
    command = SHELF_COMMANDS.get((shelf, label))
    if command is None:
        from maya import cmds

        cmds.warning(f"setpiece: '{label}' is not available any more: restart Maya or reinstall "
                     "the tool asset")
        return
    _menu_callback(command)()


def _menu_callback(command: MenuCommand) -> Callable[..., None]:
    """Maya passes a ``checked`` argument to menu commands; setpiece callbacks take none.

    A ``SetpieceError`` becomes a one-line Maya warning instead of a traceback.
    """

    def run(*_: Any) -> None:
        try:
            command.callback()
        except SetpieceError as exc:
            from maya import cmds

            cmds.warning(f"setpiece: {exc}")

    return run


def export_options(
    mayausd: tuple[int, ...],
    path: str,
    *,
    selection: bool,
    root_prim: str | None,
    up_axis: str | None,
    meters_per_unit: float | None,
) -> dict[str, Any]:
    """``mayaUSDExport`` flags for this mayaUsd (Autodesk/maya-usd at each release tag,
    ``lib/mayaUsd/commands/baseExportCommand.h`` and ``fileio/jobs/writeJob.cpp``):

    - ``root_prim``: ``rootPrim`` from v0.28.0 (``parentScope`` before; deprecated since);
      with ``defaultPrim`` named explicitly from v0.27.0, since from v0.30.0 an export
      without one takes the first selected top node as default prim;
    - units: ``unit``/``upAxis`` from v0.31.0. Before, every distance is written in Maya's
      internal centimetres with ``metersPerUnit`` 0.01 and Maya's up axis: ``export_usd``
      then converts the file (:func:`convert_export`); without one root prim to put the
      conversion on, another workspace unit is refused, naming the mayaUsd that exports it.
    """
    version = ".".join(str(x) for x in mayausd)
    options: dict[str, Any] = {"file": path, "selection": selection}
    if Path(path).suffix.lower() == ".usd":
        options["defaultUSDFormat"] = "usdc"
    if root_prim:
        options["rootPrim" if mayausd >= (0, 28) else "parentScope"] = root_prim
        if mayausd >= (0, 27):
            options["defaultPrim"] = root_prim
    if meters_per_unit is not None:
        mpu = float(meters_per_unit)
        if mayausd >= (0, 31):
            unit = next((u for m, u in _EXPORT_UNITS.items() if abs(m - mpu) <= 1e-9 * m), None)
            if unit is None:
                raise SetpieceError(
                    f"maya: mayaUSDExport has no unit of {mpu:g} m: set meters_per_unit in "
                    "setpiece.toml to 0.001, 0.01, 1, 1000, 0.0254, 0.3048, 0.9144 or 1609.344"
                )
            options["unit"] = unit
        elif abs(mpu - 0.01) > 1e-12 and not root_prim:
            raise SetpieceError(
                f"maya: mayaUsd {version} writes USD in centimetres only (mayaUSDExport -unit "
                f"came in mayaUsd 0.31), the workspace uses {mpu:g} m per unit: install "
                "mayaUsd 0.31 or later, or use meters_per_unit = 0.01"
            )
    if up_axis is not None and mayausd >= (0, 31):
        options["upAxis"] = up_axis.lower()
    return options


def convert_export(path: str, root_prim: str, meters_per_unit: float | None,
                   up_axis: str | None) -> None:
    """Put what mayaUsd < 0.31 wrote (centimetres, Maya's up axis) in the workspace's units
    and up axis, as mayaUsd 0.31's ``-unit``/``-upAxis`` would have.

    Sound for any content: nothing is rescaled attribute by attribute (points, extents,
    pivots, cameras, ... would each need their own rule); instead the one root prim that
    holds the whole export gets one more transform op, first in its ``xformOpOrder`` (so
    outermost): the scale from the file's ``metersPerUnit`` to the workspace's, then the
    rotation between up axes (``setpiece.hosts.layout.conversion``, +90° about X from Y-up
    to Z-up), and the layer's ``metersPerUnit``/``upAxis`` say the workspace's. A root prim
    written as a Scope (``parentScope``'s default) becomes an Xform, which can carry it.
    The file is replaced atomically (exported beside it, then renamed)."""
    from pxr import Gf, Sdf, Usd, UsdGeom

    from setpiece.hosts.layout import conversion, is_identity

    stage = Usd.Stage.Open(path, Usd.Stage.LoadNone)
    if stage is None:
        raise SetpieceError(f"maya: cannot read back {path} to convert its units")
    from_mpu = float(UsdGeom.GetStageMetersPerUnit(stage))
    from_up = str(UsdGeom.GetStageUpAxis(stage)).upper()
    to_mpu = float(meters_per_unit) if meters_per_unit is not None else from_mpu
    to_up = up_axis.upper() if up_axis is not None else from_up
    m = conversion(from_mpu, from_up, to_mpu, to_up)
    if is_identity(m):
        return
    prim = stage.GetPrimAtPath(Sdf.Path.absoluteRootPath.AppendChild(root_prim.strip("/")))
    if not prim:
        raise SetpieceError(
            f"maya: {path} has no root prim /{root_prim.strip('/')} to convert its units on: "
            "install mayaUsd 0.31 or later (mayaUSDExport -unit/-upAxis)")
    if not prim.IsA(UsdGeom.Xformable):
        prim.SetTypeName("Xform")
    xf = UsdGeom.Xformable(prim)
    existing = xf.GetOrderedXformOps()
    op = xf.AddTransformOp(opSuffix="setpieceUnits")
    op.Set(Gf.Matrix4d(*[list(row) for row in m]))
    xf.SetXformOpOrder([op, *existing], xf.GetResetXformStack())
    UsdGeom.SetStageMetersPerUnit(stage, to_mpu)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z if to_up == "Z" else UsdGeom.Tokens.y)
    from setpiece.core.fsutil import atomic_path

    with atomic_path(Path(path)) as tmp:  # fsynced, then renamed over the export
        if not stage.GetRootLayer().Export(str(tmp)):
            raise SetpieceError(f"maya: cannot write {tmp} while converting {path}'s units")
