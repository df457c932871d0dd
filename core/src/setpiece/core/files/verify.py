"""``files verify``: re-hash every object an asset points to, in the cache and the remote.

The cache and a folder remote are content addressed: an object's file name is its md5.
Bit rot, a bad disk or a hand edit can make the bytes disagree with the name; nothing in
dvc notices (its hash state is keyed by inode, mtime and size, and ``checkout`` records the
expected hash without reading). So:

- ``pull`` hashes the cached objects it is about to link (objects it fetches are hashed
  while they are copied): a corrupt one is dropped and fetched again, never linked.
- ``push`` hashes what it sends (while copying to a folder remote; before sending to a
  cloud remote): a corrupt cache object is never sent.
- ``files push`` also re-hashes the copies a folder remote already has and replaces
  corrupt ones; ``files verify`` checks both sides and, with ``--repair``, re-fetches a
  corrupt cache object from a remote and re-pushes a good cached copy over a corrupt
  remote one. Cloud remotes are checked for presence only (their objects are not read).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.files import pointers

if TYPE_CHECKING:
    from setpiece.core.files.pointers import Pointer
    from setpiece.core.files.remote import FilesRemote
    from setpiece.core.files.store import Store
    from setpiece.core.workspace import Workspace


def md5_of(path: str | Path) -> str | None:
    """The md5 of a file's bytes, read in full (no hash state), or None if unreadable."""
    h = hashlib.md5(usedforsecurity=False)
    try:
        with open(path, "rb", buffering=0) as fh:
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            while n := fh.readinto(buf):
                h.update(view[:n])
    except OSError:
        return None
    return h.hexdigest()


def object_state(path: str, oid: str) -> str:
    """``ok``, ``corrupt`` or ``missing`` for the object file ``path`` of id ``oid``."""
    if not os.path.lexists(path):
        return "missing"
    got = md5_of(path)
    return "ok" if got == oid.removesuffix(".dir") else "corrupt"


def cache_states(store: Store, oids: set[str]) -> dict[str, str]:
    """Each object's state in the cache; each object is hashed at most once per Store."""
    done = store.verified
    for oid in sorted(oids):
        if done.get(oid) != "ok":
            done[oid] = object_state(store.cache.oid_to_path(oid), oid)
    return {o: done[o] for o in oids}


def remote_states(remote: FilesRemote, oids: set[str]) -> dict[str, str]:
    """Each object's state on a remote: a folder remote is hashed; a cloud remote is only
    asked which it holds (``present``)."""
    if remote.local:
        return {o: object_state(remote.odb.oid_to_path(o), o) for o in sorted(oids)}
    missing = remote.missing(oids)
    return {o: ("missing" if o in missing else "present") for o in oids}


def linked_paths(store: Store, oid: str, ptrs: list[Pointer]) -> list[Path]:
    """Paths under ``ptrs`` that are the cache object ``oid`` itself (hardlink/symlink)."""
    from setpiece.core.files.store import _is_link_to

    obj = store.cache.oid_to_path(oid)
    out: list[Path] = []
    for p in ptrs:
        root = p.data_path
        if not p.is_dir:
            if _is_link_to(root, obj):
                out.append(root)
            continue
        for folder, _, files in os.walk(root):
            out += [Path(folder, f) for f in files if _is_link_to(Path(folder, f), obj)]
    return out


def corrupt_link(store: Store, p: Pointer) -> bool:
    """``p``'s path (or a file in its folder) is a link to its cache object whose bytes are
    not what the object's name says: the cache object is corrupt, not the artist's work."""
    from setpiece.core.files.store import _is_link_to

    for rel, oid, _ in store.entries(p):
        path = p.data_path / rel if rel else p.data_path
        if _is_link_to(path, store.cache.oid_to_path(oid)) and store.current_md5(path) != oid:
            return True
    return False


def quarantine(store: Store, oid: str) -> Path | None:
    """Move a corrupt cache object aside (``<cache>/quarantine/``): out of the cache's
    names, never deleted (the only copy of mostly good bytes may be in it)."""
    import time

    obj = Path(store.cache.oid_to_path(oid))
    dest = store.root / "quarantine" / f"{oid}.{time.time_ns()}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(obj, dest)
    except FileNotFoundError:
        return None
    return dest


def drop_corrupt(store: Store, oids: set[str], ptrs: list[Pointer]) -> set[str]:
    """Move corrupt objects out of the cache (``quarantine``), and remove the workspace
    links to them (the same corrupt bytes, kept in the quarantine). Returns their ids."""
    corrupt = {o for o, s in cache_states(store, oids).items() if s == "corrupt"}
    for oid in sorted(corrupt):
        for path in linked_paths(store, oid, ptrs):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        quarantine(store, oid)
        store.verified.pop(oid, None)
    return corrupt


def refuse_edited_outputs(store: Store, oids: set[str], outputs: list[tuple[str, list[Pointer]]]
                          ) -> None:
    """An output asset's file edited in place through its link (as root, or after a chmod)
    changed the cache object with it: the object looks corrupt, but the bytes are the
    artist's. A pull must not move them aside: it stops and says how to keep them."""
    for name, ptrs in outputs:
        for oid, state in cache_states(store, oids).items():
            if state != "corrupt":
                continue
            paths = linked_paths(store, oid, ptrs)
            if paths:
                raise SetpieceError(
                    f"{name}: {paths[0]} was changed in place through its link into the files "
                    f"cache: record it with 'setpiece files add {name} {paths[0]}' (or move it "
                    "away), then pull again; nothing was changed")


def before_commit(store: Store, path: Path, obj: Any) -> set[str]:
    """Before ``path`` (hashed as ``obj``) is committed and linked: the objects of it that
    the cache already holds, and that ``path`` is not already linked to, are hashed, and
    corrupt ones moved aside, so that the commit stores the artist's good bytes (a commit
    skips objects that exist, and the path would then be linked to the bad ones). An
    unchanged re-add (every file already a link) reads nothing."""
    from setpiece.core.files.store import _is_link_to

    if obj.hash_info.isdir:
        files = [(path.joinpath(*key), str(hi.value)) for key, _, hi in obj]
        check = {str(obj.hash_info.value)} if store.has(str(obj.hash_info.value)) else set()
    else:
        files, check = [(path, str(obj.hash_info.value))], set()
    for f, oid in files:
        if store.has(oid) and not _is_link_to(f, store.cache.oid_to_path(oid)):
            check.add(oid)
    return drop_corrupt(store, check, [])


def replace_corrupt_on_remote(ws: Workspace, store: Store, remote: FilesRemote,
                              oids: set[str], labels: dict[str, str]) -> set[str]:
    """Re-send good cached copies over corrupt copies on a folder remote; returns them."""
    from setpiece.core.files.objects import copy_local

    if not remote.local:
        return set()
    bad = {o for o, s in remote_states(remote, oids).items() if s == "corrupt"}
    if not bad:
        return set()
    good = {o for o, s in cache_states(store, bad).items() if s == "ok"}
    outcome = copy_local(store.cache, remote.odb, good, verify=True, replace=True,
                         durable=True)
    if outcome.errors or outcome.corrupt:
        from setpiece.core.files.pushing import _names

        raise SetpieceError(
            f"could not replace the corrupt copies of {_names(bad, labels)} on the files "
            f"remote of repo '{remote.repo}'"
        )
    return good


def verify(ws: Workspace, spec: str | None = None, *, repo: str | None = None,
           repair: bool = False) -> dict[str, Any]:
    """Check (and with ``repair`` mend) every object of NAME (default: every installed
    asset's and output's) in the cache and on the remotes."""
    from setpiece.core.files.pulling import fetch, targets
    from setpiece.core.files.pushing import labels_for
    from setpiece.core.files.remote import remotes_for_pull
    from setpiece.core.files.store import Store

    result: dict[str, Any] = {"assets": [], "objects": 0, "corrupt": [], "missing": [],
                              "repaired": []}
    plan = [(t, ptrs) for t in targets(ws, spec) if (ptrs := pointers.find(t.package_dir))]
    if not plan:
        return result
    with Store(ws) as store:
        remotes = remotes_for_pull(ws, repo)
        for t, ptrs in plan:
            labels, _ = labels_for(store, t.package_dir, ptrs)
            # folder listings first: without them a folder's files are unknown
            listings = {p.md5 for p in ptrs if p.is_dir}
            if repair and drop_corrupt(store, listings, ptrs):
                with contextlib.suppress(SetpieceError):
                    fetch(ws, store, remotes, listings, labels)
            labels, _ = labels_for(store, t.package_dir, ptrs)
            oids = set(labels)
            label = {o: f"{t.name}: {labels[o]}" for o in oids}
            cache = cache_states(store, oids)
            remote = {r.repo: remote_states(r, oids) for r in remotes}
            rows: list[dict[str, Any]] = []
            for oid in sorted(oids, key=lambda o: label[o]):
                rows.append({"path": labels[oid], "md5": oid, "cache": cache[oid],
                             "remote": {n: s[oid] for n, s in remote.items()}})
            if repair:
                fixed = _repair(ws, store, remotes, t.installed, ptrs, cache, remote, label)
                result["repaired"] += [label[o] for o in sorted(fixed)]
                cache = cache_states(store, oids)
                remote = {r.repo: remote_states(r, oids) for r in remotes}
                for row in rows:
                    row["cache"] = cache[row["md5"]]
                    row["remote"] = {n: s[row["md5"]] for n, s in remote.items()}
            for row in rows:
                states = [row["cache"], *row["remote"].values()]
                if "corrupt" in states:
                    result["corrupt"].append(label[row["md5"]])
                elif row["cache"] == "missing" and "ok" not in states and "present" not in states:
                    result["missing"].append(label[row["md5"]])
            result["objects"] += len(oids)
            result["assets"].append({"name": t.name, "version": t.version, "objects": rows})
    return result


def _repair(ws: Workspace, store: Store, remotes: list[FilesRemote], installed: bool,
            ptrs: list[Pointer], cache: dict[str, str], remote: dict[str, dict[str, str]],
            label: dict[str, str]) -> set[str]:
    from setpiece.core.files.pulling import fetch

    fixed: set[str] = set()
    bad_cache = {o for o, s in cache.items() if s == "corrupt"}
    if bad_cache:
        relink = [p for p in ptrs if any(linked_paths(store, o, [p]) for o in bad_cache)]
        drop_corrupt(store, bad_cache, ptrs)
        good_remotes = [r for r in remotes if any(remote[r.repo].get(o) in ("ok", "present")
                                                  for o in bad_cache)]
        if good_remotes:
            fetch(ws, store, good_remotes, bad_cache, label)
            fixed |= {o for o in bad_cache if store.has(o)}
            for p in relink:
                store.checkout(p.data_path, p.md5, force=installed, editable=not installed)
    for r in remotes:
        fixed |= replace_corrupt_on_remote(ws, store, r, set(cache), label)
    return fixed
