"""The index of installed distributions: what the site-packages scan read, kept on disk.

Listing, scene builds and host start-up need every installed asset's metadata (its
``entry_points.txt``, METADATA header fields and ``direct_url.json``). Reading those
files is ~3 opens per distribution: 10,000 assets cost more than authoring their scene.
The index keeps what was read, one JSON file beside site-packages
(``lib/python3.X/.setpiece-installed.json``, a cache: written atomically, never fsynced,
rebuilt when missing or unreadable), and every reader checks it against the folder:

- one ``scandir`` of site-packages and one ``stat`` per ``*.dist-info`` folder (inode and
  mtime): a distribution installed, removed, upgraded or reinstalled by anything (setpiece,
  ``uv pip``, ``pip``) has a new folder; a file added to or removed from a dist-info
  (a killed install, a repair) changes the folder's mtime. Only the distributions that
  changed are read again.
- a folder whose mtime is within :data:`RACY_NS` of the moment the index was made is never
  trusted (a change in the same clock tick would keep the mtime; git's "racily clean"
  rule): it is read again until the index is written later than that.

Not noticed: a file edited in place inside a dist-info (its folder keeps its mtime);
installers never do that. ``setpiece`` refreshes the index after each uv call, so the
next reader finds it current.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

VERSION = 2  # 2: [record, why half-installed] per dist-info
#: a dist-info folder changed less than this before the index was made is read again
RACY_NS = 2_000_000_000
INDEX_NAME = ".setpiece-installed.json"

#: One distribution as the scan read it: None for a non-asset distribution, False for a
#: half-installed one (no readable METADATA: skipped), else a list (see ``assets``).
Record = Any


def index_path(site_packages: Path | str) -> str:
    """Where the index of ``site_packages`` lives (beside it: writing it leaves the
    site-packages folder's own mtime alone)."""
    site = os.fspath(site_packages).rstrip("/\\")
    return os.path.join(os.path.dirname(site), INDEX_NAME)


_last: tuple[tuple[str, int, int, int], Any] | None = None  # the last index read (a listing
# reads it twice: assets and half-installed ones)


def _read_index(path: str, site: str) -> tuple[dict[str, list[Any]], int]:
    global _last
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            stamp = (path, st.st_ino, st.st_mtime_ns, st.st_size)  # replaced whole, never edited
            if _last is not None and _last[0] == stamp:
                data = _last[1]
            else:
                data = json.loads(fh.read())
                _last = (stamp, data)
    except (OSError, ValueError):
        return {}, 0
    if (
        not isinstance(data, dict)
        or data.get("v") != VERSION
        or data.get("site") != site
        or not isinstance(data.get("dists"), dict)
        or not isinstance(data.get("made_ns"), int)
    ):
        return {}, 0
    return data["dists"], data["made_ns"]


def load(site_packages: Path | str, read_dist: Any) -> dict[str, tuple[str, Record]] | None:
    """Every ``*.dist-info`` of ``site_packages`` -> (its path, its record), from the index
    where it is current and from ``read_dist(path)`` where not; writes the index back
    when anything was read. None when site-packages does not exist."""
    site = os.fspath(site_packages)
    now = time.time_ns()
    try:
        entries = list(os.scandir(site))
    except (FileNotFoundError, NotADirectoryError):
        return None
    path = index_path(site)
    known, made_ns = _read_index(path, site)
    trusted_before = made_ns - RACY_NS
    settled_before = now - RACY_NS
    fresh: dict[str, list[Any]] = {}
    out: dict[str, tuple[str, Record]] = {}
    changed = not known
    for entry in entries:
        name = entry.name
        if not name.endswith(".dist-info"):
            continue
        try:
            st = entry.stat()
        except OSError:
            continue
        ino, mtime = st.st_ino, st.st_mtime_ns
        old = known.get(name)
        if old is not None and old[0] == ino and old[1] == mtime:
            if mtime < trusted_before:
                record = old[2]
            else:  # racy: read again; written back once it can be trusted
                record = read_dist(entry.path)
                if record != old[2] or mtime < settled_before:
                    changed = True
        else:
            record = read_dist(entry.path)
            changed = True
        fresh[name] = [ino, mtime, record]
        out[name] = (entry.path, record)
    if changed or len(fresh) != len(known):
        _write(path, site, now, fresh)
    return out


def _write(path: str, site: str, made_ns: int, dists: dict[str, list[Any]]) -> None:
    """Best effort, atomic (temp + rename), no fsync: the index is a cache."""
    global _last
    _last = None
    from setpiece.core.fsutil import atomic_write_bytes

    text = json.dumps({"v": VERSION, "site": site, "made_ns": made_ns, "dists": dists},
                      separators=(",", ":"))
    try:
        atomic_write_bytes(Path(path), text.encode("utf-8"), durable=False)
    except OSError:  # a read-only venv (a studio's shared install): read without an index
        pass


def forget(site_packages: Path | str) -> None:
    """Drop the index (the next reader reads every distribution again)."""
    global _last
    _last = None
    try:
        os.unlink(index_path(site_packages))
    except OSError:
        pass


def exists(site_packages: Path | str) -> bool:
    return Path(index_path(site_packages)).is_file()
