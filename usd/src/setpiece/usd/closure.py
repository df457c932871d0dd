"""The assets a scene build loads: an asset's dependency group, resolved as installed.

Starting from the root asset's ``group`` (``build`` by default), every requirement is
matched to the installed asset that satisfies it, transitively, like an installer does:
a requirement carries extras (``Table[build]>=1``, which setpiece writes for every group
dependency) and those extras select the dependency's own groups. Assets reached through
the group are the scene's *containers*; assets reached only through base dependencies
compose inside their dependents' interface layers and are checked (installed, admitted
by the requirement) but not loaded separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize as normalize  # re-exported

if TYPE_CHECKING:  # packaging is imported when used: no-op rebuilds stay fast
    from packaging.requirements import Requirement

KIND_ORDER = {"push": 0, "semi-push": 1, "pull": 2}


class AssetLike(Protocol):
    """What the scene build needs of an installed asset (``setpiece.core`` InstalledAsset)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def import_name(self) -> str: ...
    @property
    def package_dir(self) -> Path: ...
    @property
    def kind(self) -> str: ...
    @property
    def editable(self) -> bool: ...
    def requirements(self, group: str = "") -> list[Requirement]: ...




def dependency_kind(req: Requirement) -> str:
    """push / semi-push / pull: ``setpiece.core.requirements`` is the one definition."""
    from setpiece.core.requirements import dependency_kind as core_kind

    return core_kind(req)


def admits(requirement: str, version: str) -> bool:
    """Whether ``requirement`` (``Table>=1,<2``, or ``""``) admits ``version``."""
    if not requirement:
        return True
    from packaging.requirements import Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        spec = Requirement(requirement).specifier
    except Exception:
        try:
            spec = SpecifierSet(requirement)
        except InvalidSpecifier:
            return False
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


@dataclass
class ClosureEntry:
    asset: AssetLike
    requirement: str = ""  # merged requirement(s) on it; "" for the root
    dependency_kind: str = "push"
    required_by: list[str] = field(default_factory=list)
    container: bool = False
    is_root: bool = False

    @property
    def name(self) -> str:
        return self.asset.name


@dataclass
class Closure:
    root: ClosureEntry
    group: str
    entries: dict[str, ClosureEntry]  # by normalised name, root included
    warnings: list[str] = field(default_factory=list)

    def containers(self) -> list[ClosureEntry]:
        return [e for e in self.entries.values() if e.container]


def _groups(asset: AssetLike, extras: frozenset[str]) -> dict[str, list[Any]]:
    """Base and ``extras`` requirements, parsed once per asset visit.

    ``setpiece.core`` InstalledAsset.groups() reads the METADATA header fields its scan
    already kept (no second read, no email parser); other assets give requirements().
    """
    groups = getattr(asset, "groups", None)
    if callable(groups):
        result = groups()
        if isinstance(result, dict):
            return result
    return {g: asset.requirements(g) for g in ("", *sorted(extras))}


class _Walk:
    """The DFS of :func:`resolve_closure` over (asset, active extras, is-container); the
    path finds cycles. (A class, not a nested function: a recursive closure refers to
    itself through its cell, a cycle that would keep a big closure's 10,000 assets and
    requirements alive until the next full garbage collection.)"""

    def __init__(self, installed: Mapping[str, AssetLike], closure: Closure,
                 specs: dict[str, list[Any]], root: str, group: str) -> None:
        self.installed = installed
        self.closure = closure
        self.specs = specs
        self.root = root
        self.group = group
        self.visited: set[tuple[str, frozenset[str], bool]] = set()
        self.norm_cache: dict[str, str] = {}

    def norm(self, name: str) -> str:
        out = self.norm_cache.get(name)
        if out is None:
            out = self.norm_cache[name] = normalize(name)
        return out

    def visit(self, node_key: str, extras: frozenset[str], container: bool,
              path: list[str]) -> None:
        state = (node_key, extras, container)
        if state in self.visited:
            return
        self.visited.add(state)
        installed, closure, specs, root, group = (
            self.installed, self.closure, self.specs, self.root, self.group)
        norm = self.norm
        entries = closure.entries
        asset = installed[node_key]
        by_group = _groups(asset, extras)
        edges: list[tuple[Any, bool]] = [(r, False) for r in by_group.get("", ())]
        for extra in sorted(extras):
            for r in by_group.get(extra, ()):
                edges.append((r, container and extra == group))
        if not edges:
            return  # a leaf (most assets of a big scene)
        names = [*path, asset.name]
        keys = [norm(n) for n in names]
        asset_name = asset.name
        for req, via_group in edges:
            dep_key = norm(req.name)
            if dep_key in keys:
                start = keys.index(dep_key)
                cycle = " -> ".join([*names[start:], names[start]])
                raise SetpieceError(
                    f"dependency cycle: {cycle}: remove one of these requirements "
                    f"('setpiece unrequire {asset_name} {req.name}')"
                )
            dep = installed.get(dep_key)
            if dep is None:
                raise SetpieceError(
                    f"{req.name} (required by {asset_name} as '{req.name}{req.specifier}') is "
                    f"not installed: run 'setpiece install \"{root}[{group}]\"'"
                )
            if getattr(req, "spec_text", None) != "" and req.specifier and not (
                req.specifier.contains(dep.version, prereleases=True)
            ):
                message = (
                    f"{dep.name} {dep.version} is installed but {asset_name} requires "
                    f"'{req.name}{req.specifier}': run 'setpiece install \"{root}[{group}]\"'"
                )
                if dep.editable:
                    closure.warnings.append(message + " (editable: kept)")
                else:
                    raise SetpieceError(message)
            entry = entries.get(dep_key)
            if entry is None:
                entry = entries[dep_key] = ClosureEntry(dep)
            if not entry.is_root:
                found = specs.get(dep_key)
                if found is None:
                    specs[dep_key] = [req]
                else:
                    found.append(req)
                if asset_name not in entry.required_by:
                    entry.required_by.append(asset_name)
                if via_group:
                    entry.container = True
            self.visit(dep_key, frozenset(req.extras), via_group, names)


def resolve_closure(
    root: str,
    installed: Mapping[str, AssetLike],
    group: str = "build",
) -> Closure:
    """The root asset's ``group`` closure as installed; raises on missing/refused/cycles.

    ``installed``: installed assets by normalised name (``Workspace.installed_assets()``).
    """
    from packaging.specifiers import SpecifierSet

    key = normalize(root)
    root_asset = installed.get(key)
    if root_asset is None:
        raise SetpieceError(
            f"asset '{root}' is not installed in this workspace: run "
            f"'setpiece install \"{root}[{group}]\"' (or check the name with 'setpiece list')"
        )
    root_entry = ClosureEntry(root_asset, container=True, is_root=True)
    closure = Closure(root_entry, group, {key: root_entry})
    specs: dict[str, list[Any]] = {}

    _Walk(installed, closure, specs, root, group).visit(key, frozenset({group}), True, [])

    for dep_key, reqs in specs.items():
        entry = closure.entries[dep_key]
        if len(reqs) == 1:  # the common case: one dependent, nothing to merge
            req = reqs[0]
            if getattr(req, "spec_text", None) == "":  # abstract: push, nothing to parse
                entry.dependency_kind = "push"
                entry.requirement = entry.asset.name
            else:
                entry.dependency_kind = dependency_kind(req)
                entry.requirement = f"{entry.asset.name}{req.specifier}"
            continue
        entry.required_by.sort(key=normalize)
        entry.dependency_kind = max(
            (dependency_kind(r) for r in reqs), key=lambda k: KIND_ORDER.get(k, 0)
        )
        merged = SpecifierSet()
        for r in reqs:
            merged &= r.specifier
        entry.requirement = f"{entry.asset.name}{merged}"
    return closure


def closure_from_entries(
    root: AssetLike, deps: Sequence[tuple[AssetLike, str]], group: str = "build"
) -> Closure:
    """A closure given directly (API users, tests): ``deps`` = (asset, requirement)."""
    from packaging.requirements import Requirement

    root_entry = ClosureEntry(root, container=True, is_root=True)
    entries = {normalize(root.name): root_entry}
    for asset, requirement in deps:
        if normalize(asset.name) in entries:
            raise SetpieceError(
                f"asset {asset.name} appears twice in the closure: list it once"
            )
        req = Requirement(requirement) if requirement else Requirement(asset.name)
        entries[normalize(asset.name)] = ClosureEntry(
            asset,
            requirement=f"{req.name}{req.specifier}",
            dependency_kind=dependency_kind(req),
            required_by=[root.name],
            container=True,
        )
    return Closure(root_entry, group, entries)
