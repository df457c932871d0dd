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


def check_wheel(path: Path) -> None:
    """Refuse a corrupted wheel or one whose entries escape its folder."""
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
    for name in names:
        norm = posixpath.normpath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or norm.startswith(".."):
            raise SetpieceError(
                f"unsafe wheel {path.name}: entry '{name}' escapes its folder; "
                "refusing it (rebuild the asset with 'setpiece build')"
            )
