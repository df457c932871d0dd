"""What each scene of a workspace was built from: read by ``setpiece affected``.

``setpiece scene build`` (setpiece-usd) records, for every scene it writes, the resolved
closure it saw: each asset's name, version, the merged requirement on it and its kind.
One JSON file per scene under ``.setpiece/scenes/`` (named by a hash of the scene's path),
written atomically when it changes. A scene file since deleted is skipped.

A scene *would change* with a publish of ``NAME==VER`` when its closure holds NAME at
another version, VER is newer, and the requirement on NAME in the closure (every
dependent's specifier, merged) admits VER and is no ``==`` pin: what ``setpiece install``
and ``setpiece scene update`` would then pick up.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.core.naming import normalize

FOLDER = "scenes"


@dataclass(frozen=True)
class SceneEntry:
    """One asset of a scene's closure."""

    name: str
    version: str
    requirement: str = ""  # merged requirement on it (``Table<2,>=1.2.3``); "" for the root
    kind: str = "push"  # push | semi-push | pull


@dataclass(frozen=True)
class BuiltScene:
    scene: Path
    root: str
    group: str
    entries: tuple[SceneEntry, ...]

    def entry(self, name: str) -> SceneEntry | None:
        key = normalize(name)
        return next((e for e in self.entries if normalize(e.name) == key), None)

    def to_json(self) -> dict[str, Any]:
        return {"scene": str(self.scene), "root": self.root, "group": self.group,
                "entries": [e.__dict__ for e in self.entries]}


@dataclass(frozen=True)
class SceneChange:
    """A scene whose closure a publish would change."""

    scene: Path
    root: str
    group: str
    name: str
    installed: str
    version: str
    requirement: str
    kind: str

    def describe(self) -> str:
        how = f"'{self.requirement}', {self.kind}" if self.requirement else "the scene's root"
        return (f"{self.scene} ({self.root}[{self.group}]): {self.name} "
                f"{self.installed} -> {self.version} ({how})")

    def to_json(self) -> dict[str, Any]:
        return {"scene": str(self.scene), "root": self.root, "group": self.group,
                "name": self.name, "installed": self.installed, "version": self.version,
                "requirement": self.requirement, "kind": self.kind}


def _record_path(state_dir: Path, scene: Path) -> Path:
    digest = hashlib.sha256(str(Path(scene).resolve()).encode()).hexdigest()[:20]
    return Path(state_dir) / FOLDER / f"{digest}.json"


def has_record(state_dir: Path, scene: Path) -> bool:
    return _record_path(state_dir, scene).is_file()


def record_build(state_dir: Path, scene: Path, root: str, group: str,
                 entries: Iterable[SceneEntry]) -> None:
    """Record what ``scene`` was built from (rewritten only when it changed)."""
    built = BuiltScene(Path(scene).resolve(), root, group,
                       tuple(sorted(entries, key=lambda e: normalize(e.name))))
    data = json.dumps(built.to_json(), sort_keys=True).encode()
    path = _record_path(state_dir, scene)
    with contextlib.suppress(OSError):
        if path.read_bytes() == data:
            return
    from setpiece.core.fsutil import atomic_write_bytes  # here: no-op rebuilds skip it

    atomic_write_bytes(path, data)


def built_scenes(state_dir: Path) -> list[BuiltScene]:
    """Every recorded scene whose file still exists, by path."""
    out = []
    folder = Path(state_dir) / FOLDER
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    for n in names:
        if not n.endswith(".json"):
            continue
        try:
            data = json.loads((folder / n).read_bytes())
            built = BuiltScene(Path(data["scene"]), str(data["root"]), str(data["group"]),
                               tuple(SceneEntry(**e) for e in data["entries"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if built.scene.is_file():
            out.append(built)
    return sorted(out, key=lambda b: str(b.scene))


def scene_changes(scenes: Iterable[BuiltScene], name: str, version: str) -> list[SceneChange]:
    """The scenes a publish of ``name==version`` would change (see the module doc)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    new = Version(version)
    out = []
    for built in scenes:
        entry = built.entry(name)
        if entry is None or entry.kind == "pull":
            continue
        try:
            if Version(entry.version) >= new:
                continue
        except InvalidVersion:
            continue
        req = entry.requirement
        spec = req[next((i for i, c in enumerate(req) if c in "<>=!~"), len(req)):]
        try:
            admitted = SpecifierSet(spec).contains(new)
        except InvalidSpecifier:
            continue
        if admitted:
            out.append(SceneChange(built.scene, built.root, built.group, entry.name,
                                   entry.version, str(new), entry.requirement, entry.kind))
    return out
