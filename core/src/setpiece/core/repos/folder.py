"""A folder repo: a flat folder of wheels (uv find-links) plus a static PEP 503 index.

Publishing is atomic and safe with several machines publishing into one shared folder
at once: the wheel is written to a hidden temp file, fsynced, and hard-linked to its
final name, which fails if the name exists, so exactly one publisher of a version wins.
Publishing never lists the whole folder for the version check: it tests one file name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from setpiece.core.errors import AlreadyPublished, SetpieceError
from setpiece.core.fsutil import DigestMismatch, publish_file_exclusive
from setpiece.core.naming import normalize, wheel_name
from setpiece.core.repos import dependents as rdeps
from setpiece.core.repos import simple_index
from setpiece.core.repos.base import Repo
from setpiece.core.wheels import check_wheel, parse_wheel_name, read_metadata_bytes


def _sort_versions(versions: list[str]) -> list[str]:
    def key(v: str) -> Version:
        try:
            return Version(v)
        except InvalidVersion:
            return Version("0")

    return sorted(set(versions), key=key)


class FolderRepo(Repo):
    kind = "folder"

    @property
    def root(self) -> Path:
        return Path(self.location)

    def check(self) -> None:
        if not self.root.is_dir():
            raise SetpieceError(
                f"repo '{self.name}': folder {self.root} does not exist: create it or fix the "
                f"location with 'setpiece repo add {self.name} PATH'"
            )

    def create(self) -> None:
        (self.root / "simple").mkdir(parents=True, exist_ok=True)
        if not (self.root / "simple" / "index.html").exists():
            if not any(parse_wheel_name(e.name) for e in os.scandir(self.root)):
                rdeps.mark_complete(self.root)  # a new repo: every publish will be recorded
            simple_index.write_root_index(self.root)

    def _wheel_path(self, project: str, version: str) -> Path:
        return self.root / f"{wheel_name(project)}-{Version(version)}-py3-none-any.whl"

    def versions(self, project: str) -> list[str]:
        self.check()
        return _sort_versions(
            [
                parse_wheel_name(p.name).version  # type: ignore[union-attr]
                for p in simple_index.project_wheels(self.root, project)
            ]
        )

    def projects(self) -> dict[str, list[str]]:
        self.check()
        out: dict[str, list[str]] = {}
        with os.scandir(self.root) as it:
            for entry in it:
                wn = parse_wheel_name(entry.name)
                if wn:
                    out.setdefault(wn.project, []).append(wn.version)
        return {k: _sort_versions(v) for k, v in sorted(out.items())}

    def has_version(self, project: str, version: str) -> bool:
        """One ``stat`` of the canonical file name: no scan of the folder."""
        return self._wheel_path(project, version).exists()

    def has_project(self, project: str) -> bool:
        """One ``stat`` of the project's index page (what uv resolves from): no folder scan."""
        return (self.root / "simple" / normalize(project) / "index.html").exists()

    def find_wheel(self, project: str, version: str) -> Path:
        path = self._wheel_path(project, version)
        if path.exists():
            return path
        for p in simple_index.project_wheels(self.root, project):
            wn = parse_wheel_name(p.name)
            if wn and Version(wn.version) == Version(version):
                return p
        raise SetpieceError(
            f"{project}=={version} is not in repo '{self.name}' ({self.root}): "
            f"see 'setpiece versions {project} --repo {self.name}'"
        )

    def fetch(self, project: str, version: str, dest: Path) -> Path:
        src = self.find_wheel(project, version)
        check_wheel(src)
        dest.mkdir(parents=True, exist_ok=True)
        out = dest / src.name
        shutil.copyfile(src, out)
        return out

    def metadata(self, project: str, version: str) -> bytes:
        wheel = self.find_wheel(project, version)
        meta = wheel.with_name(wheel.name + ".metadata")
        if meta.exists():
            return meta.read_bytes()
        return read_metadata_bytes(wheel)

    def publish(self, wheel: Path, *, sha256: str | None = None, durable: bool = True) -> None:
        """``durable=False`` (``repo sync``, many wheels in a row): the wheel's bytes are still
        fsynced before its name appears, but the folder and the index pages are not fsynced
        one by one; the caller runs :meth:`sync_folders` once after the batch."""
        self.check()
        check_wheel(wheel)
        wn = parse_wheel_name(wheel.name)
        if wn is None:
            raise SetpieceError(f"{wheel.name} is not a wheel file name")
        dest = self.root / wheel.name
        existing = dest if dest.exists() else self._wheel_path(wn.project, wn.version)
        if existing.exists():
            self._repair_index(wn.project, existing)
            raise AlreadyPublished(
                f"{wn.project} {wn.version} is already published in repo '{self.name}': "
                f"published versions never change; bump first ('setpiece bump {wn.project} micro')"
            )
        try:
            won = publish_file_exclusive(wheel, dest, sha256=sha256, sync_dir=durable)
        except DigestMismatch as exc:
            raise SetpieceError(
                f"{wheel.name} arrived in repo '{self.name}' with other bytes than sent "
                f"({exc}): nothing was published; run it again (a failing disk or network?)")
        except OSError as exc:
            raise SetpieceError(
                f"cannot write to repo '{self.name}' ({self.root}): {_os_reason(exc)}; nothing "
                f"was published ({_os_fix(exc)}, or publish to another repo with --repo)"
            )
        if not won:
            self._repair_index(wn.project, dest)
            raise AlreadyPublished(
                f"{wn.project} {wn.version} was just published to repo '{self.name}' by someone "
                f"else: bump first ('setpiece bump {wn.project} micro') and publish again"
            )
        try:
            self._record(dest)
            simple_index.write_project_index(self.root, wn.project, added=[dest], durable=durable)
        except OSError as exc:  # the version is there (immutable): only its index is behind
            raise SetpieceError(
                f"{wn.project} {wn.version} was published to repo '{self.name}', but its index "
                f"could not be written ({_os_reason(exc)}): {_os_fix(exc)}, then run "
                f"'setpiece repo reindex {self.name}' (installs cannot see it until then)"
            )
        from setpiece.core.repos.gc import maybe_gc

        maybe_gc(self.root)  # temps of killed writers, at most once a day (repos/gc.py)

    def sync_folders(self, projects: Iterable[str], wheels: Iterable[str] = ()) -> None:
        """What ``publish(durable=False)`` left to the end of a batch: fsync the pages of
        ``projects``, the ``.metadata`` files of ``wheels`` (file names), then the folders
        (:func:`simple_index.flush`)."""
        names = {normalize(p) for p in projects}
        pages = [self.root / "simple" / p / "index.html" for p in sorted(names)]
        metas = [self.root / f"{w}.metadata" for w in wheels]
        simple_index.flush(self.root, names, [*pages, *metas])

    def yank(self, project: str, version: str, reason: str = "") -> bool:
        """Mark ``project==version`` yanked (PEP 592): the wheel stays, the static index
        says ``data-yanked``, so installs skip it unless pinned. False if it already was."""
        from setpiece.core.fsutil import atomic_write_text

        wheel = self.find_wheel(project, version)
        marker = simple_index.yank_marker(self.root, wheel.name)
        already = marker.exists()
        if not already:
            atomic_write_text(marker, reason + "\n")
        simple_index.write_project_index(self.root, project, rewrite=[wheel])
        return not already

    def is_yanked(self, project: str, version: str) -> bool:
        """From one listing of the yank markers, reused for a second (a query asks about
        thousands of versions; a repo has few yanks)."""
        import time

        memo = self.__dict__.get("_yank_memo")
        now = time.monotonic()
        if memo is None or now - memo[0] > 1.0:
            folder = simple_index.yank_marker(self.root, "x").parent
            try:
                names = frozenset(os.listdir(folder))
            except OSError:
                names = frozenset()
            memo = self.__dict__["_yank_memo"] = (now, names)
        return bool(memo[1]) and self._wheel_path(project, version).name in memo[1]

    def yanked(self, project: str) -> dict[str, str]:
        """Yanked versions of ``project`` with their reasons."""
        out = {}
        for p in simple_index.project_wheels(self.root, project):
            reason = simple_index.yank_reason(self.root, p.name)
            wn = parse_wheel_name(p.name)
            if reason is not None and wn:
                out[wn.version] = reason
        return out

    def _record(self, wheel: Path) -> None:
        """Its PEP 658 metadata file, then its reverse-dependency records (before the index
        page: a version uv can see is one ``setpiece affected`` knows)."""
        meta = simple_index.write_metadata_file(wheel)
        try:
            record = rdeps.VersionRecord.from_metadata(meta.read_bytes())
        except ValueError:  # a Requires-Dist packaging cannot parse: uv would refuse it too
            return  # the wheel is in place: its index page must follow; affected skips it
        rdeps.write_record(self.root, record)

    def ensure_indexed(self, project: str, version: str) -> None:
        path = self._wheel_path(project, version)
        if path.exists():
            self._repair_index(project, path)

    def _repair_index(self, project: str, wheel: Path) -> None:
        """Make sure a published wheel is in the index (idempotent): a publish killed after
        the wheel was linked but before its row was written left it unindexed."""
        with contextlib.suppress(SetpieceError, OSError):  # read-only share, broken wheel
            check_wheel(wheel)  # its .metadata file may exist already: check the wheel itself
            wn = parse_wheel_name(wheel.name)
            if wn is not None and rdeps.read_version(self.root, project, wn.version) is None:
                self._record(wheel)
            simple_index.write_project_index(self.root, project, added=[wheel])

    def unindexed(self, project: str) -> list[str]:
        """Versions of ``project`` on disk that the static index lacks (uv cannot see them)."""
        from setpiece.core.repos.simple_index import indexed_wheels

        listed = indexed_wheels(self.root, project)
        return _sort_versions([
            wn.version for p in simple_index.project_wheels(self.root, project)
            if p.name not in listed and (wn := parse_wheel_name(p.name))
        ])

    def index_url(self) -> str:
        self.check()  # a missing (e.g. unmounted) folder is a clear error, not a traceback
        simple = self.root / "simple"
        if not (simple / "index.html").exists():
            simple_index.reindex(self.root)
        return simple.resolve().as_uri()

    def reindex(self, skipped: list[str] | None = None) -> int:
        """Rebuild the static index and the reverse-dependency index from the wheels;
        refused wheels are left out of both and reported in ``skipped``."""
        count = simple_index.reindex(self.root, skipped)
        indexed = [self.root / name for p in os.scandir(self.root / "simple") if p.is_dir()
                   for name in simple_index.indexed_wheels(self.root, p.name)
                   if (self.root / name).is_file()]
        rdeps.reindex(self.root, indexed)
        rdeps.mark_complete(self.root)
        return count

    # -- reverse dependencies --------------------------------------------------
    def dependents_complete(self) -> bool:
        """False for a repo that holds versions published before setpiece kept its
        reverse-dependency index (until ``setpiece repo reindex``)."""
        return rdeps.is_complete(self.root)

    def dependents(self, project: str) -> list[rdeps.VersionRecord]:
        if not getattr(self, "_checked", False):  # once: a query asks about many projects
            self.check()
            self._checked = True
        return rdeps.dependents(self.location, project)

    def requirements(self, project: str, version: str) -> rdeps.VersionRecord:
        record = rdeps.read_version(self.root, project, version)
        if record is None:
            record = rdeps.VersionRecord.from_metadata(self.metadata(project, version))
        return record


def _os_reason(exc: OSError) -> str:
    import errno

    return {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied"}.get(exc.errno or 0, exc.strerror or str(exc))


def _os_fix(exc: OSError) -> str:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space on the repo's disk"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "ask for write access to the repo"
    return "fix the repo folder"


def normalize_location(location: str) -> str:
    return str(Path(location).expanduser().resolve())


__all__ = ["FolderRepo", "normalize", "normalize_location"]
