"""Asset pipelines on real dvc: ``setpiece pipeline add/run/status`` on an output asset
whose stage concatenates a frames folder into a "movie" file with a plain Python command."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc")

# the stage: frames/* concatenated in name order into movie/shot.mov; one line per run
# appended to a counter file outside the asset (so the test can see what really ran)
MOVIE = (
    "import pathlib,sys; "
    "fs=sorted(pathlib.Path('frames').iterdir()); "
    "pathlib.Path('movie').mkdir(exist_ok=True); "
    "pathlib.Path('movie/shot.mov').write_bytes(b''.join(f.read_bytes() for f in fs)); "
    "open(sys.argv[1],'a').write('ran\\n')"
)


def movie_cmd(counter: Path) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(MOVIE)} {shlex.quote(str(counter))}"


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


@pytest.fixture
def shot(make_workspace: Any, run_cli: Any, tmp_path: Path) -> tuple[Any, Path, Path]:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    for i in range(5):
        (pkg / "frames").mkdir(exist_ok=True)
        (pkg / "frames" / f"f{i:04d}.png").write_bytes(f"frame{i}".encode() * 100)
    counter = tmp_path / "counter.txt"
    r = run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--cmd", movie_cmd(counter),
                "--dep", "frames", "--out", "movie/shot.mov")
    assert r.exit_code == 0, r.err
    return ws, pkg, counter


def test_run_reruns_only_when_inputs_change(shot: tuple[Any, Path, Path], run_cli: Any) -> None:
    ws, pkg, counter = shot
    assert "movie" in (pkg / "dvc.yaml").read_text()
    st = run_cli("-w", ws.root, "pipeline", "status", "Shot", "--json")
    assert st.exit_code == 0, st.err
    assert st.json()[0]["stage"] == "movie" and st.json()[0]["stale"] is True

    r = run_cli("-w", ws.root, "pipeline", "run", "Shot", "--json")
    assert r.exit_code == 0, r.err
    assert r.json()["ran"] == ["movie"]
    movie = pkg / "movie" / "shot.mov"
    expected = b"".join((pkg / "frames" / f"f{i:04d}.png").read_bytes() for i in range(5))
    assert movie.read_bytes() == expected
    assert runs(counter) == 1
    # the output is stored in the workspace's files cache, not a second cache in the asset
    assert not (pkg / ".dvc" / "cache").exists()
    cached = Path(ws.root) / ".setpiece" / "files" / "cache" / "files" / "md5"
    assert any(p.is_file() and p.read_bytes() == expected for p in cached.rglob("*"))

    r = run_cli("-w", ws.root, "pipeline", "run", "Shot")
    assert r.exit_code == 0, r.err
    assert "up to date, nothing ran" in r.out
    assert runs(counter) == 1
    st = run_cli("-w", ws.root, "pipeline", "status", "Shot")
    assert st.out.strip() == "movie: up to date"

    (pkg / "frames" / "f0002.png").write_bytes(b"changed")
    st = run_cli("-w", ws.root, "pipeline", "status", "Shot", "--json").json()
    assert st[0]["stale"] and any("frames" in w and "modified" in w for w in st[0]["why"])
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot", "movie")
    assert r.exit_code == 0, r.err
    assert "ran movie" in r.out
    assert runs(counter) == 2
    assert b"changed" in movie.read_bytes()


def test_failing_command_leaves_last_good_output(shot: tuple[Any, Path, Path],
                                                 run_cli: Any) -> None:
    ws, pkg, _ = shot
    assert run_cli("-w", ws.root, "pipeline", "run", "Shot").exit_code == 0
    movie = pkg / "movie" / "shot.mov"
    good = movie.read_bytes()
    bad = (
        "import pathlib,sys; pathlib.Path('movie/shot.mov').write_bytes(b'half'); "
        "print('encoder: out of frames', file=sys.stderr); sys.exit(3)"
    )
    assert run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--cmd",
                   f"{shlex.quote(sys.executable)} -c {shlex.quote(bad)}",
                   "--dep", "frames", "--out", "movie/shot.mov").exit_code == 0
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot")
    r.user_error("stage 'movie'", "exit 3", "encoder: out of frames")
    assert movie.read_bytes() == good, "the half-written output is not left behind"


def test_failing_first_run_leaves_no_output(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    bad = "import pathlib,sys; pathlib.Path('out.bin').write_bytes(b'half'); sys.exit(7)"
    assert run_cli("-w", ws.root, "pipeline", "add", "Shot", "s", "--cmd",
                   f"{shlex.quote(sys.executable)} -c {shlex.quote(bad)}",
                   "--out", "out.bin").exit_code == 0
    run_cli("-w", ws.root, "pipeline", "run", "Shot").user_error("stage 's'", "exit 7")
    assert not (pkg / "out.bin").exists()


def test_bad_input_is_refused(make_workspace: Any, run_cli: Any, tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    r = run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--cmd", "true",
                "--out", "../elsewhere.mov")
    r.user_error("output '../elsewhere.mov'", "outside asset 'Shot'")
    r = run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--cmd", "true",
                "--out", str(tmp_path / "abs.mov"))
    r.user_error("outside asset")
    assert not (pkg / "dvc.yaml").exists(), "nothing written for a refused stage"
    run_cli("-w", ws.root, "pipeline", "run", "Shot").user_error("no pipeline", "pipeline add")
    run_cli("-w", ws.root, "pipeline", "add", "Shot", "9bad", "--cmd", "true",
            "--out", "x").user_error("stage name '9bad'")
    assert run_cli("-w", ws.root, "pipeline", "add", "Shot", "a", "--cmd", "true",
                   "--out", "x").exit_code == 0
    run_cli("-w", ws.root, "pipeline", "run", "Shot", "nope").user_error("no stage 'nope'")


def test_wheel_ships_the_pipeline_not_its_outputs(shot: tuple[Any, Path, Path], run_cli: Any) -> None:
    import zipfile

    ws = shot[0]
    assert run_cli("-w", ws.root, "pipeline", "run", "Shot").exit_code == 0
    r = run_cli("-w", ws.root, "build", "Shot")
    assert r.exit_code == 0, r.err
    wheels = list(Path(ws.root).rglob("shot-*.whl"))
    assert wheels, r.out
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert any(n.endswith("/dvc.yaml") for n in names) and any(n.endswith("/dvc.lock") for n in names)
    assert not any("movie/shot.mov" in n or "/.dvc/" in n for n in names), names


def test_a_dvc_yaml_that_cannot_be_written_leaves_params_yaml_alone(
        shot: tuple[Any, Path, Path], run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pipeline add --param``: dvc.yaml and params.yaml change together or not at all."""
    from setpiece.core import fsutil

    ws, pkg, counter = shot
    before = {n: (pkg / n).read_bytes() if (pkg / n).exists() else None
              for n in ("dvc.yaml", "params.yaml")}
    real = fsutil.atomic_write_text

    def full_disk_for_dvc_yaml(path, *a, **kw):  # type: ignore[no-untyped-def]
        if Path(path).name == "dvc.yaml":
            raise OSError(28, "No space left on device")
        return real(path, *a, **kw)

    monkeypatch.setattr(fsutil, "atomic_write_text", full_disk_for_dvc_yaml)
    with pytest.raises(OSError, match="No space left"):  # an unexpected error: the traceback
        run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--cmd", movie_cmd(counter),
                "--dep", "frames", "--out", "movie/shot.mov", "--param", "fps=24")
    after = {n: (pkg / n).read_bytes() if (pkg / n).exists() else None
             for n in ("dvc.yaml", "params.yaml")}
    assert after == before
