"""The shape of ``setpiece.toml``, checked when it is read: a wrong type is one line naming
the key and the fix, never a traceback later (``[repos] x = 5``) nor a silent misreading (a
string where a list belongs would be read one character at a time).

Only the keys setpiece reads are checked; other keys and sections are left to their
readers (studio extensions may add their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError

#: sections that must be tables when present
SECTIONS = ("workspace", "repos", "settings", "requests", "files", "events", "farm", "hosts",
            "publish", "setup", "sites", "telemetry")

STR, NUM, INT, BOOL, TABLE, STRS = "a string", "a number", "an integer", "true or false", "a table", \
    "a list of strings"

#: section -> key -> (expected, example)
KEYS: dict[str, dict[str, tuple[str, str]]] = {
    "workspace": {"python": (STR, 'python = "3.11"'), "blessed": (STR, 'blessed = "blessed"'),
                  "default": (STR, 'default = "review"'), "site": (STR, 'site = "london"')},
    "settings": {"on_open": (STR, 'on_open = "report"'), "version_policy": (STR, 'version_policy = "micro"'),
                 "meters_per_unit": (NUM, "meters_per_unit = 0.01"), "up_axis": (STR, 'up_axis = "Y"'),
                 "time_codes_per_second": (NUM, "time_codes_per_second = 24.0")},
    "requests": {"install": (STRS, 'install = ["Chair"]')},
    "files": {"cache": (STR, 'cache = "/mnt/cache"')},
    "publish": {"exclude": (STRS, 'exclude = ["CheckName"]')},
    "setup": {"timeout": (NUM, "timeout = 60")},
    "events": {"bus": (STR, 'bus = "redis://host:6379/0"'), "site": (STR, 'site = "london"'),
               "group": (STR, 'group = "studio"')},
    "telemetry": {"enabled": (BOOL, "enabled = false"), "files": (BOOL, "files = false"),
                  "endpoint": (STR, 'endpoint = "http://collector:4318"'),
                  "service_name": (STR, 'service_name = "setpiece"'),
                  "export_timeout": (NUM, "export_timeout = 0.5"),
                  "shutdown_timeout": (NUM, "shutdown_timeout = 0.5")},
}

REPO_KEYS: dict[str, tuple[str, str]] = {
    "location": (STR, 'location = "/mnt/repos/review"'),
    "files_remote": (STR, 'files_remote = "s3://bucket/path"'),
    "files_remote_options": (TABLE, 'files_remote_options = { profile = "studio" }'),
    "concurrency": (INT, "concurrency = 4"),
    "username": (STR, 'username = "me"'), "password": (STR, "password = ..."),
}


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _ok(value: Any, expected: str) -> bool:
    if expected == STR:
        return isinstance(value, str)
    if expected == NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == BOOL:
        return isinstance(value, bool)
    if expected == TABLE:
        return isinstance(value, Mapping)
    if expected == STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return True


def _fail(path: Path, where: str, expected: str, value: Any, example: str) -> SetpieceError:
    return SetpieceError(f"{path}: {where} must be {expected}, not {_type_name(value)} "
                         f"({value!r:.40}): write it as {example}")


def validate(path: Path, data: Mapping[str, Any]) -> None:
    for section in SECTIONS:
        if section in data and not isinstance(data[section], Mapping):
            raise _fail(path, section, "a table", data[section], f"[{section}] on its own line")
    for section, keys in KEYS.items():
        table = data.get(section, {})
        for key, (expected, example) in keys.items():
            if key in table and not _ok(table[key], expected):
                raise _fail(path, f"[{section}] {key}", expected, table[key], example)
    link = data.get("files", {}).get("link")
    if link is not None and not (isinstance(link, str) or _ok(link, STRS)):
        raise _fail(path, "[files] link", "a string or a list of strings", link,
                    'link = ["reflink", "hardlink"]')
    for name, entry in data.get("repos", {}).items():
        if not isinstance(entry, Mapping):
            raise _fail(path, f"[repos] {name}", "a table", entry,
                        f'[repos.{name}] with location = "/path/to/repo"')
        for key, (expected, example) in REPO_KEYS.items():
            if key in entry and not _ok(entry[key], expected):
                raise _fail(path, f"[repos.{name}] {key}", expected, entry[key], example)
    from setpiece.core.sites import check as check_sites

    check_sites(path, data)
