"""``setpiece affected --installed``: what newer published versions would change here.

For every installed asset (not an editable one: it is being worked on in outputs/), the
newest version published in the workspace's repos that is newer than the installed one
and admitted by every requirement on it among the installed assets (an ``==`` pin on
another version admits nothing newer) and by the workspace's own install requests. For
that version: the installed assets it reaches (the rule of :mod:`setpiece.core.affected`,
over the installed assets' requirements) and the built scenes it would change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from setpiece.core.affected import Affected
    from setpiece.core.repos.dependents import VersionRecord
    from setpiece.core.scene_records import SceneChange
    from setpiece.core.workspace import Workspace


@dataclass(frozen=True)
class Update:
    """A newer published version of an installed asset, and what it would change."""

    name: str
    installed: str
    version: str
    repo: str
    assets: list[Affected] = field(default_factory=list)
    scenes: list[SceneChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "installed": self.installed, "version": self.version,
                "repo": self.repo, "assets": [a.to_json() for a in self.assets],
                "scenes": [s.to_json() for s in self.scenes]}


class InstalledSource:
    """The installed assets as a source of dependents (``DependentsSource``)."""

    name = "installed"

    def __init__(self, installed: dict[str, Any]) -> None:
        from setpiece.core.repos.dependents import VersionRecord

        self.records: dict[str, list[VersionRecord]] = {}
        self.requirements: dict[str, list[Requirement]] = {}
        for asset in installed.values():
            groups = asset.groups()
            requires: dict[str, tuple[str, ...]] = {}
            for group, reqs in groups.items():
                requires[group or "base"] = tuple(str(r) for r in reqs)
            record = VersionRecord(asset.name, str(asset.version), requires)
            for reqs in groups.values():
                for req in reqs:
                    target = normalize(req.name)
                    self.requirements.setdefault(target, []).append(req)
                    bucket = self.records.setdefault(target, [])
                    if record not in bucket:
                        bucket.append(record)

    def dependents(self, project: str) -> list[VersionRecord]:
        return list(self.records.get(normalize(project), []))


def installed_affected(ws: Workspace, *, repo: str | None = None,
                       groups: Iterable[str] | str | None = None) -> list[Update]:
    from packaging.version import InvalidVersion, Version

    from setpiece.core.affected import affected, check_groups
    from setpiece.core.requirements import parse_requirement
    from setpiece.core.scene_records import built_scenes, scene_changes

    wanted = check_groups(groups)
    installed = ws.installed_assets()
    source = InstalledSource(installed)
    requests: dict[str, list[Requirement]] = {}
    for text in ws.config.requests:
        try:
            req = parse_requirement(text)
        except SetpieceError:
            continue
        requests.setdefault(normalize(req.name), []).append(req)
    repos = {repo: ws.repo(repo)} if repo else ws.repos()
    published: dict[str, dict[str, str]] = {}  # project -> version -> repo (first wins)
    for rname, r in repos.items():
        try:
            projects = r.projects()
        except SetpieceError:
            continue
        for project, versions in projects.items():
            for v in versions:
                published.setdefault(normalize(project), {}).setdefault(v, rname)
    scenes = built_scenes(ws.state_dir)
    out: list[Update] = []
    for key, asset in sorted(installed.items()):
        if asset.editable:
            continue
        try:
            current = Version(str(asset.version))
        except InvalidVersion:
            continue
        reqs = source.requirements.get(key, []) + requests.get(key, [])
        candidates = []
        for v, rname in published.get(key, {}).items():
            try:
                ver = Version(v)
            except InvalidVersion:
                continue
            if ver > current and all(r.specifier.contains(ver) for r in reqs):
                candidates.append((ver, rname))
        if not candidates:
            continue
        ver, rname = max(candidates)
        reached = affected([source], asset.name, str(ver), wanted)
        out.append(Update(asset.name, str(asset.version), str(ver), rname, reached,
                          scene_changes(scenes, asset.name, str(ver))))
    return out
