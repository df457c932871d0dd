"""Wheel files: names, metadata, and the safety checks a repo makes before trusting one."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

if TYPE_CHECKING:
    import email.message

_WHEEL_RE = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-(?P<build>\d[^-]*))?-(?P<tags>[^-]+-[^-]+-[^-]+)\.whl$"
)


@dataclass(frozen=True)
class WheelName:
    filename: str
    name: str  # as in the file name (underscored)
    version: str

    @property
    def project(self) -> str:
        return normalize(self.name)


def parse_wheel_name(filename: str) -> WheelName | None:
    m = _WHEEL_RE.match(filename)
    if not m:
        return None
    return WheelName(filename, m["name"], m["version"])


def read_metadata_bytes(path: Path) -> bytes:
    """The ``METADATA`` file of a wheel (checked for safety first)."""
    check_wheel(path)
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            parts = info.filename.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return zf.read(info)
    raise SetpieceError(f"corrupted wheel {path}: it has no METADATA; remove it from the repo")


def parse_metadata(data: bytes) -> email.message.Message:
    import email.parser  # only when metadata is read (start-up time)

    return email.parser.BytesHeaderParser().parsebytes(data)


#: files Python's ``site`` module runs at every interpreter start (even with ``-s``/safe mode)
STARTUP_HOOKS = ("sitecustomize", "usercustomize")
#: ``.data`` schemes that install outside site-packages (the venv's bin/, include/, root)
_OUTSIDE_SCHEMES = ("scripts", "headers", "data")


def _escapes(name: str) -> bool:
    norm = posixpath.normpath(name.replace("\\", "/"))
    return (name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name))
            or norm == ".." or norm.startswith("../"))


def _dist_dir_owner(top: str) -> str | None:
    """``name-version`` of a top-level ``*.dist-info`` / ``*.data`` folder, else None."""
    for suffix in (".dist-info", ".data"):
        if top.endswith(suffix):
            return top[: -len(suffix)]
    return None


def _same_dist(owner: str, wn: WheelName | None) -> bool:
    if wn is None:
        return True  # not a wheel file name: publish refuses that on its own
    name, _, version = owner.rpartition("-")
    return normalize(name) == wn.project and version == wn.version


def _startup_hook(name: str) -> bool:
    """A file that Python's ``site`` runs at start-up: ``*.pth`` in the site-packages root,
    ``sitecustomize`` / ``usercustomize`` (module or package)."""
    parts = name.split("/")
    if len(parts) >= 3 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib"):
        parts = parts[2:]  # installed into the site-packages root as well
    if len(parts) == 1 and parts[0].lower().endswith(".pth"):
        return True
    first = parts[0]
    return first in (f"{h}.py" for h in STARTUP_HOOKS) or (len(parts) > 1 and first in STARTUP_HOOKS) \
        or any(first.startswith(f"{h}.") and first.endswith((".so", ".pyd", ".pyc")) for h in STARTUP_HOOKS)


def unsafe_entry(names: list[str], wn: WheelName | None, *, asset: bool) -> tuple[str, str] | None:
    """(entry, why) of the first entry a wheel must not have, or None.

    Every wheel: no absolute or ``..`` paths, no ``.dist-info``/``.data`` folder of another
    distribution. Asset wheels also: no start-up hooks (``.pth``, ``sitecustomize``,
    ``usercustomize``: they would run in every process of the workspace, even in safe mode)
    and nothing installed outside site-packages (``.data/scripts|headers|data``).
    """
    for name in names:
        if _escapes(name):
            return name, "escapes its folder"
        top = name.split("/", 1)[0]
        owner = _dist_dir_owner(top)
        if owner is not None and not _same_dist(owner, wn):
            return name, "belongs to another distribution (outside its own dist folders)"
        if not asset:
            continue
        if _startup_hook(name):
            return name, "is a start-up hook that would run in every process of the workspace"
        parts = name.split("/")
        if owner is not None and top.endswith(".data") and len(parts) > 2 and parts[1] in _OUTSIDE_SCHEMES:
            return name, "installs outside site-packages"
    return None


def check_wheel(path: Path, *, asset: bool = True) -> None:
    """Refuse a corrupted wheel or one with unsafe entries (see ``unsafe_entry``).

    ``asset``: the wheel is an asset (anything published to or read from a repo); the
    wheels of ordinary packages in ``external_packages/`` may ship ``.pth`` files.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SetpieceError(
            f"corrupted wheel {path.name} in {path.parent}: {exc}; remove it and publish again"
        )
    if bad is not None:
        raise SetpieceError(
            f"corrupted wheel {path.name} in {path.parent}: entry {bad} fails its CRC; "
            "remove it and publish again"
        )
    found = unsafe_entry(names, parse_wheel_name(path.name), asset=asset)
    if found is not None:
        entry, why = found
        fix = ("remove it and rebuild the asset with 'setpiece build'" if asset
               else f"delete it from {path.parent}")
        raise SetpieceError(f"unsafe wheel {path.name}: entry '{entry}' {why}; refusing it ({fix})")
