"""Pointer files: ``<path>.dvc`` beside the tracked ``<path>``, in dvc's own format.

A pointer names one tracked file or folder by content: ``md5`` (``<hex>.dir`` for a
folder, whose listing is itself an object), ``size`` and, for a folder, ``nfiles``. An
imported path also records its source (``deps``: where it came from and the state it had).
The same files are read by ``dvc`` itself. Reading them needs no dvc import (only the
YAML parser dvc depends on).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text

SUFFIX = ".dvc"
HEADER = (
    "# setpiece asset file pointer (dvc format): the bytes live in the files remote;\n"
    "# 'setpiece files pull' fetches them. Do not edit by hand.\n"
)
_HEX = re.compile(r"^[0-9a-f]{32}(\.dir)?$")


@dataclass(frozen=True)
class Source:
    """Where an imported path came from, and the state it had when imported."""

    path: str
    md5: str
    size: int
    nfiles: int | None = None


@dataclass(frozen=True)
class Pointer:
    file: Path  # the .dvc file
    md5: str
    size: int
    nfiles: int | None = None
    source: Source | None = None
    #: the pipeline stage whose output this is (recorded in ``dvc.lock``, no ``.dvc`` file:
    #: ``file`` is where its pointer would be); None for a path tracked with ``files add``
    stage: str | None = None

    @property
    def data_path(self) -> Path:
        return self.file.with_name(self.file.name[: -len(SUFFIX)])

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")

    def rel(self, package_dir: Path) -> str:
        return self.data_path.relative_to(package_dir).as_posix()

    @property
    def files(self) -> int:
        return self.nfiles if self.nfiles is not None else 1


def _q(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def write(pointer: Pointer) -> None:
    lines = [HEADER.rstrip("\n")]
    if pointer.source is not None:
        s = pointer.source
        lines += ["frozen: true", "deps:", f"- path: {_q(s.path)}", f"  md5: {s.md5}",
                  f"  size: {s.size}"]
        if s.nfiles is not None:
            lines.append(f"  nfiles: {s.nfiles}")
    lines += ["outs:", f"- md5: {pointer.md5}", f"  size: {pointer.size}"]
    if pointer.nfiles is not None:
        lines.append(f"  nfiles: {pointer.nfiles}")
    lines += ["  hash: md5", f"  path: {_q(pointer.data_path.name)}"]
    atomic_write_text(pointer.file, "\n".join(lines) + "\n")


def _int(value: Any, what: str, file: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SetpieceError(f"pointer {file} has an invalid {what}: fix or re-add the path")
    return value


def read(file: Path) -> Pointer:
    """Parse one pointer; refuse anything that could point outside its own folder."""
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise SetpieceError(f"pointer {file} is missing")
    return parse(file, raw)


def parse(file: Path, raw: bytes) -> Pointer:
    """A pointer from its bytes (``file``: where it is, or would be: its name says which path
    it may track); the same checks as :func:`read`."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe", pure=False).load(raw.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise SetpieceError(f"pointer {file} is not valid ({exc}): re-add the path")
    outs = data.get("outs") if isinstance(data, dict) else None
    if not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict):
        raise SetpieceError(f"pointer {file} must track exactly one path: re-add it")
    out = outs[0]
    name = file.name[: -len(SUFFIX)]
    if out.get("path") != name:
        raise SetpieceError(
            f"pointer {file} points to '{out.get('path')}', outside its own folder: refused; "
            f"a pointer may only name '{name}' beside it"
        )
    md5 = str(out.get("md5", ""))
    if not _HEX.match(md5):
        raise SetpieceError(f"pointer {file} has no valid md5: re-add the path")
    nfiles = out.get("nfiles")
    source = None
    deps = data.get("deps")
    if isinstance(deps, list) and deps and isinstance(deps[0], dict):
        d = deps[0]
        source = Source(
            str(d.get("path", "")), str(d.get("md5", "")), _int(d.get("size", 0), "size", file),
            None if d.get("nfiles") is None else _int(d.get("nfiles"), "nfiles", file),
        )
    return Pointer(
        file,
        md5,
        _int(out.get("size", 0), "size", file),
        None if nfiles is None else _int(nfiles, "nfiles", file),
        source,
    )


def pointer_file(data_path: Path) -> Path:
    return data_path.with_name(data_path.name + SUFFIX)


def find_files(package_dir: Path) -> list[Path]:
    """Every ``*.dvc`` pointer under ``package_dir`` (tracked folders are not entered)."""
    found: list[Path] = []
    if not package_dir.is_dir():
        return found
    for folder, dirs, files in os.walk(package_dir):
        pointed = {f[: -len(SUFFIX)] for f in files if f.endswith(SUFFIX)}
        dirs[:] = sorted(d for d in dirs if d not in pointed and d != "__pycache__")
        found.extend(Path(folder) / f for f in sorted(files) if f.endswith(SUFFIX))
    return found


def find(package_dir: Path) -> list[Pointer]:
    """Every tracked path of the package: its ``.dvc`` pointers and the pipeline outputs
    that its ``dvc.lock`` records (tracked the same way: pushed, pulled, verified)."""
    return [read(f) for f in find_files(package_dir)] + pipeline_outputs(package_dir)


def pipeline_outputs(package_dir: Path, lock_dir: Path | None = None) -> list[Pointer]:
    """The outputs recorded in ``package_dir``'s ``dvc.lock`` as pointers (``file`` is the
    pointer path they would have); ``lock_dir``: read the lock from there instead."""
    folder = package_dir if lock_dir is None else lock_dir
    if not (folder / "dvc.lock").is_file():
        return []
    from setpiece.core.pipeline_lock import locked_outputs

    out: list[Pointer] = []
    for stage, path, entry in locked_outputs(folder):
        rel = Path(path)
        if rel.is_absolute() or ".." in rel.parts or not _HEX.match(str(entry.get("md5"))):
            continue  # never outside the package (add_stage refuses it; a hand edit may not)
        nfiles = entry.get("nfiles")
        out.append(Pointer(
            pointer_file(package_dir / rel), str(entry["md5"]),
            _int(entry.get("size", 0), "size", folder / "dvc.lock"),
            None if nfiles is None else _int(nfiles, "nfiles", folder / "dvc.lock"),
            None, stage,
        ))
    return out


def is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True
