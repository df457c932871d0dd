"""``files push``: send an output asset's tracked files to a repo's files remote.

Only objects the remote lacks are sent (content addressing: 3 changed frames of 500 send 3
files and 1 folder listing). Files go before the listings that name them, and afterwards
the remote is checked to hold every object the asset points to.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.files import pointers
from setpiece.core.files.pointers import Pointer

if TYPE_CHECKING:
    from setpiece.core.files.remote import FilesRemote
    from setpiece.core.files.store import Store
    from setpiece.core.workspace import Workspace


def _names(oids: set[str], labels: dict[str, str], limit: int = 5) -> str:
    names = sorted({labels.get(o, o) for o in oids})
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def ensure_cached(store: Store, asset: str, package_dir: Path, ptrs: list[Pointer]) -> None:
    """Every object the pointers name is in the cache; re-cache unchanged local files.

    A tracked file that is neither in the cache nor (unchanged) in the asset folder has
    vanished since it was added: refuse, naming it.
    """
    vanished: list[str] = []
    for p in ptrs:
        rel = p.rel(package_dir)
        entries = store.entries(p)
        complete = store.has(p.md5) and all(store.has(md5) for _, md5, _ in entries)
        if complete:
            continue
        if store.current_md5(p.data_path) == p.md5:  # the local copy is intact: cache it
            staging, _, obj = store.build(p.data_path)
            store.commit(staging, obj, in_place=True)
            continue
        if p.is_dir and entries:
            vanished += [f"{rel}/{r}" for r, md5, _ in entries if not store.has(md5)]
        else:
            vanished.append(rel)
    if vanished:
        shown = ", ".join(vanished[:5]) + (f" and {len(vanished) - 5} more" if len(vanished) > 5 else "")
        raise SetpieceError(
            f"cannot push {asset}: {len(vanished)} tracked file(s) vanished from the asset "
            f"folder and the cache since they were added: {shown}; restore them and run "
            f"'setpiece files add {asset} PATH' again"
        )


def labels_for(store: Store, package_dir: Path, ptrs: list[Pointer]) -> tuple[dict[str, str], dict[str, int]]:
    labels: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for p in ptrs:
        rel = p.rel(package_dir)
        labels[p.md5] = rel
        sizes.setdefault(p.md5, 0 if p.is_dir else p.size)
        if p.is_dir:
            for r, md5, size in store.entries(p):
                labels.setdefault(md5, f"{rel}/{r}")
                sizes.setdefault(md5, size)
    return labels, sizes


def upload(ws: Workspace, store: Store, remote: FilesRemote, asset: str, wanted: set[str],
           labels: dict[str, str]) -> set[str]:
    """Send the cached objects of ``wanted`` that the remote lacks; verify it holds them all.

    Returns the objects sent. Raises naming the files that did not make it.
    """
    from setpiece.core.files.objects import copy_local, is_disk_full
    from setpiece.core.files.store import capture_transfer_errors, describe_os_error, progress

    todo = remote.missing(wanted)
    errors: dict[str, BaseException] = {}
    corrupt: set[str] = set()
    if todo:
        ws.report(f"Pushing {len(todo)} object(s) of {asset} to repo '{remote.repo}' ({remote.url})")
        cb = progress(ws, f"Pushing {asset}")
        if remote.local:  # hashed while copied: a corrupt cache object is never sent
            outcome = copy_local(store.cache, remote.odb, todo, verify=True, callback=cb,
                                 durable=True)
            errors = outcome.errors
            corrupt = outcome.corrupt
        else:
            from setpiece.core.files.verify import cache_states

            corrupt = {o for o, st in cache_states(store, todo).items() if st == "corrupt"}
        if corrupt:
            raise SetpieceError(
                f"the files cache holds a corrupt copy of {_names(corrupt, labels)} (its bytes "
                f"do not match its md5): nothing corrupt was sent to repo '{remote.repo}'; "
                f"repair the cache with 'setpiece files verify {asset} --repair'"
            )
        if not remote.local:
            from dvc_data.hashfile.transfer import transfer

            with capture_transfer_errors() as errs:
                try:
                    transfer(store.cache, remote.odb, {store.hash_info(o) for o in todo},
                             shallow=True, callback=cb)  # explicit ids: no expansion
                except Exception as exc:
                    errs.append(("", exc))
            for oid, err in errs:
                errors[oid or next(iter(todo))] = err
    failed = remote.missing(wanted)
    if failed:
        reason = ""
        if errors:
            first = next(iter(errors.values()))
            reason = "disk full on the remote" if is_disk_full(first) else describe_os_error(first)
        raise SetpieceError(
            f"push of {asset} to repo '{remote.repo}' failed for {len(failed)} file(s): "
            f"{_names(failed, labels)}" + (f" ({reason})" if reason else "")
        )
    return todo


def send(ws: Workspace, store: Store, remote: FilesRemote, asset: str, package_dir: Path,
         ptrs: list[Pointer], *, recheck_remote: bool = False) -> dict[str, Any]:
    """Push the pointers' objects to ``remote`` and verify it holds them all.
    ``recheck_remote``: also re-hash the copies a folder remote has and replace corrupt ones."""
    from setpiece.core import telemetry

    with telemetry.span("files.push", asset=asset, repo=remote.repo) as span:
        result = _send(ws, store, remote, asset, package_dir, ptrs, recheck_remote=recheck_remote)
        span.set(objects=result["objects"], sent=result["sent"], bytes=result["bytes"])
        if result["sent"]:
            telemetry.add("setpiece.files.bytes", result["bytes"], direction="push")
            telemetry.add("setpiece.files.count", result["sent"], direction="push")
        return result


def _send(ws: Workspace, store: Store, remote: FilesRemote, asset: str, package_dir: Path,
          ptrs: list[Pointer], *, recheck_remote: bool) -> dict[str, Any]:
    ensure_cached(store, asset, package_dir, ptrs)
    labels, sizes = labels_for(store, package_dir, ptrs)
    sent = upload(ws, store, remote, asset, set(labels), labels)
    if recheck_remote:
        from setpiece.core.files.verify import replace_corrupt_on_remote

        sent |= replace_corrupt_on_remote(ws, store, remote, set(labels), labels)
    result = {
        "asset": asset, "repo": remote.repo, "remote": remote.url, "objects": len(labels),
        "sent": len(sent), "bytes": sum(sizes.get(o, 0) for o in sent),
    }
    if sent:
        ws.emit("files.pushed", **result)
    return result


def push(ws: Workspace, name: str, *, repo: str | None = None) -> dict[str, Any]:
    from setpiece.core.files.remote import open_remote
    from setpiece.core.files.store import Store
    from setpiece.core.files.tracking import output_for_files

    asset = output_for_files(ws, name)
    target = ws.repo(repo)
    ptrs = pointers.find(asset.package_dir)
    if not ptrs:
        return {"asset": asset.name, "repo": target.name, "objects": 0, "sent": 0, "bytes": 0}
    with Store(ws) as store:
        remote = open_remote(ws, target.name)
        return send(ws, store, remote, asset.name, asset.package_dir, ptrs, recheck_remote=True)
