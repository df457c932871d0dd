"""Stage entry ``web-transcode``: a movie to a web player's MP4, with ffmpeg.

``python -m setpiece.core.stages.web MOVIE OUT [--params SECTION]``; params: ``max_width``
(1280: wider pictures are scaled down, never up), ``crf`` (28), ``maxrate`` (``2M``: the
bitrate cap). ``+faststart`` puts the index (moov) before the media (mdat), so a browser
starts playing before the whole file has arrived. No audio.
"""

from __future__ import annotations

import argparse
import os

from setpiece.core.stages.common import (
    atomic_output,
    fail,
    ffmpeg_exe,
    main_wrapper,
    read_params,
    run_tool,
)

DEFAULTS = {"max_width": 1280, "crf": 28, "maxrate": "2M"}


def ffmpeg_args(movie: str, out: str, params: dict[str, object]) -> list[str]:
    width = int(str(params["max_width"]))
    rate = str(params["maxrate"])
    bufsize = f"{2 * int(rate[:-1])}{rate[-1]}" if rate[-1:].isalpha() and rate[:-1].isdigit() else rate
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", movie,
        "-an", "-vf", f"scale='min({width},iw)':-2,format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", str(params["crf"]),
        "-maxrate", rate, "-bufsize", bufsize,
        "-movflags", "+faststart",
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-f", "mp4", out,
    ]


def run(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m setpiece.core.stages.web")
    ap.add_argument("movie")
    ap.add_argument("out")
    ap.add_argument("--params", default=None)
    a = ap.parse_args(argv)
    params = read_params(a.params, DEFAULTS)
    if not os.path.isfile(a.movie):
        fail(f"{a.movie} does not exist: run the stage that makes it first")
    with atomic_output(a.out) as tmp:
        run_tool(ffmpeg_args(a.movie, str(tmp), params), "ffmpeg")


if __name__ == "__main__":
    raise SystemExit(main_wrapper(run))
