"""Per-user folders: where the default repos live (overridable with SETPIECE_HOME)."""

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
