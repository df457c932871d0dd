"""Publishing from Maya, Houdini and Nuke through pyblish, against the fakes.

Each host runs the whole publish (setpiece's plugins plus the host's own, from
``host.publish_plugins()``) into a real folder repo: a passing publish makes a new
version; a failing host validator stops the run before extraction; a repair action fixes
the scene and the rerun passes. The apps cannot be installed here: what these tests check
is what setpiece asks of each app's API (see tests/hosts/fakes/).
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyblish")
pytest.importorskip("pxr")

sys.path.insert(0, str(Path(__file__).parent))

from fakes.hou import FakeHou
from fakes.maya import FakeMaya
from fakes.nuke import FakeNuke

from setpiece.hosts.publish import PublishFailed, publish_scene, repair


@pytest.fixture
def ws(make_workspace: Callable[..., Any]) -> Any:
    w = make_workspace()
    w.create("Chair", kind="prop")
    return w


def item(report: Any, plugin: str) -> Any:
    found = [i for i in report.items if i.plugin == plugin]
    assert found, f"{plugin} not in report: {[i.plugin for i in report.items]}"
    return found[0]


def review(ws: Any) -> Any:
    return ws.repo("review")


def wheel_names(ws: Any, version: str) -> set[str]:
    return set(zipfile.ZipFile(review(ws).find_wheel("Chair", version)).namelist())


def staged_nothing(ws: Any) -> bool:
    return not (Path(ws.state_dir) / "publish").exists()


def assert_stopped_before_extract(report: Any, ws: Any) -> None:
    assert report.stopped_before == pytest.approx(1.6), report.format_text()
    later = [i for i in report.items if i.stage in ("extract", "integrate")]
    assert later and all(i.status == "not-run" for i in later)
    assert staged_nothing(ws)
    assert review(ws).versions("Chair") == []


def geometry_layer(path: Path) -> Path:
    """A small USD model (a mesh under a default prim), as an artist's geometry file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '#usda 1.0\n(\n    defaultPrim = "chair"\n)\n\ndef Xform "chair"\n{\n'
        '    def Mesh "seat"\n    {\n        int[] faceVertexCounts = [4]\n'
        "        int[] faceVertexIndices = [0, 1, 2, 3]\n"
        "        point3f[] points = [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)]\n    }\n}\n",
        encoding="utf-8",
    )
    return path


def meshes_in(path: str | Path) -> list[str]:
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(path))
    return sorted(p.GetName() for p in stage.Traverse() if p.IsA(UsdGeom.Mesh))


# -- Maya ------------------------------------------------------------------------------------


@pytest.fixture
def maya(monkeypatch: pytest.MonkeyPatch) -> FakeMaya:
    fake = FakeMaya(batch=True).install(monkeypatch)
    fake.standalone.initialize()
    return fake


@pytest.fixture
def maya_host() -> Any:
    from setpiece.hosts.maya import MayaHost

    return MayaHost()


def model_maya_chair(maya: FakeMaya, host: Any, ws: Any) -> Path:
    """A seat and a leg in a set ``chair_publish``, and a stray cube outside it."""
    cmds = maya.cmds
    cmds.polyCube(name="Seat", width=1.0)
    cmds.polyCube(name="Leg", width=0.1)
    cmds.polyCube(name="Stray")
    cmds.sets("Seat", "Leg", name="chair_publish")
    path = Path(ws.outputs) / "Chair" / "work" / "chair.ma"
    host.save_scene(str(path))
    return path


def test_maya_publish_makes_a_version(maya: FakeMaya, maya_host: Any, ws: Any) -> None:
    model_maya_chair(maya, maya_host, ws)
    maya.cmds.select("Stray")

    report = publish_scene(maya_host, ws)

    assert report.success and report.published, report.format_text()
    assert (report.asset, report.version) == ("Chair", "0.1.0")
    assert review(ws).versions("Chair") == ["0.1.0"]
    assert item(report, "CollectMayaInstances").source == "host maya"
    assert "CollectScene" not in {i.plugin for i in report.items}  # the host collects
    for plugin in ("ValidateMayaUnits", "ValidateMayaMeshes", "ValidateMayaFiles", "ExtractUSD",
                   "ExtractWorkfile", "ExtractCheckUSD", "IntegratePublish"):
        assert item(report, plugin).status == "success", plugin
    # the set was exported through mayaUSDExport with its transforms selected, and the
    # artist's selection came back
    (_, kwargs), = maya.called("mayaUSDExport")
    assert kwargs["selection"] is True and kwargs["file"].endswith("chair.usdc")
    assert maya.selection == ["Stray"]
    # the workfile is a copy saved with cmds.file(save=True)
    assert any(k.get("save") and k.get("type") is None for _, k in maya.called("file"))
    names = wheel_names(ws, "0.1.0")
    assert {"chair/asset.usda", "chair/geo.usda"} <= names
    if not any(n.endswith(".dvc") for n in names):
        assert {"chair/geo/chair.usdc", "chair/work/Chair.ma"} <= names
    package = Path(ws.output("Chair").package_dir)
    assert meshes_in(package / "geo" / "chair.usdc") == ["Leg", "Seat"]  # not the stray cube
    assert meshes_in(package / "asset.usda") == ["Leg", "Seat"]


def test_maya_whole_scene_leaves_out_containers(maya: FakeMaya, maya_host: Any, ws: Any,
                                                tmp_path: Path) -> None:
    from setpiece.hosts.protocol import SceneLoad
    from setpiece.hosts.selftest import write_sample_scene

    sample = write_sample_scene(tmp_path / "sample")
    maya_host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.polyCube(name="Floor")
    maya_host.save_scene(str(Path(ws.outputs) / "Chair" / "work" / "chair.ma"))
    import pyblish.api
    import pyblish.util

    from setpiece.hosts.maya.publish import CollectMayaInstances
    from setpiece.hosts.publish.session import Session

    context = pyblish.api.Context()
    context.data["setpiece"] = Session(ws, maya_host)
    pyblish.util.publish(context, plugins=[CollectMayaInstances])
    (instance,) = list(context)
    assert instance.name == "model" and instance.data["nodes"] == ["|Floor"]


def test_maya_failing_validators_stop_before_extract(maya: FakeMaya, maya_host: Any, ws: Any,
                                                     tmp_path: Path) -> None:
    model_maya_chair(maya, maya_host, ws)
    cmds = maya.cmds
    broken = cmds.createNode("transform", name="Broken", skipSelect=True)
    cmds.createNode("mesh", name="BrokenShape", parent=broken, skipSelect=True)
    maya.nodes["chair_publish"].members.append(broken)
    texture = tmp_path / "elsewhere" / "wood.png"
    texture.parent.mkdir()
    texture.write_bytes(b"png")
    node = cmds.createNode("file", name="wood")
    cmds.setAttr(f"{node}.fileTextureName", str(texture), type="string")
    maya_host.save_scene()

    with pytest.raises(PublishFailed) as info:
        publish_scene(maya_host, ws)

    report = info.value.report
    meshes = item(report, "ValidateMayaMeshes")
    assert meshes.status == "failed"
    assert "|Broken|BrokenShape in chair have no vertices: delete them or model them" in meshes.error
    files = item(report, "ValidateMayaFiles")
    assert files.status == "failed"
    assert f"{texture} is outside the workspace" in files.error
    assert f"'setpiece files add Chair {texture}'" in files.error
    assert item(report, "ValidateMayaUnits").status == "success"
    assert_stopped_before_extract(report, ws)
    assert not maya.called("mayaUSDExport")


def test_maya_units_repair_and_rerun(maya: FakeMaya, maya_host: Any, ws: Any) -> None:
    model_maya_chair(maya, maya_host, ws)
    maya.cmds.currentUnit(linear="m")
    maya.cmds.upAxis(axis="z")

    report = publish_scene(maya_host, ws, raise_on_failure=False)

    units = item(report, "ValidateMayaUnits")
    assert units.status == "failed" and "Repair" in units.actions
    assert "working unit m (1.0 m/unit), the workspace uses 0.01 m/unit" in units.error
    assert "up axis Z, the workspace uses Y" in units.error
    assert "Working Units > Linear to cm" in units.error
    assert_stopped_before_extract(report, ws)

    assert repair(report) == ["Maya: working units and up axis"]
    assert (maya.linear_unit, maya.up_axis) == ("cm", "y")

    again = publish_scene(maya_host, ws)
    assert again.success and review(ws).versions("Chair") == ["0.1.0"]
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(Path(ws.output("Chair").package_dir) / "geo" / "chair.usdc"))
    assert UsdGeom.GetStageMetersPerUnit(stage) == pytest.approx(0.01)
    assert UsdGeom.GetStageUpAxis(stage) == "Y"


# -- Houdini ---------------------------------------------------------------------------------


@pytest.fixture
def hou(monkeypatch: pytest.MonkeyPatch) -> FakeHou:
    fake = FakeHou(ui=False).install(monkeypatch)
    fake.default_meters_per_unit = 0.01  # a centimetre studio (hou.lop.setDefaultMetersPerUnit)
    return fake


@pytest.fixture
def hou_host() -> Any:
    from setpiece.hosts.houdini import HoudiniHost

    return HoudiniHost()


def model_houdini_chair(hou: FakeHou, host: Any, ws: Any, *, default_prim: bool = True) -> Any:
    """``/stage/chair_geo`` (a reference LOP to the artist's geometry) -> ``chair_layer``
    (Configure Layer, default prim /chair) flagged for publish; a stray LOP displayed."""
    work = Path(ws.outputs) / "Chair" / "work"
    geo = geometry_layer(work / "geo" / "chair_model.usda")
    ref = hou.stage.createNode("reference", "chair_geo")
    ref.parm("filepath1").set(str(geo))
    ref.parm("primpath1").set("/chair")  # the file entry's prim path (Reference 2.0)
    last = ref
    if default_prim:
        last = hou.stage.createNode("configurelayer", "chair_layer")
        last.setInput(0, ref)
        last.setParms({"setdefaultprim": 1, "defaultprim": "/chair"})
    from setpiece.hosts.houdini.publish import mark_for_publish

    mark_for_publish(last)
    stray = hou.stage.createNode("reference", "stray")
    stray.setDisplayFlag(True)
    host.save_scene(str(work / "chair.hip"))
    return last


def test_houdini_publish_makes_a_version(hou: FakeHou, hou_host: Any, ws: Any) -> None:
    model_houdini_chair(hou, hou_host, ws)
    hou.node("/stage/stray").setSelected(True)

    report = publish_scene(hou_host, ws)

    assert report.success and report.published, report.format_text()
    assert review(ws).versions("Chair") == ["0.1.0"]
    assert item(report, "CollectHoudiniInstances").source == "host houdini"
    for plugin in ("ValidateHoudiniCook", "ValidateHoudiniDefaultPrim", "ValidateHoudiniUnits",
                   "ExtractUSD", "ExtractWorkfile", "ExtractCheckUSD"):
        assert item(report, plugin).status == "success", plugin
    # the flagged LOP (not the displayed one) went through a USD ROP, which is gone again;
    # the artist's selection is back
    assert [c.name() for c in hou.stage.children()] == ["chair_geo", "chair_layer", "stray"]
    assert [n.name() for n in hou.module.selectedNodes()] == ["stray"]
    assert ("hipFile.save", (None,), {}) in hou.calls  # the workfile: hou.hipFile.save + copy
    names = wheel_names(ws, "0.1.0")
    if not any(n.endswith(".dvc") for n in names):
        assert {"chair/geo/chair_layer.usdc", "chair/work/Chair.hip"} <= names
    package = Path(ws.output("Chair").package_dir)
    assert meshes_in(package / "geo" / "chair_layer.usdc") == ["seat"]
    assert meshes_in(package / "asset.usda") == ["seat"]


def test_houdini_display_node_when_nothing_is_flagged(hou: FakeHou, hou_host: Any, ws: Any) -> None:
    last = model_houdini_chair(hou, hou_host, ws)
    last.parm("setpiece_publish").set(0)
    last.setDisplayFlag(True)

    report = publish_scene(hou_host, ws)

    assert report.success, report.format_text()
    package = Path(ws.output("Chair").package_dir)
    assert meshes_in(package / "geo" / "model.usdc") == ["seat"]


def test_houdini_failing_validators_stop_before_extract(hou: FakeHou, hou_host: Any, ws: Any) -> None:
    last = model_houdini_chair(hou, hou_host, ws)
    hou.node("/stage/chair_geo").parm("filepath1").set(str(Path(ws.root) / "gone.usda"))
    hou.default_meters_per_unit = 0.0  # Houdini's own default: Unit Length, 1 m
    hou_host.save_scene()

    report = publish_scene(hou_host, ws, raise_on_failure=False)

    cook = item(report, "ValidateHoudiniCook")
    assert cook.status == "failed"
    assert "chair_layer (/stage/chair_layer) does not cook" in cook.error
    assert f"/stage/chair_geo: Unable to open layer: {Path(ws.root) / 'gone.usda'}" in cook.error
    units = item(report, "ValidateHoudiniUnits")
    assert units.status == "failed"
    assert f"the stage of {last.path()} is 1 m/unit (the workspace uses 0.01)" in units.error
    assert "Configure Layer LOP" in units.error
    assert_stopped_before_extract(report, ws)
    assert not [c for c in hou.calls if c[0] == "createNode" and c[1][1] == "usd_rop"]


def test_houdini_default_prim_repair_and_rerun(hou: FakeHou, hou_host: Any, ws: Any) -> None:
    model_houdini_chair(hou, hou_host, ws, default_prim=False)

    report = publish_scene(hou_host, ws, raise_on_failure=False)

    check = item(report, "ValidateHoudiniDefaultPrim")
    assert check.status == "failed" and "Repair" in check.actions
    assert "the stage of /stage/chair_geo has no default prim" in check.error
    assert "appends a Configure Layer LOP with Default Primitive /chair" in check.error
    assert_stopped_before_extract(report, ws)

    assert repair(report) == ["Houdini: default prim"]
    fixed = hou.node("/stage/chair_geo_defaultprim")
    assert fixed is not None and fixed.inputs()[0].name() == "chair_geo"
    assert fixed.parm("defaultprim").eval() == "/chair"
    # the publish flag moved to the node that now ends the chain
    assert fixed.parm("setpiece_publish").eval() == 1
    assert hou.node("/stage/chair_geo").parm("setpiece_publish").eval() == 0

    again = publish_scene(hou_host, ws)
    assert again.success and review(ws).versions("Chair") == ["0.1.0"]
    package = Path(ws.output("Chair").package_dir)
    assert meshes_in(package / "geo" / "chair_geo_defaultprim.usdc") == ["seat"]


# -- Nuke ------------------------------------------------------------------------------------


@pytest.fixture
def nuke(monkeypatch: pytest.MonkeyPatch) -> FakeNuke:
    return FakeNuke(gui=False, major=17).install(monkeypatch)


@pytest.fixture
def nuke_host() -> Any:
    from setpiece.hosts.nuke import NukeHost

    return NukeHost()


def comp_nuke_plate(nuke: FakeNuke, host: Any, ws: Any, render_to: str) -> Any:
    """A Constant into a Write ``plate`` marked for publish; frames 1-3."""
    from setpiece.hosts.nuke.publish import mark_for_publish

    module = nuke.module
    source = module.createNode("Constant", inpanel=False)
    write = module.createNode("Write", inpanel=False)  # wired to the selected Constant
    write.setName("plate")
    write["file"].setValue(render_to)
    mark_for_publish(write)
    module.root()["last_frame"].setValue(3)
    assert write.input(0) is source
    host.save_scene(str(Path(ws.outputs) / "Chair" / "work" / "chair.nk"))
    return write


def test_nuke_publish_makes_a_version(nuke: FakeNuke, nuke_host: Any, ws: Any) -> None:
    renders = Path(ws.outputs) / "Chair" / "render" / "plate"
    comp_nuke_plate(nuke, nuke_host, ws, f"{renders.as_posix()}/plate.####.exr")

    report = publish_scene(nuke_host, ws)

    assert report.success and report.published, report.format_text()
    assert review(ws).versions("Chair") == ["0.1.0"]
    assert item(report, "CollectNukeInstances").source == "host nuke"
    assert item(report, "ValidateNukeWritePaths").status == "success"
    assert item(report, "ExtractNukeRender").status == "success"
    assert ("plate", 1, 3) in nuke.executed
    assert [c for c in nuke.calls if c[0] == "scriptSave"]  # the workfile: scriptSave + copy
    names = wheel_names(ws, "0.1.0")
    if not any(n.endswith(".dvc") for n in names):
        assert {f"chair/render/plate/plate.000{f}.exr" for f in (1, 2, 3)} <= names
        assert "chair/work/Chair.nk" in names
    package = Path(ws.output("Chair").package_dir)
    assert (package / "render" / "plate" / "plate.0002.exr").read_bytes() == b"Constant Constant1 frame 2"


def test_nuke_nothing_marked_is_a_clear_error(nuke: FakeNuke, nuke_host: Any, ws: Any) -> None:
    write = comp_nuke_plate(nuke, nuke_host, ws, f"{Path(ws.root).as_posix()}/r.####.exr")
    write["setpiece_publish"].setValue(False)

    report = publish_scene(nuke_host, ws, raise_on_failure=False)

    collect = item(report, "CollectNukeInstances")
    assert "nothing in this script is marked for publish" in collect.error
    assert "'setpiece_publish'" in collect.error
    assert all(i.status == "not-run" for i in report.items if i.stage != "collect")


def test_nuke_write_outside_workspace_stops_before_extract_and_repair(
    nuke: FakeNuke, nuke_host: Any, ws: Any, tmp_path: Path
) -> None:
    outside = tmp_path / "scratch" / "plate.%04d.exr"
    write = comp_nuke_plate(nuke, nuke_host, ws, outside.as_posix())

    report = publish_scene(nuke_host, ws, raise_on_failure=False)

    check = item(report, "ValidateNukeWritePaths")
    assert check.status == "failed" and "Repair" in check.actions
    assert f"Write plate renders to {outside.as_posix()}, outside the workspace" in check.error
    assert "outputs/Chair/render/plate/plate.####.exr (the Repair action does it)" in check.error
    assert_stopped_before_extract(report, ws)
    assert nuke.executed == []  # nothing rendered

    assert repair(report) == ["Nuke: Write file path"]
    expected = (Path(ws.outputs) / "Chair" / "render" / "plate" / "plate.%04d.exr").as_posix()
    assert write["file"].value() == expected

    again = publish_scene(nuke_host, ws)
    assert again.success and review(ws).versions("Chair") == ["0.1.0"]
    package = Path(ws.output("Chair").package_dir)
    assert (package / "render" / "plate" / "plate.0003.exr").is_file()


def test_nuke_geoexport_instance_exports_its_input(nuke: FakeNuke, nuke_host: Any, ws: Any,
                                                   tmp_path: Path) -> None:
    """A marked GeoExport publishes the 3D stage feeding it, through export_usd."""
    from setpiece.hosts.nuke.publish import mark_for_publish
    from setpiece.hosts.protocol import SceneLoad
    from setpiece.hosts.selftest import write_sample_scene

    sample = write_sample_scene(tmp_path / "sample")
    chair, _table = nuke_host.load(SceneLoad(sample.root_layer, sample.records))
    module = nuke.module
    for n in module.selectedNodes():
        n.setSelected(False)
    out = module.createNode("GeoExport", inpanel=False)
    out.setName("set_out")
    out.setInput(0, nuke.node(chair.node))
    mark_for_publish(out)
    nuke_host.save_scene(str(Path(ws.outputs) / "Chair" / "work" / "chair.nk"))

    import pyblish.api
    import pyblish.util

    from setpiece.hosts.nuke.publish import CollectNukeInstances
    from setpiece.hosts.publish.session import Session

    context = pyblish.api.Context()
    context.data["setpiece"] = Session(ws, nuke_host)
    pyblish.util.publish(context, plugins=[CollectNukeInstances])
    (instance,) = list(context)
    assert instance.data["family"] == "setpiece.usd" and instance.data["node"] == "set_out"
    assert [n.name() for n in module.selectedNodes()] == ["set_out"]  # createNode selected it
    written = nuke_host.publish_export(instance, str(tmp_path / "set_out.usda"))
    text = Path(written).read_text()
    assert '"Chair"' in text and '"Table"' not in text  # the chain up to the Chair only
    assert [n.name() for n in module.selectedNodes()] == ["set_out"]  # selection given back
