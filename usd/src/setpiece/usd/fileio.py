"""Atomic, incremental writes: nothing half-written, nothing rewritten needlessly.

Writes go through :func:`setpiece.core.fsutil.atomic_write_bytes`: a temp file in the
same folder, fsynced, given the permissions a normal file would get (``0666 & ~umask``:
scenes live on shared disks), renamed over the target, then the folder is fsynced so the
rename itself survives a crash.
"""

from __future__ import annotations

from pathlib import Path

from setpiece.core.fsutil import atomic_write_bytes

__all__ = ["atomic_write_bytes", "write_if_changed"]


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` atomically unless the file already holds it.

    Returns True when the file was written.
    """
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write_bytes(Path(path), data)
    return True
