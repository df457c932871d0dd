"""Reactions as declared: ``[[reactions]]`` in ``setpiece.toml`` and installed assets'
``setpiece.reactions`` entry points, validated into :class:`Reaction` objects.

``setpiece.toml``::

    [[reactions]]
    name = "kitchen-scene"                      # unique; names its state file
    on = ["published", "promoted"]              # event names (default: ["published"])
    when = { closure = "KitchenSet[build]" }    # or { asset = "Plate" } / { asset = [..] }
    do = "scene.rebuild"                        # scene.rebuild | pipeline.run | notify | command
    with = { scene = "scenes/KitchenSet.usda" } # the action's parameters

    [[reactions]]
    name = "kitchen-thumbnail"
    after = ["kitchen-scene"]                   # runs when that reaction's output changed
    do = "command"
    with = { run = "...", outputs = ["scenes/KitchenSet.png"] }

An installed asset declares reactions in its ``pyproject.toml``::

    [project.entry-points."setpiece.reactions"]
    plate-review = "plate.reactions:Review"

The target is a class (instantiated without arguments) or an object with a
``run(ctx) -> ActionResult | None`` method, or a plain function ``fn(ctx)``; optional
attributes ``on``, ``when``, ``after`` and ``params`` (the same shapes as the toml keys)
and an optional ``inputs(ctx) -> Mapping`` method (see ``setpiece.core.reactions.actions``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from setpiece.core.errors import SetpieceError

ENTRY_POINT_GROUP = "setpiece.reactions"
BUILTIN_ACTIONS = ("scene.rebuild", "pipeline.run", "notify", "command")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_KEYS = {"name", "on", "when", "do", "with", "after"}


@dataclass(frozen=True)
class When:
    """Which events of the ``on`` names trigger: an asset in a closure, named assets, any."""

    closure: str | None = None  # "KitchenSet[build]": the root's group closure as installed
    assets: tuple[str, ...] = ()  # asset names (any version)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.closure:
            out["closure"] = self.closure
        if self.assets:
            out["asset"] = list(self.assets)
        return out

    def describe(self) -> str:
        if self.closure:
            return f"anything in {self.closure}'s closure"
        if self.assets:
            return " or ".join(self.assets)
        return "any asset"


@dataclass
class Reaction:
    """One reaction: what triggers it, what it runs, with which parameters."""

    name: str
    do: str  # a built-in action name, or "entry-point" for an asset's reaction
    on: tuple[str, ...] = ("published",)
    when: When = field(default_factory=When)
    params: dict[str, Any] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    source: str = "setpiece.toml"  # or "entry point NAME = module:attr (Asset 1.2.3)"
    target: Any = None  # the loaded entry point object (asset reactions)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "do": self.do,
            "on": list(self.on),
            "when": self.when.to_json(),
            "with": dict(self.params),
            "after": list(self.after),
            "source": self.source,
        }


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SetpieceError(f"{what} must be a string or a list of strings, not {value!r}")


def parse_when(value: Any, where: str) -> When:
    if value is None or value == {}:
        return When()
    if isinstance(value, str):  # "KitchenSet[build]" (a closure) or "Plate" (an asset)
        return When(closure=value) if "[" in value else When(assets=(value,))
    if isinstance(value, Mapping):
        unknown = set(value) - {"closure", "asset"}
        if unknown:
            raise SetpieceError(
                f"{where}: unknown 'when' key(s) {', '.join(sorted(unknown))}: use closure = "
                "\"Asset[build]\" or asset = \"Name\""
            )
        closure = value.get("closure")
        if closure is not None and not isinstance(closure, str):
            raise SetpieceError(f"{where}: when.closure must be a string like \"KitchenSet[build]\"")
        if closure is not None and "[" not in closure:
            closure = f"{closure}[build]"
        assets = _strings(value["asset"], f"{where}: when.asset") if "asset" in value else ()
        return When(closure=closure, assets=assets)
    raise SetpieceError(
        f"{where}: 'when' must be a table like {{ closure = \"KitchenSet[build]\" }} or "
        f"{{ asset = \"Plate\" }}, not {value!r}"
    )


def _check_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SetpieceError(
            f"{where}: reaction name {name!r} is not valid: use letters, digits, '.', '_' or '-'"
        )
    return name


def from_table(table: Mapping[str, Any], index: int) -> Reaction:
    """One ``[[reactions]]`` table of setpiece.toml."""
    where = f"setpiece.toml [[reactions]] #{index + 1}"
    name = _check_name(table.get("name"), where)
    where = f"setpiece.toml reaction '{name}'"
    unknown = set(table) - _KEYS
    if unknown:
        raise SetpieceError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}: a reaction has "
            f"{', '.join(sorted(_KEYS))} (parameters go in 'with')"
        )
    do = table.get("do")
    if do not in BUILTIN_ACTIONS:
        raise SetpieceError(
            f"{where}: do = {do!r} is not an action: use one of {', '.join(BUILTIN_ACTIONS)}"
        )
    params = table.get("with", {})
    if not isinstance(params, Mapping):
        raise SetpieceError(f"{where}: 'with' must be a table of parameters")
    after = _strings(table.get("after", ()), f"{where}: after")
    on = _strings(table.get("on", () if after else ("published",)), f"{where}: on")
    return Reaction(
        name=name,
        do=str(do),
        on=on,
        when=parse_when(table.get("when"), where),
        params=dict(params),
        after=after,
    )


def from_entry_point(name: str, value: str, obj: Any, origin: str) -> Reaction:
    """An installed asset's reaction (``obj``: the loaded entry point target)."""
    where = f"reaction '{name}' ({value}, {origin})"
    _check_name(name, where)
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as exc:
            raise SetpieceError(f"{where}: cannot be created without arguments: {exc}")
    if not callable(getattr(obj, "run", None)) and not callable(obj):
        raise SetpieceError(f"{where}: has no run(ctx) method and is not callable")
    after = _strings(getattr(obj, "after", ()), f"{where}: after")
    on = _strings(getattr(obj, "on", () if after else ("published",)), f"{where}: on")
    params = getattr(obj, "params", {})
    if not isinstance(params, Mapping):
        raise SetpieceError(f"{where}: params must be a mapping")
    return Reaction(
        name=name,
        do="entry-point",
        on=on,
        when=parse_when(getattr(obj, "when", None), where),
        params=dict(params),
        after=after,
        source=f"entry point {name} = {value} ({origin})",
        target=obj,
    )


def check_graph(reactions: Sequence[Reaction]) -> None:
    """Unique names; ``after`` names known reactions; no cycles."""
    by_name: dict[str, Reaction] = {}
    for r in reactions:
        if r.name in by_name:
            raise SetpieceError(
                f"two reactions are named '{r.name}' ({by_name[r.name].source} and {r.source}): "
                "rename one"
            )
        by_name[r.name] = r
    for r in reactions:
        for up in r.after:
            if up not in by_name:
                raise SetpieceError(
                    f"reaction '{r.name}' runs after '{up}', which is not a reaction: "
                    f"known: {', '.join(sorted(by_name))}"
                )

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = " -> ".join([*path[path.index(name):], name])
            raise SetpieceError(f"reactions run after each other in a cycle: {cycle}: break it")
        for up in by_name[name].after:
            visit(up, [*path, name])

    for r in reactions:
        visit(r.name, [])


def order(reactions: Sequence[Reaction]) -> list[Reaction]:
    """Upstream before downstream (a topological order, stable by declaration)."""
    by_name = {r.name: r for r in reactions}
    done: list[Reaction] = []
    seen: set[str] = set()

    def add(r: Reaction) -> None:
        if r.name in seen:
            return
        for up in r.after:
            add(by_name[up])
        seen.add(r.name)
        done.append(r)

    for r in reactions:
        add(r)
    return done
