"""Does an event concern a reaction? ``when`` against the workspace's installed assets.

``closure = "KitchenSet[build]"``: the event's asset is the root, or the root as
installed is among what the event's version reaches (``setpiece.core.affected``, over the
installed assets' requirements: push and semi-push requirements that admit the version,
transitively, through the group; a pull pin never). ``asset = "Plate"``: the event names
that asset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize
from setpiece.core.reactions.declare import Reaction
from setpiece.core.reactions.hashing import event_asset

_SOURCES: dict[tuple[str, int], Any] = {}


def split_spec(spec: str) -> tuple[str, str]:
    """``KitchenSet[build]`` -> (``KitchenSet``, ``build``)."""
    name, _, rest = spec.partition("[")
    return name.strip(), (rest.rstrip("]").strip() or "build")


def _installed_source(ws: Any) -> tuple[dict[str, Any], Any]:
    """The installed assets and their dependents index (cached while the venv is unchanged)."""
    from setpiece.core.workspace_affected import InstalledSource

    try:
        stamp = os.stat(ws.site_packages).st_mtime_ns
    except OSError:
        stamp = 0
    key = (str(ws.root), stamp)
    if key not in _SOURCES:
        installed = ws.installed_assets()
        _SOURCES.clear()
        _SOURCES[key] = (installed, InstalledSource(installed))
    found: tuple[dict[str, Any], Any] = _SOURCES[key]
    return found


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
        root, group = split_spec(when.closure)
        if normalize(asset) == normalize(root):
            return True, ""
        installed, source = _installed_source(ws)
        if normalize(root) not in installed:
            return False, f"{root} is not installed"
        version = str(event.get("version") or "")
        if not asset or not version:
            return False, "the event names no asset version"
        from setpiece.core.affected import affected

        try:
            reached = affected([source], asset, version, group)
        except SetpieceError as exc:
            return False, str(exc)
        if not any(normalize(a.name) == normalize(root) for a in reached):
            return False, f"{asset} {version} does not reach {when.closure} as installed"
    return True, ""
