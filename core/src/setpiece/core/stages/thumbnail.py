"""Stage entry ``thumbnail``: one frame (or a sequence's middle frame) to a small PNG, with
OpenImageIO.

``python -m setpiece.core.stages.thumbnail SOURCE OUT [--params SECTION]``: SOURCE is an
image file, or a frames folder (its middle frame is used); params: ``width`` (256; the
height keeps the aspect ratio; never scaled up). Floating-point images (EXR) are
scene-linear: converted to sRGB, as a viewer shows them.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from setpiece.core.stages.common import (
    atomic_output,
    fail,
    frame_sequence,
    main_wrapper,
    read_params,
)

DEFAULTS = {"width": 256}


def _oiio() -> Any:
    try:
        import OpenImageIO as oiio
    except ImportError:
        fail('OpenImageIO is not installed: pip install "setpiece-core[media]"')
    return oiio


def load_rgb(path: str) -> Any:
    """The image at ``path`` as 3-channel display-referred (sRGB) pixels."""
    oiio = _oiio()
    buf = oiio.ImageBuf(path)
    if buf.has_error or buf.spec().width <= 0:
        fail(f"cannot read {path}: {' '.join(buf.geterror().split())[:200] or 'not an image'}")
    spec = buf.spec()
    if spec.nchannels >= 3:
        buf = oiio.ImageBufAlgo.channels(buf, (0, 1, 2))
    else:
        buf = oiio.ImageBufAlgo.channels(buf, (0, 0, 0))
    if spec.format.basetype in (oiio.HALF, oiio.FLOAT, oiio.DOUBLE):
        buf = oiio.ImageBufAlgo.colorconvert(buf, "linear", "sRGB")
        if buf.has_error:
            fail(f"cannot convert {path} to sRGB: {buf.geterror()[:200]}")
    return buf


def fit(buf: Any, width: int, height: int | None = None) -> Any:
    """``buf`` scaled to ``width`` (keeping its aspect ratio) or into ``width`` x ``height``."""
    oiio = _oiio()
    spec = buf.spec()
    scale = width / spec.width
    if height is not None:
        scale = min(scale, height / spec.height)
    scale = min(scale, 1.0)
    w = max(1, round(spec.width * scale))
    h = max(1, round(spec.height * scale))
    if (w, h) == (spec.width, spec.height):
        return buf
    return oiio.ImageBufAlgo.resize(buf, roi=oiio.ROI(0, w, 0, h, 0, 1, 0, 3))


def write_png(buf: Any, out: str) -> None:
    oiio = _oiio()
    with atomic_output(out) as tmp:
        if not buf.write(str(tmp), oiio.UINT8, "png"):
            fail(f"cannot write {out}: {buf.geterror()[:200]}")


def source_frame(source: str) -> str:
    if os.path.isdir(source):
        seq = frame_sequence(source)
        return str(seq.path(seq.first + (seq.count - 1) // 2))
    if not os.path.exists(source):
        fail(f"{source} does not exist: pull it ('setpiece files pull ASSET') or run the stage "
             "that makes it")
    return source


def run(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m setpiece.core.stages.thumbnail")
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--params", default=None)
    a = ap.parse_args(argv)
    params = read_params(a.params, DEFAULTS)
    write_png(fit(load_rgb(source_frame(a.source)), int(params["width"])), a.out)


if __name__ == "__main__":
    raise SystemExit(main_wrapper(run))
