"""``repo gc``: remove the temp files that killed writers left in a folder repo.

Every write into a repo goes to a hidden temp file beside its final name (``.NAME.*.tmp``
from ``fsutil``, ``.*.tmp`` for file objects), renamed or linked into place once complete.
A writer killed midway leaves its temp behind (150 MB after one fault-injection run). They
are never a final name, so nothing reads them; gc removes those older than a grace period
(default one hour). A live writer's temp is younger: its mtime moves with every write, and
a temp is unlinked right after its final fsync. Only the folders writers use are looked at
(the repo root, ``simple/`` and its project folders, ``files/md5/*``, ``deps/versions/*``,
``deps/dependents/`` and its folders), and only file names
of that shape: nothing else in a repo is ever touched.

``publish`` runs it opportunistically, at most once a day per repo (``simple/.gc-stamp``),
so that publishing still never lists the whole folder on the common path.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GRACE = 3600.0  # seconds a temp must be untouched before gc removes it
EVERY = 86400.0  # how often publish runs it
STAMP = Path("simple") / ".gc-stamp"


@dataclass
class GcResult:
    removed: list[tuple[str, int]] = field(default_factory=list)  # (path in repo, bytes)
    young: int = 0  # temps left because a writer may still own them

    @property
    def bytes(self) -> int:
        return sum(n for _, n in self.removed)


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp") and len(name) > 5


def _folders(root: Path) -> Iterator[Path]:
    yield root
    deps = root / "deps"  # the reverse-dependency index (setpiece.core.repos.dependents)
    for sub in (root / "simple", root / "files" / "md5", deps / "versions", deps / "dependents"):
        if not sub.is_dir():
            continue
        yield sub
        with os.scandir(sub) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False) and not e.name.startswith("."):
                    yield Path(e.path)


def temp_files(root: Path) -> Iterator[os.DirEntry[str]]:
    for folder in _folders(root):
        with os.scandir(folder) as it:
            for e in it:
                if _is_temp(e.name) and e.is_file(follow_symlinks=False):
                    yield e


def gc(root: Path, *, grace: float = GRACE, dry_run: bool = False) -> GcResult:
    result = GcResult()
    now = time.time()
    for e in temp_files(root):
        try:
            st = e.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # its writer finished meanwhile
        if now - st.st_mtime < grace:
            result.young += 1
            continue
        rel = os.path.relpath(e.path, root)
        if not dry_run:
            try:
                os.unlink(e.path)
            except FileNotFoundError:
                continue
        result.removed.append((rel, st.st_size))
    if not dry_run:
        with contextlib.suppress(OSError):
            (root / STAMP).touch()
    return result


def maybe_gc(root: Path, *, every: float = EVERY) -> GcResult | None:
    """``gc`` when the last one ran more than ``every`` seconds ago (never raises)."""
    try:
        last = (root / STAMP).stat().st_mtime
    except FileNotFoundError:
        last = 0.0
    except OSError:
        return None
    if time.time() - last < every:
        return None
    try:
        return gc(root)
    except OSError:
        return None
