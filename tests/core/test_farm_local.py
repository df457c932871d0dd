"""The ``local`` farm backend, through the CLI: dependencies, failures, retries, kill, resume.

Chunks are real subprocesses running small Python scripts that leave a marker file per
execution, so the tests count how often each chunk ran.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from setpiece.core.farm import Depend, Job, Layer, save_job

PY = sys.executable

RENDER = textwrap.dedent("""
    import os, sys, time
    out = sys.argv[1]
    frames = os.environ["SETPIECE_FRAMES"].split(",")
    key = os.environ["SETPIECE_LAYER"] + "." + os.environ["SETPIECE_FRAME"]
    with open(os.path.join(out, "runs", key + "." + str(time.time_ns())), "w") as fh:
        fh.write(os.environ["SETPIECE_CHUNK_RANGE"])
    if os.path.exists(os.path.join(out, "fail." + os.environ["SETPIECE_FRAME"])):
        print("cannot render frames", os.environ["SETPIECE_FRAMES"])
        sys.exit(3)
    time.sleep(float(os.environ.get("SLEEP_" + os.environ["SETPIECE_FRAME"], "0")))
    for f in frames:
        with open(os.path.join(out, "frame.%04d.txt" % int(f)), "w") as fh:
            fh.write(f)
    print("rendered", os.environ["SETPIECE_FRAMES"])
""")

CHECK = textwrap.dedent("""
    import os, sys, time
    out, frame = sys.argv[1], int(sys.argv[2])
    with open(os.path.join(out, "runs", "check.%d.%d" % (frame, time.time_ns())), "w"):
        pass
    path = os.path.join(out, "frame.%04d.txt" % frame)
    print("checking", path, os.environ["CUE_FRAME"])
    sys.exit(0 if os.path.isfile(path) else 4)
""")


@pytest.fixture
def farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "out" / "runs").mkdir(parents=True)
    (tmp_path / "render.py").write_text(RENDER)
    (tmp_path / "check.py").write_text(CHECK)
    monkeypatch.setenv("SETPIECE_FARM_DIR", str(tmp_path / "jobs"))
    return tmp_path


def two_layer_job(root: Path, retries: int = 1) -> Path:
    out = root / "out"
    job = Job("shot010", show="demo", shot="sh010", layers=[
        Layer("render", command=[PY, str(root / "render.py"), str(out)], frames="1-10", chunk=3,
              retries=retries),
        Layer("check", command=[PY, str(root / "check.py"), str(out), "{frame}"], frames="1-10",
              depends=[Depend("render", "frame")], retries=0),
    ])
    return save_job(job, root / "job.yaml")


def runs(root: Path, prefix: str) -> list[str]:
    return sorted(p.name for p in (root / "out" / "runs").iterdir() if p.name.startswith(prefix + "."))


def state(root: Path) -> dict[str, dict[str, dict]]:
    (job_dir,) = (root / "jobs").iterdir()
    out: dict[str, dict[str, dict]] = {}
    for path in (job_dir / "state").rglob("*.json"):
        out.setdefault(path.parent.name, {})[path.stem] = json.loads(path.read_text())
    return out


def test_two_layers_with_a_frame_by_frame_dependency(farm: Path, run_cli, monkeypatch) -> None:
    # the chunk holding frame 10 is slow: check of frames 1-9 must not wait for it
    monkeypatch.setenv("SLEEP_10", "3")
    result = run_cli("farm", "submit", two_layer_job(farm), "--wait", "--workers", "2")
    assert result.exit_code == 0, result.err
    assert "done (14/14 chunks done)" in result.out
    assert "render 4/4" not in result.err  # not a terminal: no progress line
    assert sorted(p.name for p in (farm / "out").glob("frame.*")) == [
        f"frame.{f:04d}.txt" for f in range(1, 11)]
    st = state(farm)
    # frame N of check started after the render chunk holding N ended ...
    holder = {f: str((f - 1) // 3) for f in range(1, 11)}
    for f in range(1, 11):
        assert st["check"][str(f - 1)]["started"] >= st["render"][holder[f]]["ended"]
    # ... and not after the whole render layer: check 1 was done before render 10 ended
    assert st["check"]["0"]["ended"] < st["render"]["3"]["ended"]
    assert [len(runs(farm, f"render.{f}")) for f in (1, 4, 7, 10)] == [1, 1, 1, 1]

    job_id = result.out.split("job ")[1].split(":")[0]
    status = run_cli("farm", "status", job_id, "--json").json()
    assert status["state"] == "done" and status["counts"]["done"] == 14
    assert status["layers"] == {"render": {"waiting": 0, "running": 0, "done": 4, "dead": 0},
                                "check": {"waiting": 0, "running": 0, "done": 10, "dead": 0}}
    # by job name (its newest job) too; logs of one frame's chunk
    assert run_cli("farm", "status", "shot010").out.startswith(f"job {job_id}: done")
    log = run_cli("farm", "logs", job_id, "render", "5")
    assert "layer render frames 4-6 attempt 1" in log.out and "rendered 4,5,6" in log.out
    assert "render frames 1-3" not in log.out
    listing = run_cli("farm", "status")
    assert listing.out.strip() == f"job {job_id}: done (14/14 chunks done)"


def test_a_dead_chunk_stops_only_its_downstream_then_retry_finishes(farm: Path, run_cli) -> None:
    (farm / "out" / "fail.4").write_text("")
    result = run_cli("farm", "submit", two_layer_job(farm, retries=1), "--wait", "--workers", "2")
    message = result.user_error("layer render frames 4-6", "3 chunks downstream of dead chunks")
    assert "dead: layer render frames 4-6 (exit 3, 2 attempts)" in result.err
    assert "farm retry" in message
    assert len(runs(farm, "render.4")) == 2  # one retry, then dead
    # nothing downstream of the dead chunk ran; everything else did
    assert [f for f in range(1, 11) if runs(farm, f"check.{f}")] == [1, 2, 3, 7, 8, 9, 10]
    job_id = message.split("job ")[1].split(":")[0]
    status = run_cli("farm", "status", job_id, "--json").json()
    assert status["state"] == "dead"
    assert status["layers"]["check"] == {"waiting": 3, "running": 0, "done": 7, "dead": 0}
    assert "cannot render frames 4,5,6" in run_cli("farm", "logs", job_id, "render", "4").out

    # fixed: retry runs the dead chunk and its downstream, nothing that finished
    (farm / "out" / "fail.4").unlink()
    again = run_cli("farm", "retry", job_id, "--wait")
    assert again.exit_code == 0, again.err
    assert "done (14/14 chunks done)" in again.out
    assert len(runs(farm, "render.4")) == 3
    assert [len(runs(farm, f"render.{f}")) for f in (1, 7, 10)] == [1, 1, 1]
    assert all(len(runs(farm, f"check.{f}")) == 1 for f in range(1, 11))


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _done_chunks(root: Path, layer: str) -> set[str]:
    return {k for k, v in state(root).get(layer, {}).items() if v["state"] == "done"}


@pytest.mark.slow
def test_a_killed_runner_resumes_without_rerunning_finished_chunks(farm: Path, run_cli,
                                                                   monkeypatch) -> None:
    for f in (4, 7, 10):
        monkeypatch.setenv(f"SLEEP_{f}", "1.5")
    submitted = run_cli("farm", "submit", two_layer_job(farm), "--workers", "2")
    assert submitted.exit_code == 0, submitted.err
    job_id = submitted.out.strip()
    job_dir = farm / "jobs" / job_id
    assert run_cli("farm", "status", job_id, "--json").json()["state"] == "running"
    # the runner is killed without warning once some chunks are done and others running
    _wait_for(lambda: (job_dir / "runner.json").exists() and len(_done_chunks(farm, "render")) >= 1
              and any(v["state"] == "running" for v in state(farm)["render"].values()))
    runner = json.loads((job_dir / "runner.json").read_text())["pid"]
    os.kill(runner, signal.SIGKILL)
    _wait_for(lambda: run_cli("farm", "status", job_id, "--json").json()["state"] == "stopped")
    done_before = _done_chunks(farm, "render")
    assert done_before

    result = run_cli("farm", "retry", job_id, "--wait")
    assert result.exit_code == 0, result.err
    assert "done (14/14 chunks done)" in result.out
    for index in done_before:  # finished before the kill: never run again
        assert len(runs(farm, f"render.{int(index) * 3 + 1}")) == 1
    assert all(len(runs(farm, f"check.{f}")) == 1 for f in range(1, 11))


@pytest.mark.slow
def test_kill_stops_a_running_job_and_retry_resumes_it(farm: Path, run_cli, monkeypatch) -> None:
    monkeypatch.setenv("SLEEP_1", "30")  # the first chunk would run for 30 s
    job_id = run_cli("farm", "submit", two_layer_job(farm), "--workers", "1").out.strip()
    job_dir = farm / "jobs" / job_id
    _wait_for(lambda: bool(runs(farm, "render.1")))  # the chunk's command is running
    started = time.monotonic()
    killed = run_cli("farm", "kill", job_id)
    assert killed.exit_code == 0, killed.err
    assert time.monotonic() - started < 28  # the chunk would run 30 s: it was stopped
    assert f"job {job_id}: killed (0/14 chunks done)" in killed.out
    assert state(farm)["render"]["0"]["state"] == "waiting"
    assert state(farm)["render"]["0"]["attempts"] == 0
    assert run_cli("farm", "kill", job_id, "--json").json()["state"] == "killed"  # again: no-op  # a killed attempt is not a failure
    assert "killed" in json.loads((job_dir / "handle.json").read_text())["state"]
    monkeypatch.setenv("SLEEP_1", "0")
    result = run_cli("farm", "retry", job_id, "--wait")
    assert result.exit_code == 0, result.err
    assert len(runs(farm, "render.1")) == 2  # the killed attempt, then the one that finished


def test_wait_draws_the_jobs_progress_on_a_terminal(farm: Path, run_in_terminal) -> None:
    job = Job("quick", layers=[
        Layer("render", command=[PY, "-c", "import time; time.sleep(0.3)"], frames="1-4"),
        Layer("check", command=[PY, "-c", "pass"], frames="1-2", depends=["render"]),
    ])
    t = run_in_terminal("farm", "submit", save_job(job, farm / "quick.json"), "--wait",
                        "--workers", "2")
    assert t.exit_code == 0, t.raw
    drawn = [part.split("\r")[0] for part in t.raw.split("\r\x1b[K")[1:] if part.strip()]
    assert any(d.startswith("Job ") and ": render 4/4, check " in d for d in drawn), drawn
    # erased before the end: the screen holds the result line only
    assert len(t.screen) == 1 and t.screen[0].endswith(": done (6/6 chunks done)"), t.screen


def test_a_crashing_worker_does_not_take_the_runner_down(farm: Path, run_cli) -> None:
    job = Job("crash", layers=[
        Layer("boom", command=[PY, "-c", "import os; os.kill(os.getpid(), 9)"], frames="1-2",
              retries=0),
        Layer("after", command=[PY, "-c", "print('ran')"], depends=["boom"]),
        Layer("fine", command=[PY, "-c", "print('fine')"], frames="1-3"),
    ])
    result = run_cli("-q", "farm", "submit", save_job(job, farm / "crash.json"), "--wait")
    result.user_error("dead: layer boom frames 1,2;", "1 chunks downstream of dead chunks (layer after)")
    assert "boom 0/2" not in result.err  # -q: no progress
    assert "dead: layer boom frames 1 (exit -9, 1 attempts)" in result.err
    status = run_cli("farm", "status", "crash", "--json").json()
    assert status["layers"]["fine"]["done"] == 3 and status["layers"]["after"]["waiting"] == 1


def test_module_layers_run_setup_once_and_execute_per_chunk(farm: Path, run_cli,
                                                            monkeypatch) -> None:
    pkg = farm / "pkgs" / "studio_farm"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text(textwrap.dedent("""
        import os
        from setpiece.core.farm import Module

        class Stamp(Module):
            def setup(self, session):
                session.put("out", self.args["out"])
                with open(os.path.join(self.args["out"], "setup." + str(os.getpid())), "w"):
                    pass

            def execute(self, frames):
                out = self.session.get("out")
                for f in frames:
                    with open(os.path.join(out, "stamp.%d" % f), "w") as fh:
                        fh.write(os.environ["SETPIECE_JOB"] + " " + str(self.args["gain"]))
                if 5 in frames:
                    raise RuntimeError("frame 5 is cursed")
    """))
    monkeypatch.syspath_prepend(str(farm / "pkgs"))
    monkeypatch.setenv("PYTHONPATH", str(farm / "pkgs"))
    job = Job("stamps", layers=[Layer("stamp", module="studio_farm.layers:Stamp",
                                      args={"out": str(farm / "out"), "gain": 2},
                                      frames="1-6", chunk=2, retries=0)])
    result = run_cli("farm", "submit", save_job(job, farm / "stamps.json"), "--wait")
    result.user_error("layer stamp frames 5-6")
    assert len(list((farm / "out").glob("setup.*"))) == 1  # once, before launch
    assert sorted(p.name for p in (farm / "out").glob("stamp.*")) == [
        f"stamp.{f}" for f in range(1, 7)]
    assert (farm / "out" / "stamp.3").read_text() == "stamps 2"
    log = run_cli("farm", "logs", "stamps", "stamp", "6").out
    assert "RuntimeError: frame 5 is cursed" in log


def test_bad_input_is_one_line(farm: Path, run_cli) -> None:
    run_cli("farm", "submit", farm / "missing.json").user_error("missing.json does not exist")
    (farm / "bad.json").write_text(json.dumps({"name": "x", "layers": [
        {"name": "a", "command": ["true"], "frames": "1-3", "chunk": 0}]}))
    run_cli("farm", "submit", farm / "bad.json").user_error("job.layers[0] (a).chunk")
    run_cli("farm", "status", "nope").user_error("no farm job 'nope'")
    run_cli("farm", "submit", two_layer_job(farm), "--backend", "warp").user_error(
        "farm backend 'warp' is unknown", "local")
    assert not (farm / "jobs").exists() or not any((farm / "jobs").iterdir())
    job_id = run_cli("farm", "submit", two_layer_job(farm), "--wait").out.split("job ")[1].split(":")[0]
    run_cli("farm", "retry", job_id, "paint").user_error("has no layer 'paint'", "render, check")
    run_cli("farm", "logs", job_id, "render", "99").user_error("no log for layer render frame 99")


def test_the_worker_module_runs_one_chunk(farm: Path) -> None:
    """What the runner starts, run by hand: a chunk's output goes where it is pointed."""
    from setpiece.core.farm.jobdir import JobDir
    from setpiece.core.farm.submitting import FarmConfig, prepare

    job = Job("one", layers=[Layer("a", command=[PY, "-c", "import os; print(os.environ['CUE_IFRAME'])"],
                                   frames="5-8", chunk=2)])
    jd = prepare(job, FarmConfig(jobs_dir=farm / "jobs"))
    proc = subprocess.run([PY, "-m", "setpiece.core.farm.worker", str(jd.path), "a", "1"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "\n7\n" in proc.stdout
    assert JobDir(jd.path).read_state(job.layer("a").chunks()[1]).state == "done"
    bad = subprocess.run([PY, "-m", "setpiece.core.farm.worker", str(jd.path), "a", "9"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "layer 'a' has 2 chunks: no chunk 9" in bad.stderr


def test_setpiece_layers_run_setpiece_commands(farm: Path, run_cli) -> None:
    from setpiece.core.farm.layers import (
        pipeline_layer,
        publish_layer,
        reaction_layer,
        run_layer,
        scene_build_layer,
        setpiece_layer,
    )

    job = Job("tools", layers=[setpiece_layer("version", ["--version"]),
                               setpiece_layer("bad", ["nosuchcommand"], retries=0)])
    result = run_cli("farm", "submit", save_job(job, farm / "tools.json"), "--wait")
    result.user_error("dead: layer bad frames 1")
    assert "setpiece, version" in run_cli("farm", "logs", "tools", "version").out
    assert "No such command 'nosuchcommand'" in run_cli("farm", "logs", "tools", "bad").out

    ws = farm / "ws"
    head = [PY, "-m", "setpiece.core.cli", "-w", str(ws.resolve())]
    build = scene_build_layer("KitchenSet", farm / "k.blend", workspace=ws)
    assert build.command == [*head, "batch", "blender", "build", "KitchenSet", "-o",
                             str((farm / "k.blend").resolve())] and build.kind == "pre"
    publish = publish_layer(farm / "k.blend", asset="KitchenSet", repo="review", workspace=ws)
    assert publish.command[-6:] == ["publish", str((farm / "k.blend").resolve()), "--asset",
                                    "KitchenSet", "--repo", "review"] and publish.kind == "post"
    run = run_layer(farm / "cache.py", ["{frames}"], host="houdini", frames="1-10", chunk=5)
    assert run.command[-3:] == ["run", str((farm / "cache.py").resolve()), "{frames}"]
    assert [c.spec for c in run.chunks()] == ["1-5", "6-10"]
    react = reaction_layer("--json", workspace=ws)
    assert react.command == [*head, "react", "--once", "--json"] and react.kind == "single"
    stage = pipeline_layer("Chair", "movie", workspace=ws)
    assert stage.name == "pipeline-movie" and stage.command[-4:] == ["pipeline", "run", "Chair", "movie"]


def test_module_layers_import_from_the_workspaces_installed_packages(make_workspace, run_cli,
                                                                     tmp_path: Path) -> None:
    """Not from the submitter's sys.path: from the workspace's inputs/ site-packages, where
    its assets are installed (the class is named by string, never pickled)."""
    ws = make_workspace()
    pkg = ws.site_packages / "ws_farm_tools"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        import os

        class Touch:
            def __init__(self, out):
                self.out = out

            def setup(self, session):
                session.put("where", __file__)

            def execute(self, frames):
                with open(self.out + "/%d-%d.txt" % (frames[0], frames[-1]), "w") as fh:
                    fh.write(self.session.get("where") + " " + os.environ["SETPIECE_WORKSPACE"])
    """))
    out = tmp_path / "touched"
    out.mkdir()
    job = Job("tools", layers=[Layer("touch", module="ws_farm_tools:Touch",
                                     args={"out": str(out)}, frames="1-4", chunk=2)])
    result = run_cli("-w", ws.root, "farm", "submit", save_job(job, tmp_path / "t.json"), "--wait")
    assert result.exit_code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == ["1-2.txt", "3-4.txt"]
    assert (out / "1-2.txt").read_text() == f"{pkg / '__init__.py'} {ws.root}"
    assert (ws.root / ".setpiece" / "farm" / "jobs").is_dir()
    assert "ws_farm_tools" not in sys.modules  # setup ran with the workspace importable, then not
    events = [json.loads(line) for line in (ws.root / ".setpiece" / "events.jsonl").read_text().splitlines()]
    farm_events = [e for e in events if e["event"].startswith("farm.")]
    assert [e["event"] for e in farm_events] == ["farm.submitted", "farm.done"]
    assert farm_events[1]["counts"]["done"] == 2 and farm_events[1]["job"] == "tools"


def test_farm_settings_come_from_setpiece_toml(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    with ws.config.edit() as doc:
        doc["farm"] = {"backend": "local", "jobs_dir": "farm-jobs",
                       "backends": {"local": {"workers": 1}}}
    job = save_job(Job("cfg", layers=[Layer("a", command=[PY, "-c", "pass"], frames="1-2")]),
                   tmp_path / "cfg.json")
    result = run_cli("-w", ws.root, "farm", "submit", job, "--wait", "--json")
    assert result.exit_code == 0, result.err
    data = result.json()
    assert data["handle"]["data"] == {"workers": 1}
    assert Path(data["handle"]["job_dir"]).parent == ws.root / "farm-jobs"
    with ws.config.edit() as doc:
        doc["farm"]["backends"]["local"]["threads"] = 4
    run_cli("-w", ws.root, "farm", "submit", job).user_error(
        "[farm.backends.local]: unknown option 'threads'", "workers")
    with ws.config.edit() as doc:
        doc["farm"] = {"backend": "warp"}
    run_cli("-w", ws.root, "farm", "submit", job).user_error("farm backend 'warp' is unknown")
