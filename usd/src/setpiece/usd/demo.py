"""setpiece-usd's part of ``setpiece demo``: sample geometry, the set's layout, a scene.

Each sample prop gets a simple box mesh in its payload (sized like the real thing, in
the workspace's units); the KitchenSet's interface layer places the props it needs; the
last step builds ``scenes/KitchenSet.usda`` from the installed ``KitchenSet[build]``
closure and prints its inventory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from setpiece.usd.metadata import StageMetadata

#: sample asset -> box size in metres (x, y, z with y up)
SIZES: dict[str, tuple[float, float, float]] = {
    "Chair": (0.45, 0.9, 0.45),
    "Table": (1.6, 0.75, 0.9),
    "Lamp": (0.3, 0.4, 0.3),
}

#: container placement in the set, metres (x, y, z), rotation about the up axis in degrees
LAYOUT: dict[str, tuple[tuple[float, float, float], float]] = {
    "Chair": ((0.0, 0.0, 0.8), 180.0),
    "Table": ((0.0, 0.0, 0.0), 0.0),
    "Lamp": ((0.0, 1.6, 0.0), 0.0),
}


def _box_points(size: tuple[float, float, float], scale: float) -> list[tuple[float, float, float]]:
    x, y, z = (s / scale for s in size)
    return [
        (-x / 2, 0, -z / 2), (x / 2, 0, -z / 2), (x / 2, 0, z / 2), (-x / 2, 0, z / 2),
        (-x / 2, y, -z / 2), (x / 2, y, -z / 2), (x / 2, y, z / 2), (-x / 2, y, z / 2),
    ]


def write_box_payload(payload: Path, prim: str, size: tuple[float, float, float], mpu: float) -> None:
    """A box standing on the ground (Y up) at ``payload``'s ``/prim/geo/box``."""
    from pxr import Gf, Sdf, Vt

    from setpiece.usd.fileio import write_if_changed

    layer = Sdf.Layer.FindOrOpen(str(payload))
    if layer is None:
        return
    points = _box_points(size, mpu)
    box = Sdf.CreatePrimInLayer(layer, f"/{prim}/geo/box")
    box.specifier = Sdf.SpecifierDef
    box.typeName = "Mesh"

    def attr(name: str, type_: Any, value: Any) -> None:
        spec = box.attributes.get(name) or Sdf.AttributeSpec(box, name, type_)
        spec.default = value

    attr("points", Sdf.ValueTypeNames.Point3fArray, Vt.Vec3fArray([Gf.Vec3f(*p) for p in points]))
    attr("faceVertexCounts", Sdf.ValueTypeNames.IntArray, Vt.IntArray([4] * 6))
    attr(
        "faceVertexIndices",
        Sdf.ValueTypeNames.IntArray,
        Vt.IntArray([0, 3, 2, 1, 4, 5, 6, 7, 0, 1, 5, 4, 1, 2, 6, 5, 2, 3, 7, 6, 3, 0, 4, 7]),
    )
    x, y, z = (s / mpu for s in size)
    attr("extent", Sdf.ValueTypeNames.Float3Array,
         Vt.Vec3fArray([Gf.Vec3f(-x / 2, 0, -z / 2), Gf.Vec3f(x / 2, y, z / 2)]))
    write_if_changed(payload, str(layer.ExportToString()))


def prepare_asset(ws: Any, asset: Any) -> None:
    """Before the demo publishes ``asset``: give a sample prop its box."""
    from setpiece.usd.interface import prim_name

    size = SIZES.get(asset.name)
    payload = Path(asset.package_dir) / "payload.usda"
    if size is None or not payload.exists():
        return
    mpu = StageMetadata.from_settings(ws.config.settings).meters_per_unit
    write_box_payload(payload, prim_name(asset.name), size, mpu)


def write_layout(scene: Path, mpu: float) -> None:
    """Place the sample props in the user's layer of the scene (``over`` prims).

    The user's layer is stronger than the generated one and a rebuild never touches it,
    so this layout survives every rebuild, as an artist's would.
    """
    from pxr import Gf, Sdf, Vt

    from setpiece.usd.fileio import write_if_changed

    layer = Sdf.Layer.FindOrOpen(str(scene))
    if layer is None:
        return
    for name, ((x, y, z), rot) in LAYOUT.items():
        prim = Sdf.CreatePrimInLayer(layer, f"/World/{name}")
        if prim.specifier != Sdf.SpecifierDef:
            prim.specifier = Sdf.SpecifierOver
        translate = prim.attributes.get("xformOp:translate") or Sdf.AttributeSpec(
            prim, "xformOp:translate", Sdf.ValueTypeNames.Double3
        )
        translate.default = Gf.Vec3d(x / mpu, y / mpu, z / mpu)
        rotate = prim.attributes.get("xformOp:rotateY") or Sdf.AttributeSpec(
            prim, "xformOp:rotateY", Sdf.ValueTypeNames.Float
        )
        rotate.default = rot
        order = prim.attributes.get("xformOpOrder") or Sdf.AttributeSpec(
            prim, "xformOpOrder", Sdf.ValueTypeNames.TokenArray, Sdf.VariabilityUniform
        )
        order.default = Vt.TokenArray(["xformOp:translate", "xformOp:rotateY"])
    write_if_changed(scene, str(layer.ExportToString()))


def demo_step(ws: Any, report: Callable[[str], None]) -> None:
    """After the demo installed ``KitchenSet[build]``: build its scene and lay it out."""
    from setpiece.usd.workspace import build_workspace_scene

    result = build_workspace_scene(ws, "KitchenSet[build]")
    write_layout(result.scene, StageMetadata.from_settings(ws.config.settings).meters_per_unit)
    report(f"Built USD scene {result.scene} ({result.count} containers, laid out in its user layer)")
