"""Hash everything: canonical JSON, file bytes, a module's code, a published wheel.

Every digest is ``sha256`` hex. Published versions never change, so a wheel's digest is
kept for the life of the process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_WHEELS: dict[tuple[str, str, str], str] = {}


def digest_json(data: Any) -> str:
    """The digest of ``data`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest_file(path: Path) -> str | None:
    """The digest of a file's bytes; None when it does not exist."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return h.hexdigest()


def digest_files(paths: Iterable[Path]) -> dict[str, str | None]:
    return {str(p): digest_file(Path(p)) for p in paths}


def digest_tree(folder: Path) -> str:
    """The digest of every file under ``folder`` (relative paths and bytes), caches skipped."""
    h = hashlib.sha256()
    folder = Path(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(dirpath) / name
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            h.update((digest_file(path) or "-").encode() + b"\0")
    return h.hexdigest()


def code_of(obj: Any) -> dict[str, str | None]:
    """The source files an object's code lives in (its module file, hashed)."""
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    if module is None and not isinstance(obj, type):
        module = sys.modules.get(type(obj).__module__)
    path = getattr(module, "__file__", None)
    if not path:
        return {}
    name = module.__name__ if module is not None else "?"
    return {name: digest_file(Path(path))}


def wheel_sha256(ws: Any, name: str, version: str) -> str:
    """The sha256 of the published wheel ``name==version`` (any of ``ws``'s repos, or
    ``external_packages/``); cached per process, published versions never change."""
    from setpiece.core.installing import wheel_sha256 as find
    from setpiece.core.naming import normalize

    key = (str(ws.root), normalize(name), version)
    found = _WHEELS.get(key)
    if found is None:
        found = _WHEELS[key] = find(ws, name, version)
    return found


def subject_digest(ws: Any, event: Mapping[str, Any]) -> dict[str, Any]:
    """What an event is about, hashed: asset, version and the wheel's sha256 when published."""
    from setpiece.core.errors import SetpieceError

    name = event_asset(event)
    version = str(event.get("version") or "")
    out: dict[str, Any] = {"asset": name, "version": version}
    if name and version:
        try:
            out["sha256"] = wheel_sha256(ws, name, version)
        except SetpieceError:
            out["sha256"] = None  # not reachable from this workspace's repos
    return out


def event_asset(event: Mapping[str, Any]) -> str:
    """The asset an event names (``name`` in repo logs, ``asset`` in workspace logs)."""
    return str(event.get("name") or event.get("asset") or "")
