"""Blender's publish plugins and support (``bpy`` is reached through the host adapter).

What is published: every collection marked for publish (custom property
``setpiece_publish`` set to true on the collection: one instance each, named after the
collection), or, when none is marked, the whole scene as one instance ``model``. Objects
inside container collections (assets loaded by setpiece) are never exported: they are
dependencies, published by their own assets.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pyblish.api

from setpiece.core.errors import SetpieceError
from setpiece.hosts.publish.actions import RepairAction
from setpiece.hosts.publish.plugins import FAMILY
from setpiece.hosts.publish.problems import raise_problems
from setpiece.hosts.publish.session import session
from setpiece.hosts.publish.support import HostSupport

#: custom property marking a collection for publish
PUBLISH_PROP = "setpiece_publish"
CONTAINER_PROP = "setpiece_container"
GEOMETRY_TYPES = ("MESH", "CURVE", "SURFACE", "META", "FONT", "CURVES", "POINTCLOUD")
_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _bpy(context: Any) -> Any:
    host: Any = session(context).host  # a BlenderHost
    return host.bpy


def _container_objects(bpy: Any) -> set[str]:
    names: set[str] = set()
    for coll in bpy.data.collections:
        if CONTAINER_PROP in coll:
            names.update(o.name for o in coll.all_objects)
    return names


def instance_objects(bpy: Any, instance: Any) -> list[Any]:
    names = instance.data.get("objects", [])
    return [bpy.data.objects[n] for n in names if n in bpy.data.objects]


class BlenderSupport(HostSupport):
    """Export one instance (its objects only), save a copy, render a thumbnail."""

    @property
    def bpy(self) -> Any:
        host: Any = self.host  # a BlenderHost (support_for picks this class by name)
        return host.bpy

    def export(self, instance: Any, path: Path) -> str:
        bpy = self.bpy
        objects = instance_objects(bpy, instance)
        view_layer = bpy.context.view_layer
        before = [o for o in view_layer.objects if o.select_get()]
        active = view_layer.objects.active
        try:
            for o in before:
                o.select_set(False)
            for o in objects:
                if o.name in view_layer.objects:
                    o.select_set(True)
            return str(self.host.export_usd(str(path), selection=True, **self.unit_kwargs()))
        finally:
            for o in view_layer.objects:
                o.select_set(o in before)
            view_layer.objects.active = active

    def workfile_suffix(self) -> str:
        return ".blend"

    def save_copy(self, path: Path) -> str | None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.bpy.ops.wm.save_as_mainfile(filepath=str(path), copy=True, check_existing=False)
        return str(path) if path.is_file() else None

    def thumbnail(self, instance: Any, path: Path) -> str | None:
        """A small workbench render framed on the instance (scene settings restored)."""
        bpy = self.bpy
        scene = bpy.context.scene
        objects = instance_objects(bpy, instance) if instance is not None else []
        points = [o.matrix_world @ _vec(c) for o in objects for c in getattr(o, "bound_box", [])]
        if not points:
            return None
        center = [sum(p[i] for p in points) / len(points) for i in range(3)]
        radius = max(math.dist(center, p) for p in points) or 1.0
        render = scene.render
        saved = (render.engine, render.resolution_x, render.resolution_y,
                 render.resolution_percentage, render.filepath, scene.camera,
                 render.image_settings.file_format)
        cam_data = bpy.data.cameras.new("setpiece_thumbnail")
        cam = bpy.data.objects.new("setpiece_thumbnail", cam_data)
        scene.collection.objects.link(cam)
        try:
            distance = radius * 3.0
            cam.location = (center[0] + distance * 0.6, center[1] - distance * 0.6,
                            center[2] + distance * 0.5)
            direction = _vec([center[i] - cam.location[i] for i in range(3)])
            cam.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
            scene.camera = cam
            render.engine = "BLENDER_WORKBENCH"
            render.resolution_x = render.resolution_y = 256
            render.resolution_percentage = 100
            render.image_settings.file_format = "PNG"
            render.filepath = str(path)
            from setpiece.hosts.app_output import dropping_lines

            with dropping_lines():  # headless GPU start-up's "EGL Error" lines (see there)
                bpy.ops.render.render(write_still=True)
        finally:
            (render.engine, render.resolution_x, render.resolution_y,
             render.resolution_percentage, render.filepath, scene.camera,
             render.image_settings.file_format) = saved
            bpy.data.objects.remove(cam)
            bpy.data.cameras.remove(cam_data)
        return str(path) if path.is_file() else None


def _vec(values: Any) -> Any:
    from mathutils import Vector

    return Vector(tuple(values))


# -- collect ------------------------------------------------------------------------------


class CollectBlenderInstances(pyblish.api.ContextPlugin):
    """Collections marked ``setpiece_publish``, else the whole scene (without containers)."""

    label = "Blender: what to publish"
    order = pyblish.api.CollectorOrder + 0.1
    hosts = ["blender"]

    def process(self, context: Any) -> None:
        bpy = _bpy(context)
        skip = _container_objects(bpy)
        marked = [
            c for c in bpy.data.collections
            if c.get(PUBLISH_PROP) and CONTAINER_PROP not in c
        ]
        for coll in sorted(marked, key=lambda c: c.name):
            objects = sorted(o.name for o in coll.all_objects if o.name not in skip)
            instance = context.create_instance(coll.name, family=FAMILY, families=[FAMILY])
            instance.data.update(objects=objects, collection=coll.name)
            self.log.info("collection %s: %d object(s)", coll.name, len(objects))
        if marked:
            return
        objects = sorted(o.name for o in bpy.context.scene.objects if o.name not in skip)
        instance = context.create_instance("model", family=FAMILY, families=[FAMILY])
        instance.data.update(objects=objects, whole_scene=True)
        self.log.info(
            "no collection has %s set: publishing the whole scene (%d object(s)) as 'model'",
            PUBLISH_PROP, len(objects),
        )


# -- validate -----------------------------------------------------------------------------


def _fixed_name(name: str, taken: set[str]) -> str:
    from setpiece.usd.interface import prim_name

    base = prim_name(name)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


class ValidateBlenderNames(pyblish.api.InstancePlugin):
    """Object names are valid USD prim names (Blender's exporter would rename them silently)."""

    label = "Blender: object names"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["blender"]
    families = [FAMILY]
    actions = [RepairAction]

    def process(self, instance: Any) -> None:
        bpy = _bpy(instance.context)
        bad = [o.name for o in instance_objects(bpy, instance) if not _VALID_NAME.match(o.name)]
        for name in bad:
            self.log.error("object %r in %s: not a valid USD name", name, instance.name)
        if bad:
            listed = ", ".join(repr(n) for n in bad[:5]) + (" ..." if len(bad) > 5 else "")
            raise SetpieceError(
                f"{len(bad)} object name(s) in {instance.name} are not valid USD names ({listed}): "
                "rename them with letters, digits and '_' only, not starting with a digit "
                "(the Repair action does it)"
            )

    @classmethod
    def repair(cls, instance: Any) -> None:
        bpy = _bpy(instance.context)
        taken = {o.name for o in bpy.data.objects}
        names = list(instance.data.get("objects", []))
        for i, name in enumerate(names):
            if _VALID_NAME.match(name) or name not in bpy.data.objects:
                continue
            new = _fixed_name(name, taken)
            bpy.data.objects[name].name = new
            taken.add(new)
            names[i] = new
        instance.data["objects"] = names


class ValidateBlenderUnits(pyblish.api.ContextPlugin):
    """The scene is metric with a unit scale of 1 (the exporter converts from metres)."""

    label = "Blender: scene units"
    order = pyblish.api.ValidatorOrder
    hosts = ["blender"]
    actions = [RepairAction]

    def process(self, context: Any) -> None:
        units = _bpy(context).context.scene.unit_settings
        if units.system != "METRIC" or abs(float(units.scale_length) - 1.0) > 1e-9:
            raise SetpieceError(
                f"scene units are {units.system} with unit scale {units.scale_length:g}: set "
                "Scene Properties > Units to Metric with Unit Scale 1.0 (the Repair action does "
                "it; sizes in metres stay as they are)"
            )
        self.log.info("metric, unit scale 1")

    @classmethod
    def repair(cls, context: Any) -> None:
        units = _bpy(context).context.scene.unit_settings
        units.system = "METRIC"
        units.scale_length = 1.0


class ValidateBlenderGeometry(pyblish.api.InstancePlugin):
    """Each instance holds geometry, and no mesh in it is empty."""

    label = "Blender: non-empty geometry"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["blender"]
    families = [FAMILY]

    def process(self, instance: Any) -> None:
        bpy = _bpy(instance.context)
        objects = instance_objects(bpy, instance)
        geometry = [o for o in objects if o.type in GEOMETRY_TYPES]
        where = instance.data.get("collection") or "the scene"
        if not geometry:
            raise SetpieceError(
                f"{instance.name} has no geometry (in {where}): model something, or unmark the "
                f"collection ({PUBLISH_PROP} = false)"
            )
        empty = [o.name for o in geometry if o.type == "MESH" and len(o.data.vertices) == 0]
        if empty:
            raise SetpieceError(
                f"mesh object(s) {', '.join(empty)} in {instance.name} have no vertices: "
                "delete them or model them"
            )
        self.log.info("%d geometry object(s)", len(geometry))


def _external_paths(bpy: Any) -> list[tuple[str, str, str]]:
    """(kind, datablock name, absolute path) for every file the scene uses."""
    out = []
    for kind, collection in (("image", bpy.data.images), ("library", bpy.data.libraries),
                             ("cache file", bpy.data.cache_files), ("sound", bpy.data.sounds),
                             ("volume", bpy.data.volumes), ("font", bpy.data.fonts)):
        for block in collection:
            raw = getattr(block, "filepath", "") or ""
            if not raw or raw.startswith("<") or getattr(block, "packed_file", None):
                continue
            out.append((kind, block.name, bpy.path.abspath(raw)))
    return out


class ValidateBlenderPaths(pyblish.api.ContextPlugin):
    """Every file the scene uses exists and lies inside the workspace."""

    label = "Blender: file paths"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["blender"]

    def process(self, context: Any) -> None:
        s = session(context)
        root = Path(s.ws.root).resolve()
        problems = []
        for kind, name, path in _external_paths(_bpy(context)):
            p = Path(path).resolve()
            if not p.exists():
                problems.append(f"{kind} {name!r}: {path} does not exist: relink it")
            elif not p.is_relative_to(root):
                problems.append(
                    f"{kind} {name!r}: {path} is outside the workspace: bring it into the asset "
                    f"('setpiece files add {s.asset_name} {path}') and relink it, or pack it"
                )
        raise_problems(self.log, problems, "every file the scene uses is inside the workspace")


PLUGINS = [
    CollectBlenderInstances,
    ValidateBlenderUnits,
    ValidateBlenderNames,
    ValidateBlenderGeometry,
    ValidateBlenderPaths,
]
