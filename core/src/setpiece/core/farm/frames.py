"""Frame range specs (``1-100``, ``1-100x2``, ``1,5,10-20``, ``-5--1``) and chunking.

The syntax is OpenCue's (``FileSequence.FrameSet``) without its rarer forms: comma-separated
items, each a frame ``N``, a range ``A-B`` (inclusive, ``A <= B``) or a stepped range
``A-BxS`` (every S-th frame from A; ``S >= 1``). Frames keep the order they are written in;
a frame written twice is an error. Chunks are consecutive runs of ``chunk`` frames in that
order (OpenCue's rule: ``1-10`` in chunks of 3 -> ``1-3, 4-6, 7-9, 10``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import pairwise

from setpiece.core.errors import SetpieceError

_ITEM = re.compile(r"^(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?$")

#: A spec may not expand to more frames than this (a typo like ``1-10000000`` stops here).
MAX_FRAMES = 1_000_000


def parse_frames(spec: str | int, *, what: str = "frames") -> list[int]:
    """The frames of ``spec`` in order; ``SetpieceError`` naming ``what`` on bad input."""
    if isinstance(spec, bool):
        raise SetpieceError(f"{what}: {spec!r} is not a frame range: write it like '1-100'")
    if isinstance(spec, int):
        return [spec]
    text = str(spec).replace(" ", "")
    if not text:
        raise SetpieceError(f"{what} is empty: give a frame range like '1-100', '1-100x2' or '1,5,10-20'")
    frames: list[int] = []
    seen: set[int] = set()
    for item in text.split(","):
        m = _ITEM.match(item)
        if m is None:
            raise SetpieceError(
                f"{what}: {item!r} in {spec!r} is not a frame, range or stepped range: "
                "write it like '7', '1-100' or '1-100x2'"
            )
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        step = int(m.group(3)) if m.group(3) is not None else 1
        if last < first:
            raise SetpieceError(
                f"{what}: range {item!r} in {spec!r} ends before it starts: write '{last}-{first}'"
            )
        if step < 1:
            raise SetpieceError(f"{what}: step in {item!r} must be 1 or more")
        if len(frames) + (last - first) // step + 1 > MAX_FRAMES:
            raise SetpieceError(f"{what}: {spec!r} has more than {MAX_FRAMES} frames: split the job")
        for frame in range(first, last + 1, step):
            if frame in seen:
                raise SetpieceError(f"{what}: frame {frame} appears twice in {spec!r}: list it once")
            seen.add(frame)
            frames.append(frame)
    return frames


def format_frames(frames: Iterable[int]) -> str:
    """A short spec for ``frames`` in this order: ``[1,2,3,5,7,9]`` -> ``1-3,5-9x2``.

    Frames in one even step are always one range (``[17,19]`` -> ``17-19x2``), so a chunk of
    a stepped range is one range an app's frame flag takes.
    """
    out: list[str] = []
    items = list(frames)
    if len(items) >= 2 and items[1] > items[0] and all(
        b - a == items[1] - items[0] for a, b in pairwise(items)
    ):
        step = items[1] - items[0]
        return f"{items[0]}-{items[-1]}" + (f"x{step}" if step > 1 else "")
    i = 0
    while i < len(items):
        first = items[i]
        j = i + 1
        if j < len(items) and items[j] > first:
            step = items[j] - first
            while j + 1 < len(items) and items[j + 1] - items[j] == step:
                j += 1
            count = j - i + 1
            if step == 1 or count >= 3:
                last = items[j]
                out.append(f"{first}-{last}" if step == 1 else f"{first}-{last}x{step}")
                i = j + 1
                continue
        out.append(str(first))
        i += 1
    return ",".join(out)


def chunk_frames(frames: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive runs of ``size`` frames (the last may be shorter)."""
    if size < 1:
        raise SetpieceError(f"chunk size {size} must be 1 or more")
    return [list(frames[i:i + size]) for i in range(0, len(frames), size)]
