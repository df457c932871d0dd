"""Spans and metrics of the actions inside commands, read back from the file exporter:
files moved (bytes by direction), a scene build, and an in-app publish in real Blender
(one span per pyblish plug-in run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tele import named, total, trace_id

MB = 1 << 20


def test_files_push_and_pull_count_the_bytes_they_move(make_workspace: Any, run_cli: Any,
                                                       tmp_path: Path) -> None:
    author, consumer = make_workspace("author"), make_workspace("consumer")
    with consumer.config.edit() as doc:
        doc.setdefault("settings", {})["pull_on_install"] = False
    author.create("Chair")
    geo = tmp_path / "chair.abc"
    geo.write_bytes(b"chair-geometry " * (MB // 15))
    size = geo.stat().st_size
    assert run_cli("-w", author.root, "files", "add", "Chair", geo, "--as", "geo/chair.abc").exit_code == 0
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0
    (push,) = named(author.root, "files.push")
    (publish,) = named(author.root, "publish")
    assert push["parent_id"] == publish["context"]["span_id"]  # pushed by the publish
    assert push["attributes"]["setpiece.asset"] == "Chair"
    assert push["attributes"]["setpiece.repo"] == "review"
    assert push["attributes"]["setpiece.sent"] == 1 and push["attributes"]["setpiece.bytes"] == size
    assert total(author.root, "setpiece.files.bytes", direction="push", host="cli") == size
    assert total(author.root, "setpiece.files.count", direction="push") == 1

    assert run_cli("-w", consumer.root, "install", "Chair", "--repo", "review").exit_code == 0
    assert run_cli("-w", consumer.root, "files", "pull", "Chair").exit_code == 0
    (cmd,) = named(consumer.root, "setpiece files pull")
    (pull,) = named(consumer.root, "files.pull")
    assert pull["parent_id"] == cmd["context"]["span_id"] and trace_id(pull) == trace_id(cmd)
    assert pull["attributes"]["setpiece.spec"] == "Chair"
    assert pull["attributes"]["setpiece.files"] == 1 and pull["attributes"]["setpiece.bytes"] == size
    assert total(consumer.root, "setpiece.files.bytes", direction="pull") == size
    # a second pull moves nothing: a span, no bytes counted
    assert run_cli("-w", consumer.root, "files", "pull", "Chair").exit_code == 0
    assert len(named(consumer.root, "files.pull")) == 2
    assert total(consumer.root, "setpiece.files.bytes", direction="pull") == size


def test_a_scene_build_is_a_span_with_its_containers(sample_ws: Any, run_cli: Any) -> None:
    pytest.importorskip("pxr")
    root = sample_ws.root
    assert run_cli("-w", root, "install", "KitchenSet[build]").exit_code == 0
    result = run_cli("-w", root, "scene", "build", "KitchenSet", "--json")
    assert result.exit_code == 0, result.err
    built = result.json()
    (build,) = named(root, "scene.build")
    (cmd,) = named(root, "setpiece scene build")
    assert build["parent_id"] == cmd["context"]["span_id"]
    assert build["attributes"]["setpiece.asset"] == "KitchenSet"
    assert build["attributes"]["setpiece.containers"] == len(built["containers"]) >= 3
    assert build["attributes"]["setpiece.status"] == built["status"] == "written"
    assert total(root, "setpiece.action.duration", action="scene.build", outcome="ok") == 1


@pytest.mark.bpy
def test_an_in_app_publish_is_one_span_per_plugin(make_workspace: Any) -> None:
    bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
    pytest.importorskip("pyblish")
    from setpiece.core import telemetry
    from setpiece.hosts.blender import BlenderHost
    from setpiece.hosts.publish import PublishFailed, publish_scene

    ws = make_workspace()
    ws.create("Chair", kind="prop")
    with ws.config.edit() as doc:
        doc["publish"] = {"thumbnail": False}
    bpy.ops.wm.read_factory_settings(use_empty=True)
    try:
        host = BlenderHost()
        bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0, 0, 0.5))
        host.save_scene(str(Path(ws.outputs) / "Chair" / "work" / "chair.blend"))
        telemetry.start(ws.root, host="blender")
        report = publish_scene(host, ws)
        assert report.published
        (run,) = named(ws.root, "pyblish.publish")
        attrs = run["attributes"]
        assert (attrs["setpiece.asset"], attrs["setpiece.version"], attrs["setpiece.app"]) == (
            "Chair", "0.1.0", "blender")
        assert attrs["setpiece.published"] is True and attrs["setpiece.failed"] == 0
        plugins = named(ws.root, "pyblish.plugin")
        ran = [i for i in report.items if i.status in ("success", "failed")]
        assert len(plugins) == len(ran) > 3
        assert {p["attributes"]["setpiece.plugin"] for p in plugins} == {i.plugin for i in ran}
        assert {p["parent_id"] for p in plugins} == {run["context"]["span_id"]}
        # what the integrators did is in the same trace: the files pushed, the event logged
        (push,) = named(ws.root, "files.push")
        assert push["parent_id"] == run["context"]["span_id"]
        events = [json.loads(x) for x in (ws.root / ".setpiece" / "events.jsonl").read_text().splitlines()]
        (published,) = [e for e in events if e["event"] == "published"]
        assert published["traceparent"].split("-")[1] == trace_id(run)

        # a failing validator: its span and the run's are errors, counted as failures
        bpy.context.scene.collection.objects.link(
            bpy.data.objects.new("EmptyMesh", bpy.data.meshes.new("Nothing")))
        with pytest.raises(PublishFailed):
            publish_scene(host, ws)
        failed = [p for p in named(ws.root, "pyblish.plugin") if p["status"]["status_code"] == "ERROR"]
        assert [p["attributes"]["setpiece.plugin"] for p in failed] == ["ValidateBlenderGeometry"]
        assert named(ws.root, "pyblish.publish")[-1]["status"]["status_code"] == "ERROR"
        telemetry.flush()
        assert total(ws.root, "setpiece.action.failures", action="pyblish.plugin",
                     host="blender") == 1
    finally:
        bpy.ops.wm.read_factory_settings(use_empty=True)
