"""Work files: the artist's versioned scene files of an output asset, without Qt.

An output asset's work files live in ``outputs/<Asset>/work/`` as
``<asset>_v001.blend``, ``<asset>_v002.blend``... (the app's own extension). Saving never
overwrites one: each save is the next version. Beside them, ``work/.workfiles/`` keeps
what the artist said (``<file>.json``: comment, user, host, time) and a thumbnail
(``<file>.png``, where the host can make one). A publish picks the open one up: the scene
is saved under ``outputs/<Asset>/``, which says the asset (and the scene records it), and
the publish's workfile step copies the open file into the version (``workfile`` in the
``published`` event names it).

:func:`save` and :func:`open_workfile` go through the host protocol (``save_scene``,
``open_scene``); the window is :mod:`setpiece.hosts.ui.workfiles`.
"""

from __future__ import annotations

import getpass
import json
import logging
import re
import socket
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

log = logging.getLogger("setpiece.hosts.workfiles")

META = ".workfiles"
#: the app's scene extension, when the open scene does not say it (never saved yet)
SUFFIXES = {"blender": ".blend", "maya": ".ma", "houdini": ".hip", "nuke": ".nk"}
_NAME = re.compile(r"^(?P<stem>.+)_v(?P<n>\d{3,})(?P<suffix>\.[A-Za-z0-9]+)$")


@dataclass
class Workfile:
    """One saved work file."""

    path: Path
    version: int
    comment: str = ""
    user: str = ""
    host: str = ""
    time: float | None = None
    thumbnail: Path | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def date(self) -> str:
        when = self.time if self.time is not None else self.path.stat().st_mtime
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(when))

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "version": self.version, "comment": self.comment,
                "user": self.user, "host": self.host, "time": self.time,
                "thumbnail": str(self.thumbnail) if self.thumbnail else None}


def work_dir(ws: Any, asset: str) -> Path:
    """``outputs/<Asset>/work/`` of an output asset (a one-line error when it is not one)."""
    out = ws.output(asset)
    return Path(out.path) / "work"


def file_stem(asset: str) -> str:
    return normalize(asset).replace("-", "_")


def workfiles(ws: Any, asset: str) -> list[Workfile]:
    """The asset's work files, newest version first (files of other names are left out)."""
    folder = work_dir(ws, asset)
    stem = file_stem(asset)
    out: list[Workfile] = []
    if not folder.is_dir():
        return out
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if not m or m["stem"] != stem or not path.is_file():
            continue
        wf = Workfile(path, int(m["n"]))
        meta = folder / META / f"{path.name}.json"
        if meta.is_file():
            try:
                data = json.loads(meta.read_text(encoding="utf-8"))
                wf.comment, wf.user = str(data.get("comment", "")), str(data.get("user", ""))
                wf.host, wf.time = str(data.get("host", "")), data.get("time")
            except (OSError, ValueError) as exc:
                log.warning("setpiece workfiles: %s unreadable: %s", meta, exc)
        thumb = folder / META / f"{path.name}.png"
        wf.thumbnail = thumb if thumb.is_file() else None
        out.append(wf)
    return sorted(out, key=lambda w: w.version, reverse=True)


def suffix_for(host: Any) -> str:
    current = host.current_scene()
    if current and Path(current).suffix:
        return Path(current).suffix
    name = str(getattr(host, "name", ""))
    if name not in SUFFIXES:
        raise SetpieceError(
            f"the {name or 'unknown'} host does not say its scene file extension: save the "
            "scene once, then save work files"
        )
    return SUFFIXES[name]


def next_path(ws: Any, asset: str, suffix: str) -> Path:
    existing = workfiles(ws, asset)
    n = existing[0].version + 1 if existing else 1
    return work_dir(ws, asset) / f"{file_stem(asset)}_v{n:03d}{suffix}"


def _thumbnail(runtime: Any, path: Path) -> Path | None:
    """A picture of the scene, where the host can make one (Blender renders one)."""
    from setpiece.hosts.publish.run import support_for

    host = runtime.host
    names: list[str] = []
    bpy = getattr(host, "bpy", None)
    if bpy is not None:
        names = [o.name for o in bpy.context.scene.objects]
    scene = types.SimpleNamespace(name="work", data={"objects": names, "whole_scene": True})
    try:
        out = support_for(host, runtime.workspace).thumbnail(scene, path)
    except Exception as exc:  # a thumbnail is nice to have: never fail a save for it
        log.warning("setpiece workfiles: no thumbnail: %s", " ".join(str(exc).split())[:200])
        return None
    return Path(out) if out and Path(out).is_file() else None


def save(runtime: Any, asset: str, comment: str = "", *, thumbnail: bool | None = None) -> Workfile:
    """Save the open scene as the next work file of ``asset`` (never over an earlier one),
    with ``comment`` and (``thumbnail``; default: ``[publish] thumbnail`` in
    setpiece.toml, on) a thumbnail; the scene then belongs to ``asset``."""
    from setpiece.core.fsutil import atomic_write_bytes
    from setpiece.hosts.runtime import SCENE_ASSET_KEY

    ws = runtime.workspace
    host = runtime.host
    name = ws.output(asset).name
    path = next_path(ws, name, suffix_for(host))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # another save took this number a moment ago
        raise SetpieceError(f"{path.name} was just saved by someone else: save again")
    setter = getattr(host, "set_scene_data", None)
    if callable(setter):
        setter(SCENE_ASSET_KEY, name)
    saved = Path(host.save_scene(str(path)))
    meta_dir = path.parent / META
    meta_dir.mkdir(exist_ok=True)
    data = {"comment": comment.strip(), "user": getpass.getuser(), "host": socket.gethostname(),
            "time": time.time(), "app": str(getattr(host, "name", "")), "asset": name}
    atomic_write_bytes(meta_dir / f"{saved.name}.json",
                       json.dumps(data, indent=2).encode("utf-8"))
    if thumbnail is None:
        thumbnail = bool(ws.config.section("publish").get("thumbnail", True))
    if thumbnail:
        _thumbnail(runtime, meta_dir / f"{saved.name}.png")
    ws.emit("workfile.saved", asset=name, path=str(saved), comment=data["comment"])
    (wf,) = [w for w in workfiles(ws, name) if w.path.name == saved.name]
    return wf


def open_workfile(runtime: Any, path: str | Path) -> Workfile | None:
    """Open a work file in the app (the host's ``open_scene``)."""
    path = Path(path)
    if not path.is_file():
        raise SetpieceError(f"work file {path} does not exist: refresh the list")
    runtime.host.open_scene(str(path))
    return current(runtime)


def current(runtime: Any) -> Workfile | None:
    """The work file open in the app, when it is one."""
    scene = runtime.host.current_scene()
    if not scene:
        return None
    path = Path(scene).resolve()
    m = _NAME.match(path.name)
    if not m or path.parent.name != "work":
        return None
    asset = runtime.scene_asset()
    if asset is None:
        return None
    try:
        found = workfiles(runtime.workspace, asset)
    except SetpieceError:
        return None
    return next((w for w in found if w.path.resolve() == path), None)
