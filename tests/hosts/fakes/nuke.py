"""A small fake of Nuke's ``nuke`` module, for the parts setpiece uses.

It models a Nuke script the way the Nuke Python API documents it:

- ``createNode(cls)`` names nodes ``<Class>1``, ``<Class>2``..., selects the new node and
  connects it to the node that was selected (so callers must deselect first), and raises
  ``RuntimeError("<cls>: unknown command")`` for a class this Nuke lacks (GeoImport and
  GeoExport exist from Nuke 15 only);
- ``setName`` uniquifies (``Chair`` then ``Chair1``) and raises ``ValueError`` for an
  invalid name; ``node["missing"]`` raises ``NameError``, ``node.knob("missing")`` is None;
- knobs are typed: a ``String_Knob``/``File_Knob`` takes strings only (``TypeError``);
  buttons are executed; adding a knob twice raises ``ValueError``;
- a deleted node raises ``ValueError("A PythonObject is not attached to a node")``;
- ``scriptSaveAs`` writes the script (JSON) and refuses to overwrite unless asked;
  ``scriptOpen`` reads it back and runs ``onScriptLoad`` callbacks;
- the new 3D system's readers (Foundry reference guide, 3dnew_nodes): ``GeoImport``
  (``file``, ``reload``) lands a file at its own root prims ("GeoImport does not allow you
  to change the path of the object in the scene graph", geoimport.html, 15.1 to 17.1);
  ``GeoReference`` (``file_path``, ``prim_path`` default ``{parent}/{nodename}``,
  ``reference_type`` default Reference: georeference.html 15.1v3) puts the file's default
  prim at ``prim_path``, any number of times (AYON's ayon-nuke GeoReferenceLoader sets
  the same ``file_path`` knob);
- ``execute`` on a ``GeoExport`` writes a .usda of what its input chain of readers
  composes (prim path -> referenced file; a flattening the real node does is not
  modelled). From Nuke 17 its Format knob ``file_type`` exists and defaults to ``abc``
  (geoexport.html 17.0: "Format | file_type | abc"): left so, it writes Alembic, not
  USD; Nuke 15 and 16 have no such knob (the file name's extension decides);
- ``GeoTransform`` (geotransform.html, 15.1v3 and 17.0): transforms the prims its Mask
  matches; the Mask knob is ``mask_patterns`` in Nuke 17 (17.0 reference guide: "Mask |
  mask_patterns"); for Nuke 15 and 16 no Foundry page we could find names the Mask's knob
  (the 15.1v3 guide names the control only; searched for a 15/16 reference in vain), so
  the fake's GeoTransform of those versions has no Mask knob: ``node["mask"]`` raises
  ``NameError`` as Nuke does for an unknown knob, and the adapter refuses the layout
  (only ``setpiece selftest nuke`` in the real app can check the name). The transform knobs are those of its classic
  equivalent TransformGeo ("GeoTransform's classic 3D system equivalent is the
  TransformGeo node", 17.0 guide; transformgeo.html: ``translate``, ``rotate``,
  ``scaling``, ``uniform_scale``, ``xform_order`` default SRT, ``rot_order`` default
  ZXY), typed as three floats; ``xform_op_order`` ("Prim Transform Order", Prepend by
  default: geoxformprim.html; usd-transformations.html 17.0 names it on GeoTransform):
  Prepend puts the node's transform before the prim's own ops, outermost. GeoExport
  writes it so: ``xformOp:translate:geotransform``, ``rotateXYZ`` (``rot_order`` XYZ
  read as USD's rotateXYZ, X first), ``scale``, then the referenced default prim's own
  transform as one matrix op;
- ``scriptClear()`` deletes the nodes but keeps the Root's user knobs unless
  ``clearUserKnobs=True`` (nuke.scriptClear, Nuke 14.0 Python dev guide: "To clear the
  user knobs, pass in clearUserKnobs=True");
- in terminal mode (``nuke -t``: ``env["gui"]`` False) there are no menus;
- for publishing: ``Boolean_Knob`` (bools only); the ``Write`` node, which ``execute``
  renders frame by frame to its ``file`` (``####`` or ``%04d`` replaced by the frame
  number; a missing folder fails as Nuke's "Can't write" error; it needs an input);
  ``scriptSave()`` saves to the script's own name (an unnamed script cannot be saved in
  terminal mode).

Calls are recorded in ``FakeNuke.calls``.
"""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .hou import _usda, write_layer

DETACHED = "A PythonObject is not attached to a node"
_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Knob:
    kind = "knob"

    def __init__(self, name: str, label: str = "", value: Any = "") -> None:
        self._name, self.label, self._value = name, label, value
        self.node: Node | None = None
        self.executed = 0

    def name(self) -> str:
        return self._name

    def value(self) -> Any:
        if self.node is not None:
            self.node._alive()
        return self._value

    def getValue(self) -> Any:
        return self.value()

    def setValue(self, value: Any) -> bool:
        if self.node is not None:
            self.node._alive()
            self.node.session.calls.append(("Knob.setValue", (f"{self.node._name}.{self._name}", value), {}))
        self._check(value)
        self._value = value
        return True

    def _check(self, value: Any) -> None:
        pass

    def execute(self) -> Any:
        raise TypeError(f"{self._name} is not a button")


class String_Knob(Knob):
    kind = "string"

    def __init__(self, name: str, label: str = "", text: str = "") -> None:
        super().__init__(name, label or name, text)

    def _check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise TypeError(f"{self._name}: expected a string, got {type(value).__name__}")


class File_Knob(String_Knob):
    kind = "file"


class Boolean_Knob(Knob):
    kind = "bool"

    def __init__(self, name: str, label: str = "", value: bool = False) -> None:
        super().__init__(name, label or name, value)

    def _check(self, value: Any) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{self._name}: expected a bool, got {type(value).__name__}")


class Tab_Knob(Knob):
    kind = "tab"

    def __init__(self, name: str, label: str = "") -> None:
        super().__init__(name, label or name, None)


class Int_Knob(Knob):
    kind = "int"

    def _check(self, value: Any) -> None:
        if not isinstance(value, int):
            raise TypeError(f"{self._name}: expected an int")


class XYZ_Knob(Knob):
    kind = "xyz"

    def __init__(self, name: str, label: str = "", value: tuple[float, ...] = (0.0, 0.0, 0.0)) -> None:
        super().__init__(name, label or name, list(value))

    def _check(self, value: Any) -> None:
        if (not isinstance(value, (list, tuple)) or len(value) != 3
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise TypeError(f"{self._name}: expected three numbers, got {value!r}")

    def setValue(self, value: Any) -> bool:
        ok = super().setValue(value)
        self._value = [float(v) for v in value]
        return ok


class Enumeration_Knob(Knob):
    kind = "enum"

    def __init__(self, name: str, label: str = "", values: tuple[str, ...] = (),
                 value: str = "") -> None:
        super().__init__(name, label or name, value or (values[0] if values else ""))
        self.values = values

    def _check(self, value: Any) -> None:
        if value not in self.values:
            raise ValueError(f"{self._name}: {value!r} is not one of {', '.join(self.values)}")


class PyScript_Knob(Knob):
    kind = "button"

    def execute(self) -> Any:
        if self.node is not None:
            self.node._alive()
        self.executed += 1
        return None


_CLASSES: dict[str, tuple[int, Callable[[], list[Knob]]]] = {
    # class: (max inputs, knobs)
    "GeoImport": (1, lambda: [File_Knob("file"), PyScript_Knob("reload")]),
    "GeoReference": (1, lambda: [File_Knob("file_path"),
                                 String_Knob("prim_path", text="{parent}/{nodename}"),
                                 Enumeration_Knob("reference_type", values=("Reference", "Payload"))]),
    "GeoExport": (1, lambda: [File_Knob("file")]),
    "ReadGeo2": (1, lambda: [File_Knob("file"), PyScript_Knob("reload")]),
    "GeoTransform": (1, lambda: [XYZ_Knob("translate"), XYZ_Knob("rotate"),
                                 XYZ_Knob("scaling", value=(1.0, 1.0, 1.0)),
                                 Enumeration_Knob("xform_order", values=("SRT", "STR", "RST", "RTS", "TSR", "TRS"), value="SRT"),
                                 Enumeration_Knob("rot_order", values=("ZXY", "XYZ", "YXZ", "YZX", "XZY", "ZYX"), value="ZXY"),
                                 Enumeration_Knob("xform_op_order", values=("Prepend", "Append"), value="Prepend")]),
    "Write": (1, lambda: [File_Knob("file")]),
    "Constant": (0, lambda: []),
    "Root": (0, lambda: [String_Knob("name"), Int_Knob("first_frame", value=1), Int_Knob("last_frame", value=100)]),
}
_NEW_3D = {"GeoImport", "GeoReference", "GeoExport", "GeoTransform"}
#: GeoExport's Format knob from Nuke 17 (geoexport.html 17.0): default abc
_GEOEXPORT_FORMATS = ("usd", "usda", "usdc", "abc", "ply")


class Node:
    def __init__(self, session: FakeNuke, cls: str, name: str) -> None:
        self.session, self._class, self._name = session, cls, name
        self.max_inputs, make_knobs = _CLASSES[cls]
        self.knobs_by_name: dict[str, Knob] = {}
        self._inputs: list[Node | None] = []
        self._selected = False
        self.deleted = False
        for knob in make_knobs():
            self._attach(knob)

    def __repr__(self) -> str:
        return f"<{self._class} {self._name}>"

    def _alive(self) -> None:
        if self.deleted:
            raise ValueError(DETACHED)

    def _attach(self, knob: Knob) -> None:
        if knob.name() in self.knobs_by_name:
            raise ValueError(f"{self._name}: knob {knob.name()} already exists")
        knob.node = self
        self.knobs_by_name[knob.name()] = knob

    def name(self) -> str:
        self._alive()
        return self._name

    def fullName(self) -> str:
        return self.name()

    def Class(self) -> str:
        self._alive()
        return self._class

    def setName(self, name: str, uncollide: bool = True, updateExpressions: bool = False) -> None:
        self._alive()
        if not _VALID_NAME.match(name):
            raise ValueError(f"Invalid name: {name!r}")
        taken = {n._name for n in self.session.nodes if n is not self}
        if name in taken:
            if not uncollide:
                raise ValueError(f"A node called {name} already exists")
            base, n = re.sub(r"\d+$", "", name), 1
            while f"{base}{n}" in taken:
                n += 1
            name = f"{base}{n}"
        self._name = name

    def knob(self, name: str) -> Knob | None:
        self._alive()
        return self.knobs_by_name.get(name)

    def knobs(self) -> dict[str, Knob]:
        self._alive()
        return dict(self.knobs_by_name)

    def __getitem__(self, name: str) -> Knob:
        self._alive()
        if name not in self.knobs_by_name:
            raise NameError(f"knob {name} does not exist")
        return self.knobs_by_name[name]

    def addKnob(self, knob: Knob) -> None:
        self._alive()
        self._attach(knob)

    def setInput(self, i: int, node: Node | None) -> bool:
        self._alive()
        if node is not None:
            node._alive()
        if i >= self.max_inputs:
            return False
        while len(self._inputs) <= i:
            self._inputs.append(None)
        self._inputs[i] = node
        return True

    def input(self, i: int) -> Node | None:
        self._alive()
        return self._inputs[i] if i < len(self._inputs) else None

    def inputs(self) -> int:
        self._alive()
        return len(self._inputs)

    def dependent(self, what: int = 1, forceEvaluate: bool = True) -> list[Node]:
        self._alive()
        return [n for n in self.session.nodes if self in n._inputs]

    def setSelected(self, selected: bool) -> None:
        self._alive()
        self._selected = selected

    def isSelected(self) -> bool:
        self._alive()
        return self._selected


class Menu:
    def __init__(self, name: str) -> None:
        self._name = name
        self.items: list[Any] = []  # Menu, ("command", label, fn, tooltip), ("separator",)

    def name(self) -> str:
        return self._name

    def addMenu(self, name: str, icon: str = "", tooltip: str = "", index: int = -1) -> Menu:
        sub = Menu(name)
        self.items.append(sub)
        return sub

    def addCommand(self, name: str, command: Any = None, shortcut: str = "", icon: str = "", tooltip: str = "") -> Any:
        if "/" in name.replace("\\/", ""):
            head, _, rest = name.partition("/")
            sub = self.findItem(head) or self.addMenu(head)
            assert isinstance(sub, Menu)
            return sub.addCommand(rest, command, shortcut, icon, tooltip)
        self.items.append(("command", name.replace("\\/", "/"), command, tooltip))
        return self.items[-1]

    def addSeparator(self) -> Any:
        self.items.append(("separator",))
        return self.items[-1]

    def findItem(self, name: str) -> Menu | None:
        return next((m for m in self.items if isinstance(m, Menu) and m._name == name), None)

    def clearMenu(self) -> None:
        self.items.clear()


class FakeNuke:
    """The fake Nuke session; ``module`` is what ``import nuke`` returns."""

    def __init__(self, *, gui: bool = False, major: int = 15, version: str | None = None) -> None:
        self.gui = gui
        self.major = major
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.nodes: list[Node] = []
        self.menus = {"Nuke": Menu("Nuke"), "Nodes": Menu("Nodes")}
        self.on_script_load: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self.main_thread: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.messages: list[str] = []
        self.questions: list[str] = []
        self.answer = True
        self.executed: list[tuple[str, int, int]] = []
        self._root = Node(self, "Root", "root")
        self.module = self._make_module(version or f"{major}.1v3")

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeNuke:
        monkeypatch.setitem(sys.modules, "nuke", self.module)
        return self

    # -- helpers for tests -------------------------------------------------------------
    def node(self, name: str) -> Node:
        found = self.to_node(name)
        assert found is not None, f"no node {name}"
        return found

    def to_node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n._name == name), None)

    def run_main_thread(self) -> None:
        while self.main_thread:
            fn, args = self.main_thread.pop(0)
            fn(*args)

    # -- internals ---------------------------------------------------------------------
    def _record(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return fn(*args, **kwargs)

        return wrapper

    def _create_node(self, node: str, knobs: str = "", inpanel: bool = True) -> Node:
        if node not in _CLASSES or node == "Root" or (node in _NEW_3D and self.major < 15):
            raise RuntimeError(f"{node}: unknown command")
        if knobs:
            raise NotImplementedError("the fake does not parse TCL knob strings")
        taken = {n._name for n in self.nodes}
        n = 1
        while f"{node}{n}" in taken:
            n += 1
        created = Node(self, node, f"{node}{n}")
        if node == "GeoExport" and self.major >= 17:
            created._attach(Enumeration_Knob("file_type", "Format", _GEOEXPORT_FORMATS, "abc"))
        if node == "GeoTransform" and self.major >= 17:  # 15, 16: Mask knob name unverified
            created._attach(String_Knob("mask_patterns"))
        selected = [s for s in self.nodes if s._selected]
        if selected and created.max_inputs:
            created.setInput(0, selected[0])
        for s in self.nodes:
            s._selected = False
        created._selected = True
        self.nodes.append(created)
        return created

    def _delete(self, node: Node) -> None:
        node._alive()
        for other in self.nodes:
            other._inputs = [None if i is node else i for i in other._inputs]
        self.nodes.remove(node)
        node.deleted = True

    def _script_clear(self, ignoreUnsavedChanges: bool = False,
                      resetToCompiledDefaults: bool = False, clearUserKnobs: bool = False) -> None:
        for node in list(self.nodes):
            self._delete(node)
        builtin = {k.name() for k in _CLASSES["Root"][1]()}
        kept = [k for k in self._root.knobs_by_name.values()
                if k.name() not in builtin and not clearUserKnobs]
        self._root = Node(self, "Root", "root")
        for knob in kept:
            self._root._attach(knob)

    def _script_save_as(self, filename: str, overwrite: int = -1) -> None:
        if Path(filename).exists() and overwrite != 1:
            raise RuntimeError(f"{filename} already exists")
        if not Path(filename).parent.is_dir():
            raise RuntimeError(f"Can't write {filename}: no such directory")
        data = [
            {
                "class": n._class,
                "name": n._name,
                "inputs": [i._name if i else None for i in n._inputs],
                "knobs": [[k.kind, k.name(), k.label, k._value] for k in n.knobs_by_name.values()],
            }
            for n in self.nodes
        ]
        root_knobs = [[k.kind, k.name(), k.label, k._value] for k in self._root.knobs_by_name.values() if k.name() != "name"]
        Path(filename).write_text(json.dumps({"nodes": data, "root": root_knobs}), encoding="utf-8")
        self._root["name"].setValue(filename)

    def _script_open(self, filename: str) -> None:
        if not Path(filename).is_file():
            raise RuntimeError(f"{filename}: No such file or directory")
        saved = json.loads(Path(filename).read_text(encoding="utf-8"))
        data = saved["nodes"]
        kinds: dict[str, Callable[..., Knob]] = {
            "string": String_Knob, "file": File_Knob, "tab": Tab_Knob, "button": PyScript_Knob,
            "bool": Boolean_Knob, "xyz": XYZ_Knob, "enum": Enumeration_Knob,
        }
        by_name: dict[str, Node] = {}
        for item in data:
            node = Node(self, item["class"], item["name"])
            for kind, name, label, value in item["knobs"]:
                if name not in node.knobs_by_name:
                    node._attach(kinds[kind](name, label))
                node.knobs_by_name[name]._value = value
            self.nodes.append(node)
            by_name[node._name] = node
        for item in data:
            by_name[item["name"]]._inputs = [by_name[i] if i else None for i in item["inputs"]]
        for kind, name, label, value in saved["root"]:
            if name not in self._root.knobs_by_name:
                self._root._attach(kinds.get(kind, Int_Knob)(name, label))
            self._root.knobs_by_name[name]._value = value
        self._root["name"].setValue(filename)
        for call, args, kwargs in list(self.on_script_load):
            call(*args, **kwargs)

    def _script_save(self, filename: str | None = None) -> bool:
        target = filename or self._root["name"].value()
        if not target:
            raise RuntimeError("No file name: save the script with scriptSaveAs first")
        self._script_save_as(target, overwrite=1)
        return True

    def _render(self, node: Node, start: int, end: int, incr: int) -> None:
        source = node.input(0)
        if source is None:
            raise RuntimeError(f"{node._name}: no input")
        pattern = node["file"].value()
        if not pattern:
            raise RuntimeError(f"{node._name}: no file name")
        for frame in range(start, end + 1, incr):
            out = frame_path(pattern, frame)
            if not Path(out).parent.is_dir():
                raise RuntimeError(f"Can't write {out}: No such file or directory")
            Path(out).write_bytes(f"{source._class} {source._name} frame {frame}".encode())

    def _execute(self, node: Node, start: int = 1, end: int = 1, incr: int = 1) -> None:
        node._alive()
        self.executed.append((node._name, start, end))
        if node._class == "Write":
            self._render(node, start, end, incr)
            return
        if node._class != "GeoExport":
            raise RuntimeError(f"{node._name} cannot be executed")
        source = node.input(0)
        if source is None:
            raise RuntimeError(f"{node._name}: no input stage")
        out = node["file"].value()
        if not out:
            raise RuntimeError(f"{node._name}: no file name")
        if node.knob("file_type") is not None and node["file_type"].value() == "abc":
            Path(out).write_bytes(b"Ogawa\x00 (Alembic)")  # GeoExport's Nuke 17 default
            return
        chain: list[Node] = []
        current: Node | None = source
        while current is not None:
            chain.insert(0, current)
            current = current.input(0)
        prims: dict[str, str] = {}
        xforms: dict[str, list[str]] = {}
        for n in chain:
            if n._class == "GeoReference":
                prims[n["prim_path"].value()] = n["file_path"].value()
            elif n._class == "GeoImport":  # at the file's own root: the same path twice overwrites
                prims["/" + _default_prim(n["file"].value())] = n["file"].value()
            elif n._class == "GeoTransform":
                mask = n["mask_patterns"].value()
                for path in mask.split():
                    if path in prims:
                        xforms[path] = _geotransform_ops(n, prims[path])
        write_layer(out, _usda(prims, xforms))

    def _message(self, prompt: str) -> None:
        if not self.gui:
            raise RuntimeError("nuke.message: no GUI in terminal mode")
        self.messages.append(prompt)

    def _ask(self, prompt: str) -> bool:
        if not self.gui:
            raise RuntimeError("nuke.ask: no GUI in terminal mode")
        self.questions.append(prompt)
        return self.answer

    def _menu(self, name: str) -> Menu:
        if not self.gui:
            raise RuntimeError("menus are not available in terminal mode")
        return self.menus[name]

    def _plugin_path(self) -> list[str]:
        """``nuke.pluginPath()``: "The built-in default is ~/.nuke and the 'plugins' directory
        from the same location the NUKE executable file is in. Setting the environment
        variable $NUKE_PATH to a colon-separated list of directories will replace the ~/.nuke
        with your own set of directories, but the plugins directory is always on the end"
        (learn.foundry.com/nuke/developers/131/pythondevguide/_autosummary/nuke.pluginPath).
        The fake's install folder is ``/usr/local/Nuke<version>/plugins``."""
        import os

        own = [p for p in os.environ.get("NUKE_PATH", "").split(os.pathsep) if p]
        return (own or [os.path.expanduser("~/.nuke")]) + [f"/usr/local/Nuke{self.major}/plugins"]

    def _make_module(self, version: str) -> types.ModuleType:
        nuke = types.ModuleType("nuke")
        fake = self

        def add_on_script_load(call: Callable[..., Any], args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, nodeClass: str = "Root") -> None:
            fake.on_script_load.append((call, tuple(args), dict(kwargs or {})))

        def remove_on_script_load(call: Callable[..., Any], args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, nodeClass: str = "Root") -> None:
            fake.on_script_load.remove((call, tuple(args), dict(kwargs or {})))

        attrs: dict[str, Any] = {
            "NUKE_VERSION_MAJOR": self.major,
            "NUKE_VERSION_STRING": version,
            "INPUTS": 1,
            "HIDDEN_INPUTS": 2,
            "env": {"gui": self.gui, "NukeVersionMajor": self.major},
            "GUI": self.gui,
            "createNode": self._create_node,
            "toNode": self.to_node,
            "allNodes": lambda filter=None, group=None, recurseGroups=False: [
                n for n in self.nodes if filter is None or n._class == filter
            ],
            "selectedNodes": lambda filter=None: [n for n in self.nodes if n._selected and (filter is None or n._class == filter)],
            "delete": self._delete,
            "root": lambda: self._root,
            "scriptClear": self._script_clear,
            "scriptOpen": self._script_open,
            "scriptSaveAs": self._script_save_as,
            "scriptSave": self._script_save,
            "execute": self._execute,
            "menu": self._menu,
            "addOnScriptLoad": add_on_script_load,
            "removeOnScriptLoad": remove_on_script_load,
            "executeInMainThread": lambda call, args=(): self.main_thread.append((call, tuple(args))),
            "message": self._message,
            "ask": self._ask,
            "pluginPath": self._plugin_path,
            "String_Knob": String_Knob,
            "File_Knob": File_Knob,
            "Tab_Knob": Tab_Knob,
            "Boolean_Knob": Boolean_Knob,
            "Enumeration_Knob": Enumeration_Knob,
        }
        for name, value in attrs.items():
            setattr(nuke, name, self._record(name, value) if callable(value) and not isinstance(value, type) else value)
        return nuke


def _geotransform_ops(node: Node, layer: str) -> list[str]:
    """The ops GeoTransform authors on a masked prim (see the module docstring): its own
    translate, rotate, scale, with the referenced default prim's transform after them
    (Prepend) or before them (Append)."""
    if node["xform_order"].value() != "SRT" or node["rot_order"].value() != "XYZ":
        raise NotImplementedError("the fake writes SRT with rotation order XYZ only")
    from pxr import Usd, UsdGeom

    m = None
    if Path(layer).is_file():  # (an identifier the fake cannot resolve: no own transform)
        stage = Usd.Stage.Open(layer, Usd.Stage.LoadNone)
        prim = stage.GetDefaultPrim()
        m = UsdGeom.Xformable(prim).GetLocalTransformation() if prim.IsA(UsdGeom.Xformable) else None
    t, r, sc = (node[k].value() for k in ("translate", "rotate", "scaling"))
    ours = ["xformOp:translate:geotransform", "xformOp:rotateXYZ:geotransform",
            "xformOp:scale:geotransform"]
    theirs = ["xformOp:transform:asset"] if m is not None else []
    order = ours + theirs if node["xform_op_order"].value() == "Prepend" else theirs + ours
    lines = [f"double3 xformOp:translate:geotransform = ({t[0]}, {t[1]}, {t[2]})",
             f"double3 xformOp:rotateXYZ:geotransform = ({r[0]}, {r[1]}, {r[2]})",
             f"double3 xformOp:scale:geotransform = ({sc[0]}, {sc[1]}, {sc[2]})"]
    if m is not None:
        rows = ", ".join("(" + ", ".join(repr(float(m[i][j])) for j in range(4)) + ")" for i in range(4))
        lines.append(f"matrix4d xformOp:transform:asset = ({rows})")
    quoted = ", ".join(f'"{op}"' for op in order)
    return [*lines, f"uniform token[] xformOpOrder = [{quoted}]"]


def _default_prim(path: str) -> str:
    match = re.search(r'defaultPrim = "([^"]+)"', Path(path).read_text(encoding="utf-8")[:4000])
    return match.group(1) if match else Path(path).stem


def frame_path(pattern: str, frame: int) -> str:
    """A Write's file name for one frame: ``####`` or ``%04d`` becomes the padded frame."""
    out = re.sub(r"%0?(\d*)d", lambda m: f"{frame:0{m.group(1) or 1}d}", pattern)
    return re.sub(r"#+", lambda m: f"{frame:0{len(m.group(0))}d}", out)
