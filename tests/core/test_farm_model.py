"""The farm job model: frame specs, chunks, dependencies, validation, JSON/YAML round-trip."""

from __future__ import annotations

import json

import pytest

from setpiece.core.errors import SetpieceError
from setpiece.core.farm import Depend, Job, Layer, format_frames, load_job, parse_frames, save_job
from setpiece.core.farm.env import chunk_env, token_values
from setpiece.core.farm.jobfile import dumps, loads


@pytest.mark.parametrize(
    ("spec", "frames"),
    [
        ("1-5", [1, 2, 3, 4, 5]),
        ("1-10x3", [1, 4, 7, 10]),
        ("1,5,10-12", [1, 5, 10, 11, 12]),
        ("7", [7]),
        ("-3--1", [-3, -2, -1]),
        ("-2-1", [-2, -1, 0, 1]),
        (" 1 - 3 ", [1, 2, 3]),
        (12, [12]),
    ],
)
def test_frame_specs_parse(spec: str, frames: list[int]) -> None:
    assert parse_frames(spec) == frames


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("", "is empty"),
        ("1-", "'1-'"),
        ("a-b", "'a-b'"),
        ("10-1", "ends before it starts"),
        ("1-10x0", "step"),
        ("1-5,3", "frame 3 appears twice"),
        ("1-99999999", "more than"),
        ("1;2", "'1;2'"),
    ],
)
def test_bad_frame_specs_name_the_problem(spec: str, fragment: str) -> None:
    with pytest.raises(SetpieceError) as err:
        parse_frames(spec, what="layer 'render'.frames")
    assert "layer 'render'.frames" in str(err.value) and fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_format_frames_is_the_inverse_of_parse() -> None:
    for spec in ("1-100", "1-99x2", "1,5,10-20", "3", "1-3,5-9x2,20"):
        assert format_frames(parse_frames(spec)) == spec
        assert parse_frames(format_frames(parse_frames(spec))) == parse_frames(spec)


def test_chunks_follow_opencues_rule() -> None:
    layer = Layer("render", command=["echo", "{frames}"], frames="1-10", chunk=3)
    assert [c.frames for c in layer.chunks()] == [(1, 2, 3), (4, 5, 6), (7, 8, 9), (10,)]
    assert [c.spec for c in layer.chunks()] == ["1-3", "4-6", "7-9", "10"]
    single = Layer("movie", command=["x"], frames="1-10", chunk=3, kind="single")
    assert [c.frames for c in single.chunks()] == [tuple(range(1, 11))]
    pre = Layer("prep", command=["x"], frames="5-10", kind="pre")
    assert [c.frames for c in pre.chunks()] == [(5,)]


def _job() -> Job:
    return Job(
        "shot010_render",
        show="demo",
        shot="sh010",
        user="artist",
        priority=50,
        env={"STUDIO": "x"},
        layers=[
            Layer("prep", command=["true"], kind="pre"),
            Layer("render", command=["render", "-f", "{first}", "-l", "{last}"], frames="1-10",
                  chunk=3, tags=["blender"], cores=2, memory_mb=2048, env={"A": "1"}),
            Layer("comp", module="studio.comp:Comp", args={"gain": 2}, frames="1-10", chunk=2,
                  depends=[Depend("render", "frame")], retries=3, timeout=60),
            Layer("movie", command=["encode", "{range}"], frames="1-10", kind="single",
                  depends=["comp"]),
            Layer("notify", command=["notify"], kind="post"),
        ],
    )


def test_frame_by_frame_dependencies_wait_for_the_chunk_holding_each_frame() -> None:
    deps = _job().chunk_dependencies()
    # comp 1-2 waits for render 1-3; comp 3-4 for render 1-3 and 4-6; every layer for prep
    assert deps["comp/0"] == ["render/0", "prep/0"]
    assert deps["comp/1"] == ["render/0", "render/1", "prep/0"]
    assert deps["comp/4"] == ["render/2", "render/3", "prep/0"]  # frames 9-10
    assert deps["render/0"] == ["prep/0"]
    assert deps["prep/0"] == []
    # a layer dependency waits for every chunk; post waits for every non-post layer
    assert deps["movie/0"] == [f"comp/{i}" for i in range(5)] + ["prep/0"]
    assert set(deps["notify/0"]) == {"prep/0", *(f"render/{i}" for i in range(4)),
                                     *(f"comp/{i}" for i in range(5)), "movie/0"}


def test_job_round_trips_through_json_and_yaml(tmp_path) -> None:
    job = _job()
    for name in ("job.json", "job.yaml"):
        path = save_job(job, tmp_path / name)
        again = load_job(path)
        assert again == job
        assert again.to_dict() == job.to_dict()
    data = json.loads((tmp_path / "job.json").read_text())
    assert data["layers"][2]["depends"] == [{"on": "render", "kind": "frame"}]
    assert "!!python" not in (tmp_path / "job.yaml").read_text()
    assert loads(dumps(job, "yaml"), "yaml") == job


def test_chunk_environment_has_setpiece_and_cue_names(tmp_path) -> None:
    job = _job()
    layer = job.layer("render")
    chunk = layer.chunks()[1]
    log = tmp_path / "logs" / "render" / "0004.log"
    env = chunk_env(job, layer, chunk, job_id="j-1", job_dir=tmp_path, log=log)
    assert env["SETPIECE_FRAME"] == "4" and env["SETPIECE_FRAMES"] == "4,5,6"
    assert env["SETPIECE_FRAME_RANGE"] == "1-10" and env["SETPIECE_CHUNK"] == "3"
    assert env["SETPIECE_LOG"] == str(log) and env["SETPIECE_JOB_DIR"] == str(tmp_path)
    assert env["CUE_JOB"] == "shot010_render" and env["CUE_FRAME"] == "0004-render"
    assert env["CUE_IFRAME"] == "4" and env["CUE_RANGE"] == "1-10" and env["CUE_CHUNK"] == "3"
    assert env["CUE_SHOW"] == "demo" and env["CUE_SHOT"] == "sh010" and env["CUE_USER"] == "artist"
    assert env["CUE_LOG_PATH"] == str(log.parent) and env["CUE_MEMORY"] == str(2048 * 1024)
    assert env["STUDIO"] == "x" and env["A"] == "1"
    argv = layer.command_for(chunk, token_values(env, layer, chunk))
    assert argv == ["render", "-f", "4", "-l", "6"]


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d["layers"][1].update(chunk=0), "job.layers[1] (render).chunk: 0 must be"),
        (lambda d: d["layers"][1].update(frames="5-1"), "job.layers[1] (render).frames"),
        (lambda d: d["layers"][1].update(command="render -f 1"), "(render).command: must be a non-empty list"),
        (lambda d: d["layers"][1].update(command=["r", "{frme}"]), "unknown token {frme}"),
        (lambda d: d["layers"][2].update(module="studio.comp"), "(comp).module"),
        (lambda d: d["layers"][2].update(depends=[{"on": "nope", "kind": "frame"}]), "no layer named 'nope'"),
        (lambda d: d["layers"][2].update(depends=[{"on": "render", "kind": "chunk"}]), "depends[0].kind"),
        (lambda d: d["layers"][1].update(depends=["movie"]), "dependency cycle"),
        (lambda d: d["layers"][1].update(colour="red"), "unknown key 'colour'"),
        (lambda d: d["layers"][1].update(cores=0), "(render).cores"),
        (lambda d: d["layers"].append(dict(d["layers"][0])), "two layers have this name"),
        (lambda d: d.update(priority=-1), "job.priority"),
        (lambda d: d.update(name="bad name"), "job.name"),
        (lambda d: d.update(layers=[]), "job.layers: a job needs at least one layer"),
        (lambda d: d["layers"][1].update(env={"1X": "y"}), "(render).env"),
        (lambda d: d["layers"][3].pop("command"), "give exactly one of 'command'"),
        (lambda d: d.update(setpiece_job=9), "newer than this setpiece reads"),
    ],
)
def test_bad_jobs_give_one_line_errors_naming_the_field(mutate, fragment) -> None:
    data = _job().to_dict()
    mutate(data)
    with pytest.raises(SetpieceError) as err:
        Job.from_dict(json.loads(json.dumps(data)))
    assert fragment in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_yaml_reads_a_bare_on_key(tmp_path) -> None:
    """YAML 1.1 (PyYAML) reads `on:` as the boolean true: a dependency still names its layer."""
    (tmp_path / "job.yaml").write_text(
        "name: j\nlayers:\n  - {name: a, command: [x], frames: 1-4}\n"
        "  - {name: b, command: [y], frames: 1-4, depends: [{on: a, kind: frame}]}\n")
    assert load_job(tmp_path / "job.yaml").layer("b").depends == [Depend("a", "frame")]


def test_bad_job_files(tmp_path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SetpieceError, match=r"bad\.json is not valid JSON"):
        load_job(tmp_path / "bad.json")
    (tmp_path / "bad.yaml").write_text("name: [unclosed")
    with pytest.raises(SetpieceError, match=r"bad\.yaml is not valid YAML"):
        load_job(tmp_path / "bad.yaml")
    (tmp_path / "evil.yaml").write_text("!!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(SetpieceError, match=r"evil\.yaml is not valid YAML"):
        load_job(tmp_path / "evil.yaml")
    with pytest.raises(SetpieceError, match="does not exist"):
        load_job(tmp_path / "missing.json")
