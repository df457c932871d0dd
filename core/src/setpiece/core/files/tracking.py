"""``files add`` and ``files import``: bring files into an output asset and track them.

A path inside the asset's package folder is tracked in place. A path outside it (a render
folder, a texture library) is brought in: its bytes go to the cache once and the asset
folder gets links to them (``--as`` names where, relative to the package folder). A
folder is one tracked path, whatever its number of files. Adding a tracked path again
records its new state. ``import`` also records the source and the state it had, so
``files status`` can say when the source changed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import DiskFull, NotFound, SetpieceError
from setpiece.core.files import pointers
from setpiece.core.files.pointers import Pointer, Source

if TYPE_CHECKING:
    from setpiece.core.files.store import Store
    from setpiece.core.project import OutputAsset
    from setpiece.core.workspace import Workspace

_RESERVED = {"__init__.py", "__pycache__", "py.typed"}


def output_for_files(ws: Workspace, name: str) -> OutputAsset:
    from setpiece.core.naming import normalize

    if normalize(name) not in ws.output_assets() and normalize(name) in ws.installed_assets():
        raise SetpieceError(
            f"'{name}' is installed, not an output asset: files are added to outputs; make an "
            f"editable copy with 'setpiece edit {name}'"
        )
    asset: OutputAsset = ws.output(name)
    return asset


def _check_dest(pkg: Path, target: Path, shown: str) -> Path:
    """``target`` made absolute, refused unless strictly inside the package folder."""
    resolved = Path(os.path.normpath(target))
    # resolve symlinked parents too: a link out of the package is an escape as well
    real_parent = resolved.parent.resolve() if resolved.parent.exists() else resolved.parent
    if (
        not pointers.is_inside(resolved, pkg)
        or resolved == pkg
        or not pointers.is_inside(real_parent, pkg.resolve())
    ):
        raise SetpieceError(
            f"destination '{shown}' escapes the asset folder {pkg}: give a path inside it, "
            "such as 'textures/wood.png'"
        )
    rel = resolved.relative_to(pkg)
    if rel.parts[0] in _RESERVED or resolved.name.endswith(pointers.SUFFIX):
        raise SetpieceError(f"'{shown}' is reserved for the asset's code: pick another destination")
    if resolved.suffix == ".py":
        raise SetpieceError(f"'{shown}' is Python code: code ships in the wheel, do not track it")
    return resolved


def _special_kind(path: str) -> str | None:
    """'a named pipe' (etc.) for what is neither a regular file, a folder nor a link to one:
    reading a FIFO blocks forever, a device never ends."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # a dangling link: the hashing step says so
    for test, kind in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return None


def _refuse_special(raw: str, src: Path) -> None:
    found = [(raw, kind)] if (kind := _special_kind(str(src))) else []
    if not found and os.path.isdir(src):
        for folder, _, names in os.walk(src):
            for n in names:
                if (kind := _special_kind(os.path.join(folder, n))) is not None:
                    found.append((os.path.join(folder, n), kind))
                    break
            if found:
                break
    if found:
        what, kind = found[0]
        raise SetpieceError(f"{what} is {kind}, not a file: only regular files and folders can "
                            "be tracked; copy its content to a file and add that")


def plan(asset: OutputAsset, paths: Sequence[str], dest: str | None) -> list[tuple[Path, Path]]:
    """(source, destination) pairs, checked: existing, not escaping, not overlapping."""
    if not paths:
        raise SetpieceError("give at least one PATH to add")
    pkg = Path(os.path.abspath(asset.package_dir))
    out: list[tuple[Path, Path]] = []
    for raw in paths:
        src = Path(os.path.abspath(Path(raw).expanduser()))
        if not os.path.lexists(src):
            raise NotFound(f"{raw} does not exist: give a file or folder to add")
        _refuse_special(raw, src)
        if dest is not None:
            d = Path(dest)
            if d.is_absolute():
                shown = dest
                target = d
            else:
                target = pkg / d if len(paths) == 1 else pkg / d / src.name
                shown = dest if len(paths) == 1 else f"{dest}/{src.name}"
        elif pointers.is_inside(src, pkg):
            target, shown = src, raw
        elif pointers.is_inside(src, Path(os.path.abspath(asset.path))):
            raise SetpieceError(
                f"{raw} is inside the asset project but outside its package folder {pkg}: "
                "move it into the package folder or add it with --as DEST"
            )
        else:
            target, shown = pkg / src.name, src.name
        out.append((src, _check_dest(pkg, target, shown)))
    dests = [t for _, t in out]
    if len(set(dests)) != len(dests):
        raise SetpieceError("two paths would land on the same destination: use separate --as names")
    tracked = [f.with_name(f.name[: -len(pointers.SUFFIX)]) for f in pointers.find_files(pkg)]
    for t in dests:
        for other in [*tracked, *(d for d in dests if d != t)]:
            if t != other and (pointers.is_inside(t, other) or pointers.is_inside(other, t)):
                raise SetpieceError(
                    f"{t.relative_to(pkg)} overlaps the tracked path {other.relative_to(pkg)}: "
                    "track a folder or the files inside it, not both"
                )
    for src, target in out:
        if src != target and os.path.lexists(target) and not pointers.pointer_file(target).exists():
            raise SetpieceError(
                f"{target.relative_to(pkg)} already exists in the asset and is not tracked: "
                "remove it or pick another --as destination"
            )
    return out


def _refuse_unrecorded_changes(store: Store, asset: str, target: Path) -> None:
    """A tracked destination whose content is not what its pointer records holds the
    artist's unrecorded work: bringing another file over it would lose that."""
    pfile = pointers.pointer_file(target)
    if not os.path.lexists(target) or not pfile.exists():
        return
    current = store.current_md5(target)
    if current is not None and current != pointers.read(pfile).md5:
        raise SetpieceError(
            f"{target} has changes that 'files add' has not recorded: add it in place first "
            f"('setpiece files add {asset} {target}') or move it away, then try again"
        )


def _shards(store: Store, obj: Any) -> set[str]:
    """The cache folders the objects of ``obj`` go to."""
    oids = {str(obj.hash_info.value)}
    if obj.hash_info.isdir:
        oids |= {str(hi.value) for _, _, hi in obj}
    return {os.path.dirname(store.cache.oid_to_path(o)) for o in oids}


def _temps(folders: set[str]) -> set[str]:
    out: set[str] = set()
    for folder in folders:
        with contextlib.suppress(OSError), os.scandir(folder) as it:
            out |= {e.path for e in it if e.name.startswith(".") and e.name.endswith(".tmp")}
    return out


def _track(store: Store, asset: str, src: Path, target: Path, record_source: bool) -> Pointer:
    in_place = src == target
    if not in_place:
        _refuse_unrecorded_changes(store, asset, target)
    staging, meta, obj = store.build(src)
    from setpiece.core.files.verify import before_commit

    before_commit(store, src, obj)  # never link the artist's path to a corrupt cached copy
    shards = _shards(store, obj)
    temps = _temps(shards)
    try:
        store.commit(staging, obj, in_place=in_place)
    except SetpieceError as exc:
        for t in _temps(shards) - temps:  # dvc-data's partial copies (a full disk)
            with contextlib.suppress(OSError):
                os.unlink(t)
        if isinstance(exc, DiskFull):
            raise DiskFull(f"{src} was not added: {exc} (free some space, or set [files] cache "
                           "in setpiece.toml to a bigger disk)")
        raise SetpieceError(f"{src} was not added: {exc}")
    md5 = str(obj.hash_info.value)
    if in_place:
        # never unlink-then-link: the artist's bytes stay at their path throughout
        store.link_in_place(target, md5)
    else:
        store.checkout(target, md5, force=True, editable=True)
    size = int(meta.size or 0)
    nfiles = int(meta.nfiles) if obj.hash_info.isdir else None
    # an import records its source with the state it had: the same content, so the same md5
    source = Source(str(src), md5, size, nfiles) if record_source else None
    pointer = Pointer(pointers.pointer_file(target), md5, size, nfiles, source)
    pointers.write(pointer)
    return pointer


def add(ws: Workspace, name: str, paths: Sequence[str], dest: str | None = None,
        *, record_source: bool = False) -> list[dict[str, Any]]:
    from setpiece.core.files.excludes import sync_excludes
    from setpiece.core.files.store import Store

    asset = output_for_files(ws, name)
    pairs = plan(asset, paths, dest)
    results = []
    with Store(ws) as store:
        for src, target in pairs:
            rel = target.relative_to(asset.package_dir).as_posix()
            ws.report(f"{'Importing' if record_source else 'Adding'} {rel} to {asset.name}")
            if record_source and pointers.is_inside(src, Path(os.path.abspath(asset.path))):
                raise SetpieceError(
                    f"{src} is already inside the asset: import takes an external source; "
                    "use 'setpiece files add' for it"
                )
            pointer = _track(store, asset.name, src, target, record_source)
            results.append({
                "asset": asset.name, "path": rel, "md5": pointer.md5, "size": pointer.size,
                "files": pointer.files, "source": str(src) if record_source else None,
            })
    sync_excludes(asset)
    return results


def import_(ws: Workspace, name: str, source: str, dest: str | None = None) -> dict[str, Any]:
    if "://" in source:
        raise SetpieceError(
            f"'{source}': only local or mounted paths can be imported; mount the share or "
            "copy the file first"
        )
    return add(ws, name, [source], dest, record_source=True)[0]
