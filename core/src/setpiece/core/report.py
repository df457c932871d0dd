"""``setpiece report``: one .zip to attach to a ticket. Nothing is sent anywhere.

The zip holds ``manifest.json`` (versions, platform, installed assets, configured DCC hosts,
what is included and what is missing), ``last-error.txt`` (the last unexpected error with
its traceback), ``actions.jsonl`` (the recent commands, see ``setpiece.core.actions``),
``setpiece.toml`` (credentials redacted) and ``events.jsonl`` (the last workspace events).
"""

from __future__ import annotations

import io
import json
import platform
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from setpiece.core import actions

EVENTS_KEPT = 200
_SECRET_KEY = actions.SECRET_KEY


def redact(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """Remove URL credentials (``user:pass@``), the values of ``password``/``token``/
    ``secret``/``api_key`` keys, and every string in ``secrets``."""
    return _SECRET_KEY.sub(r'\1"***"', actions.redact_urls(text, secrets))


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("setpiece-core", "setpiece-usd", "setpiece-hosts", "uv", "dvc", "usd-core",
                 "pyblish-base"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def _workspace(path: str | None) -> Any:
    from setpiece.core.errors import SetpieceError
    from setpiece.core.workspace import Workspace

    try:
        return Workspace.find(path)
    except SetpieceError:
        return None


def build(workspace_path: str | None = None) -> tuple[bytes, dict[str, Any]]:
    """The report zip's bytes and its manifest."""
    ws = _workspace(workspace_path)
    folder = ws.state_dir if ws is not None else actions.state_dir([])
    manifest: dict[str, Any] = {
        "format": "setpiece-report/1",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "workspace": str(ws.root) if ws is not None else None,
        "files": [],
        "missing": [],
    }
    files: dict[str, str] = {}
    try:
        files["last-error.txt"] = (folder / actions.LAST_ERROR_NAME).read_text(errors="replace")
    except OSError:
        manifest["missing"].append("last-error.txt: no unexpected error recorded")
    recent = actions.read_actions(folder)
    files["actions.jsonl"] = "".join(json.dumps(a, sort_keys=True) + "\n" for a in recent)
    failed = [a for a in recent if a.get("exit_code")]
    manifest["last_failed_action"] = failed[-1] if failed else None
    if ws is None:
        manifest["missing"].append(
            "not inside a workspace: no setpiece.toml, installed assets, events or hosts")
    else:
        _add_workspace(ws, manifest, files)
    # every file is redacted with the secrets any of them shows (the config's passwords
    # also leave a traceback that quotes them without their URL)
    secrets = {x for text in files.values() for x in actions.secrets_in(text)}
    manifest["files"] = ["manifest.json", *files]
    manifest = json.loads(redact(json.dumps(manifest), secrets))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, redact(text, secrets))
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return buf.getvalue(), manifest


def _add_workspace(ws: Any, manifest: dict[str, Any], files: dict[str, str]) -> None:
    from setpiece.core.config import decode_toml

    cfg_path = ws.root / "setpiece.toml"
    files["setpiece.toml"] = decode_toml(cfg_path, cfg_path.read_bytes())
    try:
        assets, others = ws.installed()
        manifest["installed_assets"] = [a.to_json() for a in assets.values()]
        manifest["other_packages"] = [{"name": n, "version": v} for n, v in others]
    except Exception as exc:  # a broken workspace is what a report is for: say, go on
        manifest["installed_assets"] = None
        manifest["missing"].append(f"installed assets: {exc}")
    try:
        manifest["hosts"] = sorted(ws.config.section("hosts"))
    except Exception as exc:
        manifest["hosts"] = None
        manifest["missing"].append(f"hosts: {exc}")
    from setpiece.core.eventlog import WorkspaceLog, read

    try:
        events = [ev.to_dict() for ev in read(WorkspaceLog(ws.root))][-EVENTS_KEPT:]
    except Exception as exc:
        events = []
        manifest["missing"].append(f"events: {exc}")
    files["events.jsonl"] = "".join(json.dumps(e, sort_keys=True, default=str) + "\n"
                                    for e in events)


def write(out: Path | None, workspace_path: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the report (atomically) and return its path and manifest."""
    from setpiece.core.fsutil import atomic_write_bytes

    data, manifest = build(workspace_path)
    path = out or Path(time.strftime("setpiece-report-%Y%m%d-%H%M%S.zip", time.gmtime()))
    atomic_write_bytes(path, data)
    return path.resolve(), manifest
