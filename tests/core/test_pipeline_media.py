"""The built-in stage templates with real tools, end to end: a 100-frame PNG sequence made
by the test -> H.264 movie (ffmpeg) -> web transcode (ffmpeg), and a thumbnail
(OpenImageIO); only what changed re-runs; publish refuses stale outputs, pushes the
outputs; a second workspace pulls the movie on install."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc")
oiio = pytest.importorskip("OpenImageIO")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
np = pytest.importorskip("numpy")


def write_frame(path: Path, value: int, size: int = 64, exr: bool = False) -> None:
    a = np.zeros((size, size, 3), np.float32 if exr else np.uint8)
    a[..., 0] = value / 255 if exr else value
    a[:, : value % size, 1] = 0.5 if exr else 200
    buf = oiio.ImageBuf(oiio.ImageSpec(size, size, 3, oiio.HALF if exr else oiio.UINT8))
    buf.set_pixels(oiio.ROI(), a)
    assert buf.write(str(path)), buf.geterror()


def make_frames(folder: Path, count: int, ext: str = "png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, count + 1):
        write_frame(folder / f"plate.{i:04d}.{ext}", i * 2, exr=ext == "exr")
    return folder


def video_info(path: Path) -> tuple[int, str]:
    """(frames, the 'Video:' line ffmpeg prints for the file)."""
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    err = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True).stderr
    return frames, next(ln for ln in err.splitlines() if "Video:" in ln)


def top_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types, in file order."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        out.append(data[pos + 4:pos + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
        if size < 8:
            break
        pos += size
    return out


def ran(run_cli: Any, ws: Any, *extra: str) -> list[str]:
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot", *extra, "--json")
    assert r.exit_code == 0, r.err
    return list(r.json()["ran"])


@pytest.fixture
def shot(make_workspace: Any, run_cli: Any, tmp_path: Path) -> tuple[Any, Path, Path]:
    ws = make_workspace("author")
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    render = make_frames(tmp_path / "render", 100)
    assert run_cli("-w", ws.root, "files", "add", "Shot", str(render), "--as", "frames").exit_code == 0
    for args in (
        ["movie", "--template", "frames-to-movie", "--dep", "frames", "--out", "movie/shot.mp4"],
        ["web", "--template", "web-transcode", "--dep", "movie/shot.mp4", "--out",
         "web/shot.mp4", "--param", "max_width=32"],
        ["thumb", "--template", "thumbnail", "--dep", "frames/plate.0050.png", "--out",
         "thumb.png", "--param", "width=32"],
    ):
        r = run_cli("-w", ws.root, "pipeline", "add", "Shot", *args)
        assert r.exit_code == 0, r.err
    return ws, pkg, render


@pytest.mark.slow
def test_frames_to_movie_web_and_thumbnail(shot: tuple[Any, Path, Path], run_cli: Any,
                                           make_workspace: Any) -> None:
    ws, pkg, render = shot
    assert ran(run_cli, ws) == ["movie", "web", "thumb"]
    frames, video = video_info(pkg / "movie" / "shot.mp4")
    assert frames == 100 and "h264" in video and "64x64" in video, video
    frames, video = video_info(pkg / "web" / "shot.mp4")
    assert frames == 100 and "h264" in video and "32x32" in video, video  # capped width
    boxes = top_boxes(pkg / "web" / "shot.mp4")
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # faststart
    thumb = oiio.ImageBuf(str(pkg / "thumb.png"))
    assert (thumb.spec().width, thumb.spec().height) == (32, 32)
    assert not list(pkg.rglob(".*.tmp*")), "no temp file left beside an output"

    # nothing changed: nothing runs
    assert ran(run_cli, ws) == []
    st = run_cli("-w", ws.root, "pipeline", "status", "Shot").out
    assert st.splitlines() == ["movie: up to date", "web: up to date", "thumb: up to date"]

    # 3 frames change (not the thumbnail's): only the movie stages run
    movie_before = (pkg / "movie" / "shot.mp4").read_bytes()
    thumb_before = (pkg / "thumb.png").read_bytes()
    for i in (3, 4, 5):
        write_frame(render / f"plate.{i:04d}.png", 255)
    assert run_cli("-w", ws.root, "files", "add", "Shot", str(render), "--as", "frames").exit_code == 0
    st = run_cli("-w", ws.root, "pipeline", "status", "Shot", "--json").json()
    assert [r["stage"] for r in st if r["stale"]] == ["movie"]

    # publish refuses the stale movie and says how to remake it
    r = run_cli("-w", ws.root, "publish", "Shot")
    r.user_error("stale pipeline outputs movie/shot.mp4", "setpiece pipeline run Shot", "--repro")
    assert ran(run_cli, ws) == ["movie", "web"]
    assert (pkg / "movie" / "shot.mp4").read_bytes() != movie_before
    assert (pkg / "thumb.png").read_bytes() == thumb_before

    # publish pushes the outputs to the repo's files remote
    r = run_cli("-w", ws.root, "publish", "Shot")
    assert r.exit_code == 0, r.err
    review = Path(ws.repo("review").location)
    lock = (pkg / "dvc.lock").read_text()
    from setpiece.core.files.pointers import pipeline_outputs

    outs = {p.rel(pkg): p.md5 for p in pipeline_outputs(pkg)}
    assert set(outs) == {"movie/shot.mp4", "web/shot.mp4", "thumb.png"}
    assert all(md5 in lock for md5 in outs.values())
    remote_objects = {p.parent.name + p.name for p in (review / "files" / "md5").rglob("*")
                      if p.is_file()}
    assert set(outs.values()) <= remote_objects, (outs, review)

    # a second workspace installs Shot: the movie is pulled with it
    other = make_workspace("consumer")
    r = run_cli("-w", other.root, "install", "Shot", "--repo", "review")
    assert r.exit_code == 0, r.err
    installed = other.installed_asset("Shot").package_dir
    assert (installed / "movie" / "shot.mp4").read_bytes() == (pkg / "movie" / "shot.mp4").read_bytes()
    assert (installed / "web" / "shot.mp4").is_file() and (installed / "thumb.png").is_file()
    st = run_cli("-w", other.root, "files", "status", "Shot", "--json").json()
    assert {p["path"]: p["local"] for p in st["paths"]}["movie/shot.mp4"] == "present"


def test_exr_frames_to_movie_and_contact_sheet(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    make_frames(pkg / "plates", 6, "exr")
    for args in (["movie", "--template", "frames-to-movie", "--dep", "plates", "--out", "m.mp4"],
                 ["sheet", "--template", "contact-sheet", "--dep", "plates", "--out", "sheet.png",
                  "--param", "columns=3", "--param", "width=16"]):
        assert run_cli("-w", ws.root, "pipeline", "add", "Shot", *args).exit_code == 0
    assert ran(run_cli, ws) == ["movie", "sheet"]
    frames, video = video_info(pkg / "m.mp4")
    assert frames == 6 and "h264" in video
    sheet = oiio.ImageBuf(str(pkg / "sheet.png"))
    assert (sheet.spec().width, sheet.spec().height) == (48, 32)  # 3 columns x 2 rows of 16
    # frame 1's red is linear 2/255 in the EXR: sRGB ~0.085 in the sheet (converted, not
    # written as the raw 0.008)
    assert abs(sheet.getpixel(0, 0)[0] - 0.085) < 0.01, sheet.getpixel(0, 0)
    # a param changed in params.yaml re-runs only its stage
    params = pkg / "params.yaml"
    params.write_text(params.read_text().replace("fps: 24", "fps: 12"))
    st = run_cli("-w", ws.root, "pipeline", "status", "Shot").out
    assert "movie: stale (param movie.fps modified)" in st and "sheet: up to date" in st
    assert ran(run_cli, ws) == ["movie"]
    assert imageio_ffmpeg.count_frames_and_secs(str(pkg / "m.mp4"))[1] == pytest.approx(0.5, abs=0.05)


def test_a_failing_tool_leaves_nothing_at_the_output(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    make_frames(pkg / "frames", 4)
    (pkg / "frames" / "plate.0003.png").unlink()  # a gap
    assert run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--template",
                   "frames-to-movie", "--dep", "frames", "--out", "movie/shot.mp4").exit_code == 0
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot")
    r.user_error("stage 'movie'", "exit 1", "frame 3 (plate.0003.png) is missing")
    assert not (pkg / "movie" / "shot.mp4").exists()
    write_frame(pkg / "frames" / "plate.0003.png", 1)
    assert run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--template",
                   "frames-to-movie", "--dep", "frames", "--out", "movie/shot.mp4",
                   "--param", "preset=nope").exit_code == 0  # x264 refuses it
    r = run_cli("-w", ws.root, "pipeline", "run", "Shot")
    r.user_error("stage 'movie'", "ffmpeg failed (exit", "nope")
    assert not (pkg / "movie" / "shot.mp4").exists()
    assert not list((pkg / "movie").iterdir()) if (pkg / "movie").exists() else True
    # fixed: it runs, and the failed attempts left nothing behind
    assert run_cli("-w", ws.root, "pipeline", "add", "Shot", "movie", "--template",
                   "frames-to-movie", "--dep", "frames", "--out", "movie/shot.mp4",
                   "--param", "preset=ultrafast").exit_code == 0
    assert ran(run_cli, ws) == ["movie"]
    assert [p.name for p in (pkg / "movie").iterdir()] == ["shot.mp4"]


def test_template_usage_errors(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    ws.create("Shot")
    add = ("-w", ws.root, "pipeline", "add", "Shot", "movie")
    run_cli(*add, "--template", "nope", "--dep", "f", "--out", "m.mp4").user_error(
        "no stage template 'nope'", "frames-to-movie")
    run_cli(*add, "--template", "frames-to-movie", "--cmd", "true", "--dep", "f",
            "--out", "m.mp4").user_error("--cmd or --template")
    run_cli(*add, "--template", "frames-to-movie", "--dep", "f", "--dep", "g",
            "--out", "m.mp4").user_error("one --dep")
    run_cli(*add, "--template", "frames-to-movie", "--dep", "f", "--out", "m.mp4",
            "--param", "speed=3").user_error("no param 'speed'", "fps")
    run_cli(*add, "--template", "frames-to-movie", "--dep", "f", "--out", "m.mp4",
            "--param", "fps").user_error("--param 'fps' is not KEY=VALUE")
    assert not (ws.output("Shot").package_dir / "dvc.yaml").exists()
    r = run_cli("pipeline", "templates", "--json")
    assert {t["name"] for t in r.json()} == {"frames-to-movie", "web-transcode", "thumbnail",
                                             "contact-sheet"}
