"""What differs across mayaUsd releases, against the Maya fake modelling each one (its
docstring cites maya-usd's source per release tag): the export's root and default prim,
units, and proxies that never share (and so never save into) the installed layer."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes.maya import FakeMaya

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import SceneLoad
from setpiece.hosts.selftest import write_sample_scene


def _maya(monkeypatch: pytest.MonkeyPatch, mayausd: str) -> FakeMaya:
    fake = FakeMaya(batch=True, mayausd=mayausd).install(monkeypatch)
    fake.standalone.initialize()
    fake.cmds.loadPlugin("mayaUsdPlugin")
    return fake


def _header(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    head = text.split("\n)\n", 1)[0]
    return dict(re.findall(r'(\w+) = "?([^"\n]+)"?', head))


@pytest.mark.parametrize("mayausd", ["0.26.0", "0.27.0", "0.29.0", "0.30.0", "0.31.0", "0.35.0"])
def test_publish_export_has_the_root_prim_as_default_prim(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mayausd: str
) -> None:
    """Every mayaUsd: one root prim named after the file, and it is the default prim (from
    0.30 a plain ``parentScope`` export would make the selected ``Seat`` the default prim)."""
    from setpiece.hosts.maya import MayaHost

    maya = _maya(monkeypatch, mayausd)
    maya.cmds.polyCube(name="Seat", width=1.0)
    maya.cmds.select("Seat")
    out = tmp_path / "chair.usda"
    MayaHost().export_usd(str(out), selection=True, root_prim="chair", up_axis="Y",
                          meters_per_unit=0.01)
    (_, kwargs), = maya.called("mayaUSDExport")
    version = tuple(int(x) for x in mayausd.split("."))
    assert ("rootPrim" in kwargs) is (version >= (0, 28))
    assert ("parentScope" in kwargs) is (version < (0, 28))
    assert ("unit" in kwargs) is (version >= (0, 31))
    header = _header(out)
    assert header["defaultPrim"] == "chair" and header["metersPerUnit"] == "0.01"
    assert 'def Scope "chair"' in out.read_text()


def test_without_an_explicit_default_prim_mayausd_0_30_picks_the_selected_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The fault setpiece avoids: 0.30's default prim is the selected top node, not the
    parent scope (writeJob.cpp ``GetExportDefaultPrimCandidates``); 0.29 took the scope."""
    for mayausd, expected in (("0.29.0", "chair"), ("0.30.0", "Seat")):
        maya = _maya(monkeypatch, mayausd)
        maya.cmds.polyCube(name="Seat")
        maya.cmds.select("Seat")
        out = tmp_path / f"{mayausd}.usda"
        maya.cmds.mayaUSDExport(file=str(out), selection=True, parentScope="chair")
        assert _header(out)["defaultPrim"] == expected, mayausd


def test_the_fake_rejects_flags_a_mayausd_lacks(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    maya = _maya(monkeypatch, "0.30.0")
    maya.cmds.polyCube(name="Seat")
    with pytest.raises(TypeError, match="Invalid flag 'unit'"):
        maya.cmds.mayaUSDExport(file=str(tmp_path / "x.usda"), unit="m")
    maya = _maya(monkeypatch, "0.27.0")
    with pytest.raises(TypeError, match="Invalid flag 'rootPrim'"):
        maya.cmds.mayaUSDExport(file=str(tmp_path / "x.usda"), rootPrim="chair")


def _world_points(path: Path, prim: str) -> list[tuple[float, float, float]]:
    """A mesh's points in world space, in metres (what a consumer of the file sees)."""
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(path))
    mesh = UsdGeom.Mesh(stage.GetPrimAtPath(prim))
    m = mesh.ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    k = UsdGeom.GetStageMetersPerUnit(stage)
    return [tuple(round(c * k, 6) + 0.0 for c in m.Transform(p)) for p in mesh.GetPointsAttr().Get()]


@pytest.mark.parametrize("mayausd", ["0.27.0", "0.30.0", "0.31.0"])
def test_a_metre_workspace_gets_metres_from_every_mayausd(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mayausd: str) -> None:
    """Before 0.31 everything is written in centimetres with Maya's up axis: the export is
    converted after (one transform op on the root prim, the layer's metersPerUnit and
    upAxis); from 0.31 ``-unit m -upAxis z`` writes it so. Either way a 1 m cube at 2 m
    along Maya's Y is 1 m wide and 2 m up the workspace's Z axis."""
    from setpiece.hosts.maya import MayaHost

    maya = _maya(monkeypatch, mayausd)
    maya.cmds.currentUnit(linear="m")
    maya.cmds.polyCube(name="Seat", width=1.0)
    maya.cmds.setAttr("Seat.translate", 0.0, 2.0, 0.0, type="double3")
    maya.cmds.select("Seat")
    out = tmp_path / "m.usda"
    fsynced: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        fsynced.append((os.fstat(fd).st_dev, os.fstat(fd).st_ino))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    MayaHost().export_usd(str(out), selection=True, root_prim="chair", up_axis="Z",
                          meters_per_unit=1.0)
    if mayausd < "0.31":  # the converted layer replaced the export whole and durably
        assert (out.stat().st_dev, out.stat().st_ino) in fsynced
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.usda")] == []
    (_, kwargs), = maya.called("mayaUSDExport")
    if mayausd >= "0.31":
        assert (kwargs["unit"], kwargs["upAxis"]) == ("m", "z")
    else:
        assert "unit" not in kwargs and "upAxis" not in kwargs
    header = _header(out)
    assert (float(header["metersPerUnit"]), header["upAxis"], header["defaultPrim"]) == (
        1.0, "Z", "chair")
    points = _world_points(out, "/chair/Seat")
    xs, _ys, zs = zip(*points, strict=True)
    assert max(xs) - min(xs) == pytest.approx(1.0)  # 1 m wide
    if mayausd < "0.31":  # converted by setpiece: Maya's Y became the workspace's Z
        assert (min(zs), max(zs)) == pytest.approx((1.5, 2.5))
        text = out.read_text()
        assert 'def Xform "chair"' in text and "xformOp:transform:setpieceUnits" in text


def test_units_on_an_old_mayausd_without_a_root_prim_are_refused(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Several top prims: no one place for the conversion; refused before exporting,
    naming the mayaUsd that writes metres itself."""
    from setpiece.hosts.maya import MayaHost

    maya = _maya(monkeypatch, "0.30.0")
    maya.cmds.polyCube(name="Seat", width=1.0)
    with pytest.raises(SetpieceError, match=r"mayaUsd 0\.30\.0 writes USD in centimetres.*0\.31"):
        MayaHost().export_usd(str(tmp_path / "m.usda"), meters_per_unit=1.0)
    assert not (tmp_path / "m.usda").exists() and not maya.called("mayaUSDExport")
    with pytest.raises(SetpieceError, match=r"mayaUsd 0\.30\.0 writes USD with Maya's up axis \(Y.*0\.31"):
        MayaHost().export_usd(str(tmp_path / "m.usda"), up_axis="Z", meters_per_unit=0.01)
    assert not (tmp_path / "m.usda").exists() and not maya.called("mayaUSDExport")


def test_loaded_proxies_do_not_share_their_stage(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    from setpiece.hosts.maya import MayaHost

    maya = _maya(monkeypatch, "0.31.0")
    sample = write_sample_scene(tmp_path)
    loaded = MayaHost().load(SceneLoad(sample.root_layer, sample.records))
    for container in loaded:
        (shape,) = maya.cmds.listRelatives(container.node, shapes=True, fullPath=True)
        assert maya.cmds.getAttr(f"{shape}.shareStage") is False


@pytest.mark.parametrize("mayausd", ["0.27.0", "0.30.0"])
def test_selftest_checks_the_unit_conversion_on_an_old_mayausd(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        mayausd: str) -> None:
    from setpiece.hosts.maya import selftest

    FakeMaya(batch=True, mayausd=mayausd).install(monkeypatch).standalone.initialize()
    report = selftest.run(workdir=str(tmp_path))
    out = capsys.readouterr().out
    assert report.ok, out
    assert ("PASS  export units and up axis (per mayaUsd version): 1 m per unit, Z up "
            "(converted after export): the cube is 0.01 m wide") in out
    assert f"mayaUsd {mayausd}: root prim and default prim 'selftest'" in out
