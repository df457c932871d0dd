"""Atomic, incremental writes: nothing half-written, nothing rewritten needlessly."""

from __future__ import annotations

from pathlib import Path

from setpiece.core.fsutil import atomic_write_bytes


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (temp file + rename) unless the file already holds it.

    Returns True when the file was written.
    """
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write_bytes(path, data)
    return True
