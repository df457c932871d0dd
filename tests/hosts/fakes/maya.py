"""A small fake of Maya's Python API: ``maya.cmds``, ``maya.mel``, ``maya.api.OpenMaya``,
``maya.OpenMayaUI``, ``maya.standalone`` and the mayaUsd plug-in's commands.

It models the scene the way Maya does, for the parts setpiece uses:

- DAG nodes with unique names (``Chair`` then ``Chair1``), long names (``|Chair|ChairShape``),
  parents, and deletion of a node's descendants with it;
- typed attributes: ``string`` (an unset string reads back as ``None``), ``double3``;
  ``setAttr`` on a string attribute without ``type="string"`` fails as in Maya;
- units as Maya has them: distances are kept in the internal unit (centimetres) and
  ``setAttr``/``getAttr``/``xform`` take and return the working (UI) unit set with
  ``currentUnit(linear=...)``; rotations are taken and returned in the UI angle unit
  (``currentUnit(angle=...)``; the fake keeps degrees inside, Maya keeps radians);
  ``upAxis(axis=...)``; ``OpenMaya.MDistance.internalUnit()`` is ``kCentimeters``;
- ``xform`` sets/queries translation, rotation, scale and shear, and raises ``TypeError``
  for a flag it does not model (Python's error for an unknown keyword);
- the errors Maya raises: ``ValueError("No object matches name: ...")`` for missing
  objects in ``setAttr``/``getAttr``/``delete``/``listRelatives``, ``RuntimeError`` for
  unknown node types, duplicate attributes and missing plug-ins;
- the mayaUsd plug-in: ``mayaUsdProxyShape`` and ``mayaUSDExport`` exist only after
  ``loadPlugin("mayaUsdPlugin")``, which fails when the plug-in is not installed;
- scene files: ``file(save=True)`` writes the scene (as JSON) and ``file(open=True)``
  reads it back and fires ``kAfterOpen`` callbacks;
- UI: in batch mode menu commands fail like Maya's (no UI);
- shelves (Maya's CommandsPython docs: shelfLayout, shelfButton, shelfTabLayout,
  deleteUI): ``$gShelfTopLevel`` names the shelf tab layout (its value here is an
  opaque name, ``SHELF_TOP``: Maya's startup MEL sets the real one, which is not
  modelled; setpiece reads the variable and never spells the path); ``shelfLayout(name,
  parent=)`` adds a shelf, and a name already used under that parent is a
  ``RuntimeError`` ("All objects in Maya and user interface elements must have unique
  names", ``// Error: line 1: Object's name is not unique: testwindow //`` in Autodesk's
  "Window naming" page, download.autodesk.com/us/maya/2011help/files/
  User_interface_creation_and_procedures_Window_naming.htm; the fake words it as the
  Python form ``Object's name 'x' is not unique.``); an unnamed one gets the first free
  ``shelfLayoutN``; ``exists=True`` asks), ``shelfTabLayout(top, query=True, childArray=True)`` lists
  them (None when empty, as Maya's queries return), ``shelfButton(parent=, label=,
  command=, sourceType=)`` adds a button (``sourceType`` is ``mel`` or ``python``; a
  missing parent is a RuntimeError), ``deleteUI(name, layout=True)`` removes a shelf;
- modelling, for publishing: ``polyCube`` (a transform and its ``mesh`` shape with 8
  vertices; ``createNode("mesh")`` is an empty mesh), ``polyEvaluate(vertex=True)`` (a
  message string, not a number, for a non-polygon object, as Maya does), object sets
  (``sets(..., name=)`` creates one, ``sets(name, query=True)`` lists its members or is
  None when empty), texture ``file`` nodes (``fileTextureName``), ``ls(assemblies=True)``,
  ``listRelatives(allDescendents=True)`` and ``file(query=True, list=True)`` (the scene
  file and every file the scene uses, here the textures);
- ``mayaUSDExport`` writes a mesh shape under its transform as one ``Mesh`` prim (mayaUsd
  merges transform and shape), per mayaUsd version (``FakeMaya(mayausd="0.31.0")``; read
  in Autodesk/maya-usd at each release tag, ``lib/mayaUsd/commands/baseExportCommand.h``
  for the flags, ``lib/mayaUsd/fileio/jobs/writeJob.cpp`` for what is written):

  * flags: ``parentScope`` (every version; "deprecated" from v0.28.0), ``defaultPrim``
    (from v0.27.0, ``kDefaultPrimFlag``), ``rootPrim``/``rootPrimType`` (from v0.28.0,
    ``kRootPrimFlag``; type default ``scope``, jobArgs.cpp), ``unit``/``upAxis`` (from
    v0.31.0, ``kUnitFlag``/``kUpAxisFlag``; default ``mayaPrefs``). A flag the version
    lacks raises ``TypeError("Invalid flag ...")``, as a Maya command does;
  * the default prim: ``defaultPrim`` when given; before v0.30.0 else the first root prim
    (the parent scope when there is one); from v0.30.0 else the ``rootPrim``, else the
    first selected top node (``GetExportDefaultPrimCandidates``, writeJob.cpp v0.30.0),
    even with a ``parentScope`` around it;
  * units: before v0.31.0 every distance is written in Maya's internal unit and
    ``metersPerUnit`` is 0.01 ("All distance units will be written in cm", writeJob.cpp
    v0.30.0); from v0.31.0 ``unit`` (default: the working unit) sets ``metersPerUnit``
    and scales the data (``_prepareUnitsCommands``), ``upAxis`` sets ``upAxis`` (the
    rotation mayaUsd adds when it differs from Maya's is not modelled: setpiece's units
    check makes them equal first);
- ``mayaUsdProxyShape`` has ``shareStage`` (on by default: ``proxyShapeBase.cpp``,
  ``numericAttrFn.create("shareStage", "scmp", kBoolean, 1.0)`` in v0.20.0 to v0.35.0).

Every call is recorded in ``FakeMaya.calls`` as ``(command, args, kwargs)``.
"""

from __future__ import annotations

import json
import math
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PLUGIN = "mayaUsdPlugin"

_NODE_ATTRS: dict[str, dict[str, tuple[str, Any]]] = {
    "transform": {
        "translate": ("linear3", (0.0, 0.0, 0.0)),  # kept in centimetres
        "rotate": ("angle3", (0.0, 0.0, 0.0)),  # kept in degrees
        "scale": ("double3", (1.0, 1.0, 1.0)),
        "shear": ("double3", (0.0, 0.0, 0.0)),
        "rotateOrder": ("enum", 0),  # xyz
    },
    "mayaUsdProxyShape": {
        "filePath": ("string", None),
        "primPath": ("string", None),
        "time": ("time", 0.0),
        "loadPayloads": ("bool", True),
        "shareStage": ("bool", True),
    },
    "time": {"outTime": ("time", 1.0)},
    "mesh": {"intermediateObject": ("bool", False)},
    "objectSet": {},
    "polyCube": {"width": ("double", 1.0)},
    "file": {"fileTextureName": ("string", None)},
}
_DAG_TYPES = {"transform", "mayaUsdProxyShape", "mesh"}
_NOT_POLY = "Nothing counted : no polygonal object is selected."
#: centimetres per unit, by the names ``currentUnit`` takes (short and long)
_LINEAR_CM = {
    "mm": 0.1, "millimeter": 0.1, "cm": 1.0, "centimeter": 1.0, "m": 100.0, "meter": 100.0,
    "km": 100000.0, "kilometer": 100000.0, "in": 2.54, "inch": 2.54, "ft": 30.48, "foot": 30.48,
    "yd": 91.44, "yard": 91.44, "mi": 160934.4, "mile": 160934.4,
}  # fmt: skip
_LINEAR_SHORT = {"millimeter": "mm", "centimeter": "cm", "meter": "m", "kilometer": "km", "inch": "in", "foot": "ft", "yard": "yd", "mile": "mi"}
_ANGLE_DEG = {"deg": 1.0, "degree": 1.0, "rad": 180.0 / math.pi, "radian": 180.0 / math.pi}


@dataclass
class Node:
    name: str
    type: str
    parent: str | None = None
    attrs: dict[str, list[Any]] = field(default_factory=dict)  # name -> [kind, value]
    members: list[str] = field(default_factory=list)  # objectSet members (node keys)
    points: list[tuple[float, float, float]] = field(default_factory=list)  # mesh vertices


#: what ``$gShelfTopLevel`` holds in the fake: an opaque name for the shelves' tab layout
#: (Maya's own value is set by its startup MEL and is not modelled or relied on)
SHELF_TOP = "fakeMaya|shelfTabLayout"

class FakeMaya:
    """The fake Maya session: scene state plus the module objects handed to setpiece."""

    def __init__(self, *, batch: bool = True, version: str = "2025", plugins: tuple[str, ...] = (PLUGIN,),
                 mayausd: str = "0.31.0") -> None:
        self.batch = batch
        self.version = version
        self.mayausd = mayausd
        self.plugins_available = set(plugins)
        self.plugins_loaded: set[str] = set()
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.nodes: dict[str, Node] = {}
        self.connections: list[tuple[str, str]] = []
        self.selection: list[str] = []
        self.scene_name = ""
        self.menus: dict[str, dict[str, Any]] = {}
        #: shelf name -> its buttons ({label, command, sourceType, annotation, ...})
        self.shelves: dict[str, list[dict[str, Any]]] = {}
        self.deferred: list[Callable[[], Any]] = []
        self.warnings: list[str] = []
        self.callbacks: dict[int, tuple[int, Callable[..., Any]]] = {}
        self.standalone_initialized = not batch
        self.layer_reloads: list[str] = []
        self.file_info: dict[str, str] = {}
        self.dialogs: list[dict[str, Any]] = []
        self.dialog_answer: str | None = None  # None: the default button
        self.linear_unit = "cm"
        self.angle_unit = "deg"
        self.up_axis = "y"
        self._next_callback = 1
        self._reset_scene()
        self.cmds = self._make_cmds()
        self.mel = types.ModuleType("maya.mel")
        self.mel.eval = self._record("mel.eval", self._mel_eval)  # type: ignore[attr-defined]
        self.OpenMaya = self._make_openmaya()
        self.OpenMayaUI = self._make_openmayaui()
        self.standalone = types.ModuleType("maya.standalone")
        self.standalone.initialize = self._record("standalone.initialize", self._initialize)  # type: ignore[attr-defined]

    # -- install into sys.modules ------------------------------------------------------
    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeMaya:
        maya = types.ModuleType("maya")
        maya.__path__ = []  # a package
        api = types.ModuleType("maya.api")
        api.__path__ = []
        api.OpenMaya = self.OpenMaya  # type: ignore[attr-defined]
        for attr, module in (
            ("cmds", self.cmds),
            ("mel", self.mel),
            ("api", api),
            ("OpenMayaUI", self.OpenMayaUI),
            ("standalone", self.standalone),
        ):
            setattr(maya, attr, module)
        modules = {
            "maya": maya,
            "maya.cmds": self.cmds,
            "maya.mel": self.mel,
            "maya.api": api,
            "maya.api.OpenMaya": self.OpenMaya,
            "maya.OpenMayaUI": self.OpenMayaUI,
            "maya.standalone": self.standalone,
        }
        for name, module in modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        return self

    # -- helpers for tests -------------------------------------------------------------
    def called(self, command: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(a, k) for c, a, k in self.calls if c == command]

    def run_deferred(self) -> None:
        while self.deferred:
            self.deferred.pop(0)()

    def long_name(self, name: str) -> str:
        node = self.nodes[name]
        parts = [node.name]
        while node.parent is not None:
            node = self.nodes[node.parent]
            parts.append(node.name)
        return "|" + "|".join(reversed(parts))

    def attr(self, plug: str) -> Any:
        node, attr = self._plug(plug)
        return self.nodes[node].attrs[attr][1]

    # -- internals ---------------------------------------------------------------------
    def _record(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return fn(*args, **kwargs)

        wrapper.__name__ = name
        return wrapper

    def _reset_scene(self) -> None:
        self.file_info = {}
        self.nodes = {"time1": Node("time1", "time", attrs=_default_attrs("time"))}
        self.connections = []
        self.selection = []
        self.scene_name = ""

    def _find(self, name: str) -> str | None:
        """The unique (short) name of the node called ``name`` (short, long or partial)."""
        if "|" not in name:
            return name if name in self.nodes else None
        wanted = [p for p in name.split("|") if p]
        for key in self.nodes:
            chain = self.long_name(key).split("|")[1:]
            if chain[-len(wanted):] == wanted and (not name.startswith("|") or chain == wanted):
                return key
        return None

    def _node(self, name: str, error: type[Exception] = ValueError) -> str:
        key = self._find(name)
        if key is None:
            raise error(f"No object matches name: {name}")
        return key

    def _plug(self, plug: str) -> tuple[str, str]:
        node_part, _, attr = plug.rpartition(".")
        key = self._find(node_part) if node_part else None
        if key is None or attr not in self.nodes[key].attrs:
            raise ValueError(f"No object matches name: {plug}")
        return key, attr

    def _unique(self, wanted: str) -> str:
        if wanted not in self.nodes:
            return wanted
        base = re.sub(r"\d+$", "", wanted)
        n = 1
        while f"{base}{n}" in self.nodes:
            n += 1
        return f"{base}{n}"

    # -- maya.cmds ---------------------------------------------------------------------
    def _make_cmds(self) -> types.ModuleType:
        cmds = types.ModuleType("maya.cmds")
        commands: dict[str, Callable[..., Any]] = {
            "about": self._about,
            "file": self._file,
            "createNode": self._create_node,
            "setAttr": self._set_attr,
            "getAttr": self._get_attr,
            "addAttr": self._add_attr,
            "attributeQuery": self._attribute_query,
            "connectAttr": self._connect_attr,
            "objExists": lambda name="": self._find(name.split(".")[0]) is not None,
            "ls": self._ls,
            "listRelatives": self._list_relatives,
            "delete": self._delete,
            "select": self._select,
            "xform": self._xform,
            "currentUnit": self._current_unit,
            "upAxis": self._up_axis,
            "pluginInfo": self._plugin_info,
            "loadPlugin": self._load_plugin,
            "menu": self._menu,
            "menuItem": self._menu_item,
            "deleteUI": self._delete_ui,
            "shelfLayout": self._shelf_layout,
            "shelfTabLayout": self._shelf_tab_layout,
            "shelfButton": self._shelf_button,
            "evalDeferred": self._eval_deferred,
            "warning": lambda *args, **_: self.warnings.append(" ".join(args)),
            "fileInfo": self._file_info,
            "confirmDialog": self._confirm_dialog,
            "polyCube": self._poly_cube,
            "polyEvaluate": self._poly_evaluate,
            "sets": self._sets,
        }
        for name, fn in commands.items():
            setattr(cmds, name, self._record(name, fn))
        if self.batch:
            # before maya.standalone.initialize(), mayapy's maya.cmds has no commands
            self._uninitialized_commands = {n: getattr(cmds, n) for n in commands}
            for name in commands:
                delattr(cmds, name)
        return cmds

    def _initialize(self, name: str = "python") -> None:
        if self.standalone_initialized:
            raise RuntimeError("maya.standalone is already initialized")
        self.standalone_initialized = True
        for cmd_name, fn in self._uninitialized_commands.items():
            setattr(self.cmds, cmd_name, fn)

    def _about(self, *, version: bool = False, batch: bool = False, **_: Any) -> Any:
        if version:
            return self.version
        if batch:
            return self.batch
        raise TypeError("about: give one query flag")

    def _file(
        self,
        path: str = "",
        *,
        newFile: bool = False,
        open: bool = False,
        force: bool = False,
        rename: str | None = None,
        save: bool = False,
        type: str | None = None,
        query: bool = False,
        sceneName: bool = False,
        **kwargs: Any,
    ) -> Any:
        list_files = bool(kwargs.pop("list", False))  # ``list`` would shadow the builtin here
        if kwargs:
            raise TypeError(f"file: unexpected flags {sorted(kwargs)}")
        if query and sceneName:
            return self.scene_name
        if query and list_files:
            # the scene file and every file it uses (textures here), duplicates removed
            used = [self.scene_name] if self.scene_name else []
            for node in self.nodes.values():
                if node.type == "file" and node.attrs["fileTextureName"][1]:
                    path = node.attrs["fileTextureName"][1]
                    if path not in used:
                        used.append(path)
            return used
        if newFile:
            self._reset_scene()
            return ""
        if rename is not None:
            self.scene_name = rename
            return rename
        if save:
            if not self.scene_name:
                raise RuntimeError("File has not been named; use file -rename first")
            data = {
                "format": type,
                "nodes": [
                    {"name": n.name, "type": n.type, "parent": n.parent, "attrs": n.attrs,
                     "members": n.members, "points": n.points}
                    for n in self.nodes.values()
                ],
                "connections": self.connections,
                "fileInfo": self.file_info,
            }
            Path(self.scene_name).write_text(json.dumps(data), encoding="utf-8")
            return self.scene_name
        if open:
            if not Path(path).is_file():
                raise RuntimeError(f"File not found: {path}")
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            self._reset_scene()
            self.nodes = {
                n["name"]: Node(n["name"], n["type"], n["parent"], {k: list(v) for k, v in n["attrs"].items()},
                                list(n.get("members", [])), [tuple(p) for p in n.get("points", [])])
                for n in data["nodes"]
            }
            self.connections = [tuple(c) for c in data["connections"]]  # type: ignore[misc]
            self.file_info = dict(data["fileInfo"])
            self.scene_name = path
            for message, fn in list(self.callbacks.values()):
                if message == self.OpenMaya.MSceneMessage.kAfterOpen:
                    fn(None)
            return path
        raise TypeError("file: no action flag")

    def _create_node(
        self, node_type: str, *, name: str | None = None, parent: str | None = None, skipSelect: bool = False
    ) -> str:
        if node_type not in _NODE_ATTRS or (node_type == "mayaUsdProxyShape" and PLUGIN not in self.plugins_loaded):
            raise RuntimeError(f"Unknown object type: {node_type}")
        parent_key = self._node(parent, RuntimeError) if parent else None
        if parent_key is not None and node_type not in _DAG_TYPES:
            raise RuntimeError(f"{node_type} is not a DAG node and cannot have a parent")
        if node_type == "mayaUsdProxyShape" and parent_key is None:
            parent_key = self._unique("transform1")
            self.nodes[parent_key] = Node(parent_key, "transform", attrs=_default_attrs("transform"))
        key = self._unique(name or f"{node_type}1")
        self.nodes[key] = Node(key, node_type, parent_key, _default_attrs(node_type))
        if not skipSelect:
            self.selection = [key]
        return key

    def _set_attr(self, plug: str, *values: Any, type: str | None = None, lock: bool | None = None) -> None:
        key, attr = self._plug(plug)
        slot = self.nodes[key].attrs[attr]
        if len(slot) > 2 and slot[2] and lock is None:
            raise RuntimeError(f"setAttr: The attribute '{plug}' is locked or connected and cannot be modified.")
        if lock is not None and not values:
            slot[2:] = [lock]
            return
        kind = slot[0]
        if kind == "string":
            if type != "string" or len(values) != 1 or not isinstance(values[0], str):
                raise RuntimeError(f"setAttr: Error reading data element number 1: {values[0] if values else ''}")
            slot[1] = values[0]
        elif kind in ("double3", "linear3", "angle3"):
            flat = values[0] if len(values) == 1 else values
            if len(flat) != 3:
                raise RuntimeError(f"setAttr: '{plug}' needs 3 values")
            slot[1] = tuple(float(v) * self._to_internal(kind) for v in flat)
        else:
            slot[1] = values[0]

    def _get_attr(self, plug: str, **_: Any) -> Any:
        key, attr = self._plug(plug)
        kind, value = self.nodes[key].attrs[attr][:2]
        if kind in ("double3", "linear3", "angle3"):
            return [tuple(float(v) / self._to_internal(kind) for v in value)]
        return value

    def _to_internal(self, kind: str) -> float:
        """Factor from UI values to the stored ones for an attribute kind."""
        if kind == "linear3":
            return _LINEAR_CM[self.linear_unit]
        if kind == "angle3":
            return _ANGLE_DEG[self.angle_unit]
        return 1.0

    def _add_attr(self, node: str, *, longName: str, dataType: str | None = None, attributeType: str | None = None) -> None:
        key = self._node(node)
        if longName in self.nodes[key].attrs:
            raise RuntimeError(f"Found attribute with the same name '{longName}' on node '{node}'")
        kind = dataType or attributeType
        if kind not in ("string", "double", "bool", "long"):
            raise RuntimeError(f"addAttr: unsupported type {kind}")
        self.nodes[key].attrs[longName] = [kind, None if kind == "string" else 0]

    def _attribute_query(self, attr: str, *, node: str, exists: bool = False) -> bool:
        key = self._find(node)
        if key is None:
            raise RuntimeError(f"No object matches name: {node}")
        return attr in self.nodes[key].attrs

    def _connect_attr(self, src: str, dst: str) -> None:
        for plug in (src, dst):
            try:
                self._plug(plug)
            except ValueError:
                raise RuntimeError(f"The source attribute '{plug}' cannot be found.")
        self.connections.append((src.split("|")[-1], dst.split("|")[-1]))

    def _ls(
        self, *names: str, type: str | None = None, long: bool = False, selection: bool = False,
        assemblies: bool = False, dag: bool = False, **_: Any,
    ) -> list[str]:
        keys = list(self.selection) if selection else (
            [k for k in (self._find(n) for n in names) if k] if names else list(self.nodes)
        )
        if assemblies:
            keys = [k for k in keys if self.nodes[k].type in _DAG_TYPES and self.nodes[k].parent is None]
        if dag:  # the DAG objects given and everything below them
            out: list[str] = []
            for k in keys:
                if self.nodes[k].type in _DAG_TYPES and k not in out:
                    out += [k, *[d for d in self._descendants(k) if d not in out]]
            keys = out
        if type is not None:
            keys = [k for k in keys if self.nodes[k].type == type]
        return [self.long_name(k) if long and self.nodes[k].type in _DAG_TYPES else k for k in keys]

    def _descendants(self, key: str) -> list[str]:
        out: list[str] = []
        stack = [k for k, n in self.nodes.items() if n.parent == key]
        while stack:
            k = stack.pop(0)
            out.append(k)
            stack[0:0] = [c for c, n in self.nodes.items() if n.parent == k]
        return out

    def _list_relatives(
        self, node: str, *, shapes: bool = False, fullPath: bool = False, type: str | None = None,
        parent: bool = False, children: bool = False, allDescendents: bool = False,
    ) -> list[str] | None:
        key = self._node(node)
        if allDescendents:
            found = self._descendants(key)
            if shapes:
                found = [k for k in found if self.nodes[k].type != "transform"]
        elif parent:
            found = [self.nodes[key].parent] if self.nodes[key].parent else []
        else:
            found = [k for k, n in self.nodes.items() if n.parent == key]
            if shapes:
                found = [k for k in found if self.nodes[k].type != "transform"]
        if type is not None:
            found = [k for k in found if self.nodes[k].type == type]
        result = [self.long_name(k) if fullPath else k for k in found if k]
        return result or None  # Maya returns None, not [], when nothing matches

    def _delete(self, *names: str) -> None:
        keys = [self._node(n) for n in names]
        doomed: set[str] = set()
        for key in keys:
            stack = [key]
            while stack:
                k = stack.pop()
                doomed.add(k)
                stack.extend(c for c, n in self.nodes.items() if n.parent == k)
        for k in doomed:
            del self.nodes[k]
        self.selection = [s for s in self.selection if s not in doomed]
        self.connections = [c for c in self.connections if c[0].split(".")[0] not in doomed and c[1].split(".")[0] not in doomed]

    def _select(self, *names: str, replace: bool = True, clear: bool = False) -> None:
        if clear:
            self.selection = []
            return
        self.selection = [self._node(n) for n in names]

    # -- modelling and sets (publishing) ------------------------------------------------
    def _poly_cube(self, *, name: str = "pCube1", width: float = 1.0, **kwargs: Any) -> list[str]:
        if kwargs:
            raise TypeError(f"polyCube: the fake does not model the flag(s) {sorted(kwargs)}")
        xform = self._unique(name)
        self.nodes[xform] = Node(xform, "transform", attrs=_default_attrs("transform"))
        shape = self._unique(f"{xform}Shape")
        h = width / 2.0 * _LINEAR_CM[self.linear_unit]  # kept in centimetres
        corners = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
        self.nodes[shape] = Node(shape, "mesh", xform, _default_attrs("mesh"), points=corners)
        history = self._unique("polyCube1")
        self.nodes[history] = Node(history, "polyCube", attrs=_default_attrs("polyCube"))
        self.selection = [xform]
        return [xform, history]

    def _poly_evaluate(self, *names: str, vertex: bool = False, **kwargs: Any) -> Any:
        if kwargs or not vertex:
            raise TypeError("polyEvaluate: the fake models vertex=True only")
        keys = [self._node(n) for n in names] if names else list(self.selection)
        meshes: list[str] = []
        for key in keys:
            if self.nodes[key].type == "mesh":
                meshes.append(key)
            elif self.nodes[key].type == "transform":
                meshes += [c for c, n in self.nodes.items() if n.parent == key and n.type == "mesh"]
        if not meshes:
            return _NOT_POLY
        return sum(len(self.nodes[m].points) for m in meshes)

    def _sets(self, *members: str, name: str | None = None, query: bool = False, empty: bool = False, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"sets: the fake does not model the flag(s) {sorted(kwargs)}")
        if query:
            (set_name,) = members
            key = self._node(set_name)
            if self.nodes[key].type != "objectSet":
                raise RuntimeError(f"sets: '{set_name}' is not a set")
            found = [m for m in self.nodes[key].members if m in self.nodes]
            return found or None  # Maya returns None for an empty set
        keys = [] if empty else [self._node(m) for m in (members or tuple(self.selection))]
        key = self._unique(name or "set1")
        self.nodes[key] = Node(key, "objectSet", members=keys)
        return key

    def _file_info(self, key: str = "", value: str | None = None, *, query: bool = False, remove: str | None = None) -> Any:
        if query:
            # Maya returns a list: [value] when the key exists, [] otherwise
            return [self.file_info[key]] if key in self.file_info else []
        if not isinstance(value, str):
            raise TypeError("fileInfo: a value string is required")
        self.file_info[key] = value
        return None

    def _confirm_dialog(self, *, title: str = "", message: str = "", button: Any = "OK", defaultButton: str = "", cancelButton: str = "", dismissString: str = "") -> str:
        self._no_ui("confirmDialog")
        buttons = [button] if isinstance(button, str) else list(button)
        self.dialogs.append({"title": title, "message": message, "buttons": buttons})
        return self.dialog_answer if self.dialog_answer is not None else (defaultButton or buttons[0])

    _XFORM_ATTRS = {"translation": "translate", "rotation": "rotate", "scale": "scale", "shear": "shear"}

    def _xform(
        self, node: str, *, query: bool = False, objectSpace: bool = False, worldSpace: bool = False,
        absolute: bool = True, **flags: Any,
    ) -> Any:
        unknown = sorted(set(flags) - set(self._XFORM_ATTRS))
        if unknown:
            raise TypeError(f"xform: the fake does not model the flag(s) {unknown}")
        key = self._node(node)
        if worldSpace and self.nodes[key].parent is not None:
            raise NotImplementedError("xform: the fake models world space for top-level nodes only")
        if query:
            wanted = [f for f, on in flags.items() if on]
            if len(wanted) != 1:
                raise RuntimeError("xform: query one of translation, rotation, scale, shear")
            kind, value = self.nodes[key].attrs[self._XFORM_ATTRS[wanted[0]]][:2]
            return [float(v) / self._to_internal(kind) for v in value]
        for flag, value in flags.items():
            slot = self.nodes[key].attrs[self._XFORM_ATTRS[flag]]
            if len(slot) > 2 and slot[2]:
                raise RuntimeError(f"xform: the attribute '{node}.{self._XFORM_ATTRS[flag]}' is locked")
            values = tuple(float(v) for v in value)
            if len(values) != 3:
                raise TypeError(f"xform: {flag} takes 3 values")
            slot[1] = tuple(v * self._to_internal(slot[0]) for v in values)
        return None

    def _current_unit(self, *, query: bool = False, linear: Any = None, angle: Any = None, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"currentUnit: unexpected flags {sorted(kwargs)}")
        if query:
            if linear:
                return self.linear_unit
            if angle:
                return self.angle_unit
            raise RuntimeError("currentUnit: query linear, angle or time")
        if linear is not None:
            if linear not in _LINEAR_CM:
                raise RuntimeError(f"currentUnit: Invalid linear unit: {linear}")
            self.linear_unit = _LINEAR_SHORT.get(linear, linear)
        if angle is not None:
            if angle not in _ANGLE_DEG:
                raise RuntimeError(f"currentUnit: Invalid angle unit: {angle}")
            self.angle_unit = angle[:3]
        return None

    def _up_axis(self, *, query: bool = False, axis: Any = None, rotateView: bool = False) -> Any:
        if query:
            return self.up_axis
        if axis not in ("y", "z", "Y", "Z"):
            raise RuntimeError(f"upAxis: Invalid axis: {axis}")
        self.up_axis = str(axis).lower()
        return None

    def _plugin_info(self, name: str, *, query: bool = False, loaded: bool = False,
                     version: bool = False) -> Any:
        if version:  # the plug-in's MFnPlugin version: MAYAUSD_VERSION (plugin.cpp)
            if name not in self.plugins_loaded:
                raise RuntimeError(f"pluginInfo: Plug-in, \"{name}\", is not loaded")
            return self.mayausd if name == PLUGIN else "1.0"
        return name in self.plugins_loaded

    def _load_plugin(self, name: str, *, quiet: bool = False) -> list[str]:
        if name not in self.plugins_available:
            raise RuntimeError(f'Plug-in, "{name}", was not found on MAYA_PLUG_IN_PATH.')
        if name not in self.plugins_loaded:
            self.plugins_loaded.add(name)
            if name == PLUGIN:
                self.cmds.mayaUSDExport = self._record("mayaUSDExport", self._usd_export)  # type: ignore[attr-defined]
                self.cmds.mayaUsdLayerEditor = self._record("mayaUsdLayerEditor", self._layer_editor)  # type: ignore[attr-defined]
        return [name]

    def _mayausd(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self.mayausd.split(".")[:3])

    def _usd_export(self, *, file: str, selection: bool = False, defaultUSDFormat: str = "usdc",
                    **flags: Any) -> None:
        v = self._mayausd()
        known = {"parentScope"} | ({"defaultPrim"} if v >= (0, 27) else set()) | (
            {"rootPrim", "rootPrimType"} if v >= (0, 28) else set()) | (
            {"unit", "upAxis"} if v >= (0, 31) else set())
        for flag in flags:
            if flag not in known:
                raise TypeError(f"Invalid flag '{flag}'")
        parent = str(flags.get("rootPrim") or flags.get("parentScope") or "").strip("/")
        parent_type = "Xform" if str(flags.get("rootPrimType", "scope")) == "xform" else "Scope"
        roots = (
            [k for k in self.selection if self.nodes[k].type == "transform"]
            if selection
            else [k for k, n in self.nodes.items() if n.type == "transform" and n.parent is None]
        )
        if v >= (0, 31):
            unit = str(flags.get("unit", "mayaPrefs"))
            unit = self.linear_unit if unit == "mayaPrefs" else unit
            if unit not in _LINEAR_CM:
                raise RuntimeError(f"mayaUSDExport: invalid unit '{unit}'")
            k = _LINEAR_CM[unit]
            up = str(flags.get("upAxis", "mayaPrefs"))
            up = self.up_axis if up == "mayaPrefs" else up.lower()
        else:  # internal unit (cm) only; up axis from Maya's preference
            k, up = 1.0, self.up_axis
        default = str(flags.get("defaultPrim", ""))
        if not default:
            if v >= (0, 30):
                default = str(flags.get("rootPrim", "")).strip("/") or (roots[0] if roots else "")
            else:
                default = parent or (roots[0] if roots else "")
        meta = [f'    defaultPrim = "{default}"'] if default else []
        meta += [f"    metersPerUnit = {k / 100.0}", f'    upAxis = "{up.upper()}"']
        lines = ["#usda 1.0", "(", *meta, ")", ""]
        depth = 1 if parent else 0
        if parent:  # everything under one prim
            lines += [f'def {parent_type} "{parent}"', "{"]
        for key in roots:  # proxy shapes are not exported by mayaUSDExport
            lines += self._usd_prim(key, depth, k)
        if parent:
            lines += ["}", ""]
        from .hou import write_layer

        write_layer(file, "\n".join(lines))

    def _usd_prim(self, key: str, depth: int, k: float) -> list[str]:
        pad = "    " * depth
        children = [c for c, n in self.nodes.items() if n.parent == key]
        meshes = [c for c in children if self.nodes[c].type == "mesh"]
        prim_type = "Mesh" if len(meshes) == 1 else "Xform"  # transform + shape: one prim
        tx, ty, tz = (v / k for v in self.nodes[key].attrs["translate"][1])
        lines = [f'{pad}def {prim_type} "{key}"', f"{pad}{{", f"{pad}    double3 xformOp:translate = ({tx}, {ty}, {tz})",
                 f'{pad}    uniform token[] xformOpOrder = ["xformOp:translate"]']
        if prim_type == "Mesh":
            points = ", ".join(f"({x / k}, {y / k}, {z / k})" for x, y, z in self.nodes[meshes[0]].points)
            lines.append(f"{pad}    point3f[] points = [{points}]")
        for child in children:
            if self.nodes[child].type == "transform":
                lines += self._usd_prim(child, depth + 1, k)
        return [*lines, f"{pad}}}", ""]

    def _layer_editor(self, layer: str, *, edit: bool = False, discardEdits: bool = False) -> None:
        # mayaUsdLayerEditor -edit -discardEdits LAYER reloads the layer from disk
        if edit and discardEdits:
            self.layer_reloads.append(layer)

    def _no_ui(self, command: str) -> None:
        if self.batch:
            raise RuntimeError(f"{command}: this command is not available in batch mode (no UI)")

    def _menu(self, name: str = "", *, exists: bool = False, label: str = "", parent: str = "", tearOff: bool = False) -> Any:
        if exists:
            return name in self.menus
        self._no_ui("menu")
        if parent != "MayaWindow":
            raise RuntimeError(f"menu: parent window '{parent}' not found")
        key = self._unique_menu(name or "menu1")
        self.menus[key] = {"label": label, "parent": parent, "items": []}
        return key

    def _unique_menu(self, name: str) -> str:
        n, key = 1, name
        while key in self.menus:
            key = f"{name}{n}"
            n += 1
        return key

    def _menu_item(self, *, parent: str, label: str = "", divider: bool = False, command: Any = None, annotation: str = "") -> str:
        self._no_ui("menuItem")
        if parent not in self.menus:
            raise RuntimeError(f"menuItem: menu '{parent}' not found")
        self.menus[parent]["items"].append({"label": label, "divider": divider, "command": command, "annotation": annotation})
        return f"{parent}|item{len(self.menus[parent]['items'])}"

    def _shelf_layout(self, name: str = "", *, exists: bool = False, parent: str = "") -> Any:
        if exists:
            return name in self.shelves
        self._no_ui("shelfLayout")
        if parent != SHELF_TOP:
            raise RuntimeError(f"shelfLayout: parent '{parent}' not found")
        if name and name in self.shelves:
            raise RuntimeError(f"Object's name '{name}' is not unique.")
        key, n = name, 1
        while not key or key in self.shelves:
            key, n = f"shelfLayout{n}", n + 1
        self.shelves[key] = []
        return key

    def _shelf_tab_layout(self, name: str, *, query: bool = False, childArray: bool = False) -> Any:
        self._no_ui("shelfTabLayout")
        if name != SHELF_TOP or not (query and childArray):
            raise RuntimeError(f"shelfTabLayout: only '{SHELF_TOP}' -query -childArray is modelled")
        return list(self.shelves) or None

    def _shelf_button(self, *, parent: str, label: str = "", command: Any = None,
                      sourceType: str = "mel", annotation: str = "", image: str = "",
                      imageOverlayLabel: str = "") -> str:
        self._no_ui("shelfButton")
        if parent not in self.shelves:
            raise RuntimeError(f"shelfButton: shelf '{parent}' not found")
        if sourceType not in ("mel", "python"):
            raise RuntimeError(f"shelfButton: invalid sourceType '{sourceType}'")
        self.shelves[parent].append({"label": label, "command": command, "sourceType": sourceType,
                                     "annotation": annotation, "image": image,
                                     "imageOverlayLabel": imageOverlayLabel})
        return f"{parent}|shelfButton{len(self.shelves[parent])}"

    def _delete_ui(self, name: str, *, menu: bool = False, layout: bool = False) -> None:
        if layout:
            if name not in self.shelves:
                raise RuntimeError(f"Object '{name}' not found.")
            del self.shelves[name]
            return
        if name not in self.menus:
            raise RuntimeError(f"Object '{name}' not found.")
        del self.menus[name]

    def _eval_deferred(self, fn: Callable[[], Any], *, lowestPriority: bool = False) -> list[str]:
        self.deferred.append(fn)
        return []

    def _mel_eval(self, code: str) -> Any:
        if "$gMainWindow" in code:
            return "" if self.batch else "MayaWindow"
        if "$gShelfTopLevel" in code:
            return "" if self.batch else SHELF_TOP
        raise RuntimeError(f"mel: unknown code {code!r}")

    # -- maya.api.OpenMaya / maya.OpenMayaUI --------------------------------------------
    def _make_openmaya(self) -> types.ModuleType:
        om = types.ModuleType("maya.api.OpenMaya")
        fake = self

        class MMessage:
            @staticmethod
            def removeCallback(callback_id: int) -> None:
                if callback_id not in fake.callbacks:
                    raise RuntimeError("(kInvalidParameter): Invalid callback id")
                del fake.callbacks[callback_id]

        class MSceneMessage(MMessage):
            kAfterOpen = 6
            kAfterNew = 3

            @staticmethod
            def addCallback(message: int, fn: Callable[..., Any], client_data: Any = None) -> int:
                fake.calls.append(("MSceneMessage.addCallback", (message, fn), {}))
                callback_id = fake._next_callback
                fake._next_callback += 1
                fake.callbacks[callback_id] = (message, fn)
                return callback_id

        class MDistance:
            kInvalid, kInches, kFeet, kYards, kMiles = 0, 1, 2, 3, 4
            kMillimeters, kCentimeters, kKilometers, kMeters = 5, 6, 7, 8

            @staticmethod
            def internalUnit() -> int:
                return MDistance.kCentimeters  # Maya's internal unit (plug-ins may change it)

        om.MDistance = MDistance  # type: ignore[attr-defined]
        om.MMessage = MMessage  # type: ignore[attr-defined]
        om.MSceneMessage = MSceneMessage  # type: ignore[attr-defined]
        return om

    def _make_openmayaui(self) -> types.ModuleType:
        omui = types.ModuleType("maya.OpenMayaUI")
        fake = self

        class MQtUtil:
            @staticmethod
            def mainWindow() -> int | None:
                return None if fake.batch else 0x7F00DEAD

        omui.MQtUtil = MQtUtil  # type: ignore[attr-defined]
        return omui


def _default_attrs(node_type: str) -> dict[str, list[Any]]:
    return {name: [kind, value] for name, (kind, value) in _NODE_ATTRS[node_type].items()}
