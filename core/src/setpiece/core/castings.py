"""Castings: an asset whose content is "these assets at these versions".

A casting's members are exact pins (``Chair==1.1.0``) kept in two places of its
``pyproject.toml``: its base dependencies, so that installing the casting installs its
members, and its ``build`` group (``Chair[build]==1.1.0``), so that its scene is their
composition (each member is a container of ``setpiece scene build``, like a set's
props). Any output asset can be a casting; ``--kind casting`` makes its ``asset.usda`` an
assembly.

``setpiece casting add NAME MEMBER...``: ``Chair`` pins the installed version (else the
newest published one), ``Chair==1.0.0`` that version; any other specifier is refused (a
casting is concrete; use ``setpiece require`` for ranges). ``casting remove`` drops
members; ``casting list`` shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.requirements import Requirement

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text
from setpiece.core.naming import normalize
from setpiece.core.project import OutputAsset
from setpiece.core.requirements import for_group, parse_dependency

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

GROUP = "build"


def pin(ws: Workspace, member: str) -> str:
    """``Name==version`` for a member given as ``Name`` or ``Name==version``."""
    req = parse_dependency(member)
    specs = list(req.specifier)
    if req.extras or req.marker:
        raise SetpieceError(f"casting member '{member}': give NAME or NAME==VERSION")
    if specs:
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise SetpieceError(
                f"a casting pins exact versions: '{member}' is a range; give {req.name} or "
                f"{req.name}==VERSION (use 'setpiece require' for ranges)"
            )
        return f"{req.name}=={specs[0].version}"
    installed = ws.installed_assets().get(normalize(req.name))
    if installed is not None and not installed.editable:
        return f"{installed.name}=={installed.version}"
    versions = ws.available_versions(req.name)
    if not versions:
        raise SetpieceError(f"no repo has '{req.name}': publish it first, or check the name "
                            "with 'setpiece list --repo NAME'")
    return f"{req.name}=={versions[-1]}"


def members(asset: OutputAsset) -> list[str]:
    """The casting's pins (base dependencies with ``==``), by name."""
    out = []
    build = {normalize(r.name) for r in asset.requirements(GROUP)}
    for r in asset.requirements(""):
        specs = list(r.specifier)
        if normalize(r.name) in build and len(specs) == 1 and specs[0].operator == "==":
            out.append(f"{r.name}=={specs[0].version}")
    return sorted(out, key=normalize)


def set_members(ws: Workspace, asset: OutputAsset, pins: Sequence[str], *,
                install: bool = True) -> None:
    """Make the casting's members exactly ``pins`` (others removed; requirements that are
    not members are kept), then install it editable with its members."""
    from setpiece.core.authoring import _install_editable, find_cycle

    wanted = {normalize(Requirement(p).name): p for p in pins}
    for key, p in wanted.items():
        if key == asset.key:
            raise SetpieceError(f"{asset.name} cannot be a member of itself")
        cycle = find_cycle(ws, asset.name, Requirement(p).name)
        if cycle:
            raise SetpieceError(f"adding '{p}' would make a dependency cycle: "
                                f"{' -> '.join([asset.name, *cycle])}")
    with asset.locked():
        old = asset.pyproject.read_text(encoding="utf-8")
        current = {normalize(Requirement(m).name) for m in members(asset)}
        base = [str(r) for r in asset.requirements("")
                if normalize(r.name) not in current and normalize(r.name) not in wanted]
        build = [str(r) for r in asset.requirements(GROUP)
                 if normalize(r.name) not in current and normalize(r.name) not in wanted]
        asset.set_requirements("", [*base, *wanted.values()])
        asset.set_requirements(GROUP, [*build, *(str(for_group(Requirement(p), GROUP))
                                                 for p in wanted.values())])
        if not install:
            return
        try:
            _install_editable(ws, asset, extras=[GROUP])
        except BaseException:
            atomic_write_text(asset.pyproject, old)
            raise


def add(ws: Workspace, name: str, new: Sequence[str]) -> list[str]:
    asset = ws.output(name)
    if not new:
        raise SetpieceError("give at least one member, e.g. 'Chair' or 'Chair==1.1.0'")
    pins = {normalize(Requirement(p).name): p for p in (pin(ws, m) for m in new)}
    now = {normalize(Requirement(m).name): m for m in members(asset)}
    now.update(pins)
    set_members(ws, asset, list(now.values()))
    ws.report(f"{asset.name} casts {', '.join(members(asset))}")
    return members(asset)


def remove(ws: Workspace, name: str, gone: Sequence[str]) -> list[str]:
    asset = ws.output(name)
    now = {normalize(Requirement(m).name): m for m in members(asset)}
    for m in gone:
        key = normalize(parse_dependency(m).name)
        if key not in now:
            raise SetpieceError(f"{asset.name} has no member '{m}': its members are "
                                f"{', '.join(now.values()) or 'none'}")
        del now[key]
    set_members(ws, asset, list(now.values()))
    ws.report(f"{asset.name} casts {', '.join(members(asset)) or 'nothing'}")
    return members(asset)


__all__ = ["add", "members", "pin", "remove", "set_members"]
