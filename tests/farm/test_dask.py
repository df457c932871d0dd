# ruff: noqa: F811
# (fixtures imported from another module are redefined as test parameters)
"""The dask backend on a real Dask scheduler and two workers on 127.0.0.1 (dask_cluster.py)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from dask_cluster import DaskCluster, dask_cluster  # noqa: F401

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.dask import DaskBackend
from setpiece.core.farm.jobdir import JobDir
from setpiece.core.farm.jobfile import save_job
from setpiece.core.farm.model import Depend, Job, Layer

HERE = Path(__file__).parent
TOOL = HERE / "frame_tool.py"

pytestmark = pytest.mark.slow


def two_layer_job(out: Path, *render_args: str, retries: int = 1) -> Job:
    return Job("kitchen_render", layers=[
        Layer("render", command=[sys.executable, str(TOOL), "write", str(out), "{frames}",
                                 *render_args],
              frames="1-10", chunk=3, tags=["render"], cores=2, retries=retries),
        Layer("check", command=[sys.executable, str(TOOL), "check", str(out), "{frames}"],
              frames="1-10", chunk=2, depends=[Depend("render", "frame")]),
    ])


def submit(cluster: DaskCluster, tmp_path: Path, job: Job, **kw: object) -> tuple[JobDir, DaskBackend]:
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    backend = DaskBackend({"address": cluster.address}, tmp_path / "jobs")
    backend.submit(jd, **kw)  # type: ignore[arg-type]
    return jd, backend


def test_chunks_run_with_their_frame_dependencies(dask_cluster: DaskCluster, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen: list[str] = []
    jd, _ = submit(dask_cluster, tmp_path, two_layer_job(out), wait=True,
                   progress=lambda s: seen.append(s.summary()))
    status = jd.status("dask")
    assert status.state == "done", status.summary()
    assert seen[-1].endswith("done (9/9 chunks done)")
    assert sorted(p.name for p in out.glob("*.txt")) == [f"{i:04d}.txt" for i in range(1, 11)]
    # every check chunk started after the render chunks holding its frames had finished
    job = jd.job()
    chunks = {c.key: c for c in job.chunks()}
    for key, ups in job.chunk_dependencies().items():
        started = jd.read_state(chunks[key]).started
        for up in ups:
            assert jd.read_state(chunks[up]).ended <= started, (key, up)
    assert job.chunk_dependencies()["check/1"] == ["render/0", "render/1"]  # frames 3-4
    assert {jd.read_state(c).attempts for c in job.chunks()} == {1}
    assert "checked frames [3, 4]: missing []" in jd.read_log("check", 3)


def test_a_failing_chunk_exits_non_zero_naming_it_and_nothing_downstream_runs(
        dask_cluster: DaskCluster, tmp_path: Path, make_workspace: Any,
        run_setpiece: Any) -> None:
    ws = make_workspace()
    with (ws.root / "setpiece.toml").open("a") as toml:
        toml.write(f'\n[farm.backends.dask]\naddress = "{dask_cluster.address}"\n')
    out = tmp_path / "out"
    jobfile = save_job(two_layer_job(out, "--fail", "5", retries=0), tmp_path / "job.yaml")
    result = run_setpiece("-w", ws.root, "farm", "submit", jobfile, "--backend", "dask", "--wait")
    result.user_error("layer render frames 4-6", "setpiece farm retry")
    assert "dead: layer render frames 4-6 (exit 3, 1 attempts)" in result.err
    status = run_setpiece("-w", ws.root, "farm", "status", "kitchen_render", "--json").json()
    assert status["backend"] == "dask" and status["state"] == "dead"
    states = {f"{c['layer']}/{c['frames']}": c["state"] for c in status["chunks"]}
    # check 3-4 and 5-6 wait for render 4-6: they never ran; check 1-2, 7-8, 9-10 did
    assert states["check/3-4"] == "waiting" and states["check/5-6"] == "waiting"
    assert states["check/1-2"] == "done" and states["check/9-10"] == "done"
    logs = run_setpiece("-w", ws.root, "farm", "logs", "kitchen_render", "render", "5")
    assert "frame 5 failed" in logs.out
    assert sorted(p.name for p in out.glob("*.txt")) == [
        f"{i:04d}.txt" for i in (1, 2, 3, 4, 7, 8, 9, 10)]
    events = [json.loads(line) for line in
              (ws.root / ".setpiece" / "events.jsonl").read_text().splitlines()]
    farm_events = [e for e in events if e["event"].startswith("farm.")]
    assert [e["event"] for e in farm_events] == ["farm.submitted", "farm.dead"]
    assert farm_events[1]["backend"] == "dask"
    assert farm_events[1]["dead"] == [{"layer": "render", "frames": "4-6"}]


def test_a_layer_no_worker_can_take_is_refused(dask_cluster: DaskCluster, tmp_path: Path) -> None:
    job = Job("gpu_job", layers=[Layer("render", command=["true"], tags=["gpu"])])
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    backend = DaskBackend({"address": dask_cluster.address}, tmp_path / "jobs")
    with pytest.raises(SetpieceError, match=r"layer 'render' needs Dask worker resources "
                       r"cores=1 tag:gpu=1 and no worker .* offers them: start workers with "
                       r"--resources"):
        backend.submit(jd)


def test_a_worker_killed_mid_chunk_has_its_chunk_run_elsewhere(
        dask_cluster: DaskCluster, tmp_path: Path) -> None:
    from distributed import Client

    out = tmp_path / "out"
    job = Job("slow_render", layers=[
        Layer("render", command=[sys.executable, str(TOOL), "write", str(out), "{frames}",
                                 "--sleep", "1"],
              frames="1-6", chunk=2, tags=["render"], retries=0),
    ])
    jd, backend = submit(dask_cluster, tmp_path, job)
    handle_keys = (jd.read_handle() or {})["data"]["keys"]
    with Client(dask_cluster.address, timeout=30) as client:
        victim = None
        deadline = time.monotonic() + 60
        chunks = jd.job().chunks()
        while victim is None and time.monotonic() < deadline:
            # mid-chunk: a chunk that is running and has written its first frame (a worker's
            # processing list also holds tasks queued behind the running one: ask the state)
            running = [c.key for c in chunks if jd.read_state(c).state == "running"
                       and (out / f"{c.frames[0]:04d}.txt").exists()]
            for addr, keys in client.processing().items():
                if running and handle_keys[running[0]] in keys:
                    victim = (addr, handle_keys[running[0]])
            time.sleep(0.05)
        assert victim is not None, "no chunk started"
        name = client.scheduler_info(n_workers=-1)["workers"][victim[0]]["name"]
    proc = next(w for w in dask_cluster.workers if name in w.args)  # type: ignore[operator]
    dask_cluster.kill(proc.pid)
    chunk_key = next(k for k, v in handle_keys.items() if v == victim[1])
    from setpiece.core.farm.backend import JobHandle

    status = backend.wait(JobHandle.from_dict(jd.read_handle() or {}))
    assert status.state == "done", status.summary()
    killed = next(c for c in jd.job().chunks() if c.key == chunk_key)
    assert jd.read_state(killed).attempts == 2  # run again, elsewhere
    log = jd.log_path(killed).read_text()
    assert "chunk stopped: the process that started it died" in log
    assert log.count("attempt 2") == 1
    # each frame exists once, whole; nothing half-written; the killed attempt is not still
    # rendering behind the job's back
    time.sleep(2.5)
    assert sorted(p.name for p in out.iterdir() if p.name != "renders.log") == \
        [f"{i:04d}.txt" for i in range(1, 7)]
    rendered = (out / "renders.log").read_text().split()
    assert sorted(set(rendered)) == sorted(str(i) for i in range(1, 7))
    assert len(rendered) <= 7  # the killed chunk's first frame may have been rendered twice
    # put the cluster back to two workers for the tests that follow
    dask_cluster.start_worker(f"worker-{len(dask_cluster.workers) + 1}")
    dask_cluster.wait_for_workers(2)


def test_kill_stops_running_chunks_and_retry_runs_only_what_did_not_finish(
        dask_cluster: DaskCluster, tmp_path: Path, make_workspace: Any,
        run_setpiece: Any) -> None:
    ws = make_workspace()
    with (ws.root / "setpiece.toml").open("a") as toml:
        toml.write(f'\n[farm.backends.dask]\naddress = "{dask_cluster.address}"\n')
    out = tmp_path / "out"
    job = Job("slow_job", layers=[
        Layer("render", command=[sys.executable, str(TOOL), "write", str(out), "{frames}",
                                 "--sleep", "1.5"],
              frames="1-8", chunk=2, tags=["render"], retries=0),
    ])
    jobfile = save_job(job, tmp_path / "job.yaml")
    submitted = run_setpiece("-w", ws.root, "farm", "submit", jobfile, "--backend", "dask")
    assert submitted.exit_code == 0, submitted.err
    job_id = submitted.out.strip()
    jd = JobDir(ws.root / ".setpiece" / "farm" / "jobs" / job_id)
    deadline = time.monotonic() + 60
    while not (out / "0001.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    killed = run_setpiece("-w", ws.root, "farm", "kill", job_id)
    assert killed.exit_code == 0, killed.err
    assert "killed" in killed.out

    def stopped_chunks() -> list[Any]:
        return [c for c in jd.job().chunks() if "chunk stopped: the job was killed"
                in (jd.log_path(c).read_text() if jd.log_path(c).exists() else "")]

    deadline = time.monotonic() + 60  # running chunks stop (polled: the machine may be slow)
    while not stopped_chunks() and time.monotonic() < deadline:
        time.sleep(0.1)
    status = jd.status("dask")
    assert status.state == "killed"
    done_before = {c.index for c in status.chunks if c.state == "done"}
    assert len(done_before) < 4
    assert stopped_chunks(), "no running chunk was stopped"
    retried = run_setpiece("-w", ws.root, "farm", "retry", job_id, "--wait")
    assert retried.exit_code == 0, retried.err
    assert "done (4/4 chunks done)" in retried.out
    for chunk in jd.job().chunks():  # finished chunks were not run again
        if chunk.index in done_before:
            assert jd.read_state(chunk).attempts == 1
    assert sorted(p.name for p in out.glob("*.txt")) == [f"{i:04d}.txt" for i in range(1, 9)]
