"""A small typed description of the part of Nuke's Python API that setpiece uses.

Foundry publishes no type stubs for ``nuke``; this module is ours, kept to what the
adapter calls, each signature taken from the Nuke Python API reference
(https://learn.foundry.com/nuke/developers/150/pythondevguide/_autosummary/nuke.html and
the 16.0 guide at .../developers/160/...):

- ``nuke.createNode(node, knobs, inpanel) -> Node``          (nuke.createNode)
- ``nuke.toNode(s) -> Node | None``                          (nuke.toNode)
- ``nuke.allNodes(filter, group, recurseGroups) -> list``    (nuke.allNodes)
- ``nuke.selectedNodes(filter) -> list``                     (nuke.selectedNodes)
- ``nuke.delete(node)``                                      (nuke.delete)
- ``nuke.root() -> Root``; the script path is ``root()["name"].value()``
- ``nuke.scriptClear(clearUserKnobs=True)`` (without it the Root keeps its user knobs:
  Nuke 14.0+ Python dev guide), ``nuke.scriptOpen(filename)``,
  ``nuke.scriptSaveAs(filename, overwrite)``, ``nuke.scriptSave(filename=None) -> bool``
  (saves to the script's own name when none is given)
- ``nuke.execute(nameOrNode, start, end, incr)``             (renders a Write/GeoExport)
- ``nuke.menu(name) -> Menu``; ``Menu.addMenu``, ``Menu.addCommand(name, command,
  shortcut, icon, tooltip)``, ``Menu.addSeparator``, ``Menu.findItem``, ``Menu.clearMenu``
- ``nuke.addOnScriptLoad(call, args, kwargs, nodeClass='Root')`` and
  ``nuke.removeOnScriptLoad`` (Callbacks chapter)
- ``nuke.executeInMainThread(call, args, kwargs)``           (Threading chapter)
- ``nuke.String_Knob(name, label, text)``, ``nuke.Tab_Knob(name, label)``,
  ``nuke.Boolean_Knob(name, label, value)``;
  ``Node.addKnob``, ``Node.knob(name)`` (None when absent), ``Node[name]`` (raises
  ``NameError`` when absent), ``Node.setName(name, uncollide=True,
  updateExpressions=False)``, ``Node.setInput``, ``Node.input``, ``Node.dependent``
- ``nuke.message(prompt)``, ``nuke.ask(prompt) -> bool``  (dialogs, GUI only)
- ``nuke.env["gui"]`` (False under ``nuke -t``), ``nuke.NUKE_VERSION_MAJOR``,
  ``nuke.NUKE_VERSION_STRING``, ``nuke.INPUTS``

A deleted node raises ``ValueError("A PythonObject is not attached to a node")`` on use.
Node classes: ``GeoImport``/``GeoExport`` (new 3D system, Nuke 15+; file knob ``file``,
button ``reload``), ``ReadGeo2`` (classic 3D, reads .usd; ``file``, ``reload``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, cast


class Knob(Protocol):
    def name(self) -> str: ...

    def value(self) -> Any: ...

    def setValue(self, value: Any) -> bool: ...

    def execute(self) -> Any: ...


class Node(Protocol):
    def name(self) -> str: ...

    def fullName(self) -> str: ...

    def Class(self) -> str: ...

    def setName(self, name: str, uncollide: bool = ..., updateExpressions: bool = ...) -> None: ...

    def knob(self, name: str) -> Knob | None: ...

    def __getitem__(self, name: str) -> Knob: ...

    def addKnob(self, knob: Knob) -> None: ...

    def setInput(self, i: int, node: Node | None) -> bool: ...

    def input(self, i: int) -> Node | None: ...

    def inputs(self) -> int: ...

    def dependent(self, what: int = ..., forceEvaluate: bool = ...) -> list[Node]: ...

    def setSelected(self, selected: bool) -> None: ...


class Menu(Protocol):
    def addMenu(self, name: str, icon: str = ..., tooltip: str = ..., index: int = ...) -> Menu: ...

    def addCommand(
        self,
        name: str,
        command: Callable[[], Any] | str = ...,
        shortcut: str = ...,
        icon: str = ...,
        tooltip: str = ...,
    ) -> Any: ...

    def addSeparator(self) -> Any: ...

    def findItem(self, name: str) -> Menu | None: ...

    def clearMenu(self) -> None: ...


class NukeModule(Protocol):
    NUKE_VERSION_MAJOR: int
    NUKE_VERSION_STRING: str
    INPUTS: int
    env: Mapping[str, Any]

    def createNode(self, node: str, knobs: str = ..., inpanel: bool = ...) -> Node: ...

    def toNode(self, s: str) -> Node | None: ...

    def allNodes(self, filter: str = ..., group: Node = ..., recurseGroups: bool = ...) -> list[Node]: ...

    def selectedNodes(self, filter: str = ...) -> list[Node]: ...

    def delete(self, node: Node) -> None: ...

    def root(self) -> Node: ...

    def scriptClear(
        self, ignoreUnsavedChanges: bool = ..., resetToCompiledDefaults: bool = ...,
        clearUserKnobs: bool = ...,
    ) -> None: ...

    def scriptOpen(self, filename: str) -> None: ...

    def pluginPath(self) -> list[str]: ...  # the folders Nuke searches for plug-ins and gizmos

    def scriptSaveAs(self, filename: str, overwrite: int = ...) -> None: ...

    def scriptSave(self, filename: str = ...) -> bool: ...

    def execute(self, node: Node, start: int = ..., end: int = ..., incr: int = ...) -> None: ...

    def menu(self, name: str) -> Menu: ...

    def addOnScriptLoad(
        self,
        call: Callable[..., Any],
        args: Sequence[Any] = ...,
        kwargs: Mapping[str, Any] = ...,
        nodeClass: str = ...,
    ) -> None: ...

    def removeOnScriptLoad(
        self,
        call: Callable[..., Any],
        args: Sequence[Any] = ...,
        kwargs: Mapping[str, Any] = ...,
        nodeClass: str = ...,
    ) -> None: ...

    def executeInMainThread(self, call: Callable[..., Any], args: Sequence[Any] = ...) -> None: ...

    def String_Knob(self, name: str, label: str = ..., text: str = ...) -> Knob: ...

    def Tab_Knob(self, name: str, label: str = ...) -> Knob: ...

    def Boolean_Knob(self, name: str, label: str = ..., value: bool = ...) -> Knob: ...

    def message(self, prompt: str) -> None: ...

    def ask(self, prompt: str) -> bool: ...


def import_nuke() -> NukeModule:
    """``import nuke``, typed by the protocol above (inside Nuke, or ``nuke`` as a module)."""
    import nuke

    return cast(NukeModule, nuke)
