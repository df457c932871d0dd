"""A small fake of Houdini's ``hou`` module (and ``hdefereval``), for the parts setpiece uses.

It models a Houdini session the way ``hou`` documents it:

- ``/stage`` is a LOP network; ``createNode(type, name)`` makes a child, appends a
  number when the name is taken (``Chair`` then ``Chair1``), raises
  ``hou.OperationFailed`` for an unknown node type or an invalid name;
- a destroyed node raises ``hou.ObjectWasDeleted`` on any further use;
- parameters are typed: string parms take strings (``TypeError`` otherwise), buttons
  are pressed, not set; ``node.parm(name)`` is None for a missing parm and
  ``setParms`` with an unknown name raises ``hou.OperationFailed``;
- ``parmTemplateGroup()`` returns a copy; only ``setParmTemplateGroup`` adds the new
  (spare) parameters to the node;
- wiring (``setInput``, ``inputs``, ``outputs``) and one display flag per network;
- the ``reference`` LOP as Reference 2.0 (``reference::2.0``, Houdini 19.5+: SideFX's
  reference.html "Since 19.5"), which keeps two groups of parms: ``primpath``/``reftype``
  for what its second (multi) input references, and a multiparm of file references,
  ``num_files`` with ``filepath#``, ``primpath#`` (default ``/$OS``) and ``reftype#``
  (``file``; ``payload`` as public scripts set it). Only the file entries reference files:
  setting ``primpath`` alone leaves the file's prim at ``primpath1``. A parm dump of a
  Reference 2.0 node in public code lists ``primpath``, ``refprimpath``, ``reftype``,
  ``files_group``, ``num_files``; ``num_files`` resizes the file entries (``filepath2``
  does not exist while it is 1); plus ``reload``,
  the ``xform`` (Transform) LOP (``primpattern``; float ``tx``..``sz``, ``shear1``..3,
  ``scale``; toggles ``xforminworldspace`` (on by default) and ``setabsolutexform``
  (off); menus ``xOrd`` = ``srt``, ``rOrd`` = ``xyz``) and ``usd_rop`` (``lopoutput``;
  pressing ``execute`` writes a .usda of its input's chain: a referencing prim per
  reference LOP, and for a Transform LOP in local, absolute mode the prim's transform
  as the ops that mode authors, an ``xformOpOrder`` holding them alone; other modes
  raise ``NotImplementedError``; no input raises ``hou.OperationFailed``);
- float parms take numbers (``TypeError`` for a string), toggles take 0/1 or bools,
  menus take their tokens or their index;
- ``hou.hipFile``: ``save`` writes the scene (JSON), ``load`` reads it back and fires
  ``AfterLoad`` event callbacks, ``clear`` resets to an empty ``/stage``;
- for publishing: spare toggles (``hou.ToggleParmTemplate``); the ``configurelayer`` LOP's
  ``setdefaultprim``/``defaultprim`` (the layer's ``defaultPrim``); the layer metadata the
  USD ROP writes: ``metersPerUnit`` from ``hou.lop.defaultMetersPerUnit()`` (0, the
  default, meaning Houdini's Unit Length, 1 m) and ``upAxis`` from
  ``hou.lop.defaultUpAxis()`` when set; ``cook()`` records ``errors()``: a reference or
  sublayer LOP whose file does not exist fails to cook (the fake's message is its own
  wording); ``inputAncestors()``; ``hou.clearAllSelected()``; ``setSelected(on, clear_all_selected)`` and
  ``isSelected()``.

Calls are recorded in ``FakeHou.calls``.
"""

from __future__ import annotations

import copy
import enum
import json
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


class Error(Exception):
    def instanceMessage(self) -> str:
        return str(self)


class OperationFailed(Error):
    pass


class ObjectWasDeleted(Error):
    pass


class hipFileEventType(enum.Enum):
    BeforeClear = 0
    AfterClear = 1
    BeforeLoad = 2
    AfterLoad = 3
    BeforeMerge = 4
    AfterMerge = 5
    BeforeSave = 6
    AfterSave = 7


class severityType(enum.Enum):
    Message = 0
    ImportantMessage = 1
    Warning = 2
    Error = 3
    Fatal = 4


# -- parm templates --------------------------------------------------------------------


class ParmTemplate:
    def __init__(self, name: str, label: str) -> None:
        self._name, self._label = name, label

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label


class StringParmTemplate(ParmTemplate):
    def __init__(self, name: str, label: str, num_components: int, default_value: tuple[str, ...] = (), **_: Any) -> None:
        super().__init__(name, label)
        if num_components != 1:
            raise OperationFailed("the fake only models 1-component string parms")
        self.default = default_value[0] if default_value else ""


class ToggleParmTemplate(ParmTemplate):
    def __init__(self, name: str, label: str, default_value: bool = False, **_: Any) -> None:
        super().__init__(name, label)
        self.default = int(bool(default_value))


class FolderParmTemplate(ParmTemplate):
    def __init__(self, name: str, label: str, parm_templates: list[ParmTemplate] | tuple[ParmTemplate, ...] = (), **_: Any) -> None:
        super().__init__(name, label)
        self.templates = list(parm_templates)


class ParmTemplateGroup:
    def __init__(self, parm_templates: list[ParmTemplate] | tuple[ParmTemplate, ...] = ()) -> None:
        self.templates = list(parm_templates)

    def _walk(self) -> list[ParmTemplate]:
        out: list[ParmTemplate] = []
        stack = list(self.templates)
        while stack:
            t = stack.pop(0)
            out.append(t)
            if isinstance(t, FolderParmTemplate):
                stack[0:0] = t.templates
        return out

    def find(self, name: str) -> ParmTemplate | None:
        return next((t for t in self._walk() if t.name() == name), None)

    def findFolder(self, label: str) -> ParmTemplate | None:
        return next((t for t in self._walk() if isinstance(t, FolderParmTemplate) and t.label() == label), None)

    def append(self, template: ParmTemplate) -> None:
        if self.find(template.name()) is not None:
            raise OperationFailed(f"Duplicate parameter name: {template.name()}")
        self.templates.append(template)

    addParmTemplate = append

    def entries(self) -> tuple[ParmTemplate, ...]:
        return tuple(self.templates)


# -- nodes and parms -------------------------------------------------------------------

_NODE_TYPES: dict[str, dict[str, tuple[str, Any]]] = {
    "lopnet": {},
    "reference": {
        "primpath": ("string", "/$OS"),  # the multi-input's references, not the files'
        "reftype": ("string", "file"),
        "num_files": ("multiparm", 1),
        "filepath1": ("string", ""),
        "primpath1": ("string", "/$OS"),
        "reftype1": ("string", "file"),
        "reload": ("button", None),
    },
    "sublayer": {"filepath1": ("string", ""), "reload": ("button", None)},
    "xform": {
        "primpattern": ("string", ""),
        "xformdescription": ("string", "$OS"),
        "xforminworldspace": ("toggle", 1),
        "setabsolutexform": ("toggle", 0),
        "xOrd": ("menu:srt,str,rst,rts,tsr,trs", "srt"),
        "rOrd": ("menu:xyz,xzy,yxz,yzx,zxy,zyx", "xyz"),
        **{f"{c}{a}": ("float", 0.0) for c in "tr" for a in "xyz"},
        **{f"s{a}": ("float", 1.0) for a in "xyz"},
        **{f"shear{i}": ("float", 0.0) for i in (1, 2, 3)},
        "scale": ("float", 1.0),
    },
    "usd_rop": {"lopoutput": ("string", "$HIP/usd/$OS.usd"), "execute": ("button", None)},
    "configurelayer": {"setdefaultprim": ("toggle", 0), "defaultprim": ("string", "")},
}
_VALID_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


class NodeType:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


class Parm:
    def __init__(self, node: Node, name: str, kind: str, value: Any, spare: bool = False) -> None:
        self._node, self._name, self.kind, self.value, self.spare = node, name, kind, value, spare
        self.presses = 0

    def name(self) -> str:
        return self._name

    def node(self) -> Node:
        return self._node

    def path(self) -> str:
        return f"{self._node.path()}/{self._name}"

    def set(self, value: Any) -> None:
        self._node._alive()
        self._node.session.calls.append(("Parm.set", (self.path(), value), {}))
        if self.kind == "button":
            raise OperationFailed(f"{self.path()} is a button: press it, do not set it")
        if self.kind == "string" and not isinstance(value, str):
            raise TypeError(f"Invalid value for string parameter {self.path()}: {value!r}")
        if self.kind == "float":
            if isinstance(value, str) or not isinstance(value, (int, float)):
                raise TypeError(f"Invalid value for float parameter {self.path()}: {value!r}")
            value = float(value)
        if self.kind == "multiparm":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise TypeError(f"Invalid instance count for {self.path()}: {value!r}")
            self.value = value
            self._node._resize_files(value)
            return
        if self.kind == "toggle":
            if value not in (0, 1):  # True and False included
                raise TypeError(f"Invalid value for toggle parameter {self.path()}: {value!r}")
            value = int(value)
        if self.kind.startswith("menu:"):
            tokens = self.kind[5:].split(",")
            if isinstance(value, int) and 0 <= value < len(tokens):
                value = tokens[value]
            elif value not in tokens:
                raise OperationFailed(f"Invalid menu value for {self.path()}: {value!r}")
        self.value = value

    def eval(self) -> Any:
        self._node._alive()
        return self.evalAsString() if self.kind == "string" else self.value

    def unexpandedString(self) -> str:
        return str(self.value)

    def evalAsString(self) -> str:
        self._node._alive()
        return str(self.value).replace("$OS", self._node.name())

    def pressButton(self) -> None:
        self._node._alive()
        self._node.session.calls.append(("Parm.pressButton", (self.path(),), {}))
        self.presses += 1
        self._node._pressed(self._name)


class Node:
    def __init__(self, session: FakeHou, parent: Node | None, type_name: str, name: str) -> None:
        self.session = session
        self._parent = parent
        self._type = NodeType(type_name)
        self._name = name
        self._children: list[Node] = []
        self._inputs: list[Node | None] = []
        self._display = False
        self._selected = False
        self.destroyed = False
        self.parms: dict[str, Parm] = {
            n: Parm(self, n, kind, value) for n, (kind, value) in _NODE_TYPES.get(type_name, {}).items()
        }
        self.spare_templates: list[ParmTemplate] = []
        self.user_data: dict[str, str] = {}
        self._errors: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<hou.LopNode of type {self._type.name()} at {self.path()}>"

    def _alive(self) -> None:
        if self.destroyed:
            raise ObjectWasDeleted("Attempt to access an object that no longer exists in Houdini.")

    # identity
    def name(self) -> str:
        self._alive()
        return self._name

    def path(self) -> str:
        self._alive()
        if self._parent is None:
            return "/"
        base = self._parent.path().rstrip("/")
        return f"{base}/{self._name}"

    def type(self) -> NodeType:
        self._alive()
        return self._type

    def parent(self) -> Node | None:
        self._alive()
        return self._parent

    # children
    def children(self) -> tuple[Node, ...]:
        self._alive()
        return tuple(self._children)

    def node(self, path: str) -> Node | None:
        self._alive()
        return self.session.node(path if path.startswith("/") else f"{self.path().rstrip('/')}/{path}")

    def createNode(self, node_type_name: str, node_name: str | None = None, **_: Any) -> Node:
        self._alive()
        self.session.calls.append(("createNode", (self.path(), node_type_name, node_name), {}))
        if node_type_name not in _NODE_TYPES or node_type_name == "lopnet":
            raise OperationFailed(f"Invalid node type name: {node_type_name}")
        if node_name is not None and not _VALID_NAME.match(node_name):
            raise OperationFailed(f"Invalid node name: {node_name}")
        wanted = node_name or f"{node_type_name}1"
        taken = {c._name for c in self._children}
        name = wanted
        if name in taken:
            base = re.sub(r"\d+$", "", wanted)
            n = 1
            while f"{base}{n}" in taken:
                n += 1
            name = f"{base}{n}"
        node = Node(self.session, self, node_type_name, name)
        self._children.append(node)
        return node

    def displayNode(self) -> Node | None:
        self._alive()
        return next((c for c in self._children if c._display), None)

    # flags, wiring, layout
    def setDisplayFlag(self, on: bool) -> None:
        self._alive()
        if on and self._parent is not None:
            for sibling in self._parent._children:
                sibling._display = False
        self._display = on

    def isDisplayFlagSet(self) -> bool:
        self._alive()
        return self._display

    def setSelected(self, on: bool, clear_all_selected: bool = False) -> None:
        self._alive()
        if clear_all_selected:
            for n in self.session.all_nodes():
                n._selected = False
        self._selected = on

    def isSelected(self) -> bool:
        self._alive()
        return self._selected

    def setInput(self, input_index: int, item: Node | None, output_index: int = 0) -> None:
        self._alive()
        if item is not None:
            item._alive()
            if item._parent is not self._parent:
                raise OperationFailed("Cannot connect nodes in different networks")
        while len(self._inputs) <= input_index:
            self._inputs.append(None)
        self._inputs[input_index] = item

    def inputs(self) -> tuple[Node | None, ...]:
        self._alive()
        inputs = list(self._inputs)
        while inputs and inputs[-1] is None:
            inputs.pop()
        return tuple(inputs)

    def outputs(self) -> tuple[Node, ...]:
        self._alive()
        if self._parent is None:
            return ()
        return tuple(c for c in self._parent._children if self in c._inputs)

    def moveToGoodPosition(self, *_: Any, **__: Any) -> tuple[float, float]:
        self._alive()
        return (0.0, float(-len(self._parent._children) if self._parent else 0))

    def destroy(self, disable_safety_checks: bool = False) -> None:
        self._alive()
        self.session.calls.append(("destroy", (self.path(),), {}))
        if self._parent is not None:
            self._parent._children.remove(self)
            for sibling in self._parent._children:
                sibling._inputs = [None if i is self else i for i in sibling._inputs]
        for child in list(self._children):
            child.destroy()
        self.destroyed = True

    # cooking and the composed stage (LOPs)
    def cook(self, force: bool = False) -> None:
        self._alive()
        self.session.calls.append(("cook", (self.path(),), {"force": force}))
        for node in (*reversed(self.inputAncestors()), self):
            node._cooked = True
            node._errors = node._cook_errors()

    def _resize_files(self, count: int) -> None:
        """A Reference 2.0 ``num_files`` change: file entries 1..count exist, no others."""
        for name in [n for n in self.parms if re.fullmatch(r"(filepath|primpath|reftype)\d+", n)]:
            if int(re.sub(r"\D", "", name)) > count:
                del self.parms[name]
        for i in range(1, count + 1):
            for base, default in (("filepath", ""), ("primpath", "/$OS"), ("reftype", "file")):
                if f"{base}{i}" not in self.parms:
                    self.parms[f"{base}{i}"] = Parm(self, f"{base}{i}", "string", default)

    def file_references(self) -> list[tuple[str, str]]:
        """(prim path, file) of a Reference 2.0 node's file entries with a file set."""
        out = []
        for i in range(1, int(self.parms["num_files"].value) + 1):
            path = self.parms[f"filepath{i}"].evalAsString()
            if path:
                out.append((self.parms[f"primpath{i}"].evalAsString(), path))
        return out

    def _cook_errors(self) -> tuple[str, ...]:
        paths: list[str] = []
        if self._type.name() == "reference":
            paths = [p for _, p in self.file_references()]
        elif self._type.name() == "sublayer":
            paths = [self.parms["filepath1"].evalAsString()]
        for path in paths:
            if path and not Path(path).is_file():
                return (f"Unable to open layer: {path}",)
        return ()

    def errors(self) -> tuple[str, ...]:
        """The errors of this node's last cook."""
        self._alive()
        return self._errors

    def inputAncestors(self, include_ref_inputs: bool = True, follow_subnets: bool = False,
                       only_used_inputs: bool = False) -> tuple[Node, ...]:
        self._alive()
        out: list[Node] = []
        stack = [i for i in self.inputs() if i is not None]
        while stack:
            n = stack.pop(0)
            if n not in out:
                out.append(n)
                stack.extend(i for i in n.inputs() if i is not None)
        return tuple(out)

    def stage(self) -> Any:
        """The stage this LOP's chain composes (as the USD ROP would write it), read-only.

        Like ``hou.LopNode.stage()`` in hython, it needs a cook first.
        """
        self._alive()
        if not getattr(self, "_cooked", False):
            raise OperationFailed(f"{self.path()} has not been cooked")
        from pxr import Sdf, Usd

        layer = Sdf.Layer.CreateAnonymous(".usda")
        layer.ImportFromString(_usda(*self.session._chain_prims(self), meta=self.session._layer_meta(self)))
        return Usd.Stage.Open(layer, Usd.Stage.LoadNone)

    # user data (saved with the .hip)
    def setUserData(self, name: str, value: str) -> None:
        self._alive()
        if not isinstance(value, str):
            raise TypeError("setUserData: value must be a string")
        self.user_data[name] = value

    def userData(self, name: str) -> str | None:
        self._alive()
        return self.user_data.get(name)

    # parms
    def parm(self, parm_path: str) -> Parm | None:
        self._alive()
        return self.parms.get(parm_path)

    def evalParm(self, parm_path: str) -> Any:
        parm = self.parm(parm_path)
        if parm is None:
            raise OperationFailed(f"Invalid parameter name: {parm_path}")
        return parm.eval()

    def setParms(self, parm_dict: dict[str, Any]) -> None:
        self._alive()
        for name in parm_dict:
            if name not in self.parms:
                raise OperationFailed(f"Invalid parameter name: {name}")
        for name, value in parm_dict.items():
            self.parms[name].set(value)

    def parmTemplateGroup(self) -> ParmTemplateGroup:
        self._alive()
        return ParmTemplateGroup(copy.deepcopy(self.spare_templates))

    def setParmTemplateGroup(self, group: ParmTemplateGroup, rename_conflicting_parms: bool = False) -> None:
        self._alive()
        self.session.calls.append(("setParmTemplateGroup", (self.path(),), {}))
        self.spare_templates = copy.deepcopy(group.templates)
        wanted = {t.name(): t for t in group._walk() if isinstance(t, (StringParmTemplate, ToggleParmTemplate))}
        for name, template in wanted.items():
            if name in self.parms and not self.parms[name].spare:
                raise OperationFailed(f"Parameter {name} already exists on {self.path()}")
            if name not in self.parms:
                kind = "toggle" if isinstance(template, ToggleParmTemplate) else "string"
                self.parms[name] = Parm(self, name, kind, template.default, spare=True)
        for name in [n for n, p in self.parms.items() if p.spare and n not in wanted]:
            del self.parms[name]

    # buttons
    def _pressed(self, parm_name: str) -> None:
        if self._type.name() == "usd_rop" and parm_name == "execute":
            self.session._execute_rop(self)


class FakeHou:
    """The fake Houdini session; ``module`` is what ``import hou`` returns."""

    def __init__(self, *, ui: bool = False, version: str = "20.5.410") -> None:
        self.ui_available = ui
        self.version = version
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.event_callbacks: list[Callable[[Any], None]] = []
        self.deferred: list[Callable[[], Any]] = []
        self.messages: list[tuple[str, Any]] = []
        self.answer = 0  # the button index displayMessage returns
        self.hip_path = ""
        self.main_window = object()
        self.default_meters_per_unit = 0.0  # hou.lop.defaultMetersPerUnit(): 0 = Unit Length
        self.default_up_axis = ""  # hou.lop.defaultUpAxis(): "" = USD's fallback (Y)
        self.unit_length = 1.0  # Houdini's Unit Length preference, in metres
        self._clear()
        self.module = self._make_module()
        self.hdefereval = types.ModuleType("hdefereval")
        self.hdefereval.executeDeferred = self.deferred.append  # type: ignore[attr-defined]

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeHou:
        monkeypatch.setitem(sys.modules, "hou", self.module)
        monkeypatch.setitem(sys.modules, "hdefereval", self.hdefereval)
        return self

    # -- session -----------------------------------------------------------------------
    def _clear(self) -> None:
        self.root = Node(self, None, "root", "")
        stage = Node(self, self.root, "lopnet", "stage")
        self.root._children.append(stage)
        self.hip_path = ""

    def all_nodes(self) -> list[Node]:
        out, stack = [], [self.root]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(n._children)
        return out

    def node(self, path: str) -> Node | None:
        if not path.startswith("/"):
            raise OperationFailed(f"Invalid node path: {path}")
        current: Node | None = self.root
        for part in [p for p in path.split("/") if p]:
            current = next((c for c in current._children if c._name == part), None) if current else None
        return current

    @property
    def stage(self) -> Node:
        stage = self.node("/stage")
        assert stage is not None
        return stage

    def run_deferred(self) -> None:
        while self.deferred:
            self.deferred.pop(0)()

    def _fire(self, event: hipFileEventType) -> None:
        for callback in list(self.event_callbacks):
            callback(event)

    def _execute_rop(self, rop: Node) -> None:
        source = rop.inputs()[0] if rop.inputs() else None
        if source is None:
            raise OperationFailed(f"The attempted operation failed.\nError: {rop.path()}: No input LOP")
        out = rop.parms["lopoutput"].evalAsString()
        if "$HIP" in out:
            raise OperationFailed(f"{rop.path()}: unexpanded output path {out}")
        write_layer(out, _usda(*self._chain_prims(source), meta=self._layer_meta(source)))

    def _layer_meta(self, last: Node) -> dict[str, str]:
        """The layer metadata the stage of ``last`` carries (what the USD ROP saves)."""
        meta: dict[str, str] = {}
        chain = [last, *last.inputAncestors()]
        for n in reversed(chain):
            if n.type().name() == "configurelayer" and n.parms["setdefaultprim"].value:
                meta["defaultPrim"] = '"' + n.parms["defaultprim"].evalAsString().lstrip("/") + '"'
        mpu = self.default_meters_per_unit or self.unit_length
        meta["metersPerUnit"] = repr(float(mpu))
        if self.default_up_axis:
            meta["upAxis"] = f'"{self.default_up_axis}"'
        return meta

    def _chain_prims(self, last: Node) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The referencing prims and Transform LOP ops of the chain ending at ``last``."""
        chain: list[Node] = []
        node: Node | None = last
        while node is not None:
            chain.insert(0, node)
            node = node.inputs()[0] if node.inputs() else None
        prims: dict[str, str] = {}
        xforms: dict[str, list[str]] = {}
        for n in chain:
            if n.type().name() == "reference":
                prims.update(n.file_references())
            elif n.type().name() == "xform":
                xforms[n.parms["primpattern"].evalAsString()] = _xform_ops(n)
        return prims, xforms

    # -- the hou module ----------------------------------------------------------------
    def houdini_path(self, path_variable: str | None = None) -> tuple[str, ...]:
        """``hou.houdiniPath(path_variable)``: the components of a Houdini search path, in
        order (sidefx.com/docs/houdini/hom/hou/houdiniPath.html: by default
        ``HOUDINI_PATH``'s, else the named path's, e.g. ``HOUDINI_OTLSCAN_PATH``). In these
        variables ``&`` stands for the path's default (sidefx.com/docs/houdini/basics/
        houdinipath.html), which for ``HOUDINI_OTLSCAN_PATH`` is ``@/otls``, ``@`` being each
        Houdini path folder (sidefx.com/docs/houdini9.1/assets/install). The fake's default
        Houdini path is ``~/houdini<major.minor>`` then ``$HFS/houdini``
        (``/opt/hfs<version>/houdini``); it models these two variables only."""
        import os

        major_minor = ".".join(self.version.split(".")[:2])
        home = [os.path.expanduser(f"~/houdini{major_minor}"), f"/opt/hfs{self.version}/houdini"]
        defaults = {"HOUDINI_PATH": home, "HOUDINI_OTLSCAN_PATH": [f"{h}/otls" for h in home]}
        var = path_variable or "HOUDINI_PATH"
        if var not in defaults:
            raise NotImplementedError(f"the fake models HOUDINI_PATH and HOUDINI_OTLSCAN_PATH only, not {var}")
        value = os.environ.get(var, "")
        if not value:
            return tuple(defaults[var])
        out: list[str] = []
        for part in value.split(os.pathsep):
            out.extend(defaults[var] if part == "&" else [part] if part else [])
        return tuple(out)

    def _make_module(self) -> types.ModuleType:
        hou = types.ModuleType("hou")
        fake = self

        class hipFile:
            @staticmethod
            def clear(suppress_save_prompt: bool = False) -> bool:
                fake.calls.append(("hipFile.clear", (), {"suppress_save_prompt": suppress_save_prompt}))
                fake._fire(hipFileEventType.BeforeClear)
                fake._clear()
                fake._fire(hipFileEventType.AfterClear)
                return True

            @staticmethod
            def save(file_name: str | None = None, save_to_recent_files: bool = True) -> None:
                fake.calls.append(("hipFile.save", (file_name,), {}))
                target = file_name or fake.hip_path
                if not target:
                    raise OperationFailed("No file name given for a new file")
                if not Path(target).parent.is_dir():
                    raise OperationFailed(f"Unable to save {target}: no such directory")
                stage = fake.stage
                data = [
                    {
                        "name": c._name,
                        "type": c._type.name(),
                        "inputs": [i._name if i else None for i in c._inputs],
                        "display": c._display,
                        "parms": {n: p.value for n, p in c.parms.items() if p.kind != "button"},
                        "spare": {n: p.kind for n, p in c.parms.items() if p.spare},
                        "user_data": c.user_data,
                    }
                    for c in stage._children
                ]
                Path(target).write_text(json.dumps({"nodes": data, "user_data": fake.root.user_data}), encoding="utf-8")
                fake.hip_path = target

            @staticmethod
            def load(file_name: str, suppress_save_prompt: bool = False, ignore_load_warnings: bool = False) -> None:
                fake.calls.append(("hipFile.load", (file_name,), {}))
                if not Path(file_name).is_file():
                    raise OperationFailed(f"Unable to open file: {file_name}")
                try:
                    saved = json.loads(Path(file_name).read_text(encoding="utf-8"))
                    data = saved["nodes"]
                except ValueError:
                    raise OperationFailed(f"{file_name} is not a valid hip file")
                fake._fire(hipFileEventType.BeforeLoad)
                fake._clear()
                stage = fake.stage
                by_name: dict[str, Node] = {}
                for item in data:
                    node = Node(fake, stage, item["type"], item["name"])
                    for name, kind in item["spare"].items():
                        node.parms[name] = Parm(node, name, kind, "", spare=True)
                    for name, value in item["parms"].items():
                        node.parms[name].value = value
                    node._display = item["display"]
                    node.user_data = dict(item["user_data"])
                    stage._children.append(node)
                    by_name[node._name] = node
                for item in data:
                    by_name[item["name"]]._inputs = [by_name[i] if i else None for i in item["inputs"]]
                fake.root.user_data = dict(saved["user_data"])
                fake.hip_path = file_name
                fake._fire(hipFileEventType.AfterLoad)

            @staticmethod
            def path() -> str:
                return fake.hip_path or str(Path.cwd() / "untitled.hip")

            @staticmethod
            def name() -> str:
                return Path(hipFile.path()).name

            @staticmethod
            def isNewFile() -> bool:
                return not fake.hip_path

            @staticmethod
            def addEventCallback(callback: Callable[[Any], None]) -> None:
                fake.event_callbacks.append(callback)

            @staticmethod
            def removeEventCallback(callback: Callable[[Any], None]) -> None:
                if callback not in fake.event_callbacks:
                    raise OperationFailed("Callback is not registered")
                fake.event_callbacks.remove(callback)

        class qt:
            @staticmethod
            def mainWindow() -> Any:
                if not fake.ui_available:
                    raise RuntimeError("hou.qt.mainWindow: no UI")
                return fake.main_window

        class ui:
            @staticmethod
            def displayMessage(text: str, buttons: tuple[str, ...] = ("OK",), severity: Any = severityType.Message, **_: Any) -> int:
                if not fake.ui_available:
                    raise RuntimeError("hou.ui is not available")
                fake.messages.append((text, severity))
                return fake.answer if len(buttons) > 1 else 0

        class lop:
            @staticmethod
            def defaultMetersPerUnit() -> float:
                return fake.default_meters_per_unit

            @staticmethod
            def defaultUpAxis() -> str:
                return fake.default_up_axis

        def clear_all_selected() -> None:
            for n in self.all_nodes():
                n._selected = False

        attrs: dict[str, Any] = {
            "lop": lop,
            "clearAllSelected": clear_all_selected,
            "ToggleParmTemplate": ToggleParmTemplate,
            "Error": Error,
            "OperationFailed": OperationFailed,
            "ObjectWasDeleted": ObjectWasDeleted,
            "hipFileEventType": hipFileEventType,
            "severityType": severityType,
            "ParmTemplateGroup": ParmTemplateGroup,
            "StringParmTemplate": StringParmTemplate,
            "FolderParmTemplate": FolderParmTemplate,
            "hipFile": hipFile,
            "qt": qt,
            "ui": ui,
            "node": self.node,
            "selectedNodes": lambda: tuple(n for n in self.all_nodes() if n._selected and not n.destroyed),
            "isUIAvailable": lambda: self.ui_available,
            "applicationVersionString": lambda: self.version,
            "houdiniPath": self.houdini_path,
            "applicationVersion": lambda include_patch=False: tuple(int(p) for p in self.version.split(".")),
        }
        for name, value in attrs.items():
            setattr(hou, name, value)
        return hou


def _xform_ops(node: Node) -> list[str]:
    """The ops a Transform LOP authors on its prim, for the mode setpiece uses.

    Local space, absolute: the prim's ``xformOpOrder`` holds this node's transform alone
    (Houdini writes one ``xformOp:transform:<name>`` matrix; the fake writes the same
    transform as scale, rotate and translate ops, which USD composes identically).
    """
    p = {n: parm.value for n, parm in node.parms.items()}
    if p["xforminworldspace"] or not p["setabsolutexform"]:
        raise NotImplementedError("the fake models the Transform LOP's local, absolute mode only")
    if (p["xOrd"], p["rOrd"]) != ("srt", "xyz") or any(p[f"shear{i}"] for i in (1, 2, 3)):
        raise NotImplementedError("the fake models srt / xyz without shear only")
    k = p["scale"]
    return [
        f"double3 xformOp:translate = ({p['tx']}, {p['ty']}, {p['tz']})",
        f"double3 xformOp:rotateXYZ = ({p['rx']}, {p['ry']}, {p['rz']})",
        f"double3 xformOp:scale = ({p['sx'] * k}, {p['sy'] * k}, {p['sz'] * k})",
        'uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:rotateXYZ", "xformOp:scale"]',
    ]


def write_layer(path: str, text: str) -> None:
    """Write a .usda text to ``path`` in the format its extension names, as USD writers do
    (a ``.usdc`` is a binary crate file, not text)."""
    if Path(path).suffix.lower() == ".usdc":
        from pxr import Sdf

        layer = Sdf.Layer.CreateAnonymous(".usda")
        layer.ImportFromString(text)
        if not layer.Export(path):
            raise OSError(f"cannot write {path}")
        return
    Path(path).write_text(text, encoding="utf-8")


def _usda(prims: dict[str, str], xforms: dict[str, list[str]] | None = None, *,
          meta: dict[str, str] | None = None) -> str:
    """A .usda with one referencing prim per path (nesting parents as Xforms), and the
    ops of the Transform LOPs whose pattern is exactly one of those paths."""
    tree: dict[str, Any] = {}
    for path, ref in sorted(prims.items()):
        node = tree
        parts = [p for p in path.split("/") if p]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(parts[-1], {})["__ref__"] = ref
        if xforms and path in xforms:
            node[parts[-1]]["__ops__"] = xforms[path]

    def emit(children: dict[str, Any], indent: int) -> list[str]:
        lines = []
        pad = "    " * indent
        for name, sub in children.items():
            if name in ("__ref__", "__ops__"):
                continue
            ref = sub.get("__ref__")
            meta = f" (\n{pad}    prepend references = @{ref}@\n{pad})" if ref else ""
            ops = [f"{pad}    {op}" for op in sub.get("__ops__", [])]
            lines += [f'{pad}def Xform "{name}"{meta}', f"{pad}{{", *ops, *emit(sub, indent + 1), f"{pad}}}"]
        return lines

    header = ["(", *[f"    {k} = {v}" for k, v in (meta or {}).items()], ")"] if meta else []
    return "\n".join(["#usda 1.0", *header, "", *emit(tree, 0), ""])
