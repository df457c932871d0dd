"""The shared layout reader and matrix helpers (setpiece.hosts.layout) used by the Maya
and Houdini adapters; checked against pxr's own composition."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from setpiece.hosts.layout import (
    IDENTITY,
    SceneLayout,
    Transform,
    compose,
    conversion,
    decompose,
    inverse,
    is_identity,
    matmul,
    matrix,
)
from setpiece.hosts.selftest import write_sample_scene


def _close(a, b, tol: float = 1e-7) -> bool:  # type: ignore[no-untyped-def]
    return all(abs(a[i][j] - b[i][j]) < tol for i in range(4) for j in range(4))


def test_decompose_inverts_compose_for_any_affine_matrix() -> None:
    rng = random.Random(7)
    for _ in range(300):
        t = Transform(
            tuple(rng.uniform(-50, 50) for _ in range(3)),  # type: ignore[arg-type]
            tuple(rng.uniform(-180, 180) for _ in range(3)),  # type: ignore[arg-type]
            tuple(rng.choice((-1, 1)) * rng.uniform(0.1, 5) for _ in range(3)),  # type: ignore[arg-type]
            tuple(rng.uniform(-1, 1) for _ in range(3)),  # type: ignore[arg-type]
        )
        m = compose(t)
        assert _close(compose(decompose(m)), m, 1e-6)
        assert _close(matmul(m, inverse(m)), IDENTITY)


def test_rotation_order_is_usds_rotate_xyz() -> None:
    from pxr import Gf, Usd, UsdGeom

    stage = Usd.Stage.CreateInMemory()
    xf = UsdGeom.Xform.Define(stage, "/a")
    xf.AddTranslateOp().Set(Gf.Vec3d(2, 0, -1))
    xf.AddRotateXYZOp().Set(Gf.Vec3f(10, 20, 30))
    xf.AddScaleOp().Set(Gf.Vec3f(1, 2, 3))

    values = decompose(matrix(xf.GetLocalTransformation()))

    assert values.translate == (2.0, 0.0, -1.0)
    assert values.rotate == pytest.approx((10.0, 20.0, 30.0))
    assert values.scale == pytest.approx((1.0, 2.0, 3.0))
    assert not values.has_shear()


def test_gimbal_lock_and_mirrors_still_round_trip() -> None:
    for t in (
        Transform((0, 0, 0), (30, 90, 0), (1, 1, 1), (0, 0, 0)),
        Transform((1, 2, 3), (0, -90, 45), (1, 1, 1), (0, 0, 0)),
        Transform((0, 0, 0), (0, 0, 0), (-1, 1, 1), (0, 0, 0)),
    ):
        assert _close(compose(decompose(compose(t))), compose(t))


def test_conversion_between_units_and_up_axes() -> None:
    def apply(m, p):  # type: ignore[no-untyped-def]
        return tuple(sum(p[k] * m[k][j] for k in range(3)) + m[3][j] for j in range(3))

    assert apply(conversion(1.0, "Y", 0.01, "Y"), (1, 2, 3)) == pytest.approx((100, 200, 300))
    assert apply(conversion(1.0, "Y", 1.0, "Z"), (0, 1, 0)) == pytest.approx((0, 0, 1))
    assert apply(conversion(1.0, "Z", 1.0, "Y"), (0, 0, 1)) == pytest.approx((0, 1, 0))
    assert apply(conversion(1.0, "Z", 1.0, "Y"), (0, 1, 0)) == pytest.approx((0, 0, -1))
    assert is_identity(matmul(conversion(0.01, "Z", 1, "Y"), conversion(1, "Y", 0.01, "Z")))
    with pytest.raises(ValueError, match="Y or Z"):
        conversion(1, "X", 1, "Y")


def test_scene_layout_reads_the_composed_placement(tmp_path: Path) -> None:
    sample = write_sample_scene(tmp_path)
    layout = SceneLayout(sample.root_layer)

    chair = layout.placement("/World/Chair", sample.records[0].layer)

    assert (layout.meters_per_unit, layout.up_axis) == (1.0, "Y")
    assert chair is not None and decompose(chair).translate == (2.0, 0.0, -1.0)
    assert decompose(chair).rotate == pytest.approx((0.0, 90.0, 0.0))
    assert is_identity(layout.placement("/World/Table", sample.records[1].layer))  # type: ignore[arg-type]
    assert layout.placement("/World/Nothing", sample.records[1].layer) is None
    # the scene loaded as its own container carries its own layout
    assert layout.placement("/World/Chair", sample.root_layer) is None


def test_a_layout_in_a_sublayer_counts(tmp_path: Path) -> None:
    # setpiece.usd's scene layer sublayers the generated one; layout may live in either
    sample = write_sample_scene(tmp_path)
    generated = Path(sample.root_layer).rename(tmp_path / "scene.generated.usda")
    (tmp_path / "layout.usda").write_text(
        '#usda 1.0\n(\n    metersPerUnit = 1\n    upAxis = "Y"\n)\n\n'
        'over "World"\n{\n    over "Table"\n    {\n'
        "        double3 xformOp:translate = (-3, 0, 4)\n"
        '        uniform token[] xformOpOrder = ["xformOp:translate"]\n    }\n}\n'
    )
    Path(sample.root_layer).write_text(
        '#usda 1.0\n(\n    defaultPrim = "World"\n    metersPerUnit = 1\n    upAxis = "Y"\n'
        f'    subLayers = [@./layout.usda@, @./{generated.name}@]\n)\n'
    )

    table = SceneLayout(sample.root_layer).placement("/World/Table", sample.records[1].layer)

    assert table is not None and decompose(table).translate == (-3.0, 0.0, 4.0)


def test_no_root_layer_means_no_layout(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        layout = SceneLayout(str(tmp_path / "missing.usda"))
        assert layout.placement("/World/Chair", "") is None
    assert "without their layout" in caplog.text
    assert (layout.meters_per_unit, layout.up_axis) == (0.01, "Y")  # USD's fallbacks
