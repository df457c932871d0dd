# ruff: noqa: F811
# (fixtures imported from another module are redefined as test parameters)
"""The demo KitchenSet rendered with bpy as a farm job on real engines: a Dask scheduler and two
workers on 127.0.0.1 (``setpiece farm submit --backend dask``), and the same job as OpenCue's
job spec (valid against its DTD; its render frames run the way RQD runs them) and as an Open
Job Description template (valid with openjd-model)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "farm"))

from dask_cluster import DaskCluster, free_port, start_cluster
from test_farm_render import CHECK, _setpiece, demo  # noqa: F401

from setpiece.core.farm import Depend, Job, Layer, save_job

pytestmark = pytest.mark.slow

FRAMES = [f"frame.{f:04d}.png" for f in range(1, 11)]


@pytest.fixture(scope="module")
def cluster(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """Started after ``demo`` (its SETPIECE_HOME is in the workers' environment); the demo
    workspace's setpiece.toml points [farm.backends.dask] at it."""
    pytest.importorskip("distributed")
    started = start_cluster(tmp_path_factory.mktemp("dask"))
    point_at(demo, f'[farm.backends.dask]\naddress = "{started.address}"\n')
    try:
        yield started
    finally:
        started.stop()


def point_at(ws: Path, table: str) -> None:
    """Replace the workspace's ``[farm.backends.dask]`` table with ``table`` (TOML text)."""
    toml = ws / "setpiece.toml"
    text = re.sub(r"\n\[farm\.backends\.dask\]\n(?:[^\[\n].*\n|\n)*", "\n", toml.read_text())
    toml.write_text(text.rstrip("\n") + "\n\n" + table)


def kitchen_job(demo: Path, tmp_path: Path, out: Path, chunk: int = 4) -> Job:
    """render 1-10 of the built KitchenSet (Blender, tag ``blender``), then ``check`` each frame
    once the render chunk holding it is done (frame by frame)."""
    from setpiece.core import Workspace
    from setpiece.hosts.farm import render_layer

    render = render_layer(demo / "scenes" / "KitchenSet.blend", out, "1-10", chunk=chunk,
                          ws=Workspace(demo), size="48x27", samples=1)
    (tmp_path / "check.py").write_text(CHECK)
    check = Layer("check", command=[sys.executable, str(tmp_path / "check.py"), str(out),
                                    "{frame}"],
                  frames="1-10", depends=[Depend("render", "frame")], retries=0)
    return Job("kitchen", show="demo", shot="kitchen", layers=[render, check])


def test_kitchen_renders_on_dask_with_a_frame_by_frame_check(
        demo: Path, cluster: DaskCluster, tmp_path: Path) -> None:
    out = tmp_path / "frames"
    jobfile = save_job(kitchen_job(demo, tmp_path, out), tmp_path / "kitchen.yaml")
    result = _setpiece("-w", demo, "farm", "submit", jobfile, "--backend", "dask", "--wait")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "done (13/13 chunks done)" in result.stdout
    assert result.stderr == ""  # piped: no progress line (drawn on a terminal only: test_farm_local)
    assert sorted(p.name for p in out.iterdir()) == FRAMES
    status = json.loads(_setpiece("-w", demo, "farm", "status", "kitchen", "--json").stdout)
    assert status["backend"] == "dask"
    chunks = {(c["layer"], c["index"]): c for c in status["chunks"]}
    state = Path(chunks[("render", 0)]["log"]).parents[2] / "state"
    ended = [json.loads((state / "render" / f"{i}.json").read_text())["ended"] for i in range(3)]
    for f in range(1, 11):
        started = json.loads((state / "check" / f"{f - 1}.json").read_text())["started"]
        assert started >= ended[(f - 1) // 4], f"check {f} started before render of frame {f}"
    log = _setpiece("-w", demo, "farm", "logs", "kitchen", "render", "6").stdout
    assert "frames 5-8" in log and "frame 8: " in log


def test_a_dask_worker_killed_mid_render_has_its_chunk_rendered_elsewhere(
        demo: Path, cluster: DaskCluster, tmp_path: Path) -> None:
    from distributed import Client

    from setpiece.core.farm.backend import JobHandle
    from setpiece.core.farm.dask import DaskBackend
    from setpiece.core.farm.jobdir import JobDir

    out = tmp_path / "frames"
    jobfile = save_job(kitchen_job(demo, tmp_path, out, chunk=5), tmp_path / "kitchen.yaml")
    submitted = _setpiece("-w", demo, "farm", "submit", jobfile, "--backend", "dask", "--json")
    assert submitted.returncode == 0, submitted.stderr
    handle = JobHandle.from_dict(json.loads(submitted.stdout))
    jd = JobDir(handle.job_dir)
    keys = handle.data["keys"]
    render0 = jd.job().layer("render").chunks()[0]
    with Client(cluster.address, timeout=30) as client:
        deadline = time.monotonic() + 120
        victim = None
        while victim is None and time.monotonic() < deadline:
            # mid-chunk: Blender has rendered the chunk's first frame of five
            log = jd.log_path(render0)
            if jd.read_state(render0).state == "running" and log.is_file() and \
                    "frame 1: " in log.read_text(errors="replace"):
                for addr, running in client.processing().items():
                    if keys["render/0"] in running:
                        victim = addr
            time.sleep(0.1)
        assert victim is not None, "render chunk 0 never ran"
        name = client.scheduler_info(n_workers=-1)["workers"][victim]["name"]
    proc = next(w for w in cluster.workers if name in w.args)  # type: ignore[operator]
    cluster.kill(proc.pid)
    try:
        status = DaskBackend({"address": cluster.address}, jd.path.parent).wait(handle)
        assert status.state == "done", status.summary()
        assert jd.read_state(render0).attempts == 2
        log = jd.log_path(render0).read_text(errors="replace")
        assert "chunk stopped: the process that started it died" in log
        # each frame rendered once in the end: ten whole PNGs, no temp files, and nothing of
        # the killed attempt still rendering
        time.sleep(2)
        assert sorted(p.name for p in out.iterdir()) == FRAMES
        for name_ in FRAMES:
            assert (out / name_).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        cluster.start_worker(f"worker-{len(cluster.workers) + 1}")
        cluster.wait_for_workers(2)


def test_the_same_job_as_an_opencue_spec_and_an_openjd_template(demo: Path,
                                                                 tmp_path: Path) -> None:
    from lxml import etree
    from rqd_emulation import run_layer

    from setpiece.core.farm.jobdir import JobDir
    from setpiece.core.farm.opencue import job_spec
    from setpiece.core.farm.openjd import write_template

    out = tmp_path / "frames"
    job = kitchen_job(demo, tmp_path, out, chunk=5)
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    xml = job_spec(job, jd)
    dtd = etree.DTD(str(Path(__file__).resolve().parents[1] / "farm" / "fixtures" /
                        "cjsl-1.15.dtd"))
    doc = etree.fromstring(xml.encode(), etree.XMLParser(no_network=True))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    (depend,) = doc.iter("depend")
    assert (depend.get("type"), depend.findtext("deplayer"), depend.findtext("onlayer")) == \
        ("FRAME_BY_FRAME", "check", "render")
    render = next(la for la in doc.iter("layer") if la.get("name") == "render")
    assert render.findtext("tags") == "blender"
    # Blender renders each chunk in RQD's environment (fixed PATH, no HOME, no host variables)
    frames = run_layer(xml, "render", tmp_path / "rqd")
    assert [f.exit_code for f in frames] == [0, 0], frames[0].log.read_text()[-2000:]
    assert sorted(p.name for p in out.iterdir()) == FRAMES
    assert [f.exit_code for f in run_layer(xml, "check", tmp_path / "rqd")] == [0] * 10

    template = json.loads(write_template(job, jd).read_text())  # validated by openjd-model
    steps = {s["name"]: s for s in template["steps"]}
    assert steps["check"]["dependencies"] == [{"dependsOn": "render"}]
    assert steps["render"]["parameterSpace"]["taskParameterDefinitions"][1]["range"] == \
        ["1-5", "6-10"]


def test_the_docs_dask_example_runs(demo: Path, tmp_path: Path) -> None:
    """docs/farm.md's dask section as written: its scheduler and worker commands (on
    127.0.0.1 and a free port instead of the studio's host), its setpiece.toml table and its
    render command, run in the demo workspace."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "farm.md").read_text()
    section = text[text.index("### dask"):text.index("### opencue")]
    servers, render = re.findall(r"```sh\n(.*?)```", section, re.S)
    (table,) = re.findall(r"```toml\n(.*?)```", section, re.S)
    port = str(free_port())

    def local(line: str) -> str:
        return (line.replace("0.0.0.0", "127.0.0.1").replace("farm-scheduler", "127.0.0.1")
                .replace("8786", port))

    procs: list[subprocess.Popen[bytes]] = []
    try:
        for line in servers.splitlines():
            if line.startswith("dask "):
                argv = shlex.split(local(line).rstrip("& "))
                if argv[1] == "scheduler":
                    argv += ["--dashboard-address", f"127.0.0.1:{free_port()}"]
                else:
                    argv += ["--host", "127.0.0.1", "--no-dashboard"]
                procs.append(subprocess.Popen(
                    [str(Path(sys.executable).parent / argv[0]), *argv[1:]],
                    stdout=(tmp_path / f"{argv[1]}.log").open("wb"), stderr=subprocess.STDOUT,
                    start_new_session=True))
                if argv[1] == "scheduler":
                    time.sleep(1)
        point_at(demo, local(table))
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("SETPIECE_WORKSPACE", None)
        result = subprocess.run(["bash", "-e", "-c", render], cwd=demo, env=env, text=True,
                                capture_output=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert "done (2/2 chunks done)" in result.stdout
        frames = demo / "scenes" / "renders" / "KitchenSet"
        assert sorted(p.name for p in frames.iterdir()) == FRAMES
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
