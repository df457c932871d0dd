"""``setpiece report``: one .zip to attach to a ticket. Nothing is sent anywhere.

The zip holds ``manifest.json`` (versions, platform, installed assets, configured DCC hosts,
what is included and what is missing), ``last-error.txt`` (the last unexpected error with
its traceback), ``actions.jsonl`` (the recent commands, see ``setpiece.core.actions``),
``environment.txt`` (the process environment, secrets removed: see :func:`environment`),
``setpiece.toml`` (credentials redacted), ``events.jsonl`` (the last workspace events) and
``spans.jsonl`` (the last telemetry spans: what the recent commands did, and how long).
The DCC's "Report a problem" menu item writes the same, naming the app and its version.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from setpiece.core import actions

EVENTS_KEPT = 200
SPANS_KEPT = 500
_SECRET_KEY = actions.SECRET_KEY


def redact(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """Remove URL credentials (``user:pass@``), the values of ``password``/``token``/
    ``secret``/``api_key`` keys, and every string in ``secrets``."""
    return _SECRET_KEY.sub(r'\1"***"', actions.redact_urls(text, secrets))


#: Variable names whose values are secrets: passwords, tokens, keys, credentials, auth
#: headers (``OTEL_EXPORTER_OTLP_HEADERS``), uv's ``UV_INDEX_<NAME>_USERNAME/PASSWORD``,
#: connection strings (``AZURE_STORAGE_CONNECTION_STRING`` carries an ``AccountKey``) and
#: SAS tokens.
SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|credential|auth|cookie|api_?key|private|_key(_|$)|"
    r"^key$|headers|signature|^uv_index_.*_username$|dsn$|connection_?string|conn_?str|"
    r"sas_?token|(^|_)sas(_|$))")

#: Secret parts of a value whatever its variable's name: the keys and passwords of a
#: connection string (``AccountKey=...;``) and a SAS signature (``sig=...&``).
SECRET_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9])(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|"
    r"sig)=([^;&\s]+)")


def environment(env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """The environment as ``NAME=value`` lines with secrets removed, and the secret values
    (to remove them from every other file too): a secret-named variable's value is ``***``;
    any other value loses the ``user:pass@`` of its URLs and the secret parts of a
    connection string (:data:`SECRET_VALUE`)."""
    env = dict(os.environ if env is None else env)
    secrets: set[str] = set()
    lines = []
    for name in sorted(env):
        value = env[name]
        if SECRET_NAME.search(name):
            if len(value) >= 4:
                secrets.add(value)
            value = "***" if value else ""
        else:
            secrets |= actions.url_secrets(value)
            secrets |= {m.group(2) for m in SECRET_VALUE.finditer(value) if len(m.group(2)) >= 4}
            value = SECRET_VALUE.sub(r"\1=***", actions.redact_urls(value))
        lines.append(f"{name}={value}\n")
    return "".join(lines), secrets


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


def build(workspace_path: str | None = None,
          app: dict[str, str] | None = None) -> tuple[bytes, dict[str, Any]]:
    """The report zip's bytes and its manifest (``app``: the DCC it was made in)."""
    ws = _workspace(workspace_path)
    folder = ws.state_dir if ws is not None else actions.state_dir([])
    manifest: dict[str, Any] = {
        "format": "setpiece-report/1",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "app": app,
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
    env_text, env_secrets = environment()
    files["environment.txt"] = env_text
    # every file is redacted with the secrets any of them shows (the config's passwords
    # also leave a traceback that quotes them without their URL; a token in the environment
    # may be quoted by an error)
    secrets = env_secrets | {x for text in files.values() for x in actions.secrets_in(text)}
    manifest["files"] = ["manifest.json", *files]
    manifest = json.loads(redact(json.dumps(manifest), secrets))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            # environment.txt has its secret-named values removed already (NAME=***)
            clean = (actions.redact_urls(text, secrets) if name == "environment.txt"
                     else redact(text, secrets))
            zf.writestr(name, clean)
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
    spans = _tail(ws.state_dir / "telemetry" / "spans.jsonl", SPANS_KEPT)
    if spans:
        files["spans.jsonl"] = spans


def _tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of ``path`` (read from the end: the file may be 16 MiB)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - lines * 4096))
            data = fh.read()
    except OSError:
        return ""
    kept = data.splitlines(keepends=True)
    if size > len(data):
        kept = kept[1:]  # the first one may be cut
    return b"".join(kept[-lines:]).decode("utf-8", errors="replace")


def write(out: Path | None, workspace_path: str | None = None,
          app: dict[str, str] | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the report (atomically) and return its path and manifest."""
    from setpiece.core.fsutil import atomic_write_bytes

    data, manifest = build(workspace_path, app)
    path = out or Path(time.strftime("setpiece-report-%Y%m%d-%H%M%S.zip", time.gmtime()))
    atomic_write_bytes(path, data)
    return path.resolve(), manifest


def write_in(root: Path | None, app: dict[str, str] | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the report into ``<root>/.setpiece/reports/`` (``$SETPIECE_HOME/reports/``
    without a workspace): where an app's "Report a problem" puts it."""
    if root is not None:
        folder = Path(root) / ".setpiece" / "reports"
    else:
        from setpiece.core.paths import setpiece_home

        folder = setpiece_home() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    name = time.strftime("setpiece-report-%Y%m%d-%H%M%S", time.gmtime())
    path = folder / f"{name}.zip"
    n = 1
    while path.exists():  # two reports in one second: both kept
        n += 1
        path = folder / f"{name}-{n}.zip"
    return write(path, str(root) if root is not None else None, app)
