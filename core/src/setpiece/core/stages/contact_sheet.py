"""Stage entry ``contact-sheet``: frames of a sequence side by side in one PNG, with
OpenImageIO.

``python -m setpiece.core.stages.contact_sheet FRAMES OUT [--params SECTION]``; params:
``count`` (16 frames, evenly spaced, first and last included), ``columns`` (4), ``width``
(160: each cell's width). EXR frames are converted from linear to sRGB.
"""

from __future__ import annotations

import argparse
import math

from setpiece.core.stages.common import frame_sequence, main_wrapper, read_params
from setpiece.core.stages.thumbnail import _oiio, fit, load_rgb, write_png

DEFAULTS = {"count": 16, "columns": 4, "width": 160}


def picks(first: int, last: int, count: int) -> list[int]:
    """``count`` frame numbers evenly spaced from ``first`` to ``last`` (fewer if short)."""
    n = last - first + 1
    if count >= n:
        return list(range(first, last + 1))
    if count <= 1:
        return [first + (n - 1) // 2]
    return sorted({first + round(i * (n - 1) / (count - 1)) for i in range(count)})


def run(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m setpiece.core.stages.contact_sheet")
    ap.add_argument("frames")
    ap.add_argument("out")
    ap.add_argument("--params", default=None)
    a = ap.parse_args(argv)
    params = read_params(a.params, DEFAULTS)
    seq = frame_sequence(a.frames)
    numbers = picks(seq.first, seq.last, max(1, int(params["count"])))
    cols = max(1, min(int(params["columns"]), len(numbers)))
    rows = math.ceil(len(numbers) / cols)
    cells = [fit(load_rgb(str(seq.path(n))), int(params["width"])) for n in numbers]
    cw = max(c.spec().width for c in cells)
    ch = max(c.spec().height for c in cells)
    oiio = _oiio()
    sheet = oiio.ImageBuf(oiio.ImageSpec(cols * cw, rows * ch, 3, oiio.FLOAT))
    for i, cell in enumerate(cells):
        oiio.ImageBufAlgo.paste(sheet, (i % cols) * cw, (i // cols) * ch, 0, 0, cell)
    write_png(sheet, a.out)


if __name__ == "__main__":
    raise SystemExit(main_wrapper(run))
