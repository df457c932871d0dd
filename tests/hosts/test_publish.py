"""Publishing from Blender with pyblish-base, in real bpy, into real folder repos.

bpy runs in this process; every test starts from ``read_factory_settings(use_empty=True)``
so no Blender state leaks between tests. The headless CLI test runs Blender in a
subprocess through ``setpiece batch blender publish``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy
pytest.importorskip("pyblish")
pytest.importorskip("pxr")

import pyblish.api  # noqa: E402

from setpiece.hosts.blender import BlenderHost  # noqa: E402
from setpiece.hosts.publish import PublishFailed, publish_scene, repair  # noqa: E402
from setpiece.hosts.publish import plugins as publish_plugins  # noqa: E402


@pytest.fixture
def host() -> Iterator[Any]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield BlenderHost()
    bpy.ops.wm.read_factory_settings(use_empty=True)


@pytest.fixture
def ws(make_workspace: Callable[..., Any]) -> Any:
    w = make_workspace()
    w.create("Chair", kind="prop")
    with w.config.edit() as doc:  # keep the suite fast: a render per publish is slow
        doc["publish"] = {"thumbnail": False}
    return w


def model_chair(host: Any, ws: Any, *, seat: str = "Seat") -> Path:
    """A 1 m seat cube and a leg, saved under outputs/Chair/work/."""
    bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0, 0, 0.5))
    bpy.context.active_object.name = seat
    bpy.ops.mesh.primitive_cylinder_add(radius=0.05, depth=0.5, location=(0.4, 0.4, 0.25))
    bpy.context.active_object.name = "Leg"
    path = Path(ws.outputs) / "Chair" / "work" / "chair.blend"
    host.save_scene(str(path))
    return path


def review(ws: Any) -> Any:
    return ws.repo("review")


def item(report: Any, plugin: str) -> Any:
    found = [i for i in report.items if i.plugin == plugin]
    assert found, f"{plugin} not in report: {[i.plugin for i in report.items]}"
    return found[0]


# -- the whole way ---------------------------------------------------------------------------


def test_model_publish_install_compose(host: Any, ws: Any, make_workspace: Callable[..., Any],
                                       tmp_path: Path) -> None:
    with ws.config.edit() as doc:
        doc["publish"] = {"thumbnail": True}
    model_chair(host, ws)

    report = publish_scene(host, ws)

    assert report.success and report.published, report.format_text()
    assert (report.asset, report.version, report.repo) == ("Chair", "0.1.0", "review")
    assert review(ws).versions("Chair") == ["0.1.0"]
    text = report.format_text()
    assert "OK: published Chair 0.1.0 to review" in text
    for stage in ("[collect]", "[validate]", "[extract]", "[integrate]"):
        assert stage in text
    data = report.to_json()
    assert data["success"] and data["results"]
    assert all(r["status"] == "success" for r in data["results"])
    assert {r["stage"] for r in data["results"]} == {"collect", "validate", "extract", "integrate"}

    # what the package carries: interface + geometry layer, geo, workfile, thumbnail
    wheel = review(ws).find_wheel("Chair", "0.1.0")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"chair/asset.usda", "chair/geo.usda"} <= names
    tracked = {n for n in names if n.endswith(".dvc")}
    if tracked:  # setpiece.core.files (dvc) present: big files travel as pointers
        assert "chair/geo.dvc" in names or "chair/geo/model.usdc.dvc" in names
    else:
        assert {"chair/geo/model.usdc", "chair/work/Chair.blend", "chair/thumbnail.png"} <= names

    # nothing left behind; the event is logged
    assert not list((Path(ws.state_dir) / "publish" / "chair").glob("2*"))
    from setpiece.core import events

    published = list(events.read(ws.root, "published"))
    assert published[-1]["asset"] == "Chair" and published[-1]["version"] == "0.1.0"
    assert published[-1]["via"] == "pyblish"

    # the next publish bumps per version_policy (micro)
    report2 = publish_scene(host, ws)
    assert report2.version == "0.1.1"
    assert review(ws).versions("Chair") == ["0.1.0", "0.1.1"]

    # installable in another workspace, composing with its USD at the right size and axis
    other = make_workspace("other", repos={"review": Path(review(ws).location)},
                           blessed="review", default="review")
    other.install(["Chair==0.1.1"])
    pkg = Path(other.installed_asset("Chair").package_dir)
    if tracked:  # the files are on the repo's remote: pull them into the other workspace
        from setpiece.core.files.pulling import pull

        remote = Path(review(ws).location) / "files"
        assert remote.is_dir() and any(p.is_file() for p in remote.rglob("*"))
        pull(other, "Chair")
        assert (pkg / "geo" / "model.usdc").is_file()
        assert (pkg / "work" / "Chair.blend").is_file()
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(str(pkg / "asset.usda"))
    assert UsdGeom.GetStageMetersPerUnit(stage) == pytest.approx(0.01)
    assert UsdGeom.GetStageUpAxis(stage) == "Y"
    prim = stage.GetDefaultPrim()
    assert prim.GetAssetInfo()["version"] == "0.1.1"
    meshes = [p for p in Usd.PrimRange(prim) if p.IsA(UsdGeom.Mesh)]
    assert len(meshes) == 2
    bbox = UsdGeom.BBoxCache(Usd.TimeCode.Default(), ["default"]).ComputeWorldBound(prim)
    size = bbox.ComputeAlignedRange().GetSize()
    assert size[1] == pytest.approx(100.0, abs=0.5)  # 1 m tall, in centimetres, Y up


# -- borders ---------------------------------------------------------------------------------


def test_failing_validator_stops_before_extract(host: Any, ws: Any) -> None:
    model_chair(host, ws)
    mesh = bpy.data.meshes.new("Nothing")
    obj = bpy.data.objects.new("EmptyMesh", mesh)
    bpy.context.scene.collection.objects.link(obj)

    with pytest.raises(PublishFailed) as info:
        publish_scene(host, ws)

    report = info.value.report
    assert "EmptyMesh" in str(info.value) and "no vertices" in str(info.value)
    failed = item(report, "ValidateBlenderGeometry")
    assert failed.status == "failed" and "delete them or model them" in failed.error
    assert report.stopped_before == pytest.approx(1.6)
    assert "Blender: non-empty geometry failed" in report.stop_reason
    extract = [i for i in report.items if i.stage in ("extract", "integrate")]
    assert extract and all(i.status == "not-run" for i in extract)
    assert "stopped before order 1.6" in report.format_text()
    assert not (Path(ws.state_dir) / "publish").exists()  # nothing staged
    assert review(ws).versions("Chair") == []
    # the failure is in the event log, as a CLI publish failure would be
    from setpiece.core import events

    failed_events = list(events.read(ws.root, "failed"))
    assert len(failed_events) == 1
    assert failed_events[0]["action"] == "publish" and failed_events[0]["asset"] == "Chair"
    assert failed_events[0]["via"] == "pyblish" and "no vertices" in failed_events[0]["error"]


class ExtractBroken(pyblish.api.InstancePlugin):
    label = "Broken extractor"
    order = pyblish.api.ExtractorOrder + 0.05
    hosts = ["blender"]
    families = ["setpiece.usd"]

    def process(self, instance: Any) -> None:
        raise RuntimeError("disk full while writing the cache")


def test_failing_extractor_stops_before_integrate(host: Any, ws: Any) -> None:
    model_chair(host, ws)
    with pytest.raises(PublishFailed) as info:
        publish_scene(host, ws, extra_plugins=[ExtractBroken])

    report = info.value.report
    assert item(report, "ExtractBroken").status == "failed"
    assert "disk full" in item(report, "ExtractBroken").error
    assert item(report, "ExtractUSD").status == "success"  # the stage itself runs to its end
    integrate = [i for i in report.items if i.stage == "integrate"]
    assert integrate and all(i.status == "not-run" for i in integrate)
    assert report.stopped_before == pytest.approx(2.55)
    assert review(ws).versions("Chair") == []
    assert ws.output("Chair").version == "0.1.0"
    assert not (Path(ws.output("Chair").package_dir) / "geo").exists()  # asset untouched
    # an incomplete extraction is never resumable
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.publish.resume import resume

    with pytest.raises(SetpieceError, match="no interrupted publish of Chair"):
        resume(ws, "Chair")
    # the previously registered test is back
    import pyblish.logic

    assert pyblish.logic.registered_test() is pyblish.logic.default_test


def test_borders_from_config(host: Any, ws: Any) -> None:
    """With no border after validation, extraction runs after a failed validator, but the
    safety border still keeps integration from running."""
    with ws.config.edit() as doc:
        doc["publish"] = {"thumbnail": False, "borders": ["order>=2,<3"]}
    model_chair(host, ws, seat="bad name")
    report = publish_scene(host, ws, raise_on_failure=False)
    assert item(report, "ValidateBlenderNames").status == "failed"
    assert item(report, "ExtractUSD").status == "success"
    assert report.stopped_before == pytest.approx(2.55)
    assert review(ws).versions("Chair") == []

    with ws.config.edit() as doc:
        doc["publish"]["borders"] = ["order>=1"]
    from setpiece.core.errors import SetpieceError

    ws.__dict__.pop("config", None)
    with pytest.raises(SetpieceError, match="has no upper bound"):
        publish_scene(host, ws)


# -- repair ----------------------------------------------------------------------------------


def test_repair_action_fixes_scene_and_rerun_passes(host: Any, ws: Any) -> None:
    model_chair(host, ws, seat="seat.001")
    bpy.context.scene.unit_settings.scale_length = 0.01

    report = publish_scene(host, ws, raise_on_failure=False)
    assert not report.success
    names = item(report, "ValidateBlenderNames")
    units = item(report, "ValidateBlenderUnits")
    assert names.status == units.status == "failed"
    assert "'seat.001'" in names.error and "Repair" in names.actions
    assert "Unit Scale 1.0" in units.error
    assert "fix: Repair" in report.format_text()

    done = repair(report)
    assert set(done) == {"Blender: object names", "Blender: scene units"}
    assert "seat_001" in bpy.data.objects and "seat.001" not in bpy.data.objects
    assert bpy.context.scene.unit_settings.scale_length == pytest.approx(1.0)

    again = publish_scene(host, ws)
    assert again.success and again.published
    assert review(ws).versions("Chair") == ["0.1.0"]


def test_dependency_validator_and_repair(host: Any, sample_ws: Any) -> None:
    """A loaded asset that the output asset does not require: named, and repaired."""
    ws = sample_ws
    ws.create("Kitchen", kind="set")
    with ws.config.edit() as doc:
        doc["publish"] = {"thumbnail": False}
    ws.install(["Table==1.2.3"])
    table = ws.installed_asset("Table")
    from setpiece.usd.interface import write_interface_layer

    iface = Path(table.package_dir) / "asset.usda"
    if not iface.exists():
        write_interface_layer(iface, "Table", "1.2.3", "prop", "table/asset.usda")
    coll = bpy.data.collections.new("Table")
    bpy.context.scene.collection.children.link(coll)
    coll["setpiece_container"] = {"name": "Table", "version": "1.2.3",
                                  "identifier": "table/asset.usda", "prim_path": "/Table",
                                  "requirement": "", "kind": "push", "layer": ""}
    ghost = bpy.data.collections.new("Ghost")
    bpy.context.scene.collection.children.link(ghost)
    ghost["setpiece_container"] = {"name": "Ghost", "version": "1.0.0",
                                   "identifier": "ghost/asset.usda", "prim_path": "/Ghost"}
    bpy.ops.mesh.primitive_cube_add(size=2.0)
    bpy.context.active_object.name = "Floor"
    host.save_scene(str(Path(ws.outputs) / "Kitchen" / "work" / "kitchen.blend"))

    report = publish_scene(host, ws, raise_on_failure=False)
    deps = item(report, "ValidateDependencies")
    refs = item(report, "ValidateReferences")
    assert deps.status == "failed"
    assert "Kitchen uses Ghost, Table without declaring it" in deps.error
    assert 'setpiece require Kitchen "Ghost>=1.0.0,<2" "Table>=1.2.3,<2"' in deps.error
    assert refs.status == "failed" and "Ghost 1.0.0 (Ghost)" in refs.error
    assert "setpiece install NAME" in refs.error

    bpy.data.collections.remove(ghost)
    report = publish_scene(host, ws, raise_on_failure=False)
    assert repair(report) == ["Used assets are dependencies"]
    (req,) = ws.output("Kitchen").requirements("build")
    assert req.name == "Table" and set(req.specifier) == set(SpecifierSet(">=1.2.3,<2"))
    again = publish_scene(host, ws)
    assert again.success
    # the floor is exported; the loaded Table is not (it is a dependency)
    wheel = review(ws).find_wheel("Kitchen", again.version or "")
    assert "kitchen/geo.usda" in zipfile.ZipFile(wheel).namelist()


# -- nothing lost ----------------------------------------------------------------------------


def test_push_failure_publishes_nothing_and_resume_finishes(
    host: Any, ws: Any, monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Any]
) -> None:
    model_chair(host, ws)

    def unreachable(*args: Any, **kwargs: Any) -> None:
        from setpiece.core.errors import SetpieceError

        raise SetpieceError("files remote /mnt/remote is unreachable: check the network")

    monkeypatch.setattr(publish_plugins, "push_files", unreachable)
    with pytest.raises(PublishFailed) as info:
        publish_scene(host, ws)
    report = info.value.report
    assert item(report, "IntegratePush").status == "failed"
    assert "unreachable" in str(info.value)
    assert "Push files failed: nothing to publish" in " ".join(
        m.message for m in item(report, "IntegratePublish").messages
    )
    assert review(ws).versions("Chair") == []
    assert report.resume == "setpiece publish Chair --resume"
    assert report.staging and Path(report.staging, "manifest.json").is_file()
    assert "to finish it: setpiece publish Chair --resume" in report.format_text()
    manifest = json.loads(Path(report.staging, "manifest.json").read_text())
    assert manifest["state"] == "integrating" and manifest["version"] == "0.1.0"
    assert not (Path(ws.state_dir) / "publish" / "chair" / "integrate.lock").exists()

    monkeypatch.undo()
    result = run_cli("-w", ws.root, "publish", "Chair", "--resume")
    assert result.exit_code == 0, result.err
    assert "OK: published Chair 0.1.0 to review" in result.err
    assert review(ws).versions("Chair") == ["0.1.0"]
    assert not Path(report.staging).exists()
    again = run_cli("-w", ws.root, "publish", "Chair", "--resume")
    again.user_error("no interrupted publish of Chair")


def test_resume_after_the_wheel_reached_the_repo_publishes_it_once(
    host: Any, ws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wheel got into the repo, then the run died before it was marked published:
    resume sees the repo's wheel is this run's (same sha256) and only finishes it, never
    publishing the same content again as the next version."""
    from setpiece.core import events
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.publish.resume import resume

    model_chair(host, ws)
    repo_cls = type(review(ws))
    original = repo_cls.publish

    def publish_then_die(self: Any, wheel: Path) -> None:
        original(self, wheel)
        raise SetpieceError("connection to the repo lost: resume the publish")

    monkeypatch.setattr(repo_cls, "publish", publish_then_die)
    report = publish_scene(host, ws, raise_on_failure=False)
    assert item(report, "IntegratePublish").status == "failed"
    assert review(ws).versions("Chair") == ["0.1.0"]
    sent = review(ws).find_wheel("Chair", "0.1.0").read_bytes()
    monkeypatch.undo()

    before = len(list(events.read(ws.root, "published")))
    done = resume(ws, "Chair")
    assert done.success and done.published and done.version == "0.1.0"
    assert review(ws).versions("Chair") == ["0.1.0"]  # not again as 0.1.1
    assert review(ws).find_wheel("Chair", "0.1.0").read_bytes() == sent  # untouched
    published = list(events.read(ws.root, "published"))
    assert len(published) == before + 1 and published[-1]["version"] == "0.1.0"
    assert report.staging and not Path(report.staging).exists()


def test_resume_after_someone_else_took_the_version_takes_the_next(
    host: Any, ws: Any, make_workspace: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """This run tried to send 0.1.0 (its sha256 recorded) but it never arrived; another
    artist's 0.1.0 is there now (a different sha256): resume takes 0.1.1."""
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.publish.resume import resume

    model_chair(host, ws)

    def lost(self: Any, wheel: Path) -> None:
        raise SetpieceError("connection to the repo lost: resume the publish")

    monkeypatch.setattr(type(review(ws)), "publish", lost)
    report = publish_scene(host, ws, raise_on_failure=False)
    monkeypatch.undo()
    assert report.staging
    manifest = json.loads(Path(report.staging, "manifest.json").read_text())
    assert manifest["sent"]["version"] == "0.1.0" and len(manifest["sent"]["sha256"]) == 64
    rival = make_workspace("rival", repos={"review": Path(review(ws).location)},
                           blessed="review", default="review")
    rival.create("Chair", kind="prop")
    rival.publish("Chair")
    done = resume(ws, "Chair")
    assert done.success and done.version == "0.1.1"
    assert review(ws).versions("Chair") == ["0.1.0", "0.1.1"]


def test_concurrent_publish_gets_its_own_version(
    host: Any, ws: Any, make_workspace: Callable[..., Any]
) -> None:
    """Another artist publishes the version this run planned while it runs: this run
    takes the next version; both versions exist, neither is mixed."""
    model_chair(host, ws)
    rival = make_workspace("rival", repos={"review": Path(review(ws).location)},
                           blessed="review", default="review")
    rival.create("Chair", kind="prop")

    class RivalPublishes(pyblish.api.ContextPlugin):
        order = pyblish.api.IntegratorOrder - 0.5
        hosts = ["blender"]

        def process(self, context: Any) -> None:
            rival.publish("Chair")

    report = publish_scene(host, ws, extra_plugins=[RivalPublishes])
    assert report.success and report.version == "0.1.1"
    assert review(ws).versions("Chair") == ["0.1.0", "0.1.1"]
    ours = set(zipfile.ZipFile(review(ws).find_wheel("Chair", "0.1.1")).namelist())
    theirs = set(zipfile.ZipFile(review(ws).find_wheel("Chair", "0.1.0")).namelist())
    assert "chair/geo.usda" in ours and "chair/geo.usda" not in theirs


def test_integrate_lock_refuses_a_second_publish(host: Any, ws: Any) -> None:
    import os
    import socket

    from setpiece.hosts.publish.staging import publish_root

    model_chair(host, ws)
    lock = publish_root(ws, "Chair") / "integrate.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": os.getppid(), "machine": socket.gethostname(),
                                "user": "maya", "run": "other", "since": 0}))
    report = publish_scene(host, ws, raise_on_failure=False)
    assert "Chair is being published right now by maya" in item(report, "IntegrateLock").error
    assert review(ws).versions("Chair") == []
    assert report.resume == "setpiece publish Chair --resume"


def test_no_asset_is_a_clear_error(host: Any, ws: Any, tmp_path: Path) -> None:
    bpy.ops.mesh.primitive_cube_add()
    host.save_scene(str(tmp_path / "loose.blend"))
    report = publish_scene(host, ws, raise_on_failure=False)
    assert "belongs to no output asset" in item(report, "CollectSession").error
    assert "--asset NAME" in item(report, "CollectSession").error
    assert report.stopped_before is not None
    assert all(i.status == "not-run" for i in report.items if i.stage != "collect")


STUDIO_CHECK = '''
import pyblish.api
from setpiece.core.errors import SetpieceError


class ValidateStudioPrefix(pyblish.api.InstancePlugin):
    label = "Studio: object prefix"
    order = pyblish.api.ValidatorOrder + 0.3
    hosts = ["blender"]
    families = ["setpiece.usd"]

    def process(self, instance):
        bad = [n for n in instance.data["objects"] if not n.startswith("CHR_")]
        if bad:
            raise SetpieceError(f"{', '.join(bad)}: prefix object names with CHR_")
'''


def test_studio_validator_from_a_tool_asset(host: Any, ws: Any) -> None:
    """A validator shipped in an installed tool asset (entry point ``setpiece.publish``)
    runs in every publish, reported with the asset and version it came from."""
    import tomlkit

    from setpiece.core.authoring import _install_editable

    tool = ws.create("StudioChecks", kind="tool")
    (Path(tool.package_dir) / "publish.py").write_text(STUDIO_CHECK, encoding="utf-8")
    doc = tomlkit.parse(tool.pyproject.read_text(encoding="utf-8"))
    doc["project"]["entry-points"]["setpiece.publish"] = {"studio": "studiochecks.publish"}
    tool.pyproject.write_text(tomlkit.dumps(doc), encoding="utf-8")
    _install_editable(ws, tool, deps=False)

    model_chair(host, ws)
    report = publish_scene(host, ws, raise_on_failure=False)
    check = item(report, "ValidateStudioPrefix")
    assert check.status == "failed" and check.source == "StudioChecks 0.1.0"
    assert "prefix object names with CHR_" in check.error
    assert review(ws).versions("Chair") == []
