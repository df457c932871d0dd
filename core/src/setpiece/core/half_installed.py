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
    and cannot uninstall or upgrade without it)."""
    out: list[Broken] = []
    try:
        entries = [e for e in os.scandir(site) if e.name.endswith(".dist-info") and e.is_dir()]
    except FileNotFoundError:
        return out
    for e in entries:
        name, _, version = e.name[: -len(".dist-info")].partition("-")
        path = Path(e.path)
        try:
            size = os.stat(os.path.join(e.path, "METADATA")).st_size
            # stats only for the usual METADATA (listing stays cheap); a short one is read
            head = (path / "METADATA").read_bytes() if size < 1024 else b"Name:"
        except OSError:
            out.append(Broken(name, version, path, "its METADATA is missing"))
            continue
        if not re.search(rb"^Name:", head, re.MULTILINE):
            out.append(Broken(name, version, path, "its METADATA is cut short"))
        elif not (path / "RECORD").is_file():
            out.append(Broken(name, version, path, "its RECORD is missing"))
    return sorted(out, key=lambda b: normalize(b.name))


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
