"""Helpers of the reaction tests (imported by them: tests/reactions is on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def installed(ws: Any) -> dict[str, str]:
    return {k: str(v.version) for k, v in ws.installed_assets().items()}


def tree_state(folder: Path) -> dict[str, int]:
    """mtime of every file under ``folder`` (to prove nothing was rewritten)."""
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            p = Path(dirpath) / f
            out[str(p)] = p.stat().st_mtime_ns
    return out
