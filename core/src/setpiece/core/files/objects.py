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
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

CHUNK = 1 << 20


@dataclass
class Outcome:
    done: set[str] = field(default_factory=set)
    corrupt: set[str] = field(default_factory=set)
    errors: dict[str, BaseException] = field(default_factory=dict)


def _copy_one(src: str, dest: str, oid: str, verify: bool) -> str:
    """'ok', 'corrupt' or raises OSError. Never leaves a partial file at ``dest``."""
    if os.path.exists(dest):
        return "ok"
    folder = os.path.dirname(dest)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
    try:
        md5 = hashlib.md5(usedforsecurity=False)
        with open(src, "rb") as inp, os.fdopen(fd, "wb") as out:
            while True:
                chunk = inp.read(CHUNK)
                if not chunk:
                    break
                if verify:
                    md5.update(chunk)
                out.write(chunk)
        if verify and not oid.endswith(".dir") and md5.hexdigest() != oid:
            os.unlink(tmp)
            return "corrupt"
        if verify and oid.endswith(".dir") and md5.hexdigest() != oid[: -len(".dir")]:
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
               jobs: int = 4, callback: Any = None) -> Outcome:
    """Copy objects between two local object folders (files first, then listings)."""
    outcome = Outcome()
    oids = sorted(set(oids), key=lambda o: (o.endswith(".dir"), o))
    files = [o for o in oids if not o.endswith(".dir")]
    dirs = [o for o in oids if o.endswith(".dir")]
    if callback is not None:
        callback.set_size(len(oids))

    def run(oid: str) -> tuple[str, str | BaseException]:
        try:
            return oid, _copy_one(src_odb.oid_to_path(oid), dest_odb.oid_to_path(oid), oid, verify)
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
        if outcome.errors or outcome.corrupt:
            break  # never write a listing whose files failed
    return outcome


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
