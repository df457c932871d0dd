"""Atomic file writes: temp file in the same folder, fsync, rename (nothing half-written)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """fsync a folder (its names: a file renamed or linked into it); a no-op on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_fsync_dir = fsync_dir  # the older private name, still used across core


def fsync_files(paths: Iterable[Path], *, jobs: int = 8) -> None:
    """fsync each of ``paths`` (written before without their fsync, e.g. a batch of
    ``durable=False`` writes): only these files, never the whole host (``os.sync``). Up to
    ``jobs`` at once, so their flushes share the disk's queue. Missing files are skipped
    (a concurrent writer replaced or removed them: its own write is fsynced by it)."""

    def one(path: Path) -> None:
        try:  # Windows flushes only a handle opened for writing
            fd = os.open(path, os.O_RDWR if sys.platform == "win32" else os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    todo = list(paths)
    if len(todo) <= 1 or jobs <= 1:
        for path in todo:
            one(path)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
        for _ in pool.map(one, todo):  # raises the first failure
            pass


def fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (and ``root``): a tree built in a staging
    folder, before it is renamed into place."""
    files: list[Path] = []
    folders: list[Path] = []
    for here, _dirs, names in os.walk(root):
        folders.append(Path(here))
        files.extend(Path(here) / n for n in names)
    fsync_files(files)
    for path in reversed(folders):
        fsync_dir(path)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _mkstemp(folder: Path, name: str, suffix: str = ".tmp") -> tuple[int, str]:
    """A hidden temp file beside ``name`` with the mode a normal file would get (the umask),
    not mkstemp's 0600: repos are shared folders that other users must read."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=folder)
    if hasattr(os, "fchmod"):
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666 & ~_UMASK)
    return fd, tmp


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``path`` whole or not at all (temp file, rename over the target).

    ``durable=False`` skips the two fsyncs (~6 ms each on a busy disk): for derived files
    that a reader can rebuild from the data they describe (indexes, caches). The rename
    still makes them appear whole; a power cut may lose the newest ones.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _mkstemp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """A hidden temp path beside ``dest`` for a writer that takes a file name (a tool, a
    DCC's export), ending in ``dest``'s suffix (tools pick the format by it), with the mode
    a normal file would get (the umask). When the block ends without error the temp is
    fsynced, renamed over ``dest`` and the folder fsynced; otherwise it is removed and
    ``dest`` is untouched."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _mkstemp(dest.parent, dest.name, suffix=f".tmp{dest.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        fsync_files([Path(tmp)])
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(dest.parent)


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


class DigestMismatch(ValueError):
    """The bytes written do not have the sha256 the caller expected (nothing was published)."""

    def __init__(self, expected: str, got: str) -> None:
        super().__init__(f"sha256 {got}, expected {expected}")
        self.expected = expected
        self.got = got


def append_line(path: Path, data: bytes, *, durable: bool = False) -> int:
    """Append ``data`` (one line) to ``path`` in one ``O_APPEND`` write: the line is whole
    or absent, lines of concurrent writers never interleave. The folder is made when missing;
    ``durable`` fsyncs the file. Returns the file's size after the write."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
        if durable:
            os.fsync(fd)
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


def publish_file_exclusive(src: Path, dest: Path, *, sha256: str | None = None,
                           sync_dir: bool = True) -> bool:
    """Copy ``src`` to ``dest`` atomically; never overwrite. Returns False if ``dest`` exists.

    The bytes go to a temp file beside ``dest`` (fsynced), then ``os.link`` makes the final
    name appear in one step and fails if the name exists: of several machines publishing
    the same file into a shared folder at once, exactly one wins. A process killed midway
    leaves only a hidden ``.*.tmp`` file, never a partial ``dest``. With ``sha256``, the
    bytes are hashed as they are written and :class:`DigestMismatch` is raised, before the
    name appears, when they differ. ``sync_dir=False``: the caller fsyncs the folder once
    after many (the bytes themselves are always fsynced before the name appears).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _mkstemp(dest.parent, dest.name)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            if sha256 is None:
                shutil.copyfileobj(inp, out, 1024 * 1024)
            else:
                import hashlib

                h = hashlib.sha256()
                for chunk in iter(lambda: inp.read(1024 * 1024), b""):
                    h.update(chunk)
                    out.write(chunk)
                if h.hexdigest() != sha256:
                    raise DigestMismatch(sha256, h.hexdigest())
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, dest)
        except FileExistsError:
            return False
        except OSError:
            # Filesystems without hard links: O_EXCL create + rename keeps one winner.
            try:
                marker = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return False
            os.close(marker)
            os.replace(tmp, dest)
        if sync_dir:
            _fsync_dir(dest.parent)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def staging_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary folder inside ``parent`` (same filesystem, so renames are atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{prefix}.", dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


_HELD = threading.local()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on the lock file ``path`` (created if missing) for the block.

    Every process that read-modify-writes a shared file (``setpiece.toml``, an asset's
    ``pyproject.toml``, a repo's index) holds the file's lock from its read to its atomic
    write, so no two such sequences interleave and no update is lost. ``fcntl.flock`` on
    POSIX, ``msvcrt.locking`` on Windows; advisory (only setpiece's own writers take it).
    Re-entrant within a thread: an edit inside a locked transaction does not deadlock.
    """
    key = os.path.abspath(path)
    held: dict[str, int] = _HELD.__dict__.setdefault("paths", {})
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666 & ~_UMASK)
    try:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # tries for 10 s, then raises
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        held[key] = 1
        try:
            yield
        finally:
            held.pop(key, None)
            if sys.platform == "win32":
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    finally:
        os.close(fd)  # closing also releases a flock
