"""Reactions: work that runs because of an event, only when its inputs changed.

Declared in ``setpiece.toml`` (``[[reactions]]``) and by installed assets (entry point
group ``setpiece.reactions``); run by ``setpiece react`` (see ``service``) through the
:class:`~setpiece.core.reactions.engine.Engine`. The docs: ``docs/events.md``.
"""

from __future__ import annotations

import sys
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.reactions.actions import ActionResult, ReactionContext
from setpiece.core.reactions.declare import (
    ENTRY_POINT_GROUP,
    Reaction,
    When,
    check_graph,
    from_entry_point,
    from_table,
)
from setpiece.core.reactions.engine import Engine, Outcome


def load_reactions(ws: Any, *, asset_code: bool = True) -> list[Reaction]:
    """The workspace's reactions: ``[[reactions]]`` of setpiece.toml, then those of its
    installed assets (entry point group ``setpiece.reactions``; skipped when not
    ``asset_code``, the safe mode)."""
    tables = ws.config.data.get("reactions", [])
    if not isinstance(tables, list):
        raise SetpieceError(
            "setpiece.toml: 'reactions' must be an array of tables ([[reactions]]): fix the file"
        )
    out = [from_table(t, i) for i, t in enumerate(tables)]
    if asset_code:
        out.extend(_asset_reactions(ws))
    check_graph(out)
    return out


def _asset_reactions(ws: Any) -> list[Reaction]:
    out: list[Reaction] = []
    try:
        assets = ws.installed_assets()
    except SetpieceError:
        return out
    site_dir = str(ws.site_packages)
    for asset in assets.values():
        declared = asset.entry_point_groups().get(ENTRY_POINT_GROUP, {})
        for name, value in sorted(declared.items()):
            if site_dir not in sys.path:  # with its .pth files (editable assets)
                import importlib
                import site

                site.addsitedir(site_dir)
                importlib.invalidate_caches()
            origin = f"{asset.name} {asset.version}"
            try:
                obj = _load(value)
            except Exception as exc:
                raise SetpieceError(
                    f"reaction '{name}' of {origin} ({value}) cannot be loaded: "
                    f"{type(exc).__name__}: {exc}: fix the asset, or run with --no-asset-code"
                )
            out.append(from_entry_point(name, value, obj, origin))
    return out


def _load(value: str) -> Any:
    from setpiece.core.targets import load

    return load(value)


__all__ = [
    "ActionResult",
    "Engine",
    "Outcome",
    "Reaction",
    "ReactionContext",
    "When",
    "load_reactions",
]
