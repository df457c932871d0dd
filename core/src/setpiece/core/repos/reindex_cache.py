"""What ``repo reindex`` already checked, so that an unchanged wheel costs a ``stat``.

A reindex checks every wheel (its zip opened, every entry's CRC, unsafe entries) and makes
its page row (the wheel's sha256, its metadata file's sha256, ``Requires-Python``, a
yank). Kept in ``<repo>/.setpiece/reindex-cache.json`` (a cache: written whole, never
fsynced on its own, rebuilt when missing or unreadable) for each wheel: its inode, size,
mtime and ctime, its ``.metadata`` file's, its yank reason, and the row. The ctime is
there because a user can set the mtime back (``cp -p``, ``touch -r`` over a wheel
rewritten in place keep inode, size and mtime) but not the ctime: any write or
``utime`` moves it. The next reindex reuses the row, without opening the wheel, only
when all of these are the same and neither file changed within :data:`RACY_NS` of the
cache being made (a change in the same clock tick keeps the times); anything else is
checked and hashed again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

VERSION = 2  # 2: ctime in the key (a version 1 cache is rebuilt)
RACY_NS = 2_000_000_000
NAME = "reindex-cache.json"

Key = list[Any]


def path(root: Path) -> Path:
    return root / ".setpiece" / NAME


def load(root: Path) -> tuple[dict[str, Any], int]:
    """(wheel name -> [key, row], when the cache was made)."""
    try:
        data = json.loads(path(root).read_bytes())
        if data.get("v") == VERSION and isinstance(data.get("rows"), dict):
            return data["rows"], int(data["made_ns"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return {}, 0


def _stat(entry: os.DirEntry[str] | str | None) -> list[int] | None:
    if entry is None:
        return None
    try:
        st = entry.stat() if isinstance(entry, os.DirEntry) else os.stat(entry)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def key(wheel: os.DirEntry[str] | str, metadata: os.DirEntry[str] | str | None,
        yank: str | None) -> Key | None:
    """What must be unchanged for a row to be reused; None: a file is missing."""
    w, m = _stat(wheel), _stat(metadata)
    if w is None or m is None:
        return None
    return [w, m, yank]


def reusable(cached: Any, current: Key | None, made_ns: int) -> str | None:
    """The cached row when ``current`` is what it was made from (and not racy)."""
    if current is None or not isinstance(cached, list) or len(cached) != 2:
        return None
    newest = max(current[0][2], current[0][3], current[1][2], current[1][3])
    if cached[0] != current or newest >= made_ns - RACY_NS:
        return None
    return str(cached[1])


def save(root: Path, made_ns: int, rows: dict[str, tuple[Key, str]]) -> None:
    from setpiece.core.fsutil import atomic_write_bytes

    data = {"v": VERSION, "made_ns": made_ns,
            "rows": {name: [k, row] for name, (k, row) in rows.items()}}
    try:
        atomic_write_bytes(path(root), json.dumps(data, separators=(",", ":")).encode(),
                           durable=False)  # flushed with the pages at the end of reindex
    except OSError:
        pass
