"""Publish and promote hooks: files reach the remote before the package that points to them.

``before_publish`` runs before the wheel is built: it keeps tracked data out of the wheel,
pushes the asset's files to the target repo's files remote and checks the remote holds
every object. ``check_wheel_files`` runs after the wheel is built and before it is
published: the wheel points to that same snapshot, all of it in the remote. Any failure
raises, so nothing is published. ``before_promote`` copies the
objects a wheel points to from the source repo's files remote to the destination's.
Assets without tracked files never import dvc.
"""

from __future__ import annotations

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


def before_publish(ws: Workspace, asset: OutputAsset, repo: Repo) -> dict[str, str]:
    """Push the asset's files; returns the snapshot pushed (pointer path in the wheel -> md5),
    which ``check_wheel_files`` compares with the built wheel."""
    from setpiece.core.files.excludes import sync_excludes

    if not pointers.find_files(asset.package_dir) and not pointers.pipeline_outputs(asset.package_dir):
        return {}
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
    top = asset.package_dir.parent
    return {p.file.relative_to(top).as_posix(): p.md5 for p in ptrs}


def check_wheel_files(ws: Workspace, wheel: Path, repo: Repo,
                      pushed: dict[str, str] | None = None) -> None:
    """After the wheel is built and before it is published: the pointers in the wheel are
    the snapshot that was pushed (``pushed``, when known), and the repo's files remote holds
    every object they name. A ``files add`` that ran while the publish was between pushing
    and building would otherwise publish a pointer whose object was never pushed."""
    ptrs = wheel_pointers(wheel)
    label = " ".join(wheel.name.split("-")[:2])
    if pushed is not None:
        in_wheel = {p.file.as_posix(): p.md5 for p in ptrs}
        if in_wheel != pushed:
            changed = sorted(k for k in {*in_wheel, *pushed} if in_wheel.get(k) != pushed.get(k))
            raise SetpieceError(
                f"{label}: tracked files changed while it was being published "
                f"({', '.join(changed[:3])}; a 'files add' ran meanwhile?): nothing was "
                "published; publish again"
            )
    if not ptrs:
        return
    need_dvc()
    from setpiece.core.files.remote import open_remote
    from setpiece.core.files.store import Store

    with Store(ws) as store:
        remote = open_remote(ws, repo.name)
        wanted: set[str] = set()
        labels: dict[str, str] = {}
        for p in ptrs:
            ids = store.object_ids(p, [remote.odb])
            wanted |= ids
            labels.update({o: p.data_path.as_posix() for o in ids})
        lacking = remote.missing(wanted)
    if lacking:
        from setpiece.core.files.pushing import _names

        raise SetpieceError(
            f"{label}: the wheel points to {len(lacking)} file(s) that the files remote of repo "
            f"'{repo.name}' lacks ({_names(lacking, labels)}): nothing was published; "
            "publish again"
        )


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
    """The pointers inside a wheel (``.dvc`` files parsed from the archive; a pipeline's
    ``dvc.lock`` from a temporary copy)."""
    import tempfile
    from pathlib import PurePosixPath

    out: list[pointers.Pointer] = []
    with zipfile.ZipFile(wheel) as zf:
        every = [n for n in zf.namelist() if ".dist-info/" not in n]
        names = [n for n in every if n.endswith(pointers.SUFFIX)]
        locks = [n for n in every if n.endswith("/dvc.lock") or n == "dvc.lock"]
        for n in names:
            parts = PurePosixPath(n)
            if parts.is_absolute() or ".." in parts.parts or "\\" in n or ":" in n:
                raise SetpieceError(f"{wheel.name}: pointer {n} escapes the wheel: refused")
            p = pointers.parse(Path(n), zf.read(n))
            out.append(pointers.Pointer(Path(n), p.md5, p.size, p.nfiles, p.source))
        if not locks:
            return out
        with tempfile.TemporaryDirectory() as tmp:
            for n in locks:  # pipeline outputs: tracked files without a .dvc pointer
                folder = (Path(tmp) / "locks" / n).parent
                if ".." in Path(n).parts:
                    raise SetpieceError(f"{wheel.name}: {n} escapes the wheel: refused")
                folder.mkdir(parents=True, exist_ok=True)
                for f in ("dvc.lock", "dvc.yaml"):
                    member = str(Path(n).parent / f) if Path(n).parent != Path(".") else f
                    if member in every:
                        (folder / f).write_bytes(zf.read(member))
                rel = Path(n).parent
                for p in pointers.pipeline_outputs(folder):
                    inner = p.file.relative_to(folder)
                    out.append(pointers.Pointer(rel / inner, p.md5, p.size, p.nfiles, None,
                                                p.stage))
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
