"""Distributions a killed install left half-written, found and cleared for reinstall.

uv links a wheel's files, then writes its ``.dist-info`` (``RECORD`` last). A process
killed in between leaves a ``.dist-info`` without ``METADATA`` or ``RECORD``: listing
skips it (with a warning naming the command that repairs it), and the next ``install`` or
``sync`` removes that metadata and installs the distribution again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.core.naming import normalize

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


@dataclass(frozen=True)
class Broken:
    name: str
    version: str
    dist_info: Path
    why: str


def broken_dists(site: Path) -> list[Broken]:
    """Distributions a killed install left half-written: a ``.dist-info`` folder without
    ``METADATA`` (or with one that names nothing) or without ``RECORD`` (uv writes it last,
    and cannot uninstall or upgrade without it). Read through the installed index (a
    dist-info is checked again only when it changed: ``setpiece.core.installed_index``)."""
    from setpiece.core.assets import scan_entries

    out: list[Broken] = []
    for dirname, (path, entry) in (scan_entries(site) or {}).items():
        why = entry[1]
        if why:
            name, _, version = dirname[: -len(".dist-info")].partition("-")
            out.append(Broken(name, version, Path(path), why))
    return sorted(out, key=lambda b: normalize(b.name))


def why_broken(path: str) -> str | None:
    """Why the ``.dist-info`` folder at ``path`` is half-installed, or None."""
    if not os.path.isdir(path):
        return None
    metadata = os.path.join(path, "METADATA")
    try:
        size = os.stat(metadata).st_size
        if size < 1024:  # a cut one is short: read it (a usual one is only stat'ed)
            with open(metadata, "rb") as fh:
                head = fh.read()
        else:
            head = b"Name:"
    except OSError:
        return "its METADATA is missing"
    if not re.search(rb"^Name:", head, re.MULTILINE):
        return "its METADATA is cut short"
    if not os.path.isfile(os.path.join(path, "RECORD")):
        return "its RECORD is missing"
    return None


def clear_broken(ws: Workspace) -> list[Broken]:
    """Remove the ``.dist-info`` of every half-installed distribution (only metadata: its
    files stay and the reinstall writes over them), so that uv installs it again."""
    import shutil

    found = broken_dists(ws.site_packages)
    for b in found:
        shutil.rmtree(b.dist_info, ignore_errors=True)
    if found:
        ws.report("Repairing half-installed " + ", ".join(f"{b.name} {b.version}" for b in found)
                  + " (an install was interrupted)")
    return found
