"""Publish batches: same-order plug-ins that declare ``concurrent = True`` run together in a
headless publish (real bpy, real pyblish-base); everything else runs as before."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy
pytest.importorskip("pyblish")
pytest.importorskip("pxr")

import pyblish.api  # noqa: E402

from setpiece.hosts.blender import BlenderHost  # noqa: E402
from setpiece.hosts.publish import PublishFailed, publish_scene  # noqa: E402

RAN: dict[str, tuple[float, float, int]] = {}


def _ran(name: str, seconds: float) -> None:
    start = time.monotonic()
    time.sleep(seconds)  # I/O-bound work (an upload, a transcode): the GIL is free
    RAN[name] = (start, time.monotonic(), threading.get_ident())


def _extractor(name: str, *, concurrent: bool, fail: bool = False,
               order: float = pyblish.api.ExtractorOrder + 0.3) -> type:
    def process(self: Any, instance: Any) -> None:
        self.log.info("%s extracting %s", name, instance)
        _ran(name, 1.0)
        if fail:
            raise RuntimeError(f"{name}: the upload failed")

    return type(name, (pyblish.api.InstancePlugin,), {
        "order": order, "hosts": ["blender"], "families": ["setpiece.usd"],
        "concurrent": concurrent, "label": name, "process": process})


@pytest.fixture
def host() -> Iterator[Any]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    RAN.clear()
    yield BlenderHost()
    bpy.ops.wm.read_factory_settings(use_empty=True)


@pytest.fixture
def ws(make_workspace: Callable[..., Any]) -> Any:
    w = make_workspace()
    w.create("Chair", kind="prop")
    with w.config.edit() as doc:
        doc["publish"] = {"thumbnail": False}
    bpy.ops.mesh.primitive_cube_add(size=1.0)
    bpy.context.active_object.name = "Seat"
    BlenderHost().save_scene(str(w.outputs / "Chair" / "work" / "chair.blend"))
    return w


def test_three_concurrent_extractors_run_together(host: Any, ws: Any) -> None:
    plugins = [_extractor(f"Upload{k}", concurrent=True) for k in range(3)]
    main = threading.get_ident()
    dcc = _extractor("SceneBound", concurrent=False, order=pyblish.api.ExtractorOrder + 0.3)
    report = publish_scene(host, ws, extra_plugins=[*plugins, dcc])
    assert report.success and report.published
    starts = [RAN[f"Upload{k}"][0] for k in range(3)]
    ends = [RAN[f"Upload{k}"][1] for k in range(3)]
    assert max(starts) < min(ends)  # together: each started before any of them finished
    assert RAN["SceneBound"][2] == main  # a plug-in that does not opt in: the main thread
    assert RAN["SceneBound"][0] >= max(ends) or RAN["SceneBound"][1] <= min(starts)
    names = [i.plugin for i in report.items]
    for k in range(3):
        item = next(i for i in report.items if i.plugin == f"Upload{k}")
        assert item.status == "success"
        assert f"Upload{k} extracting" in " ".join(m.message for m in item.messages)  # its own log, not its peers'
        assert all(f"Upload{j} extracting" not in " ".join(m.message for m in item.messages) for j in range(3) if j != k)
    assert names.index("Upload0") < names.index("Upload1") < names.index("Upload2")


def test_a_failing_member_stops_at_the_same_border(host: Any, ws: Any) -> None:
    """One of a batch fails: its peers still run (same order), integration does not."""
    plugins = [_extractor("UploadA", concurrent=True),
               _extractor("UploadB", concurrent=True, fail=True),
               _extractor("UploadC", concurrent=True)]
    with pytest.raises(PublishFailed) as info:
        publish_scene(host, ws, extra_plugins=plugins)
    report = info.value.report
    status = {i.plugin: i.status for i in report.items}
    assert status["UploadA"] == status["UploadC"] == "success"
    assert status["UploadB"] == "failed"
    assert "the upload failed" in next(i for i in report.items if i.plugin == "UploadB").error
    assert all(i.status == "not-run" for i in report.items if i.stage == "integrate")
    assert report.stopped_before is not None and ws.repo("review").versions("Chair") == []


def test_the_publisher_window_runs_one_at_a_time(host: Any, ws: Any) -> None:
    plugins = [_extractor(f"Upload{k}", concurrent=True) for k in range(2)]
    publish_scene(host, ws, extra_plugins=plugins, in_app=True)
    (a0, a1, ta), (b0, b1, tb) = RAN["Upload0"], RAN["Upload1"]
    assert ta == tb == threading.get_ident() and (b0 >= a1 or a0 >= b1)
