"""``setpiece.toml``: the workspace's configuration, read fast and edited in place.

Reading uses tomllib; editing uses tomlkit so a TD's comments and layout survive;
every save is atomic.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text, locked

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
    "pull_on_install": True,  # install / scene update bring the new versions' tracked files
}


def decode_toml(path: Path, raw: bytes) -> str:
    """TOML is UTF-8: say what the file is instead when it is not."""
    sample = raw[:64]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(sample) >= 4 and (
            not any(sample[1::2]) or not any(sample[0::2]))):  # ASCII as UTF-16: every other byte 0
        raise SetpieceError(f"{path} is UTF-16 text, but TOML files are UTF-8: save it as UTF-8 "
                            "(without BOM)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SetpieceError(f"{path} is not UTF-8 text (byte {exc.start} is not valid: a binary "
                            "file?): restore it from a backup or recreate it with 'setpiece init'")
    if "\x00" in text:
        raise SetpieceError(f"{path} holds NUL bytes (a binary file?): restore it from a backup "
                            "or recreate it with 'setpiece init'")
    return text.removeprefix("\ufeff")


class Config:
    """The parsed ``setpiece.toml`` of one workspace."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    # -- reading ---------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise SetpieceError(f"{path} is missing: run 'setpiece init' to create a workspace")
        except IsADirectoryError:
            raise SetpieceError(f"{path} is a folder, not a file: remove it or pick another workspace")
        except OSError as exc:
            raise SetpieceError(f"cannot read {path} ({exc.strerror or exc}): check its permissions")
        text = decode_toml(path, raw)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SetpieceError(f"{path} is not valid TOML ({exc}): fix the file by hand")
        from setpiece.core.config_schema import validate

        validate(path, data)
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
    """Read-modify-write of ``setpiece.toml`` under the workspace's config lock: the file
    is parsed after the lock is taken and written (atomically) before it is released, so
    concurrent commands (installs recording requests, ``repo add``) never lose an update.
    This is the only way setpiece changes an existing ``setpiece.toml``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock: contextlib.AbstractContextManager[None] | None = None

    def __enter__(self) -> Any:
        import tomlkit

        self._lock = locked(lock_path(self.config.path))
        self._lock.__enter__()
        try:
            self.doc = tomlkit.parse(decode_toml(self.config.path, self.config.path.read_bytes()))
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self.doc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._lock is not None
        try:
            if exc_type is None:
                import tomlkit

                text = tomlkit.dumps(self.doc)
                atomic_write_text(self.config.path, text)
                self.config.data = tomllib.loads(text)
        finally:
            self._lock.__exit__(None, None, None)


def lock_path(config_path: Path) -> Path:
    """The lock file of a workspace's ``setpiece.toml`` (in its ``.setpiece`` folder)."""
    return config_path.parent / ".setpiece" / "locks" / f"{config_path.name}.lock"


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
