"""The local side of dvc: the content-addressed cache, hashing and links (dvc-data).

Everything here runs dvc-data in-process (measured: one ``import`` of dvc-data costs about
as much as starting the ``dvc`` CLI once, and then hashing, committing and linking run
without the CLI's repo walk). Hashes are remembered in a dvc state database under
``.setpiece/files/state`` (keyed by inode, mtime and size), so re-adding a 500-frame folder
with 3 changed frames hashes 3 files.

Files in an asset folder are links into the cache, never second copies: the link types
tried are ``[files] link`` (default reflink, then hardlink, then symlink). Linked files are
read-only (dvc protects its cache): write a new file and add it again to change one.

Read-only protects nothing from root (permissions do not apply to it) nor from a user who
runs ``chmod`` first: a file edited in place through a hardlink or symlink edits the cache
object with it. So the files of output assets, the ones users edit, use ``[files]
edit_link``: by default, for root, ``reflink`` then ``copy`` (a reflink is a copy that
shares blocks until written; a copy costs the space), else the same as ``[files] link``.
Whatever gets through is detected: ``files status`` says ``corrupt``, a pull stops before
moving an artist's edited bytes aside, ``files verify`` re-hashes (see ``files.verify``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import DiskFull, SetpieceError
from setpiece.core.files import need_dvc
from setpiece.core.files.pointers import Pointer

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

DEFAULT_LINKS = ["reflink", "hardlink", "symlink"]
#: ``[files] edit_link`` when running as root, where read-only links protect nothing
ROOT_EDIT_LINKS = ["reflink", "copy"]
LINK_TYPES = {"reflink", "hardlink", "symlink", "copy"}
_TRANSFER_LOGGER = "dvc_data.hashfile.transfer"


def _quiet_dvc_logging() -> None:
    """dvc's libraries log to stderr by default: setpiece reports its own one-line errors."""
    for name in ("dvc", "dvc_data", "dvc_objects", "fsspec", "s3fs", "aiobotocore", "botocore"):
        lg = logging.getLogger(name)
        lg.propagate = False
        if not lg.handlers:
            lg.addHandler(logging.NullHandler())


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[tuple[str, BaseException]] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            oid = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
            self.errors.append((oid, exc))


@contextlib.contextmanager
def capture_transfer_errors() -> Iterator[list[tuple[str, BaseException]]]:
    """Per-object errors that dvc-data logs (and swallows) during a transfer."""
    handler = _Capture()
    lg = logging.getLogger(_TRANSFER_LOGGER)
    lg.addHandler(handler)
    try:
        yield handler.errors
    finally:
        lg.removeHandler(handler)


def _no_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


def describe_os_error(exc: BaseException) -> str:
    if _no_space(exc):
        return "no space left on device"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]


def progress(ws: Workspace, what: str, unit: str = "files") -> Any:
    """An fsspec callback drawing ``what: done/total`` on the workspace's progress line
    (``setpiece.core.progress``: a terminal only); the task closes when all is done."""
    from fsspec.callbacks import Callback

    line: Any = getattr(ws, "progress", None)
    if line is None or not line.enabled:
        return Callback()  # the no-op callback: nothing is drawn

    class _Progress(Callback):
        def __init__(self) -> None:
            super().__init__()
            self.task: Any = None

        def call(self, *args: Any, **kwargs: Any) -> None:
            total = self.size or 0
            if self.task is None:
                if not total:
                    return
                self.task = line.task(what, total, unit)
            self.task.update(self.value or 0, total=total)
            if self.value and self.value >= total:
                self.close()

        def close(self) -> None:
            if self.task is not None:
                self.task.close()
                self.task = None

    return _Progress()


class Store:
    """The workspace's dvc cache (possibly shared) and hash state."""

    def __init__(self, ws: Workspace) -> None:
        need_dvc()
        os.environ.setdefault("DVC_SITE_CACHE_DIR", str(ws.state_dir / "files" / "dvc-site"))
        _quiet_dvc_logging()
        from dvc_data.hashfile.db import get_odb
        from dvc_data.hashfile.state import State
        from dvc_objects.fs.local import LocalFileSystem

        self.ws = ws
        #: object id -> ok | corrupt | missing, hashed in full this session (files.verify)
        self.verified: dict[str, str] = {}
        cfg = ws.config.section("files")
        self.root = cache_root(ws)
        self.links = _link_types(cfg, "link", DEFAULT_LINKS)
        #: link types for output assets' files, which users edit (see the module docstring)
        self.edit_links = _link_types(cfg, "edit_link",
                                      ROOT_EDIT_LINKS if _is_root() else self.links)
        self.fs = LocalFileSystem()
        state_dir = ws.state_dir / "files" / "state"
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state = State(str(ws.root), str(state_dir))
        try:
            (self.root / "files" / "md5").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SetpieceError(
                f"cannot use the files cache {self.root} ({describe_os_error(exc)}): "
                "fix [files] cache in setpiece.toml"
            )
        self.cache = get_odb(
            self.fs, str(self.root / "files" / "md5"), hash_name="md5", type=list(self.links),
            state=self.state,
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.state.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- objects -----------------------------------------------------------------
    @staticmethod
    def hash_info(md5: str) -> Any:
        from dvc_data.hashfile.hash_info import HashInfo

        return HashInfo("md5", md5)

    def has(self, md5: str) -> bool:
        return bool(self.cache.exists(md5))

    def size(self, md5: str) -> int | None:
        try:
            return os.path.getsize(self.cache.oid_to_path(md5))
        except OSError:
            return None

    def load(self, md5: str, odbs: Iterable[Any] = ()) -> Any:
        """The object (file) or tree (folder) of ``md5`` from the cache, else the first odb."""
        from dvc_data.hashfile import load
        from dvc_objects.errors import ObjectFormatError

        for odb in (self.cache, *odbs):
            try:
                return load(odb, self.hash_info(md5))
            except (FileNotFoundError, ObjectFormatError):
                continue
            except Exception as exc:  # a remote that cannot be read
                raise SetpieceError(f"cannot read the listing {md5}: {describe_os_error(exc)}")
        return None

    def entries(self, pointer: Pointer, odbs: Iterable[Any] = ()) -> list[tuple[str, str, int]]:
        """(relative path, md5, size) of every file a pointer stands for ([] if unknown)."""
        if not pointer.is_dir:
            return [("", pointer.md5, pointer.size)]
        tree = self.load(pointer.md5, odbs)
        if tree is None:
            return []
        # .dir listings carry no sizes: take them from the cache where the object is
        return [
            ("/".join(key), hi.value, int(meta.size if meta and meta.size is not None
                                          else self.size(hi.value) or 0))
            for key, meta, hi in tree
        ]

    def object_ids(self, pointer: Pointer, odbs: Iterable[Any] = ()) -> set[str]:
        ids = {pointer.md5}
        ids.update(md5 for _, md5, _ in self.entries(pointer, odbs))
        return ids

    # -- working with paths ----------------------------------------------------------
    def build(self, path: Path, *, dry_run: bool = False) -> tuple[Any, Any, Any]:
        from dvc_data.hashfile.build import build

        try:
            return build(self.cache, str(path), self.fs, "md5", dry_run=dry_run)
        except FileNotFoundError as exc:
            raise SetpieceError(
                f"{exc.filename or path} vanished while it was being hashed: nothing was "
                "recorded; add it again once it is complete"
            )
        except OSError as exc:
            raise SetpieceError(f"cannot read {path}: {describe_os_error(exc)}")

    def current_md5(self, path: Path) -> str | None:
        """The md5 the path has now (None if it does not exist). Uses the hash state."""
        if not os.path.lexists(path):
            return None
        _, _, obj = self.build(path, dry_run=True)
        return str(obj.hash_info.value)

    def commit(self, staging: Any, obj: Any, *, in_place: bool) -> None:
        """Store a built object in the cache. ``in_place``: the path (an output asset's,
        being added where it is) may become the cache object, when ``edit_link`` allows
        links; else the cache gets its own copy."""
        from dvc_data.hashfile.transfer import transfer

        in_place = in_place and bool({"hardlink", "symlink"} & set(self.edit_links))

        with capture_transfer_errors() as errors, progress(self.ws, "Caching") as cb:
            result = transfer(
                staging, self.cache, {obj.hash_info}, shallow=False, hardlink=in_place,
                callback=cb,
            )
        if result.failed or errors:
            reason = describe_os_error(errors[0][1]) if errors else "unknown error"
            full = bool(errors) and _no_space(errors[0][1])
            raise (DiskFull if full else SetpieceError)(
                f"could not store files in the cache {self.root}: {reason}"
            )

    def checkout(self, path: Path, md5: str, *, force: bool, editable: bool = False) -> None:
        """Make ``path`` the tracked content of ``md5``, as links into the cache (an output
        asset's, ``editable``: with ``edit_link``)."""
        from dvc_data.hashfile.checkout import CheckoutError, LinkError, PromptError, checkout

        obj = self.load(md5)
        if obj is None:
            raise SetpieceError(f"{path}: object {md5} is not in the files cache {self.root}")
        path.parent.mkdir(parents=True, exist_ok=True)
        types = self.edit_links if editable else self.links
        saved_types = self.cache.cache_types
        self.cache.cache_types = list(types)
        try:
            with progress(self.ws, f"Linking {path.name}") as cb:
                checkout(str(path), self.fs, obj, self.cache, force=force, relink=True,
                         state=self.state, progress_callback=cb)
        except PromptError as exc:
            raise SetpieceError(
                f"{exc.path} has changes that are not tracked: add them with 'setpiece files "
                "add' or remove them, then try again"
            )
        except LinkError:
            raise SetpieceError(
                f"cannot link {path} into the files cache {self.root} with any of "
                f"{', '.join(self.links)}: put the cache on a filesystem that allows one "
                "([files] cache / link in setpiece.toml)"
            )
        except CheckoutError as exc:
            raise SetpieceError(f"could not write {', '.join(exc.paths[:3])}: objects missing in the cache")
        except OSError as exc:
            raise SetpieceError(f"could not write {path}: {describe_os_error(exc)}")
        finally:
            self.cache.cache_types = saved_types


    def unrecorded(self, path: Path, md5: str) -> list[str]:
        """What at ``path`` differs from the content of ``md5``: files changed or not in it
        (relative to ``path``; ``"."`` for ``path`` itself). Missing files are not listed."""
        if not os.path.lexists(path):
            return []
        _, _, current = self.build(path, dry_run=True)
        if str(current.hash_info.value) == md5:
            return []
        wanted = self.load(md5)
        if not md5.endswith(".dir") or wanted is None or not current.hash_info.isdir:
            return ["."]
        recorded = {key: hi.value for key, _, hi in wanted}
        return sorted("/".join(key) for key, _, hi in current if recorded.get(key) != hi.value)

    def link_in_place(self, path: Path, md5: str) -> None:
        """Turn ``path``, which holds exactly the content of ``md5`` (it was just hashed and
        cached), into links into the cache without a moment where its bytes are missing.

        dvc-data's checkout removes a path and then links the object back: a process killed
        in between loses the artist's file. Here each file that is not already the cache
        object is linked from the cache to a hidden temp name beside it, which is then
        renamed over it (``os.replace``, atomic): the path holds the same bytes throughout.
        """
        obj = self.load(md5)
        if obj is None:
            raise SetpieceError(f"{path}: object {md5} is not in the files cache {self.root}")
        if obj.hash_info.isdir:
            files = [(path.joinpath(*key), hi) for key, _, hi in obj]
        else:
            files = [(path, obj.hash_info)]
        saved = []
        changed = []
        for dest, hi in files:
            source = self.cache.oid_to_path(hi.value)
            linked = _is_link_to(dest, source)
            if not linked and not self._still(dest, str(hi.value)):
                changed.append(dest)  # saved again since it was hashed: the new bytes stay
                continue
            if linked and not {"hardlink", "symlink"} & set(self.edit_links):
                self._replace_with_link(source, dest)  # a link edit_link no longer allows
            elif not linked and self.edit_links[0] != "copy":
                self._replace_with_link(source, dest)  # (a copy, the fallback: kept as it is)
            saved.append((str(dest), hi, None))
        self.state.save_many(saved, self.fs)
        if changed:
            raise SetpieceError(
                f"{changed[0]} changed while it was being added ({len(changed)} file(s)): its "
                f"new bytes were kept; run 'setpiece files add' on it again to record them")

    def _still(self, dest: Path, md5: str) -> bool:
        """Whether ``dest`` still holds ``md5`` (an autosave or a cache writer may have
        replaced it while the add copied it into the cache): dvc's state answers from the
        file's inode, size and mtime when it hashed it; else it is hashed again."""
        _, known = self.state.get(str(dest), self.fs)
        if known is not None:
            return str(known.value) == md5
        from setpiece.core.files.verify import md5_of

        return md5_of(dest) == md5

    def _replace_with_link(self, source: str, dest: Path) -> None:
        import shutil
        import tempfile

        from dvc_objects.fs.system import reflink

        makers = {"reflink": reflink, "hardlink": os.link, "symlink": os.symlink,
                  "copy": shutil.copyfile}
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        try:
            for kind in self.edit_links:
                if kind == "copy" and not _is_link_to(dest, source):
                    return  # dest is its own copy of these bytes already: left as it is
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                try:
                    makers[kind](source, tmp)
                    break
                except OSError:
                    continue
            else:
                raise SetpieceError(
                    f"cannot link {dest} into the files cache {self.root} with any of "
                    f"{', '.join(self.edit_links)}: put the cache on a filesystem that allows "
                    "one ([files] cache / edit_link in setpiece.toml)"
                )
            if kind in ("copy", "reflink"):
                os.chmod(tmp, 0o644)  # the artist's own blocks: writable
            try:
                os.replace(tmp, dest)
            except PermissionError:  # Windows: a read-only file cannot be replaced
                os.chmod(dest, 0o644)
                os.replace(tmp, dest)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _link_types(cfg: Any, key: str, default: list[str]) -> list[str]:
    links = cfg.get(key, default)
    if isinstance(links, str):
        links = [links]
    bad = [str(x) for x in links if x not in LINK_TYPES]
    if bad or not links:
        raise SetpieceError(
            f"[files] {key} in setpiece.toml has unknown link types {bad}: use some of "
            "reflink, hardlink, symlink, copy (copy costs a second copy of each file)"
        )
    return [str(x) for x in links]


def _is_link_to(path: Path, obj: str) -> bool:
    """``path`` is the cache object itself: the same inode (hardlink), or a symlink to it."""
    try:
        st, ost = os.stat(path), os.stat(obj)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (ost.st_dev, ost.st_ino)


def cache_root(ws: Workspace) -> Path:
    """``[files] cache`` (relative to the workspace), else ``.setpiece/files/cache``."""
    configured = ws.config.section("files").get("cache")
    if configured:
        p = Path(str(configured)).expanduser()
        return p if p.is_absolute() else (ws.root / p)
    return ws.state_dir / "files" / "cache"
