"""A container's placement in a scene's layout, for the adapters that load each asset's own
interface layer (Maya's one proxy per container, Houdini's one reference LOP per container).

The scene root layer (built by ``setpiece.usd``; the layout artist's transforms live in it
or in a layer it sublayers) places each container prim. An adapter that loads the asset's
interface layer instead of the scene does not get that placement from USD composition, so
it applies it itself. What it needs, read here through ``pxr`` (every DCC ships its own;
imported inside the functions):

- the container prim's local-to-world matrix in the *composed* scene
  (``Usd.Stage.Open(root, Usd.Stage.LoadNone)`` + ``UsdGeom.Xformable
  .ComputeLocalToWorldTransform``; the same reading as the Blender adapter's). World, not
  local-to-parent: the DCC node sits at the top of the app's hierarchy (Maya) or under a
  parent prim with no transform (Houdini), so the scene's parents are folded in;
- the transform the asset's interface layer already carries on its default prim (the
  prim the scene references), which the app shows under the container node anyway;
- the scene's ``metersPerUnit`` and ``upAxis``.

Matrices are USD's convention: row vectors, ``p' = p · M``, translation in the last row,
as nested tuples of floats. The pure-Python helpers below compose, invert, convert units
and axes, and split a matrix into the translate / rotate (XYZ, degrees) / scale / shear
values that Maya's and Houdini's transform parameters take.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("setpiece.hosts.layout")

Row = tuple[float, float, float, float]
Matrix = tuple[Row, Row, Row, Row]
Vec3 = tuple[float, float, float]

IDENTITY: Matrix = (
    (1.0, 0.0, 0.0, 0.0),
    (0.0, 1.0, 0.0, 0.0),
    (0.0, 0.0, 1.0, 0.0),
    (0.0, 0.0, 0.0, 1.0),
)

#: Smaller than this is zero when deciding whether a matrix has shear or is the identity.
EPSILON = 1e-9


# -- matrix helpers (pure Python) -------------------------------------------------------


def matrix(rows: Any) -> Matrix:
    """A 4x4 of floats from anything indexable (a ``Gf.Matrix4d``, nested lists)."""
    r = [tuple(float(rows[i][j]) for j in range(4)) for i in range(4)]
    return (r[0], r[1], r[2], r[3])  # type: ignore[return-value]


def matmul(a: Matrix, b: Matrix) -> Matrix:
    """``a · b`` (with row vectors: apply ``a`` first, then ``b``)."""
    return matrix([[sum(a[i][k] * b[k][j] for k in range(4)) for j in range(4)] for i in range(4)])


def inverse(m: Matrix) -> Matrix:
    """The inverse of an affine matrix (last column 0, 0, 0, 1)."""
    a = [[m[i][j] for j in range(3)] for i in range(3)]
    det = (
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
        - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    )
    if abs(det) < EPSILON:
        raise ValueError("the matrix is singular (a zero scale?): it has no inverse")
    inv = [[0.0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            r = [x for x in range(3) if x != j]
            c = [y for y in range(3) if y != i]
            minor = a[r[0]][c[0]] * a[r[1]][c[1]] - a[r[0]][c[1]] * a[r[1]][c[0]]
            inv[i][j] = (-1) ** (i + j) * minor / det
    t = [-sum(m[3][k] * inv[k][j] for k in range(3)) for j in range(3)]
    return matrix([[*inv[0], 0.0], [*inv[1], 0.0], [*inv[2], 0.0], [*t, 1.0]])


def is_identity(m: Matrix) -> bool:
    return all(abs(m[i][j] - IDENTITY[i][j]) < EPSILON for i in range(4) for j in range(4))


def conversion(from_mpu: float, from_up: str, to_mpu: float, to_up: str) -> Matrix:
    """From one space's units and up axis to another's: scale, then rotate about X.

    ``mpu``: metres per unit; ``up``: ``"Y"`` or ``"Z"``. Y-up to Z-up is +90° about X
    (+Y becomes +Z); Z-up to Y-up is -90° (what mayaUsd's own stage conversion does).
    """
    k = float(from_mpu) / float(to_mpu)
    scale = matrix([[k, 0, 0, 0], [0, k, 0, 0], [0, 0, k, 0], [0, 0, 0, 1]])
    src, dst = from_up.upper(), to_up.upper()
    if src == dst:
        return scale
    if (src, dst) == ("Y", "Z"):
        rot = matrix([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]])
    elif (src, dst) == ("Z", "Y"):
        rot = matrix([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    else:
        raise ValueError(f"up axis must be Y or Z, not {from_up!r} -> {to_up!r}")
    return matmul(scale, rot)


@dataclass(frozen=True)
class Transform:
    """A matrix as transform-node values: ``M = S · SH · R · T`` (row vectors).

    ``rotate``: degrees, X then Y then Z (Maya's and Houdini's ``xyz`` rotate order, USD's
    ``rotateXYZ``). ``shear``: (xy, xz, yz) as Maya's ``shear`` attribute; zero for any
    layout made of translate / rotate / scale.
    """

    translate: Vec3
    rotate: Vec3
    scale: Vec3
    shear: Vec3

    def has_shear(self) -> bool:
        return any(abs(v) > 1e-6 for v in self.shear)


def decompose(m: Matrix) -> Transform:
    """Split an affine matrix into translate / rotate (XYZ, degrees) / scale / shear.

    Exact (up to rounding) for any affine matrix: the 3x3 part is factored as a lower
    triangular (scale and shear) times a rotation, row by row (Gram-Schmidt on X, Y, Z);
    a mirror goes into a negative Z scale.
    """
    rows = [[m[i][j] for j in range(3)] for i in range(3)]

    def dot(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    def norm(a: list[float]) -> float:
        return math.sqrt(dot(a, a))

    sx = norm(rows[0])
    if sx < EPSILON:
        raise ValueError("the matrix has a zero scale: it has no rotation")
    r0 = [v / sx for v in rows[0]]
    a = dot(rows[1], r0)
    u1 = [rows[1][k] - a * r0[k] for k in range(3)]
    sy = norm(u1)
    if sy < EPSILON:
        raise ValueError("the matrix has a zero scale: it has no rotation")
    r1 = [v / sy for v in u1]
    b, c = dot(rows[2], r0), dot(rows[2], r1)
    u2 = [rows[2][k] - b * r0[k] - c * r1[k] for k in range(3)]
    sz = norm(u2)
    if sz < EPSILON:
        raise ValueError("the matrix has a zero scale: it has no rotation")
    r2 = [v / sz for v in u2]
    det = (
        r0[0] * (r1[1] * r2[2] - r1[2] * r2[1])
        - r0[1] * (r1[0] * r2[2] - r1[2] * r2[0])
        + r0[2] * (r1[0] * r2[1] - r1[1] * r2[0])
    )
    if det < 0:  # a mirror: flip Z so that r0, r1, r2 is a rotation
        sz, r2 = -sz, [-v for v in r2]
    shear = (a / sy, b / sz, c / sz)
    # R = RX · RY · RZ (row vectors): R[0][2] = -sin(y), R[1][2] = sin(x) cos(y), ...
    sin_y = max(-1.0, min(1.0, -r0[2]))
    y = math.asin(sin_y)
    if abs(math.cos(y)) > 1e-6:
        x = math.atan2(r1[2], r2[2])
        z = math.atan2(r0[1], r0[0])
    else:  # gimbal lock: put it all in X
        z = 0.0
        x = math.atan2(-r2[1], r1[1])
    return Transform(
        translate=_clean3(m[3][0], m[3][1], m[3][2]),
        rotate=_clean3(math.degrees(x), math.degrees(y), math.degrees(z)),
        scale=_clean3(sx, sy, sz),
        shear=_clean3(*shear),
    )


def compose(t: Transform) -> Matrix:
    """The matrix of transform-node values (the inverse of :func:`decompose`)."""
    rx, ry, rz = (math.radians(v) for v in t.rotate)
    cx, sx_, cy, sy_, cz, sz_ = (
        math.cos(rx),
        math.sin(rx),
        math.cos(ry),
        math.sin(ry),
        math.cos(rz),
        math.sin(rz),
    )
    mx = matrix([[1, 0, 0, 0], [0, cx, sx_, 0], [0, -sx_, cx, 0], [0, 0, 0, 1]])
    my = matrix([[cy, 0, -sy_, 0], [0, 1, 0, 0], [sy_, 0, cy, 0], [0, 0, 0, 1]])
    mz = matrix([[cz, sz_, 0, 0], [-sz_, cz, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    sx, sy, sz = t.scale
    xy, xz, yz = t.shear
    s = matrix([[sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, sz, 0], [0, 0, 0, 1]])
    sh = matrix([[1, 0, 0, 0], [xy, 1, 0, 0], [xz, yz, 1, 0], [0, 0, 0, 1]])
    tr = matrix([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [*t.translate, 1]])
    return matmul(matmul(matmul(matmul(matmul(s, sh), mx), my), mz), tr)


def _clean3(x: float, y: float, z: float) -> Vec3:
    """-0.0 and 89.99999999999999 read badly in a channel box: round off float noise."""

    def clean(v: float) -> float:
        rounded = round(v, 9)
        return 0.0 if rounded == 0 else rounded

    return (clean(x), clean(y), clean(z))


# -- reading the scene (inside the app: its own pxr) ------------------------------------


class SceneLayout:
    """Container placements of one scene root layer, read once per load.

    The stage is opened on first use with every payload unloaded (``LoadNone``): the
    layout is on the container prims, never inside payloads. Interface layers are opened
    the same way, once each.
    """

    def __init__(self, root_layer: str) -> None:
        self.root_layer = root_layer
        self._stage: Any = None
        self._opened = False
        self._asset_roots: dict[str, Matrix] = {}

    # the scene ----------------------------------------------------------------------
    def stage(self) -> Any | None:
        """The composed scene (payloads unloaded), or None when there is no root layer file."""
        if self._opened:
            return self._stage
        self._opened = True
        if not self.root_layer or not os.path.isfile(self.root_layer):
            log.warning(
                "setpiece: no root layer %r: containers are loaded without their layout",
                self.root_layer,
            )
            return None
        self._stage = _open(self.root_layer)
        if self._stage is None:
            from setpiece.core.errors import SetpieceError

            raise SetpieceError(
                f"cannot open {self.root_layer} to read the layout: check it with "
                "'setpiece usd check'"
            )
        return self._stage

    @property
    def meters_per_unit(self) -> float:
        stage = self.stage()
        if stage is None:
            return 0.01  # USD's fallback
        from pxr import UsdGeom

        return float(UsdGeom.GetStageMetersPerUnit(stage))

    @property
    def up_axis(self) -> str:
        stage = self.stage()
        if stage is None:
            return "Y"  # USD's fallback
        from pxr import UsdGeom

        return str(UsdGeom.GetStageUpAxis(stage)).upper()

    def world_matrix(self, prim_path: str) -> Matrix | None:
        """The container prim's local-to-world matrix in the scene's units and axes.

        None when the scene, the prim, or a transformable prim is missing (nothing to apply).
        """
        stage = self.stage()
        if stage is None or not prim_path:
            return None
        from pxr import Sdf, Usd, UsdGeom

        if not Sdf.Path.IsValidPathString(prim_path):
            return None
        prim = stage.GetPrimAtPath(prim_path)
        if not prim or not prim.IsA(UsdGeom.Xformable):
            return None
        gf = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(Usd.TimeCode.EarliestTime())
        return matrix(gf)

    # the asset ----------------------------------------------------------------------
    def asset_root_matrix(self, layer: str) -> Matrix:
        """The transform an interface layer carries on its default prim (identity if none).

        The app shows it under the container node already: an adapter that loads the
        interface layer applies ``inverse(this) · world_matrix`` to its node, so that a
        layout that replaces the asset's own transform (as USD's stronger opinion does)
        is not applied on top of it.
        """
        key = str(Path(layer).resolve()) if layer and os.path.isfile(layer) else layer
        if key in self._asset_roots:
            return self._asset_roots[key]
        found = IDENTITY
        stage = _open(key) if key and os.path.isfile(key) else None
        if stage is not None:
            from pxr import Usd, UsdGeom

            prim = stage.GetDefaultPrim()
            if prim and prim.IsA(UsdGeom.Xformable):
                found = matrix(
                    UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(
                        Usd.TimeCode.EarliestTime()
                    )
                )
        self._asset_roots[key] = found
        return found

    def placement(self, prim_path: str, layer: str) -> Matrix | None:
        """What to apply to a node that shows ``layer`` so that it lands where the scene puts
        ``prim_path``: ``inverse(asset root) · world``, in the scene's units and axes.

        None when there is nothing to apply: no such prim, or the container's layer is the
        scene itself (it carries its own layout).
        """
        if (
            layer
            and os.path.isfile(layer)
            and os.path.isfile(self.root_layer)
            and Path(layer).resolve() == Path(self.root_layer).resolve()
        ):
            return None
        world = self.world_matrix(prim_path)
        if world is None:
            return None
        root = self.asset_root_matrix(layer)
        if is_identity(root):
            return world
        try:
            return matmul(inverse(root), world)
        except ValueError:
            return world


def _open(path: str) -> Any | None:
    from pxr import Tf, Usd

    try:
        return Usd.Stage.Open(path, Usd.Stage.LoadNone)
    except Tf.ErrorException:
        return None
