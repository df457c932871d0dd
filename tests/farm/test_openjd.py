"""The openjd backend: an Open Job Description template validated with openjd-model, run with
OpenJD's own CLI (``openjd run``, from openjd-cli) step by step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("openjd.model")

from openjd.model import (
    StepParameterSpaceIterator,
    create_job,
    decode_job_template,
    preprocess_job_parameters,
)

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.jobdir import JobDir
from setpiece.core.farm.model import Depend, Job, Layer
from setpiece.core.farm.openjd import OpenJDBackend, write_template

HERE = Path(__file__).parent
TOOL = HERE / "frame_tool.py"
OPENJD = Path(sys.executable).parent / "openjd"


def two_layer_job(out: Path) -> Job:
    return Job("kitchen_render", layers=[
        Layer("render", command=[sys.executable, str(TOOL), "write", str(out), "{frames}"],
              frames="1-10", chunk=3, tags=["render"], cores=2, memory_mb=2048, timeout=600),
        Layer("check", command=[sys.executable, str(TOOL), "check", str(out), "{frames}"],
              frames="1-10", chunk=2, depends=[Depend("render", "frame")]),
    ])


def test_template_is_valid_and_maps_layers_to_steps(tmp_path: Path) -> None:
    job = two_layer_job(tmp_path / "out")
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    path = write_template(job, jd)
    assert path == jd.path / "template.json"
    template = json.loads(path.read_text())
    # openjd-model's own checks, as a submitter runs them
    decoded = decode_job_template(template=template)
    values = preprocess_job_parameters(job_template=decoded, job_parameter_values={},
                                       job_template_dir=jd.path, current_working_dir=jd.path)
    assert values["JobDir"].value == str(jd.path)
    ojd = create_job(job_template=decoded, job_parameter_values=values)
    assert [s.name for s in ojd.steps] == ["render", "check"]
    render, check = ojd.steps
    tasks = [{k: v.value for k, v in t.items()}
             for t in StepParameterSpaceIterator(space=render.parameterSpace)]
    assert tasks == [{"Chunk": "0", "Frames": "1-3"}, {"Chunk": "1", "Frames": "4-6"},
                     {"Chunk": "2", "Frames": "7-9"}, {"Chunk": "3", "Frames": "10"}]
    # the frame dependency became a whole-step dependency
    assert check.dependencies is not None
    assert [d.dependsOn for d in check.dependencies] == ["render"]
    steps = {s["name"]: s for s in template["steps"]}
    assert steps["render"]["hostRequirements"] == {
        "amounts": [{"name": "amount.worker.vcpu", "min": 2},
                    {"name": "amount.worker.memory", "min": 2048}],
        "attributes": [{"name": "attr.custom.tag", "allOf": ["render"]}],
    }
    assert steps["render"]["script"]["actions"]["onRun"]["timeout"] == 600


def test_a_template_openjd_refuses_is_a_clear_error(tmp_path: Path) -> None:
    job = Job("long_names", layers=[Layer("r" * 80, command=["true"])])  # OpenJD: <= 64
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    with pytest.raises(SetpieceError, match="OpenJD refuses the job template"):
        write_template(job, jd)
    assert not (jd.path / "template.json").exists()


@pytest.mark.slow
@pytest.mark.skipif(not OPENJD.exists(), reason="openjd-cli is not installed (dev group)")
def test_openjd_run_renders_and_checks_every_frame(tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = two_layer_job(out)
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    handle = OpenJDBackend({"run": True}, tmp_path / "jobs").submit(jd)
    status = jd.status("openjd")
    assert status.state == "done", status.summary()
    assert handle.state == "done"
    assert sorted(p.name for p in out.glob("*.txt")) == [f"{i:04d}.txt" for i in range(1, 11)]
    session_log = (jd.path / "logs" / "openjd-check.log").read_text()
    assert "Chunk(INT) = 4" in session_log and "Frames(STRING) = 9-10" in session_log
    assert "checked frames [9, 10]: missing []" in session_log


@pytest.mark.slow
@pytest.mark.skipif(not OPENJD.exists(), reason="openjd-cli is not installed (dev group)")
def test_openjd_run_stops_at_a_failing_step(tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = two_layer_job(out)
    job.layers[0].command = [*job.layers[0].command, "--fail", "8"]  # type: ignore[misc]
    job.layers[0].retries = 0
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    handle = OpenJDBackend({"run": True}, tmp_path / "jobs").submit(jd)
    status = jd.status("openjd")
    assert handle.state == "dead"
    assert "dead: layer render frames 7-9" in status.summary()
    assert status.layers["check"]["done"] == 0  # nothing downstream ran
    assert not (jd.path / "logs" / "openjd-check.log").exists()
