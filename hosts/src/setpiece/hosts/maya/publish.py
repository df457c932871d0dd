"""Maya's publish plugins (pyblish), returned by ``MayaHost.publish_plugins()``.

What is published:

- every object set marked for publish: a bool attribute ``setpiece_publish`` that is on,
  or (without that attribute) a name ending in ``_publish``. One instance per set, named
  after it (``chair_publish`` -> ``chair``), holding the set's transforms;
- when no set is marked, the whole scene as one instance ``model``: the top-level
  transforms, without cameras.

Containers (assets loaded by setpiece: transforms carrying ``setpiece_name``) and
everything under them are never exported: they are dependencies, published by their own
assets.

Checks: the scene's working unit and up axis are the workspace's (Repair sets them);
each instance holds meshes and none is empty; every file the scene uses
(``cmds.file(query=True, list=True)``) exists and lies inside the workspace.

Extraction goes through the adapter: ``MayaHost.publish_export`` selects the instance's
transforms and runs ``export_usd(selection=True)`` (``mayaUSDExport``, whose ``-unit`` and
``-upAxis`` options default to Maya's preferences: hence the units check);
``MayaHost.save_copy`` saves the scene (``cmds.file(save=True)``) and copies it.

pyblish ships no type information: its plugin base classes are ``Any`` to mypy, hence the
``type: ignore[misc]`` on each class line. ``maya`` is imported inside the methods.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyblish.api

from setpiece.core.errors import SetpieceError
from setpiece.hosts.maya.adapter import _LINEAR_METERS
from setpiece.hosts.node_records import MARKER
from setpiece.hosts.publish.actions import RepairAction
from setpiece.hosts.publish.plugins import FAMILY
from setpiece.hosts.publish.problems import raise_problems
from setpiece.hosts.publish.session import session, stage_settings

#: bool attribute marking an object set for publish
PUBLISH_ATTR = "setpiece_publish"
#: a set named ``<name>_publish`` is marked too (when it has no ``setpiece_publish`` attribute)
SET_SUFFIX = "_publish"
#: the unit names ``cmds.currentUnit(linear=...)`` takes, by metres per unit
_UNIT_FOR_METERS = {0.001: "mm", 0.01: "cm", 1.0: "m", 1000.0: "km", 0.0254: "in",
                    0.3048: "ft", 0.9144: "yd", 1609.344: "mi"}  # fmt: skip


def _containers() -> list[str]:
    """Long names of the container transforms (they carry the ``setpiece_name`` marker)."""
    from maya import cmds

    return [
        str(n) for n in cmds.ls(type="transform", long=True) or []
        if cmds.attributeQuery(MARKER, node=str(n), exists=True)
    ]


def _in_container(node: str, containers: list[str]) -> bool:
    return any(node == c or node.startswith(c + "|") for c in containers)


def _is_marked(object_set: str) -> bool:
    from maya import cmds

    if cmds.attributeQuery(PUBLISH_ATTR, node=object_set, exists=True):
        return bool(cmds.getAttr(f"{object_set}.{PUBLISH_ATTR}"))
    return object_set.endswith(SET_SUFFIX) and len(object_set) > len(SET_SUFFIX)


def _instance_name(object_set: str) -> str:
    if object_set.endswith(SET_SUFFIX) and len(object_set) > len(SET_SUFFIX):
        return object_set[: -len(SET_SUFFIX)]
    return object_set


def _is_camera(node: str) -> bool:
    from maya import cmds

    return bool(cmds.listRelatives(node, shapes=True, type="camera") or [])


def instance_nodes(instance: Any) -> list[str]:
    """The instance's transforms that still exist (long names)."""
    from maya import cmds

    return [n for n in instance.data.get("nodes", []) if cmds.objExists(n)]


def _where(instance: Any) -> str:
    name = instance.data.get("set")
    return f"set {name}" if name else "the scene"


def _unit_for(meters: float) -> str | None:
    return next((u for m, u in _UNIT_FOR_METERS.items() if abs(m - meters) <= 1e-12 * max(m, 1.0)), None)


# -- collect ------------------------------------------------------------------------------


class CollectMayaInstances(pyblish.api.ContextPlugin):
    """Object sets marked for publish, else the whole scene (without containers, cameras)."""

    label = "Maya: what to publish"
    order = pyblish.api.CollectorOrder + 0.1
    hosts = ["maya"]

    def process(self, context: Any) -> None:
        from maya import cmds

        containers = _containers()
        marked = sorted(str(s) for s in cmds.ls(type="objectSet") or [] if _is_marked(str(s)))
        for object_set in marked:
            members = [str(m) for m in cmds.sets(object_set, query=True) or []]  # type: ignore[union-attr]
            nodes = [
                str(n) for n in (cmds.ls(*members, long=True, type="transform") if members else [])
                if not _in_container(str(n), containers)
            ]
            instance = context.create_instance(
                _instance_name(object_set), family=FAMILY, families=[FAMILY]
            )
            instance.data.update(nodes=nodes, set=object_set)
            self.log.info("set %s: %d transform(s)", object_set, len(nodes))
        if marked:
            return
        nodes = [
            str(n) for n in cmds.ls(assemblies=True, long=True, type="transform") or []
            if not _in_container(str(n), containers) and not _is_camera(str(n))
        ]
        instance = context.create_instance("model", family=FAMILY, families=[FAMILY])
        instance.data.update(nodes=nodes, whole_scene=True)
        self.log.info(
            "no object set is marked (%s attribute on, or a name ending in %s): publishing the "
            "whole scene (%d top-level transform(s)) as 'model'",
            PUBLISH_ATTR, SET_SUFFIX, len(nodes),
        )


# -- validate -----------------------------------------------------------------------------


class ValidateMayaUnits(pyblish.api.ContextPlugin):
    """The scene's working unit and up axis are the workspace's (mayaUSDExport writes the
    scene's own ``metersPerUnit`` and ``upAxis``)."""

    label = "Maya: working units and up axis"
    order = pyblish.api.ValidatorOrder
    hosts = ["maya"]
    actions = [RepairAction]

    def process(self, context: Any) -> None:
        from maya import cmds

        up, mpu = stage_settings(session(context).ws)
        linear = str(cmds.currentUnit(query=True, linear=True))
        axis = str(cmds.upAxis(query=True, axis=True)).upper()
        got = _LINEAR_METERS.get(linear)
        wanted_unit = _unit_for(mpu)
        problems = []
        if got is None or abs(got - mpu) > 1e-12 * max(mpu, 1.0):
            problems.append(
                f"working unit {linear} ({got if got is not None else '?'} m/unit), the workspace "
                f"uses {mpu:g} m/unit"
            )
        if axis != up:
            problems.append(f"up axis {axis}, the workspace uses {up}")
        if not problems:
            self.log.info("working unit %s, up axis %s", linear, axis)
            return
        if wanted_unit is None:
            raise SetpieceError(
                f"scene {'; '.join(problems)}: Maya has no working unit of {mpu:g} m; set "
                "meters_per_unit in setpiece.toml to a Maya unit (0.01 = cm, 1 = m)"
            )
        raise SetpieceError(
            f"scene {'; '.join(problems)}: set Preferences > Settings > Working Units > Linear "
            f"to {wanted_unit} and World Coordinate System > Up axis to {up} (the Repair action "
            "does it; sizes stay as modelled, a change of up axis does not rotate the model)"
        )

    @classmethod
    def repair(cls, context: Any) -> None:
        from maya import cmds

        up, mpu = stage_settings(session(context).ws)
        unit = _unit_for(mpu)
        if unit is None:
            raise SetpieceError(f"Maya has no working unit of {mpu:g} m: change setpiece.toml")
        cmds.currentUnit(linear=unit)
        cmds.upAxis(axis=up.lower(), rotateView=True)


class ValidateMayaMeshes(pyblish.api.InstancePlugin):
    """Each instance holds meshes, and none of them is empty."""

    label = "Maya: non-empty meshes"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["maya"]
    families = [FAMILY]

    def process(self, instance: Any) -> None:
        from maya import cmds

        meshes: list[str] = []
        for node in instance_nodes(instance):
            for mesh in cmds.listRelatives(node, allDescendents=True, type="mesh", fullPath=True) or []:
                if not cmds.getAttr(f"{mesh}.intermediateObject") and str(mesh) not in meshes:
                    meshes.append(str(mesh))
        if not meshes:
            fix = (
                f"add meshes to {instance.data['set']}, or turn its {PUBLISH_ATTR} off"
                if instance.data.get("set") else "model something"
            )
            raise SetpieceError(f"{instance.name} has no mesh (in {_where(instance)}): {fix}")
        empty = []
        for mesh in meshes:
            count = cmds.polyEvaluate(mesh, vertex=True)
            if not isinstance(count, int) or count == 0:
                empty.append(mesh)
        if empty:
            raise SetpieceError(
                f"mesh(es) {', '.join(empty)} in {instance.name} have no vertices: delete them "
                "or model them"
            )
        self.log.info("%d mesh(es)", len(meshes))


class ValidateMayaFiles(pyblish.api.ContextPlugin):
    """Every file the scene uses (references, textures, caches) exists inside the workspace."""

    label = "Maya: file paths"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["maya"]

    def process(self, context: Any) -> None:
        from maya import cmds

        s = session(context)
        root = Path(s.ws.root).resolve()
        scene = s.host.current_scene() if s.host is not None else None
        base = Path(scene).parent if scene else root
        problems = []
        listed: Any = cmds.file(query=True, list=True)  # a list of paths (the stubs say more)
        for raw in listed or []:
            path = str(raw)
            if scene and os.path.normcase(os.path.abspath(path)) == os.path.normcase(os.path.abspath(scene)):
                continue  # the workfile itself: extracted as a copy
            p = (base / path).resolve() if not os.path.isabs(path) else Path(path).resolve()
            if not p.exists():
                problems.append(
                    f"{path} does not exist: relink it (Windows > General Editors > File Path Editor)"
                )
            elif not p.is_relative_to(root):
                problems.append(
                    f"{path} is outside the workspace: bring it into the asset ('setpiece files "
                    f"add {s.asset_name} {path}') and repath it in the File Path Editor"
                )
        raise_problems(self.log, problems, "every file the scene uses is inside the workspace")


PLUGINS = [CollectMayaInstances, ValidateMayaUnits, ValidateMayaMeshes, ValidateMayaFiles]
