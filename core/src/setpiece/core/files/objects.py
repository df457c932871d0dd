"""Moving objects between the cache and a remote.

Cloud remotes go through dvc-data's ``transfer`` (with the cache verifying every fetched
object). Between two local folders dvc-data copies one file at a time and verifies in a
second pass; here the copy runs in a thread pool and hashes while it copies (one read of
each byte), which is what keeps a 500 MB pull from a folder remote near ``cp -r``.
Either way an object appears under its final name only complete and verified (temp file
+ rename), and files go before the folder listings that name them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


@dataclass
class Outcome:
    done: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    errors: dict[str, BaseException] = field(default_factory=dict)


_BUFFERS = threading.local()


def _buffer() -> bytearray:
    """One reusable buffer per thread: a fresh ``bytes`` per read costs page faults (sys time)."""
    buf: bytearray | None = getattr(_BUFFERS, "buf", None)
    if buf is None:
        buf = _BUFFERS.buf = bytearray(CHUNK)
    return buf


def _copy_one(src: str, dest: str, oid: str, verify: bool, replace: bool = False,
              durable: bool = False) -> str:
    """'ok', 'corrupt' or raises OSError. Never leaves a partial file at ``dest``.

    Each byte is read once: the same buffer is hashed (hashlib releases the GIL for it, so
    the pool's threads hash on every core) and written to a temp file beside ``dest``,
    which is renamed into place only once complete and matching.
    """
    if os.path.exists(dest) and not replace:
        return "ok"
    folder = os.path.dirname(dest)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
    try:
        md5 = hashlib.md5(usedforsecurity=False)
        buf = _buffer()
        view = memoryview(buf)
        with open(src, "rb", buffering=0) as inp, os.fdopen(fd, "wb") as out:
            while True:
                n = inp.readinto(buf)
                if not n:
                    break
                chunk = view[:n]
                if verify:
                    md5.update(chunk)
                out.write(chunk)  # buffered: writes it all (a chunk bypasses the buffer)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        if verify and md5.hexdigest() != oid.removesuffix(".dir"):
            os.unlink(tmp)
            return "corrupt"
        os.chmod(tmp, 0o444)
        os.replace(tmp, dest)
        return "ok"
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def copy_local(src_odb: Any, dest_odb: Any, oids: Iterable[str], *, verify: bool,
               jobs: int = 4, callback: Any = None, replace: bool = False,
               durable: bool = False) -> Outcome:
    """Copy objects between two local object folders (files first, then listings).
    ``replace``: write over an existing (corrupt) copy, atomically.

    ``durable`` (writing to a files remote): each object's bytes are fsynced before it is
    renamed into place, then the folders that got new names, so that once this returns the
    objects survive a power cut; the wheel that points to them is linked only after.
    """
    outcome = Outcome()
    oids = sorted(set(oids), key=lambda o: (o.endswith(".dir"), o))
    files = [o for o in oids if not o.endswith(".dir")]
    dirs = [o for o in oids if o.endswith(".dir")]
    if callback is not None:
        callback.set_size(len(oids))

    def run(oid: str) -> tuple[str, str | BaseException]:
        try:
            return oid, _copy_one(src_odb.oid_to_path(oid), dest_odb.oid_to_path(oid), oid, verify,
                                  replace, durable)
        except OSError as exc:
            return oid, exc

    for batch in (files, dirs):
        if not batch:
            continue
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for oid, result in pool.map(run, batch):
                if result == "ok":
                    outcome.done.add(oid)
                elif result == "corrupt":
                    outcome.corrupt.add(oid)
                else:
                    assert isinstance(result, BaseException)
                    outcome.errors[oid] = result
                if callback is not None:
                    callback.relative_update(1)
        if durable:
            _sync_folders({os.path.dirname(dest_odb.oid_to_path(o)) for o in batch
                           if o in outcome.done})
        if outcome.errors or outcome.corrupt:
            break  # never write a listing whose files failed
    return outcome


def _sync_folders(folders: set[str]) -> None:
    """fsync each folder and their parents (a new ``xx/`` folder is a name in ``md5/``)."""
    from setpiece.core.fsutil import _fsync_dir

    for folder in sorted(folders | {os.path.dirname(f) for f in folders}):
        _fsync_dir(Path(folder))


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
