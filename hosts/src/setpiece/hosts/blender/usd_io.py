"""Blender's USD operators, called with only the properties this Blender has.

``bpy.ops.wm.usd_import`` / ``usd_export`` gain properties from release to release, and
passing one that a Blender lacks raises ``TypeError`` ("keyword ... unrecognized"). Read
from each bpy's operator RNA (``bpy.ops.wm.usd_import.get_rna_type().properties``), run
here on bpy 4.2.23, 4.3.0, 4.4.0, 4.5.15, 5.0.1 and 5.3.0:

=======================================  =====  =====  ======
property                                 4.2    4.3    4.4+
=======================================  =====  =====  ======
usd_import merge_parent_xform            no     no     yes
usd_import apply_unit_conversion_scale   no     no     yes
usd_export convert_scene_units           no     no     yes
usd_export meters_per_unit               no     no     yes
=======================================  =====  =====  ======

Without ``apply_unit_conversion_scale`` (4.2, 4.3) the importer converts the stage's
``upAxis`` but ignores its ``metersPerUnit`` (run here: a 100 cm cube of a
``metersPerUnit = 0.01`` layer arrives 100 m on 4.2, 1 m on 4.4): setpiece passes the
layer's ``metersPerUnit`` as the importer's ``scale`` there, which 4.4 does by itself.

Without ``merge_parent_xform`` (4.2, 4.3) the importer merges an Xform with a single
child into one object (an asset ``/Chair/geo`` arrives as one mesh object ``geo`` carrying
the Chair's transform); setpiece's container empty is the same either way.

Without ``convert_scene_units`` Blender writes the scene's Unit Scale
(``scene.unit_settings.scale_length``, a float32) as ``metersPerUnit`` and does not scale
anything. setpiece then does what 4.4's option does (run here on 4.5: a scale op on the
export's root prim and ``metersPerUnit`` set): it opens the exported layer with ``pxr``
(Blender ships its own; the PyPI ``bpy`` module does not, where usd-core provides it)
and writes it back atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError

#: Properties setpiece passes only when the running Blender has them (first release).
OPTIONAL_PROPERTIES = {
    ("usd_import", "merge_parent_xform"): "4.4",
    ("usd_import", "apply_unit_conversion_scale"): "4.4",
    ("usd_export", "convert_scene_units"): "4.4",
    ("usd_export", "meters_per_unit"): "4.4",
}

#: ``convert_scene_units`` items for the usual units (anything else: CUSTOM + meters_per_unit)
NAMED_UNITS = {1.0: "METERS", 0.01: "CENTIMETERS", 0.001: "MILLIMETERS", 1000.0: "KILOMETERS"}


def operator_properties(bpy: Any, name: str) -> frozenset[str]:
    """The property names of ``bpy.ops.wm.<name>`` in this Blender."""
    op = getattr(bpy.ops.wm, name)
    return frozenset(p.identifier for p in op.get_rna_type().properties)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def run_operator(bpy: Any, name: str, kwargs: Mapping[str, Any], *, what: str, fix: str) -> set[str]:
    """Call ``bpy.ops.wm.<name>(**kwargs)`` without the optional properties this Blender
    lacks; any other unknown property, or the operator failing, is one ``SetpieceError``
    line (``what`` failed, ``fix``), never a traceback."""
    known = operator_properties(bpy, name)
    call = {
        k: v for k, v in kwargs.items() if k in known or (name, k) not in OPTIONAL_PROPERTIES
    }
    unknown = sorted(set(call) - known)
    version = str(bpy.app.version_string)
    if unknown:
        raise SetpieceError(
            f"Blender {version}'s {name} has no {', '.join(unknown)}: setpiece supports "
            "Blender 4.2 and later; update setpiece or Blender"
        )
    try:
        result = getattr(bpy.ops.wm, name)(**call)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise SetpieceError(f"Blender {version} could not {what} ({_one_line(exc)}): {fix}")
    return set(result)


def import_unit_kwargs(bpy: Any, layer: str) -> dict[str, Any]:
    """``usd_import`` arguments that bring ``layer`` in at its true size: none from 4.4
    (Blender converts by itself), ``scale = metersPerUnit`` before."""
    if "apply_unit_conversion_scale" in operator_properties(bpy, "usd_import"):
        return {"apply_unit_conversion_scale": True}
    mpu = layer_meters_per_unit(layer)
    if mpu is None:
        raise SetpieceError(
            f"Blender {bpy.app.version_string} does not convert USD units on import and "
            f"{layer}'s metersPerUnit cannot be read here (no pxr): use Blender 4.4 or later"
        )
    return {"scale": mpu} if abs(mpu - 1.0) > 1e-9 else {}


def layer_meters_per_unit(layer: str) -> float | None:
    """A layer's ``metersPerUnit`` (USD's fallback 0.01 when unauthored); None when it
    cannot be read (a binary layer and no ``pxr``)."""
    try:
        from pxr import Sdf
    except ImportError:
        Sdf = None
    if Sdf is not None:
        try:
            opened = Sdf.Layer.FindOrOpen(layer)
        except RuntimeError as exc:  # pxr.Tf.ErrorException: the file does not parse
            raise SetpieceError(
                f"USD layer {layer} cannot be read ({_one_line(exc)[:160]}): check the file"
            )
        if opened is None:
            raise SetpieceError(f"USD layer {layer} cannot be opened: check the file")
        root = opened.pseudoRoot
        return float(root.GetInfo("metersPerUnit")) if root.HasInfo("metersPerUnit") else 0.01
    import re

    with open(layer, "rb") as fh:
        head = fh.read(8192)
    if not head.startswith(b"#usda"):
        return None
    match = re.search(rb"\bmetersPerUnit\s*=\s*([-+0-9.eE]+)", head.split(b"\n)\n", 1)[0])
    return float(match.group(1)) if match else 0.01


def export_kwargs(
    bpy: Any, path: str, *, selection: bool, up_axis: str | None, meters_per_unit: float | None
) -> dict[str, Any]:
    """``usd_export`` arguments for this Blender (units only when it can convert them)."""
    kwargs: dict[str, Any] = {
        "filepath": path,
        "selected_objects_only": bool(selection),
        "relative_paths": True,
        "export_custom_properties": True,
    }
    if up_axis is not None:
        up = up_axis.upper()
        if up not in ("Y", "Z"):
            raise SetpieceError(f"up axis {up_axis!r} is not valid: use 'Y' or 'Z'")
        kwargs.update(
            convert_orientation=up == "Y",
            export_global_up_selection=up,
            export_global_forward_selection="NEGATIVE_Z" if up == "Y" else "Y",
        )
    if meters_per_unit is not None and "convert_scene_units" in operator_properties(
        bpy, "usd_export"
    ):
        unit = NAMED_UNITS.get(float(meters_per_unit))
        if unit is None:
            kwargs.update(convert_scene_units="CUSTOM", meters_per_unit=float(meters_per_unit))
        else:
            kwargs["convert_scene_units"] = unit
    return kwargs


def convert_units_after_export(bpy: Any, path: str, meters_per_unit: float) -> None:
    """Blender without ``convert_scene_units`` (4.2, 4.3): give the exported layer
    ``meters_per_unit`` (exactly) and scale its default prim so sizes stay true."""
    if "convert_scene_units" in operator_properties(bpy, "usd_export"):
        return
    version = str(bpy.app.version_string)
    try:
        from pxr import Sdf, Usd, UsdGeom
    except ImportError:
        raise SetpieceError(
            f"Blender {version} cannot export in metersPerUnit {meters_per_unit:g} (usd_export "
            "converts units from Blender 4.4) and this Python has no pxr to convert it: use "
            "Blender 4.4 or later"
        )
    layer = Sdf.Layer.FindOrOpen(path)
    if layer is None:
        raise SetpieceError(f"Blender {version} exported {path} but it cannot be read back")
    stage = Usd.Stage.Open(layer)
    written = float(UsdGeom.GetStageMetersPerUnit(stage))
    factor = written / float(meters_per_unit)
    root = stage.GetDefaultPrim()
    if abs(factor - 1.0) > 1e-6:
        xformable = UsdGeom.Xformable(root) if root else None
        if not xformable:
            raise SetpieceError(
                f"Blender {version} exported {path} with no transformable root prim: units "
                "cannot be converted; use Blender 4.4 or later"
            )
        op = xformable.AddScaleOp(UsdGeom.XformOp.PrecisionDouble, "setpiece_units")
        op.Set((factor, factor, factor))
        # first in the op order: applied last, so translations on the root scale too
        others = [o for o in xformable.GetOrderedXformOps() if o.GetOpName() != op.GetOpName()]
        xformable.SetXformOpOrder([op, *others])
    UsdGeom.SetStageMetersPerUnit(stage, float(meters_per_unit))
    target = Path(path)
    tmp = target.with_name(f".{target.stem}.setpiece-units{target.suffix}")
    try:
        if not layer.Export(str(tmp)):
            raise SetpieceError(f"could not write {tmp}: check the folder's permissions")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    layer.Reload(force=True)
