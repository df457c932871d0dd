"""Per-user folders: where the default repos live (overridable with SETPIECE_HOME); where
a workspace is (``workspace_root``, importing nothing else: fast paths use it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def setpiece_home() -> Path:
    """``$SETPIECE_HOME``, else the platform's per-user data folder + ``/setpiece``."""
    env = os.environ.get("SETPIECE_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return (base / "setpiece").resolve()


def default_repos_dir() -> Path:
    return setpiece_home() / "repos"


def workspace_root(path: Path | str | None = None) -> Path | None:
    """The workspace folder: ``path``, else ``$SETPIECE_WORKSPACE``, else the nearest parent
    of the current folder holding a ``setpiece.toml``; None if there is none."""
    if path is not None:
        return Path(path)
    env = os.environ.get("SETPIECE_WORKSPACE")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "setpiece.toml").is_file():
            return folder
    return None
