"""``setpiece.toml``: the workspace's configuration, read fast and edited in place.

Reading uses tomllib; editing uses tomlkit so a TD's comments and layout survive;
every save is atomic.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "setpiece.toml"

#: Settings every workspace has, with their defaults (``[settings]`` overrides them).
DEFAULT_SETTINGS: dict[str, Any] = {
    "on_open": "report",  # update | ask | report | off
    "version_policy": "micro",  # how publish bumps: major | minor | micro | ...
    "meters_per_unit": 0.01,
    "up_axis": "Y",
    "time_codes_per_second": 24.0,
}


class Config:
    """The parsed ``setpiece.toml`` of one workspace."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    # -- reading ---------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SetpieceError(f"{path} is missing: run 'setpiece init' to create a workspace")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SetpieceError(f"{path} is not valid TOML ({exc}): fix the file by hand")
        return cls(path, data)

    @property
    def workspace(self) -> dict[str, Any]:
        return dict(self.data.get("workspace", {}))

    @property
    def repos(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self.data.get("repos", {}).items()}

    @property
    def settings(self) -> dict[str, Any]:
        return {**DEFAULT_SETTINGS, **self.data.get("settings", {})}

    @property
    def requests(self) -> list[str]:
        return list(self.data.get("requests", {}).get("install", []))

    @property
    def blessed(self) -> str | None:
        return self.workspace.get("blessed")

    @property
    def default(self) -> str | None:
        return self.workspace.get("default")

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.data.get(name, {}))

    # -- editing ---------------------------------------------------------------
    def edit(self) -> ConfigEdit:
        """``with config.edit() as doc: doc[...] = ...`` saves atomically on success."""
        return ConfigEdit(self)


class ConfigEdit:
    def __init__(self, config: Config) -> None:
        self.config = config

    def __enter__(self) -> Any:
        import tomlkit

        self.doc = tomlkit.parse(self.config.path.read_text(encoding="utf-8"))
        return self.doc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            return
        import tomlkit

        text = tomlkit.dumps(self.doc)
        atomic_write_text(self.config.path, text)
        self.config.data = tomllib.loads(text)


def write_new(path: Path, data: Mapping[str, Any], header: str = "") -> Config:
    import tomlkit

    doc = tomlkit.document()
    if header:
        for line in header.strip().splitlines():
            doc.add(tomlkit.comment(line))
    for key, value in data.items():
        doc[key] = value
    atomic_write_text(path, tomlkit.dumps(doc))
    return Config.load(path)
