"""Does an event concern a reaction? ``when`` against the workspace's installed assets.

``closure = "KitchenSet[build]"``: the event's asset is the root, or is in the root's
group closure as installed and every requirement on it there admits the event's version
(push and semi-push; a pull pin admits only its own version, a bounded requirement only
versions inside its bounds). ``asset = "Plate"``: the event names that asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from setpiece.core.naming import normalize
from setpiece.core.reactions.declare import Reaction
from setpiece.core.reactions.hashing import event_asset

_CLOSURES: dict[tuple[str, str, int], dict[str, list[Any]]] = {}


def split_spec(spec: str) -> tuple[str, str]:
    """``KitchenSet[build]`` -> (``KitchenSet``, ``build``)."""
    name, _, rest = spec.partition("[")
    return name.strip(), (rest.rstrip("]").strip() or "build")


def closure_specifiers(ws: Any, spec: str) -> dict[str, list[Any]] | None:
    """Every asset in ``spec``'s installed closure -> the specifiers required of it
    (the root maps to ``[]``); None when the root is not installed."""
    import os

    root, group = split_spec(spec)
    try:
        stamp = os.stat(ws.site_packages).st_mtime_ns
    except OSError:
        stamp = 0
    key = (str(ws.root), spec, stamp)
    if key in _CLOSURES:
        return _CLOSURES[key]
    installed = ws.installed_assets()
    if normalize(root) not in installed:
        return None
    out: dict[str, list[Any]] = {normalize(root): []}
    todo: list[tuple[str, frozenset[str]]] = [(normalize(root), frozenset({group}))]
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        node, extras = todo.pop()
        if (node, extras) in done or node not in installed:
            continue
        done.add((node, extras))
        asset = installed[node]
        reqs = list(asset.requirements(""))
        for extra in sorted(extras):
            reqs.extend(asset.requirements(extra))
        for req in reqs:
            dep = normalize(req.name)
            out.setdefault(dep, []).append(req.specifier)
            todo.append((dep, frozenset(req.extras)))
    _CLOSURES.clear()
    _CLOSURES[key] = out
    return out


def matches(reaction: Reaction, event: Mapping[str, Any], ws: Any) -> tuple[bool, str]:
    """(whether ``event`` triggers ``reaction``, why not)."""
    if reaction.after:
        return False, "runs after other reactions"
    if str(event.get("event")) not in reaction.on:
        return False, f"not one of {', '.join(reaction.on)}"
    asset = event_asset(event)
    when = reaction.when
    if when.assets and normalize(asset) not in {normalize(a) for a in when.assets}:
        return False, f"{asset or 'no asset'} is not {when.describe()}"
    if when.closure:
        specs = closure_specifiers(ws, when.closure)
        if specs is None:
            return False, f"{split_spec(when.closure)[0]} is not installed"
        key = normalize(asset)
        if key not in specs:
            return False, f"{asset or 'no asset'} is not in {when.closure}'s closure"
        version = str(event.get("version") or "")
        if version and not _admitted(specs[key], version):
            shown = ", ".join(str(s) for s in specs[key] if str(s)) or "?"
            return False, f"{asset} {version} is outside what {when.closure} requires ({shown})"
    return True, ""


def _admitted(specifiers: list[Any], version: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        v = Version(version)
    except InvalidVersion:
        return False
    return all(s.contains(v, prereleases=True) for s in specifiers)
