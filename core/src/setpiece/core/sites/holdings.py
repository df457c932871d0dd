"""What a repo holds, with each wheel's sha256, read the cheap way for many projects.

A folder repo is listed once (one ``scandir`` of its root) and each project's digests come
from its static index page (the sha256 written at publish); a wheel on disk that the page
lacks (a publish or sync killed before its index row) has no digest until it is hashed.
An index repo gives one page per project, with the sha256 in each link.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from setpiece.core.repos.base import Repo
from setpiece.core.wheels import parse_wheel_name


@dataclass(frozen=True)
class Held:
    """One wheel of one version in one repo."""

    project: str  # normalised name
    version: str  # canonical (str(Version))
    filename: str
    sha256: str | None  # as the repo's index says; None: not indexed (or no digest given)
    indexed: bool

    @property
    def label(self) -> str:
        return f"{self.project} {self.version}"


def canonical(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


class Holdings:
    """The wheels one repo holds, per project, read on demand and kept."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self._by_project: dict[str, dict[str, Held]] = {}
        self._names: dict[str, list[str]] | None = None

    @property
    def is_folder(self) -> bool:
        return self.repo.kind == "folder"

    @property
    def root(self) -> Path:
        return Path(self.repo.location)

    def _listing(self) -> dict[str, list[str]]:
        """Folder repo: project -> wheel file names on disk (one listing of the root)."""
        if self._names is None:
            self.repo.check()
            names: dict[str, list[str]] = {}
            with os.scandir(self.root) as it:
                for entry in it:
                    wn = parse_wheel_name(entry.name)
                    if wn is not None:
                        names.setdefault(wn.project, []).append(entry.name)
            self._names = names
        return self._names

    def projects(self) -> list[str]:
        """Every project the repo holds (normalised names)."""
        if self.is_folder:
            return sorted(self._listing())
        return sorted(self.repo.projects())

    def of(self, project: str) -> dict[str, Held]:
        """version -> what the repo holds of ``project``."""
        found = self._by_project.get(project)
        if found is not None:
            return found
        found = {}
        if self.is_folder:
            from setpiece.core.repos.simple_index import indexed_digests

            digests = indexed_digests(self.root, project)
            for name in self._listing().get(project, []):
                wn = parse_wheel_name(name)
                assert wn is not None
                found[canonical(wn.version)] = Held(project, canonical(wn.version), name,
                                                    digests.get(name), name in digests)
        else:
            from setpiece.core.repos.index import IndexRepo

            assert isinstance(self.repo, IndexRepo)
            for version, (name, sha) in self.repo.digests(project).items():
                found[version] = Held(project, version, name, sha, True)
        self._by_project[project] = found
        return found

    def get(self, project: str, version: str) -> Held | None:
        return self.of(project).get(canonical(version))

    def forget(self, project: str) -> None:
        self._by_project.pop(project, None)
        self._names = None

    def digest(self, held: Held, tmp: Path) -> str:
        """The wheel's sha256: the index's, else hashed from the bytes."""
        if held.sha256 is not None:
            return held.sha256
        from setpiece.core.repos.simple_index import sha256

        return sha256(self.wheel(held, tmp))

    def wheel(self, held: Held, tmp: Path) -> Path:
        """A path to the wheel's bytes: the file itself in a folder repo, else a download
        into ``tmp`` (checked against the index's sha256 by the repo)."""
        if self.is_folder:
            return self.root / held.filename
        existing = tmp / held.filename
        if existing.exists():
            return existing
        return self.repo.fetch(held.project, held.version, tmp)
