"""What a published version affects: the asset versions whose requirements admit it.

The rule (``setpiece affected NAME==VER``):

* a requirement with no specifier (``Table``, *push*) admits every release: a dependent
  is affected by every publish;
* a bounded requirement (``Table>=1.2.3,<2``, *semi-push*) admits VER when its specifier
  contains VER: KitchenSet is affected by Table 1.3.0, not by Table 2.0.0;
* a concrete pin (``Table==1.2.3``, *pull*) is never followed: the dependent moves only
  by an explicit change, and it already names the version it uses, so no publish changes
  what it resolves to;
* pre-releases (``1.3.0rc1``) are admitted only by a specifier that names one, as uv
  decides (its default pre-release policy);
* transitively: Apartment (``KitchenSet``) is affected by Table 1.3.0 through KitchenSet
  1.0.0, when the requirement carries the group that holds Table (``KitchenSet[build]``:
  Apartment's build closure holds KitchenSet's build group); base dependencies belong to
  every group's closure.

Every version of a dependent that admits it is listed (a TD asks "which of the published
KitchenSets would pick up this Table?"); ``latest=True`` keeps the newest of each asset.
Each result carries one shortest path of requirements from it down to the published
version, with each edge's kind. The answer comes from each repo's reverse-dependency
index (:mod:`setpiece.core.repos.dependents`): no wheel is opened.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.version import Version

    from setpiece.core.repos.base import Repo
    from setpiece.core.repos.dependents import VersionRecord
    from setpiece.core.scene_records import SceneChange
    from setpiece.core.workspace import Workspace
    from setpiece.core.workspace_affected import Update

class DependentsSource(Protocol):
    """Where dependents are looked up: a :class:`~setpiece.core.repos.base.Repo`, or the
    assets installed in a workspace."""

    name: str

    def dependents(self, project: str) -> list[VersionRecord]: ...


#: groups a dependent's closure can be asked for; ``base`` is in every one of them
GROUPS = ("build", "edit", "export")


@dataclass(frozen=True)
class Edge:
    """``dependent==dependent_version`` requires ``requirement`` (in ``group``), which
    admits ``name==version``."""

    dependent: str
    dependent_version: str
    group: str  # base | build | edit | export
    requirement: str  # as written, without the group's own extra: Table>=1.2.3,<2
    kind: str  # push | semi-push
    name: str
    version: str

    def to_json(self) -> dict[str, str]:
        return {"dependent": self.dependent, "dependent_version": self.dependent_version,
                "group": self.group, "requirement": self.requirement, "kind": self.kind,
                "name": self.name, "version": self.version}


@dataclass(frozen=True)
class Affected:
    """One published asset version that a publish reaches."""

    name: str
    version: str
    #: the groups whose closure holds the published version (``base``: every group's)
    groups: tuple[str, ...]
    #: from this version down to the published one: ``path[0].dependent == name``
    path: tuple[Edge, ...]
    repos: tuple[str, ...] = ()
    #: yanked in every repo that has it (PEP 592): installs skip it unless pinned
    yanked: bool = False

    @property
    def kind(self) -> str:
        """The kind of this version's own requirement on the next step of the path."""
        return self.path[0].kind

    @property
    def via(self) -> tuple[str, ...]:
        """``name version`` of the assets between this one and the published one."""
        return tuple(f"{e.name} {e.version}" for e in self.path[:-1])

    def in_group(self, group: str) -> bool:
        return "base" in self.groups or group in self.groups

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "groups": list(self.groups),
                "kind": self.kind, "via": list(self.via), "repos": list(self.repos),
                "yanked": self.yanked, "path": [e.to_json() for e in self.path]}


@dataclass
class _Node:
    record: VersionRecord
    version: Version
    groups: set[str]
    path: tuple[Edge, ...]
    repos: set[str] = field(default_factory=set)


class _Req:
    """A requirement text parsed once per query: most texts recur across versions."""

    __slots__ = ("admitted", "extras", "key", "kind", "req", "shown")

    def __init__(self, text: str) -> None:
        from setpiece.core.assets import parse_requirement_fast
        from setpiece.core.requirements import dependency_kind

        self.req: Requirement = parse_requirement_fast(text)
        self.key = normalize(self.req.name)
        self.extras = frozenset(self.req.extras)
        self.kind = dependency_kind(self.req)
        self.admitted: dict[Version, bool] = {}
        self.shown: dict[str, str] = {}

    def admits(self, version: Version) -> bool:
        got = self.admitted.get(version)
        if got is None:
            got = self.admitted[version] = self.kind != "pull" and self.req.specifier.contains(
                version)
        return got

    def display(self, group: str) -> str:
        got = self.shown.get(group)
        if got is None:
            from setpiece.core.requirements import display

            got = self.shown[group] = display(self.req, group if group != "base" else None)
        return got


def check_groups(groups: Iterable[str] | str | None) -> tuple[str, ...]:
    """``None``/``all`` -> every group; else each must be build, edit or export."""
    if groups is None or groups == "all":
        return GROUPS
    if isinstance(groups, str):
        groups = [groups]
    out = tuple(groups)
    for g in out:
        if g not in GROUPS:
            raise SetpieceError(
                f"unknown dependency group '{g}': use one of {', '.join(GROUPS)} or all"
            )
    return out


def affected(
    repos: Sequence[DependentsSource],
    name: str,
    version: str,
    groups: Iterable[str] | str | None = None,
    *,
    latest: bool = False,
) -> list[Affected]:
    """Every published version (in ``repos``) whose ``groups`` closure a publish of
    ``name==version`` reaches; sorted by distance, then name and version."""
    from packaging.version import InvalidVersion, Version

    wanted = check_groups(groups)
    try:
        target_version = Version(version)
    except InvalidVersion:
        raise SetpieceError(f"invalid version '{version}': use e.g. {name}==1.2.3")
    target = normalize(name)
    parsed: dict[str, _Req] = {}
    nodes: dict[tuple[str, str], _Node] = {}
    dependents_cache: dict[str, list[tuple[VersionRecord, str]]] = {}

    def dependents_of(key: str) -> list[tuple[VersionRecord, str]]:
        got = dependents_cache.get(key)
        if got is None:
            got = [(rec, r.name) for r in repos for rec in r.dependents(key)]
            dependents_cache[key] = got
        return got

    # (name key, display name and version, version, groups reached (None: the target), path)
    queue: deque[tuple[str, str, str, Version, set[str] | None, tuple[Edge, ...]]] = deque(
        [(target, name, str(target_version), target_version, None, ())]
    )
    while queue:
        key, shown, shown_version, ver, reached, path = queue.popleft()
        for record, repo_name in dependents_of(key):
            dep_key = record.key
            if dep_key == target:
                continue  # another version of the published asset itself
            node_id = (dep_key, record.version)
            node = nodes.get(node_id)
            if node is not None:
                node.repos.add(repo_name)
            new_groups: set[str] = set()
            first: tuple[str, _Req] | None = None
            for group, texts in record.requires.items():
                for text in texts:
                    req = parsed.get(text)
                    if req is None:
                        req = parsed[text] = _Req(text)
                    if req.key != key:
                        continue
                    if reached is not None and "base" not in reached and not (
                        req.extras & reached
                    ):
                        continue  # the requirement does not bring the group that holds it
                    if not req.admits(ver):
                        continue
                    new_groups.add(group)
                    if first is None:
                        first = (group, req)
            if first is None:
                continue
            if node is None:
                try:
                    dep_version = Version(record.version)
                except InvalidVersion:
                    continue
                group, req = first
                edge = Edge(record.name, record.version, group, req.display(group), req.kind,
                            shown, shown_version)
                node = nodes[node_id] = _Node(record, dep_version, set(), (edge, *path),
                                              {repo_name})
            if new_groups - node.groups:
                node.groups |= new_groups
                queue.append((dep_key, record.name, record.version, node.version,
                              set(node.groups), node.path))
    kept = [n for n in nodes.values()
            if "base" in n.groups or any(g in n.groups for g in wanted)]
    if latest:
        newest: dict[str, _Node] = {}
        for n in kept:
            if n.record.key not in newest or n.version > newest[n.record.key].version:
                newest[n.record.key] = n
        kept = list(newest.values())
    kept.sort(key=lambda n: (len(n.path), n.record.key, n.version))
    by_name = {r.name: r for r in repos}
    return [Affected(n.record.name, n.record.version, tuple(sorted(n.groups)), n.path,
                     tuple(sorted(n.repos)), _yanked(by_name, n)) for n in kept]


def _yanked(repos: dict[str, DependentsSource], node: _Node) -> bool:
    """Yanked in every repo that has it (a source that cannot say: not yanked)."""
    for name in node.repos:
        check = getattr(repos.get(name), "is_yanked", None)
        if check is None:
            return False
        try:
            if not check(node.record.name, node.record.version):
                return False
        except SetpieceError:
            return False
    return bool(node.repos)


def parse_published(spec: str) -> tuple[str, str]:
    """``NAME==VER`` -> (name, version), or a one-line error."""
    from setpiece.core.naming import validate_name, validate_version

    name, sep, version = spec.partition("==")
    if not sep or not version.strip() or any(c in version for c in "<>=!~,*"):
        raise SetpieceError(
            f"'{spec}' is not one version: give NAME==VER, e.g. 'Table==1.3.0'"
        )
    return validate_name(name.strip()), validate_version(version.strip())


def check_published(repos: Sequence[Repo], name: str, version: str) -> None:
    """Raise a one-line error unless some repo publishes ``name==version``."""
    known = False
    for repo in repos:
        try:
            if repo.has_version(name, version):
                return
            known = known or repo.has_project(name)
        except SetpieceError:
            continue
    where = ", ".join(r.name for r in repos) or "no repo"
    if not known:
        raise SetpieceError(
            f"no repo publishes an asset '{name}' (searched {where}): check the name with "
            "'setpiece list --repo NAME'"
        )
    raise SetpieceError(
        f"{name} {version} is not published (searched {where}): see 'setpiece versions "
        f"{name}', or add --unpublished to ask what its publish would affect"
    )


def scenes_affected(ws: Workspace, name: str, version: str) -> list[SceneChange]:
    """The scenes of ``ws`` (built by ``setpiece scene build``) whose closure a publish of
    ``name==version`` would change."""
    from setpiece.core.scene_records import built_scenes, scene_changes

    return scene_changes(built_scenes(ws.state_dir), name, version)


def installed_affected(ws: Workspace, *, repo: str | None = None,
                       groups: Iterable[str] | str | None = None) -> list[Update]:
    """For each installed asset with a newer published version that its dependents in
    ``ws`` admit: the installed assets and the scenes that version would change."""
    from setpiece.core.workspace_affected import installed_affected as run

    return run(ws, repo=repo, groups=groups)


__all__ = [
    "GROUPS", "Affected", "DependentsSource", "Edge", "affected", "check_groups",
    "check_published", "installed_affected", "parse_published", "scenes_affected",
]
