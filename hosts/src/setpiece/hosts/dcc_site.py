"""What a DCC's Python gets of setpiece on its ``PYTHONPATH``: setpiece's own packages and
its pure-Python dependencies, nothing else.

Putting setpiece's whole ``site-packages`` there (a non-editable install) would put pip's
PySide6 ahead of the app's own Qt (Qt.py tries PySide6 first), usd-core's ``pxr`` ahead of
the app's USD, and compiled wheels built for another Python into the app. So setpiece
builds a folder holding links to exactly what the app needs: the ``setpiece`` packages
(unless they are editable source folders, used as they are) and every dependency of
``setpiece-hosts`` (recursively) that ships no compiled module and is not one of
:data:`NEVER`. The folder lives under ``setpiece_home()/dcc-site/`` and is reused while
the installed versions stay the same.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from setpiece.core.naming import normalize

#: never handed to a DCC: each app ships its own (Qt, USD) or is an app itself (bpy)
NEVER = frozenset({
    "usd-core", "pyside6", "pyside6-essentials", "pyside6-addons", "shiboken6",
    "pyside2", "shiboken2", "pyqt5", "pyqt6", "bpy",
})
_BINARY = (".so", ".pyd", ".dylib", ".dll")
#: top-level names some wheels install that are no importable part of them
_NOT_PACKAGES = frozenset({"tests", "test", "docs", "examples", "benchmarks"})
#: what the DCC folder starts from: setpiece-hosts (and so core, usd) and Qt.py, the Qt
#: shim setpiece's windows use (pure Python; it binds to the app's own PySide)
_ROOT_DISTS = ("setpiece-hosts", "Qt.py")


_norm = normalize


def package_roots() -> list[Path]:
    """The folders holding ``setpiece/core``, ``setpiece/usd``, ``setpiece/hosts``."""
    out: list[Path] = []
    for name in ("setpiece.core", "setpiece.usd", "setpiece.hosts"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        root = Path(module.__file__ or "").resolve().parents[2]
        if root not in out:
            out.append(root)
    return out


def _is_site_packages(path: Path) -> bool:
    return path.name in ("site-packages", "dist-packages")


def _closure() -> list[metadata.Distribution]:
    """``setpiece-hosts``, Qt.py and their requirements, recursively (extras not followed; markers
    other than ``extra`` ignored: the app's Python may differ from this one)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(_ROOT_DISTS)
    while todo:
        name = _norm(todo.pop())
        if name in seen or name in NEVER or name.startswith("types-"):
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for req in dist.requires or []:
            if "extra ==" in req.replace("extra==", "extra =="):
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
            if match:
                todo.append(match.group(1))
    return list(seen.values())


def _top_levels(dist: metadata.Distribution) -> list[Path]:
    """The importable top-level files and folders a distribution installed."""
    base = Path(str(dist.locate_file("")))
    names: set[str] = set()
    for file in dist.files or []:
        parts = Path(str(file)).parts
        if not parts or parts[0] == ".." or parts[0].endswith((".dist-info", ".egg-info")):
            continue
        if parts[0] == "__pycache__" or parts[0].endswith(".pth"):
            continue
        top = parts[0]
        if top in _NOT_PACKAGES or top.endswith("-stubs") or top.startswith("types_"):
            continue  # type stubs and test folders: nothing the app imports
        if len(parts) > 1 or top.endswith(".py"):
            names.add(top)
    return sorted(base / n for n in names if (base / n).exists())


def _pure(dist: metadata.Distribution) -> bool:
    return not any(str(f).endswith(_BINARY) for f in dist.files or [])


def site_plan() -> tuple[list[Path], list[str]]:
    """(what to link into the DCC folder, distributions left out and why)."""
    links: list[Path] = []
    skipped: list[str] = []
    for dist in _closure():  # an editable install lists only its .pth: nothing to link
        name = _norm(dist.metadata["Name"])
        if not _pure(dist):
            skipped.append(f"{name} (compiled)")
            continue
        for top in _top_levels(dist):
            if top not in links:
                links.append(top)
    return links, skipped


def dcc_site(home: Path | None = None) -> Path:
    """The folder of links (built once per set of installed versions)."""
    from setpiece.core.paths import setpiece_home

    links, _ = site_plan()
    key = hashlib.sha256("\n".join(str(p) for p in links).encode()).hexdigest()[:16]
    target = (home or setpiece_home()) / "dcc-site" / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=target.parent))
    try:
        for source in links:
            dest = tmp / source.name
            try:
                os.symlink(source, dest, target_is_directory=source.is_dir())
            except OSError:  # no symlinks here (Windows without the privilege): copy
                if source.is_dir():
                    shutil.copytree(source, dest)
                else:
                    shutil.copy2(source, dest)
        try:
            os.replace(tmp, target)
        except OSError:  # built meanwhile by another process: use theirs
            if not target.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def setpiece_paths() -> list[str]:
    """Folders for the DCC's ``PYTHONPATH``: editable setpiece sources, then the folder of
    setpiece (when installed) and its pure-Python dependencies."""
    editable = [str(r) for r in package_roots() if not _is_site_packages(r)]
    return [*editable, str(dcc_site())]
