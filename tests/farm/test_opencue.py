"""The opencue backend: a real PyOutline outline, serialised to OpenCue's job spec XML, valid
against OpenCue's cjsl-1.15 DTD (tests/farm/fixtures), and each layer's frames run the way
Cuebot dispatches and RQD runs them (tests/farm/rqd_emulation.py). No Cuebot runs here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

lxml_etree = pytest.importorskip("lxml.etree")
pytest.importorskip("outline")

from rqd_emulation import run_layer  # noqa: E402

from setpiece.core.errors import SetpieceError  # noqa: E402
from setpiece.core.farm.jobdir import JobDir  # noqa: E402
from setpiece.core.farm.model import Depend, Job, Layer  # noqa: E402
from setpiece.core.farm.opencue import OpenCueBackend, job_spec  # noqa: E402

HERE = Path(__file__).parent
DTD = HERE / "fixtures" / "cjsl-1.15.dtd"
TOOL = HERE / "frame_tool.py"


def two_layer_job(out: Path, **render: object) -> Job:
    """render 1-10 in chunks of 3 (tag render), check 1-10 in chunks of 2 waiting frame by
    frame on render."""
    return Job("kitchen_render", show="demo", shot="sh010", env={"STUDIO": "setpiece"}, layers=[
        Layer("render", command=[sys.executable, str(TOOL), "write", str(out), "{frames}"],
              frames="1-10", chunk=3, tags=["render"], cores=2, memory_mb=2048,
              env={"RENDER_QUALITY": "low"}, **render),  # type: ignore[arg-type]
        Layer("check", command=[sys.executable, str(TOOL), "check", str(out), "{frames}"],
              frames="1-10", chunk=2, depends=[Depend("render", "frame")]),
    ])


def validate(xml: str) -> lxml_etree._Element:
    dtd = lxml_etree.DTD(str(DTD))
    doc = lxml_etree.fromstring(xml.encode(), lxml_etree.XMLParser(no_network=True))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    return doc


def test_job_spec_is_valid_against_the_dtd_and_has_the_frame_by_frame_depend(tmp_path: Path) -> None:
    job = two_layer_job(tmp_path / "out")
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    xml = job_spec(job, jd)
    assert '<!DOCTYPE spec PUBLIC "SPI Cue  Specification Language"' in xml
    assert "cjsl-1.15.dtd" in xml
    doc = validate(xml)
    assert (jd.path / "opencue" / "spec.xml").read_text() == xml
    layers = {la.get("name"): la for la in doc.iter("layer")}
    assert list(layers) == ["render", "check"]
    render = layers["render"]
    assert (render.findtext("range"), render.findtext("chunk")) == ("1-10", "3")
    assert (render.findtext("cores"), render.findtext("memory"), render.findtext("tags")) == \
        ("2.0", "2048m", "render")
    assert {k.get("name"): k.text for k in render.find("env")} == {"RENDER_QUALITY": "low"}
    assert {k.get("name"): k.text for k in doc.find("job/env")} == {"STUDIO": "setpiece"}
    cmd = render.findtext("cmd")
    assert "setpiece.core.farm.remote" in cmd and "#IFRAME#" in cmd
    assert "wrap_frame" not in cmd and "pycuerun" not in cmd  # pyoutline's tcsh wrappers
    (depend,) = doc.iter("depend")
    assert depend.get("type") == "FRAME_BY_FRAME"
    assert (depend.findtext("deplayer"), depend.findtext("onlayer")) == ("check", "render")


def test_layer_dependencies_and_single_pre_post_layers_map(tmp_path: Path) -> None:
    job = Job("kinds_job", layers=[
        Layer("prep", command=["true"], kind="pre"),
        Layer("render", command=["true"], frames="1-20", chunk=5),
        Layer("movie", command=["true"], frames="1-20", kind="single", depends=["render"]),
        Layer("notify", command=["true"], kind="post"),
    ])
    doc = validate(job_spec(job, JobDir.create(tmp_path / "jobs", job, context={})))
    layers = {la.get("name"): la for la in doc.iter("layer")}
    assert layers["movie"].findtext("chunk") == "20"  # one chunk holding every frame
    assert layers["prep"].get("type") == "Util" and layers["notify"].get("type") == "Util"
    depends = {(d.findtext("deplayer"), d.findtext("onlayer"), d.get("type"))
               for d in doc.iter("depend")}
    assert depends == {
        ("render", "prep", "LAYER_ON_LAYER"),
        ("movie", "render", "LAYER_ON_LAYER"),
        ("movie", "prep", "LAYER_ON_LAYER"),
        ("notify", "prep", "LAYER_ON_LAYER"),
        ("notify", "render", "LAYER_ON_LAYER"),
        ("notify", "movie", "LAYER_ON_LAYER"),
    }


def test_each_frame_command_runs_as_rqd_runs_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = two_layer_job(out)
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    xml = job_spec(job, jd)
    rqd_logs = tmp_path / "rqd"
    render = run_layer(xml, "render", rqd_logs)
    assert [f.name for f in render] == ["0001-render", "0004-render", "0007-render", "0010-render"]
    assert all(f.exit_code == 0 for f in render), [f.log.read_text() for f in render]
    check = run_layer(xml, "check", rqd_logs)
    assert [f.exit_code for f in check] == [0] * 5
    assert sorted(p.name for p in out.glob("*.txt")) == [f"{i:04d}.txt" for i in range(1, 11)]
    # The farm worker ran each chunk: state and log in the job folder, output in RQD's log too.
    status = jd.status("opencue")
    assert status.state == "done" and status.counts()["done"] == 9
    assert "checked frames [5, 6]: missing []" in jd.read_log("check", 5)
    rqlog = (rqd_logs / "kitchen_render.0004-render.rqlog").read_text()
    assert "layer render frames 4-6" in rqlog and "wrote frame 6" in rqlog
    # The chunk saw its environment: the layer's env and setpiece's names for the chunk.
    assert "frame 4 by render" in (out / "0004.txt").read_text()


def test_a_failing_frame_fails_under_rqd_and_names_its_frames(tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = two_layer_job(out)
    job.layers[0].command = [*job.layers[0].command, "--fail", "5"]  # type: ignore[misc]
    job.layers[0].retries = 0
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    frames = run_layer(job_spec(job, jd), "render", tmp_path / "rqd")
    assert [f.exit_code for f in frames] == [0, 3, 0, 0]
    assert "frame 5 failed" in frames[1].log.read_text()
    status = jd.status("opencue")
    assert "dead: layer render frames 4-6" in status.summary()


@pytest.mark.parametrize(("name", "tag", "fragment"), [
    ("ab", "render", "layer names of at least 3 characters"),
    ("render", "gpu-a", "tag 'gpu-a'"),
])
def test_names_cuebot_refuses_are_refused_first(tmp_path: Path, name: str, tag: str,
                                                fragment: str) -> None:
    job = Job("naming", layers=[Layer(name, command=["true"], tags=[tag])])
    with pytest.raises(SetpieceError, match=fragment):
        job_spec(job, JobDir.create(tmp_path / "jobs", job, context={}))


def test_submit_without_a_cuebot_is_a_clear_error(tmp_path: Path) -> None:
    job = two_layer_job(tmp_path / "out")
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    with pytest.raises(SetpieceError, match=r"no Cuebot configured: set \[farm.backends.opencue\]"):
        OpenCueBackend({}, tmp_path / "jobs").submit(jd)


def test_a_cuebot_that_cannot_be_reached_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a free port: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    job = two_layer_job(tmp_path / "out")
    jd = JobDir.create(tmp_path / "jobs", job, context={})
    backend = OpenCueBackend({"cuebot": f"127.0.0.1:{port}"}, tmp_path / "jobs")
    with pytest.raises(SetpieceError, match=rf"Cuebot 127.0.0.1:{port} did not take the job "
                       r"\(No grpc connection could be established.*the job spec is written: "):
        backend.submit(jd)
    validate((jd.path / "opencue" / "spec.xml").read_text())
    assert jd.read_handle() is None  # never handed to a backend


def test_unknown_backend_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SetpieceError, match=r"\[farm.backends.opencue\] has an unknown option "
                       r"'cuebots': use cuebot, python"):
        OpenCueBackend({"cuebots": "x"}, tmp_path)
