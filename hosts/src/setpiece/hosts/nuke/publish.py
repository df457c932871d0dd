"""Nuke's publish plugins (pyblish), returned by ``NukeHost.publish_plugins()``.

What is published: every ``Write`` and ``GeoExport`` node marked for publish, a
``Boolean_Knob`` ``setpiece_publish`` that is on (add it with :func:`mark_for_publish`,
or by hand with Edit > Node > Manage User Knobs). One instance per node, named after it:

- a ``Write``: its frames (family ``setpiece.render``), rendered over the script's frame
  range (``nuke.execute``) and staged under ``render/<node>/`` in the asset;
- a ``GeoExport``: the 3D stage that feeds it (family ``setpiece.usd``), exported through
  the adapter's ``export_usd(selection=True)`` with its input selected.

A script with nothing marked publishes nothing: the collector says how to mark a node.

Checks: a marked ``Write`` has a file name, absolute and inside the workspace (Repair
points it at ``outputs/<Asset>/render/<node>/`` keeping its file name).

The workfile: ``nuke.scriptSave()`` then a copy (``NukeHost.save_copy``).

pyblish ships no type information: its plugin base classes are ``Any`` to mypy, hence the
``type: ignore[misc]`` on each class line. ``nuke`` is imported inside the functions.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pyblish.api

from setpiece.core.errors import SetpieceError
from setpiece.hosts.nuke._nuke_api import Node, import_nuke
from setpiece.hosts.publish.actions import RepairAction
from setpiece.hosts.publish.plugins import FAMILY
from setpiece.hosts.publish.session import session

#: Boolean knob marking a Write or GeoExport node for publish
PUBLISH_KNOB = "setpiece_publish"
#: family of rendered frames (a Write node)
RENDER_FAMILY = "setpiece.render"
PUBLISHABLE = ("Write", "GeoExport")
_FRAME = re.compile(r"#+|%0?\d*d")


def mark_for_publish(node: Node, on: bool = True) -> None:
    """Add the ``setpiece_publish`` Boolean knob to ``node`` (once) and set it."""
    nuke = import_nuke()
    knob = node.knob(PUBLISH_KNOB)
    if knob is None:
        knob = nuke.Boolean_Knob(PUBLISH_KNOB, "publish with setpiece")
        node.addKnob(knob)
    knob.setValue(bool(on))


def publish_node(instance: Any) -> Node:
    name = str(instance.data.get("node", ""))
    node = import_nuke().toNode(name) if name else None
    if node is None:
        raise SetpieceError(f"nuke: node {name or instance.name} is no longer in the script; publish again")
    return node


def frame_path(pattern: str, frame: int) -> str:
    """One frame's file name: ``####`` or ``%04d`` becomes the padded frame number."""

    def pad(match: re.Match[str]) -> str:
        text = match.group(0)
        width = len(text) if text.startswith("#") else int(text.strip("%d") or 1)
        return f"{frame:0{width}d}"

    return _FRAME.sub(pad, pattern)


def _render_folder(ws: Any, asset: str, node: str) -> Path:
    return Path(ws.outputs) / asset / "render" / node


# -- collect ------------------------------------------------------------------------------


class CollectNukeInstances(pyblish.api.ContextPlugin):
    """Write and GeoExport nodes with ``setpiece_publish`` on."""

    label = "Nuke: what to publish"
    order = pyblish.api.CollectorOrder + 0.1
    hosts = ["nuke"]

    def process(self, context: Any) -> None:
        nuke = import_nuke()
        root = nuke.root()
        first, last = int(root["first_frame"].value()), int(root["last_frame"].value())
        marked = [
            n for cls in PUBLISHABLE for n in nuke.allNodes(cls)
            if (k := n.knob(PUBLISH_KNOB)) is not None and bool(k.value())
        ]
        for node in sorted(marked, key=lambda n: n.name()):
            family = RENDER_FAMILY if node.Class() == "Write" else FAMILY
            instance = context.create_instance(node.name(), family=family, families=[family])
            instance.data.update(node=node.fullName(), nodeClass=node.Class())
            if family == RENDER_FAMILY:
                instance.data.update(frameStart=first, frameEnd=last)
                self.log.info("%s %s: frames %d-%d", node.Class(), node.name(), first, last)
            else:
                self.log.info("%s %s: the 3D stage feeding it", node.Class(), node.name())
        if not marked:
            raise SetpieceError(
                "nothing in this script is marked for publish: add a Boolean knob "
                f"'{PUBLISH_KNOB}' (Edit > Node > Manage User Knobs) to a Write or GeoExport "
                "node and tick it"
            )


# -- validate -----------------------------------------------------------------------------


class ValidateNukeWritePaths(pyblish.api.InstancePlugin):
    """A marked Write renders to an absolute path inside the workspace."""

    label = "Nuke: Write file path"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["nuke"]
    families = [RENDER_FAMILY]
    actions = [RepairAction]

    def process(self, instance: Any) -> None:
        s = session(instance.context)
        node = publish_node(instance)
        raw = str(node["file"].value() or "")
        fix = (
            f"set its file inside the workspace, e.g. {_render_folder(s.ws, s.asset_name or '<Asset>', node.name())}"
            f"/{node.name()}.####.exr (the Repair action does it)"
        )
        if not raw:
            raise SetpieceError(f"Write {node.name()} has no file name: {fix}")
        if not os.path.isabs(raw):
            raise SetpieceError(f"Write {node.name()} renders to a relative path {raw}: {fix}")
        root = Path(s.ws.root).resolve()
        if not Path(raw).resolve().is_relative_to(root):
            raise SetpieceError(f"Write {node.name()} renders to {raw}, outside the workspace: {fix}")
        if instance.data.get("frameEnd", 0) > instance.data.get("frameStart", 0) and not _FRAME.search(raw):
            raise SetpieceError(
                f"Write {node.name()} renders frames {instance.data['frameStart']}-"
                f"{instance.data['frameEnd']} to one file {raw}: put #### in its file name"
            )
        self.log.info("%s renders to %s", node.name(), raw)

    @classmethod
    def repair(cls, instance: Any) -> None:
        s = session(instance.context)
        node = publish_node(instance)
        raw = str(node["file"].value() or "")
        name = Path(raw.replace("\\", "/")).name if raw else ""
        if not name or (instance.data.get("frameEnd", 0) > instance.data.get("frameStart", 0)
                        and not _FRAME.search(name)):
            stem = Path(name).stem if name else node.name()
            name = f"{stem}.####{Path(name).suffix or '.exr'}"
        target = _render_folder(s.ws, s.asset_name or "unknown", node.name()) / name
        node["file"].setValue(target.as_posix())


# -- extract ------------------------------------------------------------------------------


class ExtractNukeRender(pyblish.api.InstancePlugin):
    """Render a marked Write over the script's frame range and stage its frames."""

    label = "Nuke: render Write"
    order = pyblish.api.ExtractorOrder
    hosts = ["nuke"]
    families = [RENDER_FAMILY]

    def process(self, instance: Any) -> None:
        nuke = import_nuke()
        s = session(instance.context)
        staging = s.require_staging()
        node = publish_node(instance)
        pattern = str(node["file"].value())
        first, last = int(instance.data["frameStart"]), int(instance.data["frameEnd"])
        Path(frame_path(pattern, first)).parent.mkdir(parents=True, exist_ok=True)
        try:
            nuke.execute(node, first, last)
        except RuntimeError as exc:
            raise SetpieceError(f"nuke: rendering {node.name()} failed: {' '.join(str(exc).split())}")
        folder = staging.dir("render", node.name())
        for frame in range(first, last + 1):
            src = Path(frame_path(pattern, frame))
            if not src.is_file():
                raise SetpieceError(f"nuke: {node.name()} rendered no {src} (frame {frame})")
            dest = folder / src.name
            shutil.copy2(src, dest)
            staging.add_file(instance.name, "render", dest, f"render/{node.name()}/{src.name}")
        self.log.info("%s: %d frame(s) staged", node.name(), last - first + 1)


PLUGINS = [CollectNukeInstances, ValidateNukeWritePaths, ExtractNukeRender]
