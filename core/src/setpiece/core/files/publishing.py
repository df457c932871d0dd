"""Publish and promote hooks: files reach the remote before the package that points to them.

``before_publish`` runs before the wheel is built: it keeps tracked data out of the wheel,
pushes the asset's files to the target repo's files remote and checks the remote holds
every object. Any failure raises, so nothing is published. ``before_promote`` copies the
objects a wheel points to from the source repo's files remote to the destination's.
Assets without tracked files never import dvc.
"""

from __future__ import annotations

import io
import shlex
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.files import need_dvc, pointers

if TYPE_CHECKING:
    from setpiece.core.project import OutputAsset
    from setpiece.core.repos.base import Repo
    from setpiece.core.workspace import Workspace


def before_publish(ws: Workspace, asset: OutputAsset, repo: Repo) -> None:
    from setpiece.core.files.excludes import sync_excludes

    if not pointers.find_files(asset.package_dir):
        return
    sync_excludes(asset)
    need_dvc()
    from setpiece.core.files.pushing import send
    from setpiece.core.files.remote import open_remote
    from setpiece.core.files.store import Store

    ptrs = pointers.find(asset.package_dir)
    try:
        with Store(ws) as store:
            check_unchanged(store, asset, ptrs)
            remote = open_remote(ws, repo.name)
            send(ws, store, remote, asset.name, asset.package_dir, ptrs)
    except SetpieceError as exc:  # the publish reports it (a 'failed' event)
        raise SetpieceError(f"{exc}; {asset.name} {asset.version} was not published")


def check_unchanged(store: Any, asset: OutputAsset, ptrs: list[pointers.Pointer]) -> None:
    """Refuse tracked paths that are not what their pointers say: the new version would
    point to the old bytes (modified) or to bytes the artist removed (missing)."""
    modified: list[str] = []
    missing: list[str] = []
    to_add: list[str] = []
    for p in ptrs:
        current = store.current_md5(p.data_path)
        if current is None:
            missing.append(p.rel(asset.package_dir))
        elif current != p.md5:
            modified.append(p.rel(asset.package_dir))
            to_add.append(shlex.quote(str(p.data_path)))
    if modified:
        paths = " ".join(to_add)
        raise SetpieceError(
            f"{asset.name}: {', '.join(modified)} modified since 'files add': run "
            f"'setpiece files add {asset.name} {paths}' first"
        )
    if missing:
        raise SetpieceError(
            f"{asset.name}: tracked {', '.join(missing)} missing from {asset.package_dir}: "
            f"restore with 'setpiece files pull {asset.name}', or stop tracking it by deleting "
            f"{missing[0]}{pointers.SUFFIX}"
        )


def wheel_pointers(wheel: Path) -> list[pointers.Pointer]:
    """The pointers inside a wheel (parsed from a temporary copy of each)."""
    import tempfile

    out: list[pointers.Pointer] = []
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.endswith(pointers.SUFFIX) and ".dist-info/" not in n]
        if not names:
            return out
        with tempfile.TemporaryDirectory() as tmp:
            for n in names:
                dest = Path(tmp) / n
                if not pointers.is_inside(Path(tmp) / Path(n), Path(tmp)) or ".." in Path(n).parts:
                    raise SetpieceError(f"{wheel.name}: pointer {n} escapes the wheel: refused")
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(n) as fh:
                    dest.write_bytes(io.BytesIO(fh.read()).getvalue())
                p = pointers.read(dest)
                out.append(pointers.Pointer(Path(n), p.md5, p.size, p.nfiles, p.source))
    return out


def before_promote(ws: Workspace, wheel: Path, source: Repo, dest: Repo) -> None:
    from setpiece.core.files.remote import configured_url

    ptrs = wheel_pointers(wheel)
    if not ptrs:
        return
    src_url, dst_url = configured_url(ws, source.name), configured_url(ws, dest.name)
    if src_url is not None and src_url == dst_url:
        return
    need_dvc()
    from setpiece.core.files.pulling import fetch
    from setpiece.core.files.pushing import upload
    from setpiece.core.files.remote import open_remote
    from setpiece.core.files.store import Store

    asset = wheel.name.split("-")[0]
    with Store(ws) as store:
        src = open_remote(ws, source.name)
        dst = open_remote(ws, dest.name)
        labels = {p.md5: p.data_path.as_posix() for p in ptrs}
        fetch(ws, store, [src], {p.md5 for p in ptrs if p.is_dir}, labels)
        wanted: set[str] = set()
        for p in ptrs:
            wanted |= store.object_ids(p)
        lacking = dst.missing(wanted)
        # through the cache: verified on the way, and kept there for later pulls
        fetch(ws, store, [src], lacking, labels)
        upload(ws, store, dst, asset, wanted, labels)
