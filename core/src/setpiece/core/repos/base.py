"""The repo interface and the factory that opens one from its configured location."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError

if TYPE_CHECKING:
    from setpiece.core.repos.dependents import VersionRecord


class Repo(abc.ABC):
    """Published asset versions: immutable once there."""

    kind: str = ""

    def __init__(self, name: str, location: str, options: Mapping[str, Any] | None = None):
        self.name = name
        self.location = location
        self.options = dict(options or {})

    # -- reading ---------------------------------------------------------------
    @abc.abstractmethod
    def versions(self, project: str) -> list[str]:
        """Published versions of one asset, oldest first."""

    @abc.abstractmethod
    def projects(self) -> dict[str, list[str]]:
        """Every asset in the repo with its versions (normalised name -> versions)."""

    def has_version(self, project: str, version: str) -> bool:
        from packaging.version import Version

        return any(Version(v) == Version(version) for v in self.versions(project))

    def has_project(self, project: str) -> bool:
        """Whether the repo publishes any version of ``project`` (what uv would see)."""
        return bool(self.versions(project))

    @abc.abstractmethod
    def fetch(self, project: str, version: str, dest: Path) -> Path:
        """Copy the wheel of ``project==version`` into folder ``dest``; return its path."""

    @abc.abstractmethod
    def metadata(self, project: str, version: str) -> bytes:
        """The ``METADATA`` of one published version."""

    def display_name(self, project: str, version: str) -> str:
        """The name as the asset spells it (its METADATA ``Name``: ``KitchenSet``), not the
        normalised one of file names and index pages (``kitchenset``); ``project`` when the
        metadata cannot be read."""
        from setpiece.core.wheels import parse_metadata

        try:
            name = parse_metadata(self.metadata(project, version)).get("Name")
        except (SetpieceError, OSError, ValueError):
            return project
        return str(name).strip() if name else project

    def listing(self) -> dict[str, list[str]]:
        """:meth:`projects` keyed by display name (one metadata read per project, of its
        newest version), for ``setpiece list --repo``."""
        return {self.display_name(p, vs[-1]) if vs else p: vs for p, vs in self.projects().items()}

    # -- reverse dependencies (setpiece affected) ------------------------------
    def requirements(self, project: str, version: str) -> VersionRecord:
        """What ``project==version`` requires, per group."""
        from setpiece.core.repos.dependents import VersionRecord

        return VersionRecord.from_metadata(self.metadata(project, version))

    def dependents_complete(self) -> bool:
        """Whether :meth:`dependents` sees every published version (True unless a folder
        repo predates its reverse-dependency index)."""
        return True

    def is_yanked(self, project: str, version: str) -> bool:
        """Whether ``project==version`` is yanked here (PEP 592); False where unknown."""
        return False

    def version_records(self) -> Iterator[VersionRecord]:
        """What every published version requires (reads every version's metadata)."""
        for project_key, versions in self.projects().items():
            for version in versions:
                yield self.requirements(project_key, version)

    def dependents(self, project: str) -> list[VersionRecord]:
        """Every published version that requires ``project`` (any group, any specifier).

        This default reads :meth:`version_records` once per Repo object; folder repos
        answer from their reverse-dependency index, index repos from a local cache of the
        metadata they serve.
        """
        table = self.__dict__.get("_dependents_table")
        if table is None:
            table = {}
            for record in self.version_records():
                for target, cut in record.by_target().items():
                    table.setdefault(target, []).append(cut)
            self.__dict__["_dependents_table"] = table
        from setpiece.core.naming import normalize

        return list(table.get(normalize(project), []))

    # -- writing ---------------------------------------------------------------
    @abc.abstractmethod
    def publish(self, wheel: Path, *, sha256: str | None = None) -> None:
        """Publish one wheel; refuse a version that is already there ("bump first").
        ``sha256``: the bytes that arrive must have this digest (a replica, ``repo sync``),
        else nothing is published."""

    # -- installing ------------------------------------------------------------
    @abc.abstractmethod
    def index_url(self) -> str:
        """A PEP 503 index URL uv can resolve from."""

    def ensure_indexed(self, project: str, version: str) -> None:  # noqa: B027 - optional hook
        """Repair the repo's index for a version it holds (a no-op unless it keeps one)."""

    def uv_index_name(self) -> str | None:
        """A name for uv's ``--index NAME=URL`` (for credentials), or None for a bare URL."""
        return None

    def uv_env(self) -> dict[str, str]:
        return {}

    def check(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Raise a one-line error when the repo cannot be used (missing, unreachable)."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "location": self.location}


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def open_repo(name: str, location: str, options: Mapping[str, Any] | None = None) -> Repo:
    if is_url(location):
        from setpiece.core.repos.index import IndexRepo

        return IndexRepo(name, location, options)
    if "://" in location:
        raise SetpieceError(
            f"repo '{name}': unsupported location '{location}': use a folder path or an "
            "http(s):// package index URL"
        )
    from setpiece.core.repos.folder import FolderRepo

    return FolderRepo(name, location, options)
