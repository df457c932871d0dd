"""``files pull``: bring an asset's tracked files into the workspace, as links into the cache.

For an output asset the files land in its package folder; for an installed asset in the
package folder in ``inputs/``'s site-packages, where the asset's code and USD find them at
the paths the package expects. Only objects missing from the cache are fetched (from the
repos' files remotes, blessed first), each verified against its md5 before it may be
used. What was pulled into site-packages is recorded in ``.setpiece/files/pulled.json``
so that ``prune`` (after every install, upgrade and uninstall) removes files that no
installed version points to any more.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.files import pointers
from setpiece.core.files.pointers import Pointer
from setpiece.core.fsutil import atomic_write_text

if TYPE_CHECKING:
    from setpiece.core.files.remote import FilesRemote
    from setpiece.core.files.store import Store
    from setpiece.core.workspace import Workspace


@dataclass
class Target:
    name: str
    version: str
    package_dir: Path
    installed: bool  # a non-editable install in site-packages (tracked in the manifest)


def manifest_path(ws: Workspace) -> Path:
    return ws.state_dir / "files" / "pulled.json"


def _load_manifest(ws: Workspace) -> dict[str, Any]:
    try:
        data = json.loads(manifest_path(ws).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _save_manifest(ws: Workspace, data: dict[str, Any]) -> None:
    atomic_write_text(manifest_path(ws), json.dumps(data, indent=1, sort_keys=True) + "\n")


def targets(ws: Workspace, spec: str | None) -> list[Target]:
    from setpiece.core.naming import normalize
    from setpiece.core.publishing import parse_spec

    outputs = ws.output_assets()
    if spec is None:
        out = []
        for key, a in ws.installed_assets().items():
            if a.editable and key in outputs:
                o = outputs[key]
                out.append(Target(o.name, o.version, o.package_dir, False))
            elif not a.editable:
                out.append(Target(a.name, a.version, a.package_dir, True))
        return out
    name, version = parse_spec(spec)
    key = normalize(name)
    if key in outputs:
        o = outputs[key]
        if version is not None and version != o.version:
            raise SetpieceError(
                f"{o.name} is an output at {o.version}, not {version}: pull without a version"
            )
        return [Target(o.name, o.version, o.package_dir, False)]
    asset = ws.installed_asset(name)
    if version is not None and version != asset.version:
        raise SetpieceError(
            f"{asset.name} {asset.version} is installed, not {version}: install it first "
            f"('setpiece install {asset.name}=={version}')"
        )
    return [Target(asset.name, asset.version, asset.package_dir, not asset.editable)]


def fetch(ws: Workspace, store: Store, remotes: list[FilesRemote], wanted: set[str],
          labels: dict[str, str]) -> int:
    """Fetch ``wanted`` objects into the cache, verified; a one-line error on any failure."""
    from setpiece.core.files.objects import copy_local, is_disk_full
    from setpiece.core.files.pushing import _names
    from setpiece.core.files.store import capture_transfer_errors, describe_os_error, progress

    remaining = {o for o in wanted if not store.has(o)}
    fetched = 0
    errors: dict[str, tuple[str, BaseException]] = {}
    for remote in remotes:
        if not remaining:
            break
        have = remaining - remote.missing(remaining)
        if not have:
            continue
        cb = progress(ws, f"Fetching from {remote.repo}")
        corrupt: set[str] = set()
        if remote.local:
            outcome = copy_local(remote.odb, store.cache, have, verify=True, callback=cb)
            corrupt = outcome.corrupt
            errors.update({o: (remote.repo, e) for o, e in outcome.errors.items()})
        else:
            from dvc_data.hashfile.transfer import transfer

            store.cache.verify = True  # dvc-data re-hashes and drops a corrupt object
            try:
                with capture_transfer_errors() as errs:
                    transfer(remote.odb, store.cache, {store.hash_info(o) for o in have},
                             shallow=True, callback=cb)  # explicit ids: no expansion
            except Exception as exc:
                errs.append(("", exc))
            finally:
                store.cache.verify = False
            for oid, err in errs:
                errors[oid or next(iter(have))] = (remote.repo, err)
            corrupt = {o for o in have if not store.has(o) and o not in errors}
        if corrupt:
            raise SetpieceError(
                f"refused {_names(corrupt, labels)}: the bytes in the files remote of repo "
                f"'{remote.repo}' do not match the md5 in the pointer, so they were not used; "
                "push the file again from an asset that has it"
            )
        got = {o for o in have if store.has(o)}
        fetched += len(got)
        remaining -= got
    if remaining:
        failed = {o: errors[o] for o in remaining if o in errors}
        if failed:
            repo, first = next(iter(failed.values()))
            if is_disk_full(first):
                raise SetpieceError(
                    f"no space left on device while pulling {_names(set(failed), labels)} "
                    f"into the files cache {store.root}: nothing was written in its place; "
                    "free some space or set [files] cache to a bigger disk"
                )
            raise SetpieceError(
                f"could not fetch {_names(set(failed), labels)} from repo '{repo}': "
                f"{describe_os_error(first)}"
            )
        repos = ", ".join(f"'{r.repo}'" for r in remotes)
        raise SetpieceError(
            f"{len(remaining)} file(s) are missing from the files remote of {repos}: "
            f"{_names(remaining, labels)}; push them ('setpiece files push NAME') or pull "
            "from the repo that has them (--repo)"
        )
    return fetched


def _object_path(objects: Path, md5: str) -> Path:
    return objects / md5[:2] / md5[2:]  # dvc's layout of a cache: <md5>/xx/yyyy...


def _linked(path: str, obj: Path, size: int | None = None) -> bool:
    """``path`` is the cache object itself (a hardlink, or a symlink to it), still read-only."""
    try:
        st = os.stat(path)  # follows a symlink to the object
        ost = os.stat(obj)
    except OSError:
        return False
    return ((st.st_dev, st.st_ino) == (ost.st_dev, ost.st_ino)
            and not ost.st_mode & 0o222 and (size is None or ost.st_size == size))


def _in_place(objects: Path, p: Pointer) -> bool:
    """Whether a pointer's path is already exactly its content, as links into the cache.

    Stats only, no hashing and no dvc import: every object in the cache was verified
    against its md5 when it came in (objects are renamed into the cache only then), and a
    path that is the very same inode as its object (hardlink or symlink) cannot differ
    from it; a cache object made writable again is not trusted. Any doubt (reflinks and
    copies have their own inodes, an extra or missing file): ``False``, and dvc-data's
    checkout decides.
    """
    if not p.is_dir:
        return _linked(str(p.data_path), _object_path(objects, p.md5), p.size)
    listing = _object_path(objects, p.md5)
    try:
        entries = json.loads(listing.read_text(encoding="utf-8"))
        wanted = {str(e["relpath"]): str(e["md5"]) for e in entries}
    except (OSError, ValueError, TypeError, KeyError):
        return False
    root = str(p.data_path)
    if os.path.islink(root) or not os.path.isdir(root):
        return False
    seen = 0
    for folder, dirs, files in os.walk(root):  # an extra empty folder is harmless (dvc keeps it)
        base = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if base == "." else base + "/"
        if any(os.path.islink(os.path.join(folder, d)) for d in dirs):
            return False  # a linked folder is not walked: let dvc decide
        for f in files:
            md5 = wanted.get(prefix + f)
            if md5 is None or not _linked(os.path.join(folder, f), _object_path(objects, md5)):
                return False
            seen += 1
    return seen == len(wanted)


def files_in_place(ws: Workspace, package_dir: Path) -> bool:
    """Every tracked path of the package is already its content, linked (stats only)."""
    from setpiece.core.files.store import cache_root

    objects = cache_root(ws) / "files" / "md5"
    return all(_in_place(objects, p) for p in pointers.find(package_dir))


def _record(manifest: dict[str, Any], t: Target, ptrs: list[Pointer]) -> None:
    from setpiece.core.naming import normalize

    manifest[normalize(t.name)] = {
        "version": t.version,
        "package_dir": str(t.package_dir),
        "paths": {p.rel(t.package_dir): p.md5 for p in ptrs},
    }


def pull(ws: Workspace, spec: str | None = None, *, repo: str | None = None,
         dry_run: bool = False) -> dict[str, Any]:
    """Fetch and link the files of the assets ``spec`` names (every asset when None)."""
    from setpiece.core import telemetry

    with telemetry.span("files.pull", spec=spec, repo=repo, dry_run=dry_run) as span:
        summary = _pull(ws, spec, repo=repo, dry_run=dry_run)
        span.set(assets=len(summary["assets"]), files=summary["files"], bytes=summary["bytes"])
        if summary.get("fetched") and not dry_run:
            telemetry.add("setpiece.files.bytes", summary["bytes"], direction="pull")
            telemetry.add("setpiece.files.count", summary["files"], direction="pull")
        return summary


def _pull(ws: Workspace, spec: str | None, *, repo: str | None, dry_run: bool) -> dict[str, Any]:
    from setpiece.core.files.remote import remotes_for_pull

    plan: list[tuple[Target, list[Pointer]]] = []
    for t in targets(ws, spec):
        ptrs = pointers.find(t.package_dir)
        if ptrs:
            plan.append((t, ptrs))
    summary: dict[str, Any] = {"assets": [], "files": 0, "bytes": 0, "fetched": 0,
                               "paths": 0, "dry_run": dry_run}
    if not plan:
        return summary
    from setpiece.core.files.store import cache_root

    objects = cache_root(ws) / "files" / "md5"
    if all(_in_place(objects, p) for _, ptrs in plan for p in ptrs):
        # already pulled and linked (a second pull): stats only, no dvc import
        summary["assets"] = [t.name for t, _ in plan]
        summary["paths"] = sum(len(ptrs) for _, ptrs in plan)
        if dry_run:
            return summary
        manifest = _load_manifest(ws)
        for t, ptrs in plan:
            if t.installed:
                _record(manifest, t, ptrs)
        _save_manifest(ws, manifest)
        ws.emit("files.pulled", assets=summary["assets"], files=0, bytes=0)
        return summary
    from setpiece.core.files.pushing import labels_for
    from setpiece.core.files.store import Store

    with Store(ws) as store:
        remotes: list[FilesRemote] | None = None

        def get_remotes() -> list[FilesRemote]:
            nonlocal remotes
            if remotes is None:
                remotes = remotes_for_pull(ws, repo)
            return remotes

        from setpiece.core.files.verify import drop_corrupt, refuse_edited_outputs

        every = [p for _, ptrs in plan for p in ptrs]
        outputs = [(t.name, ptrs) for t, ptrs in plan if not t.installed]
        # cached objects are hashed before they are linked: a corrupt one is moved aside
        # and fetched again, never linked into the workspace (see files.verify)
        corrupt: set[str] = set()
        if not dry_run:
            corrupt |= drop_corrupt(store, {p.md5 for p in every if p.is_dir and store.has(p.md5)},
                                    every)
        # 1. folder listings (small) first: they say which files a folder needs
        listings = {p.md5 for _, ptrs in plan for p in ptrs if p.is_dir and not store.has(p.md5)}
        if listings:
            names = {p.md5: p.rel(t.package_dir) for t, ptrs in plan for p in ptrs}
            fetch(ws, store, get_remotes(), listings, names)
        _refuse_unrecorded(store, plan)
        labels: dict[str, str] = {}
        for t, ptrs in plan:
            lab, _ = labels_for(store, t.package_dir, ptrs)
            labels.update({k: f"{t.name}: {v}" for k, v in lab.items()})
        if not dry_run:
            in_cache = {o for o in labels if store.has(o)}
            if outputs:
                refuse_edited_outputs(store, in_cache, outputs)
            corrupt |= drop_corrupt(store, in_cache, every)
        if corrupt:
            ws.report(f"{len(corrupt)} object(s) in the files cache were corrupt: moved to "
                      f"{store.root / 'quarantine'}, fetching them again")
        needed = {o for o in labels if not store.has(o)}
        summary["files"] = sum(1 for o in needed if not o.endswith(".dir"))
        missing_bytes = 0
        for _, ptrs in plan:
            for p in ptrs:
                if not p.is_dir:
                    missing_bytes += 0 if store.has(p.md5) else p.size
                else:  # a listing has no sizes: the folder's total less what is cached
                    cached = sum(s for _, md5, s in store.entries(p) if store.has(md5))
                    missing_bytes += max(0, p.size - cached)
        summary["bytes"] = missing_bytes
        if dry_run:
            summary["assets"] = [t.name for t, _ in plan]
            return summary
        if needed:
            ws.report(f"Fetching {summary['files']} file(s), {summary['bytes']:,} bytes")
            try:
                summary["fetched"] = fetch(ws, store, get_remotes(), needed, labels)
            except SetpieceError as exc:
                if not corrupt & needed:
                    raise
                from setpiece.core.files.pushing import _names

                raise SetpieceError(f"{_names(corrupt & needed, labels)}: the copy in the files "
                                    f"cache was corrupt (moved to {store.root / 'quarantine'}) "
                                    f"and no good copy could be fetched: {exc}")
        manifest = _load_manifest(ws)
        for t, ptrs in plan:
            for p in ptrs:
                store.checkout(p.data_path, p.md5, force=t.installed, editable=not t.installed)
            summary["assets"].append(t.name)
            summary["paths"] += len(ptrs)
            if t.installed:
                _record(manifest, t, ptrs)
        _save_manifest(ws, manifest)
    ws.emit("files.pulled", assets=summary["assets"], files=summary["files"],
            bytes=summary["bytes"])
    return summary


def _refuse_unrecorded(store: Store, plan: list[tuple[Target, list[Pointer]]]) -> None:
    """An output asset's files are the artist's: a pull never replaces bytes that differ
    from their pointer (a re-exported take that 'files add' has not recorded yet, even one
    whose bytes are already cached), it says so instead."""
    for t, ptrs in plan:
        if t.installed:
            continue
        changed = []
        for p in ptrs:
            rel = p.rel(t.package_dir)
            changed += [rel if r == "." else f"{rel}/{r}" for r in store.unrecorded(p.data_path, p.md5)]
        if changed:
            shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            raise SetpieceError(
                f"{t.name}: {shown} has changes that are not tracked (pull would replace "
                f"them): keep them with 'setpiece files add {t.name} PATH', or move them away "
                "to get the recorded version, then pull again"
            )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and pointers.is_inside(folder, stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def prune(ws: Workspace) -> list[str]:
    """Remove pulled files that no installed version points to (after uninstall/upgrade).

    Reads only JSON and the pointers: no dvc import, and nothing to do when nothing was
    ever pulled into site-packages.
    """
    if not manifest_path(ws).exists():
        return []
    from setpiece.core.naming import normalize

    manifest = _load_manifest(ws)
    installed = ws.installed_assets()
    removed: list[str] = []
    for key in list(manifest):
        entry = manifest[key]
        pkg = Path(entry.get("package_dir", ""))
        asset = installed.get(normalize(key))
        current = asset is not None and not asset.editable
        kept: dict[str, str] = {}
        for rel, md5 in dict(entry.get("paths", {})).items():
            data = pkg / rel
            if not pointers.is_inside(data, ws.inputs):
                continue  # never touch anything outside the workspace venv
            pfile = pointers.pointer_file(data)
            still = False
            if current and pfile.exists():
                try:
                    still = pointers.read(pfile).md5 == md5
                except SetpieceError:
                    still = False
            if still:
                kept[rel] = md5
                continue
            if os.path.lexists(data):
                _remove(data)
                removed.append(f"{entry.get('package_dir')}/{rel}")
            _prune_empty(data.parent, ws.site_packages)
        if kept and asset is not None:
            entry["paths"] = kept
            entry["version"] = asset.version
        else:
            del manifest[key]
    _save_manifest(ws, manifest)
    if removed:
        ws.report(f"Removed {len(removed)} pulled path(s) no installed asset points to")
    return removed
