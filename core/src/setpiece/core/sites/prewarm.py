"""``setpiece files pull --closure REQ``: pre-warm a site before work starts.

The closure is resolved as an install would resolve it (``sites.closure``, from the repos
installs use: at a site, its own). Every version of it that is installed here has its
files pulled into the workspace (linked from the cache, as ``files pull`` does); every
other version has its files fetched into the files cache only, verified, so that the
install that comes later links them without waiting on the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import NotFound, SetpieceError
from setpiece.core.fsutil import staging_dir

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


def prewarm(ws: Workspace, reqs: Sequence[str], *, repo: str | None = None,
            dry_run: bool = False) -> dict[str, Any]:
    from setpiece.core.files import need_dvc
    from setpiece.core.files.pulling import pull
    from setpiece.core.sites.closure import resolve
    from setpiece.core.sites.holdings import canonical

    pins = resolve(ws, repo, reqs)
    installed = ws.installed_assets()
    outputs = ws.output_assets()
    result: dict[str, Any] = {"requests": list(reqs), "closure": len(pins), "linked": [],
                              "cached": [], "files": 0, "bytes": 0, "dry_run": dry_run}
    cache_only: list[tuple[str, str]] = []
    for name, version in pins:
        asset = installed.get(name)
        here = asset is not None and (
            (not asset.editable and canonical(asset.version) == canonical(version))
            or (asset.editable and name in outputs))
        if asset is None or not here:
            cache_only.append((name, version))
            continue
        spec = asset.name if asset.editable else f"{asset.name}=={asset.version}"
        got = pull(ws, spec, repo=repo, dry_run=dry_run)
        if got["assets"]:
            result["linked"].append(f"{asset.name} {asset.version}")
        result["files"] += got["files"]
        result["bytes"] += got["bytes"]
    if cache_only:
        need_dvc()
        files, size, cached = _to_cache(ws, cache_only, repo, dry_run)
        result["files"] += files
        result["bytes"] += size
        result["cached"] = cached
    return result


def _to_cache(ws: Workspace, pins: list[tuple[str, str]], repo: str | None,
              dry_run: bool) -> tuple[int, int, list[str]]:
    """Fetch the files of versions not installed here into the cache: (files, bytes,
    versions with files)."""
    from setpiece.core.files.publishing import wheel_pointers
    from setpiece.core.files.pulling import fetch
    from setpiece.core.files.remote import remotes_for_pull
    from setpiece.core.files.store import Store

    repos = [ws.repo(repo)] if repo else _install_repos(ws)
    labels: dict[str, str] = {}
    ptrs = []
    cached: list[str] = []
    with staging_dir(ws.build_dir, "prewarm") as tmp:
        for name, version in pins:
            source = next((r for r in repos if _has(r, name, version)), None)
            if source is None:
                raise NotFound(f"{name}=={version} is in the closure but no repo here has "
                                    "it: sync it to this site first ('setpiece repo sync')")
            found = wheel_pointers(source.fetch(name, version, tmp))
            if found:
                cached.append(f"{name} {version}")
            for p in found:
                labels[p.md5] = f"{name} {version}: {p.data_path.as_posix()}"
            ptrs += found
    if not ptrs:
        return 0, 0, []
    with Store(ws) as store:
        remotes = remotes_for_pull(ws, repo)
        listings = {p.md5 for p in ptrs if p.is_dir and not store.has(p.md5)}
        if listings and not dry_run:
            fetch(ws, store, remotes, listings, labels)
        sizes: dict[str, int] = {}
        for p in ptrs:
            sizes[p.md5] = 0 if p.is_dir else p.size
            for rel, md5, size in store.entries(p, [r.odb for r in remotes]):
                labels.setdefault(md5, f"{labels[p.md5]}/{rel}")
                sizes.setdefault(md5, size or _local_size(remotes, md5))
        needed = {o for o in labels if not store.has(o)}
        files = sum(1 for o in needed if not o.endswith(".dir"))
        size = sum(sizes.get(o, 0) for o in needed)
        if needed and not dry_run:
            ws.report(f"Fetching {files} file(s) into the files cache for "
                      f"{len(cached)} version(s) not installed here")
            fetch(ws, store, remotes, needed, labels)
    return files, size, cached


def _local_size(remotes: list[Any], md5: str) -> int:
    """An object's size from the first folder remote that has it (listings carry none)."""
    import os

    for r in remotes:
        if r.local:
            try:
                return os.path.getsize(r.odb.oid_to_path(md5))
            except OSError:
                continue
    return 0


def _install_repos(ws: Workspace) -> list[Any]:
    if "sites" in ws.config.data:
        from setpiece.core.sites import install_repos

        return install_repos(ws)
    return list(ws.repos().values())


def _has(repo: Any, name: str, version: str) -> bool:
    try:
        return bool(repo.has_version(name, version))
    except SetpieceError:
        return False
