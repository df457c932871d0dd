"""The local ring of recent user actions ("what were you doing?") and the last error.

Every ``setpiece`` command appends one JSON line to ``<workspace>/.setpiece/actions.jsonl``
(``$SETPIECE_HOME/actions.jsonl`` outside a workspace): command, arguments (URL credentials
``user:pass@`` removed), exit code, one-line error, duration, time. The file keeps the
last ``KEEP`` lines: once it passes ``MAX_LINES`` it is rewritten atomically with the newest
``KEEP``. An unexpected exception's traceback goes to ``last-error.txt`` next to it.
Recording never fails the user's command (``OSError`` is swallowed). Cheap imports only:
this runs on every command, ``--help`` included.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

ACTIONS_NAME = "actions.jsonl"
LAST_ERROR_NAME = "last-error.txt"
KEEP = 200
MAX_LINES = 400
CONFIG_NAME = "setpiece.toml"

_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:'\"]*)(?::([^/@\s'\"]*))?@")


def url_secrets(text: str) -> set[str]:
    """The passwords (and tokens used as user names) in ``scheme://user:pass@`` URLs."""
    found: set[str] = set()
    for m in _URL_CREDENTIALS.finditer(text) if "@" in text else ():
        found.update(s for s in (m.group(3), m.group(2) if not m.group(3) else None) if s)
    return found


SECRET_KEY = re.compile(
    r"(?im)^(\s*[\w.-]*(?:password|passwd|token|secret|api[_-]?key|credentials?)[\w.-]*\s*=\s*)"
    r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s#]+)")


def secrets_in(text: str) -> set[str]:
    """URL passwords and the values of ``password``/``token``/``secret``/``api_key`` keys
    (of 4 characters or more) in a config text."""
    found = url_secrets(text)
    for m in SECRET_KEY.finditer(text):
        value = m.group(2).strip("\"'")
        if len(value) >= 4 and value != "***":
            found.add(value)
    return found


def redact_urls(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """``https://bob:secret@host/`` -> ``https://***@host/``; every string in ``secrets``
    (say, a password a traceback quotes without its URL) -> ``***``."""
    text = _URL_CREDENTIALS.sub(r"\1***@", text) if "@" in text else text
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def workspace_arg(args: list[str]) -> str | None:
    for i, a in enumerate(args):
        if a in ("-w", "--workspace") and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--workspace="):
            return a.split("=", 1)[1]
    return None


def state_dir(args: list[str]) -> Path:
    """Where this command's actions go: the workspace's ``.setpiece/`` (found as
    ``Workspace.find`` does: ``-w``, ``$SETPIECE_WORKSPACE``, the nearest parent with a
    ``setpiece.toml``), else ``$SETPIECE_HOME``."""
    given = workspace_arg(args) or os.environ.get("SETPIECE_WORKSPACE")
    candidates = [Path(given)] if given else [Path.cwd(), *Path.cwd().parents]
    for folder in candidates:
        if (folder / CONFIG_NAME).is_file():
            return folder.resolve() / ".setpiece"
    from setpiece.core.paths import setpiece_home

    return setpiece_home()


def command_words(args: list[str], limit: int = 2) -> list[str]:
    """The command and sub-command words of ``args`` (``-w PATH`` and options skipped)."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a in ("-w", "--workspace"):
            skip = True
        elif not a.startswith("-"):
            out.append(a)
            if len(out) == limit:
                break
    return out


def command_name(args: list[str]) -> str:
    words = command_words(args, 1)
    return words[0] if words else ""


def record(args: list[str], code: int, started: float, error: str | None = None,
           traceback_text: str | None = None) -> None:
    """Append one action line (and write ``last-error.txt`` for a traceback); never raises
    ``OSError``."""
    try:
        folder = state_dir(args)
        folder.mkdir(parents=True, exist_ok=True)
        secrets = {s for a in args for s in url_secrets(a)}
        if (error or traceback_text is not None) and folder.name == ".setpiece":
            # a message may quote the config's secrets
            try:
                secrets |= secrets_in((folder.parent / CONFIG_NAME).read_text(errors="replace"))
            except OSError:
                pass
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "command": command_name(args),
            "args": [redact_urls(a) for a in args],
            "exit_code": code,
            "duration_s": round(time.time() - started, 3),
        }
        if error:
            line["error"] = redact_urls(error, secrets)
        if traceback_text is not None:
            from setpiece.core.fsutil import atomic_write_bytes

            text = f"{line['time']} setpiece {' '.join(line['args'])}\n{traceback_text}"
            atomic_write_bytes(folder / LAST_ERROR_NAME, redact_urls(text, secrets).encode(), durable=False)
        append(folder / ACTIONS_NAME, line)
    except OSError:
        pass


def append(path: Path, line: dict[str, Any]) -> None:
    """Append one line with O_APPEND; past ``MAX_LINES`` keep the newest ``KEEP`` (atomic)."""
    data = (json.dumps(line, sort_keys=True) + "\n").encode()
    from setpiece.core.fsutil import append_line

    size = append_line(path, data)
    if size < MAX_LINES * 40:  # every line is longer than 40 bytes: cannot be over yet
        return
    lines = path.read_bytes().splitlines(keepends=True)
    if len(lines) > MAX_LINES:
        from setpiece.core.fsutil import atomic_write_bytes

        atomic_write_bytes(path, b"".join(lines[-KEEP:]), durable=False)


def read_actions(folder: Path, limit: int = KEEP) -> list[dict[str, Any]]:
    """The newest ``limit`` actions recorded in ``folder`` (unreadable lines skipped)."""
    try:
        raw = (folder / ACTIONS_NAME).read_bytes()
    except OSError:
        return []
    out = []
    for ln in raw.splitlines()[-limit:]:
        try:
            out.append(json.loads(ln))
        except ValueError:
            continue
    return out
