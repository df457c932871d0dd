"""Installs that would change nothing, known without running uv.

An install of requests R that uv answered with no change, in a venv in state S, is a no-op
again as long as S and everything that decides the resolution are the same: uv installs
nothing when the installed set already satisfies R. The fingerprint covers R, ``--repo``,
the interpreter, ``UV_*`` variables, ``setpiece.toml`` (repos, settings) and the venv's
installed set: the
name, inode and mtime of every ``*.dist-info`` folder (an install, uninstall, upgrade or
reinstall by anything, setpiece or ``uv pip``/``pip`` run directly, makes a new folder or
removes one) and the site-packages folder's own mtime. Only plain requests
(``Name[extras]<specifiers>``) take the short way: paths, URLs and editables always go to uv.

The fingerprints of the last no-op installs are kept in ``.setpiece/noop-installs`` (a
cache: losing it costs one uv run).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

_PLAIN = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?((~=|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+"
    r"(,(~=|==|!=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+)*)?"
)
KEEP = 32
FILE = "noop-installs"


def fingerprint(ws: Workspace, reqs: Sequence[str], repo: str | None) -> str | None:
    """What decides whether installing ``reqs`` changes anything; None: always ask uv."""
    if not reqs or not all(_PLAIN.fullmatch(r) for r in reqs):
        return None
    h = hashlib.sha256()
    uv_env = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("UV_"))
    h.update("\0".join([*sorted(reqs), f"repo={repo}", str(ws.python), *uv_env]).encode())
    try:
        h.update(ws.config.path.read_bytes())
        site = os.fspath(ws.site_packages)
        st = os.stat(site)
        h.update(f"\0{st.st_ino}:{st.st_mtime_ns}".encode())
        rows = []
        with os.scandir(site) as entries:
            for e in entries:
                if e.name.endswith(".dist-info"):
                    s = e.stat()
                    rows.append(f"{e.name}:{s.st_ino}:{s.st_mtime_ns}")
    except OSError:
        return None
    h.update("\0".join(sorted(rows)).encode())
    return h.hexdigest()


def known(ws: Workspace, fp: str | None) -> bool:
    """Whether ``fp`` is the fingerprint of an install uv answered with no change."""
    if fp is None:
        return False
    try:
        return fp in (ws.state_dir / FILE).read_text(encoding="ascii").split()
    except (OSError, ValueError):
        return False


def remember(ws: Workspace, fp: str | None) -> None:
    """Keep ``fp`` (the last :data:`KEEP`); never raises: a cache."""
    if fp is None:
        return
    from setpiece.core.fsutil import atomic_write_bytes

    path = ws.state_dir / FILE
    try:
        try:
            kept = [f for f in path.read_text(encoding="ascii").split() if f != fp]
        except (OSError, ValueError):
            kept = []
        kept = [*kept[-(KEEP - 1):], fp]
        atomic_write_bytes(path, ("\n".join(kept) + "\n").encode(), durable=False)
    except OSError:
        pass
