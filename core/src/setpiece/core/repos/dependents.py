"""The reverse-dependency index of a folder repo: who requires what, without opening a wheel.

Written at publish (and promote, and ``setpiece repo reindex``) beside the static index::

    repo/deps/versions/<project>/<version>.json          what one published version requires
    repo/deps/dependents/<target>/<project>==<version>.json
                                                          once per project it requires (any
                                                          group, any specifier): the record cut
                                                          to its requirements on <target>
    repo/deps/dependents/<target>.json                    a cache: those files' records, compacted

A record is immutable, like the version it describes::

    {"name": "KitchenSet", "version": "1.0.0",
     "requires": {"base": [], "build": ["Chair[build]", "Lamp[build]==3.2.1", ...]}}

Why files and not one table: a publish adds ``1 + number of dependencies`` small files of
its own, whose names no other publisher writes (one name==version is published once), so
many machines publishing into one shared folder at once lose nothing, and need no lock
(no read-modify-write of a shared file, nothing appended). "Who requires Table?" is one
listing of ``dependents/table/`` plus the compacted cache: a reader trusts the listing,
takes what the cache already holds and reads only the files it lacks, then rewrites the
cache when it read many (any reader may; a stale cache is never wrong, only slower).

The files are derived from the wheels' PEP 658 ``.metadata`` files and written with an
atomic rename but no fsync (two fsyncs cost ~12 ms on a busy disk, the whole budget of
a publish's index update): a power cut in the seconds after a publish may lose the
newest records; ``setpiece repo reindex`` rewrites them all from the metadata.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.fsutil import atomic_write_bytes
from setpiece.core.naming import normalize

DEPS = "deps"
_KEYS: dict[str, str] = {}  # name -> normalised name (names recur: one per version)

#: a reader that had to read this many uncached files rewrites the compacted cache
COMPACT_AFTER = 2


@dataclass(frozen=True)
class VersionRecord:
    """What one published version requires, per group (``base`` = the base dependencies).

    Requirement strings are PEP 508 without marker, extras kept (``Table[build]>=1.2,<2``):
    the extras say which of the dependency's own groups come along.
    """

    name: str
    version: str
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    key: str = field(init=False, repr=False, compare=False)  # the normalised name

    def __post_init__(self) -> None:
        key = _KEYS.get(self.name)
        if key is None:
            key = _KEYS[self.name] = normalize(self.name)
        object.__setattr__(self, "key", key)

    def by_target(self) -> dict[str, VersionRecord]:
        """Per project it requires (normalised name): this record cut to the requirements
        on that project (what ``dependents/<project>/`` holds: a reader walks only those)."""
        from setpiece.core.assets import parse_requirement_fast

        cut: dict[str, dict[str, list[str]]] = {}
        for group, reqs in self.requires.items():
            for r in reqs:
                target = normalize(parse_requirement_fast(r).name)
                cut.setdefault(target, {}).setdefault(group, []).append(r)
        return {t: VersionRecord(self.name, self.version, {g: tuple(r) for g, r in groups.items()})
                for t, groups in cut.items()}

    def targets(self) -> set[str]:
        """Normalised names of every project this version requires, in any group."""
        return set(self.by_target())

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version,
                "requires": {g: list(r) for g, r in sorted(self.requires.items())}}

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VersionRecord:
        requires = data.get("requires")
        if not isinstance(data.get("name"), str) or not isinstance(data.get("version"), str) \
                or not isinstance(requires, dict):
            raise ValueError("not a version record")
        return cls(data["name"], data["version"],
                   {str(g): tuple(str(r) for r in reqs) for g, reqs in requires.items()})

    @classmethod
    def from_metadata(cls, meta: bytes) -> VersionRecord:
        """From a wheel's METADATA (the PEP 658 ``.metadata`` file beside it)."""
        from setpiece.core.assets import (
            read_header_fields,
            requirements_by_group,
            requirements_from_fields,
        )

        text = meta.decode("utf-8", "replace")
        fields = read_header_fields(text)
        if fields is not None:
            headers = {k.lower(): v for k, v in fields}
            groups = requirements_from_fields(fields)
            name, version = headers.get("name", ""), headers.get("version", "")
        else:
            from setpiece.core.wheels import parse_metadata

            msg = parse_metadata(meta)
            groups = requirements_by_group(msg)
            name, version = msg.get("Name", ""), msg.get("Version", "")
        requires: dict[str, tuple[str, ...]] = {}
        for group, reqs in groups.items():
            texts = []
            for req in reqs:
                req.marker = None
                texts.append(str(req))
            requires[group or "base"] = tuple(texts)
        requires.setdefault("base", ())
        return cls(name, _version_key(version), requires)


def _version_key(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def deps_dir(root: Path) -> Path:
    return Path(root) / DEPS


def _file_name(project: str, version: str) -> str:
    return f"{normalize(project)}=={_version_key(version)}.json"


def _read_record(path: Path | str) -> VersionRecord | None:
    try:
        with open(path, "rb") as fh:
            return VersionRecord.from_json(json.loads(fh.read()))
    except (OSError, ValueError):
        return None  # missing, or cut short by a power loss: repaired by reindex


MARKER = "COMPLETE"


def mark_complete(root: Path) -> None:
    """Say that every published version of the repo has its records (a new repo, or after
    ``reindex``): repos made by older setpiece versions lack it until reindexed."""
    atomic_write_bytes(deps_dir(root) / MARKER,
                       b"every version published here has its records (see setpiece.core.repos.dependents)\n")


def is_complete(root: Path | str) -> bool:
    return os.path.exists(os.path.join(root, DEPS, MARKER))


def write_record(root: Path, record: VersionRecord) -> None:
    """Record one published version: its own file, then one file per project it requires."""
    base = deps_dir(root)
    name = _file_name(record.name, record.version)
    atomic_write_bytes(base / "versions" / record.key / f"{_version_key(record.version)}.json",
                       record.to_bytes(), durable=False)
    for target, cut in sorted(record.by_target().items()):
        atomic_write_bytes(base / "dependents" / target / name, cut.to_bytes(), durable=False)


def read_version(root: Path, project: str, version: str) -> VersionRecord | None:
    return _read_record(
        deps_dir(root) / "versions" / normalize(project) / f"{_version_key(version)}.json"
    )


def record_wheel(root: Path, wheel: Path) -> VersionRecord:
    """Record the published ``wheel`` (read from its ``.metadata`` file, else the wheel)."""
    meta = wheel.with_name(wheel.name + ".metadata")
    try:
        data = meta.read_bytes()
    except OSError:
        from setpiece.core.wheels import read_metadata_bytes

        data = read_metadata_bytes(wheel)
    record = VersionRecord.from_metadata(data)
    write_record(root, record)
    return record


def dependents(root: Path | str, target: str) -> list[VersionRecord]:
    """Every published version that requires ``target`` (any group, any specifier)."""
    folder = os.path.join(root, DEPS, "dependents", normalize(target))
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and n[0] != ".")
    except (FileNotFoundError, NotADirectoryError):
        return []
    cache_path = folder + ".json"
    cached: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError, AttributeError), open(cache_path, "rb") as fh:
        cached = json.loads(fh.read()).get("files", {})
    out: list[VersionRecord] = []
    fresh: dict[str, Any] = {}
    read = 0
    for n in names:
        data = cached.get(n)
        record = None
        if isinstance(data, dict):
            with contextlib.suppress(ValueError):
                record = VersionRecord.from_json(data)
            fresh[n] = data
        if record is None:
            read += 1
            record = _read_record(os.path.join(folder, n))
            if record is None:
                continue
            fresh[n] = record.to_json()
        out.append(record)
    if read >= COMPACT_AFTER or (read and len(cached) > len(fresh)):
        with contextlib.suppress(OSError):  # a read-only share: readers stay correct, slower
            atomic_write_bytes(Path(cache_path), json.dumps({"files": fresh}, sort_keys=True).encode(),
                               durable=False)
    return out


def indexed_versions(root: Path) -> dict[str, set[str]]:
    """Normalised project -> versions that have a record."""
    out: dict[str, set[str]] = {}
    base = deps_dir(root) / "versions"
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(base):
            if entry.is_dir():
                out[entry.name] = {n[:-5] for n in os.listdir(entry.path) if n.endswith(".json")}
    return out


def reindex(root: Path, wheels: Iterable[Path]) -> int:
    """Rewrite every record from the wheels on disk; drop records of wheels gone.

    Safe beside concurrent publishers: a publisher links its wheel before its records, so a
    record is only dropped when its wheel is missing when checked; caches are removed,
    then written again from what is on disk.
    """
    from setpiece.core.wheels import parse_wheel_name

    root = Path(root)
    on_disk: dict[str, Path] = {}
    count = 0
    for wheel in wheels:
        wn = parse_wheel_name(wheel.name)
        if wn is None:
            continue
        on_disk[_file_name(wn.project, wn.version)] = wheel
        with contextlib.suppress(Exception):  # an unreadable wheel is reported by check_wheel
            record_wheel(root, wheel)
            count += 1
    base = deps_dir(root)
    for sub in ("versions", "dependents"):  # drop what no wheel backs, and the caches
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(base / sub):
                if entry.is_file() and entry.name.endswith(".json"):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)  # a compacted cache
                    continue
                if not entry.is_dir():
                    continue
                for n in os.listdir(entry.path):
                    fname = n if sub == "dependents" else f"{entry.name}=={n}"
                    if n.endswith(".json") and fname not in on_disk:
                        _drop_if_gone(root, Path(entry.path) / n, fname)
    with contextlib.suppress(FileNotFoundError):  # compact every target's cache again
        for entry in os.scandir(base / "dependents"):
            if entry.is_dir():
                dependents(root, entry.name)
    return count


def _drop_if_gone(root: Path, path: Path, fname: str) -> None:
    project, _, version = fname[:-5].partition("==")
    from setpiece.core.naming import wheel_name

    if not (root / f"{wheel_name(project)}-{version}-py3-none-any.whl").exists():
        with contextlib.suppress(OSError):
            os.unlink(path)
