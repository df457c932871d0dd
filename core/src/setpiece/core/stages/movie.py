"""Stage entry ``frames-to-movie``: a numbered frame sequence to an H.264 MP4, with ffmpeg.

``python -m setpiece.core.stages.movie FRAMES OUT [--params SECTION]``; params (``params.yaml``
under SECTION): ``fps`` (24), ``crf`` (18), ``preset`` (medium). EXR frames are linear: they
are converted to sRGB (zscale) before encoding. The output is deterministic for the same
frames and params (bit-exact muxing), so an unchanged movie stops its downstream stages.
"""

from __future__ import annotations

import argparse

from setpiece.core.stages.common import (
    Sequence,
    atomic_output,
    ffmpeg_exe,
    frame_sequence,
    main_wrapper,
    read_params,
    run_tool,
)

DEFAULTS = {"fps": 24, "crf": 18, "preset": "medium"}


def ffmpeg_args(seq: Sequence, out: str, params: dict[str, object]) -> list[str]:
    """The ffmpeg command line (also what the benchmark runs by hand)."""
    filters = []
    if seq.is_exr:  # scene-linear floats: to sRGB, as a viewer shows them
        filters += ["zscale=transferin=linear:transfer=iec61966-2-1", "format=gbrp"]
    filters += ["pad=ceil(iw/2)*2:ceil(ih/2)*2", "format=yuv420p"]  # x264 4:2:0 needs even sizes
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-framerate", str(params["fps"]), "-start_number", str(seq.first),
        "-i", seq.ffmpeg_pattern(),
        "-frames:v", str(seq.count),
        "-vf", ",".join(filters),
        "-c:v", "libx264", "-preset", str(params["preset"]), "-crf", str(params["crf"]),
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-f", "mp4", out,
    ]


def run(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m setpiece.core.stages.movie")
    ap.add_argument("frames")
    ap.add_argument("out")
    ap.add_argument("--params", default=None)
    a = ap.parse_args(argv)
    params = read_params(a.params, DEFAULTS)
    seq = frame_sequence(a.frames)
    with atomic_output(a.out) as tmp:
        run_tool(ffmpeg_args(seq, str(tmp), params), "ffmpeg")


if __name__ == "__main__":
    raise SystemExit(main_wrapper(run))
