"""The demo's files stage: Chair gets a tracked geometry and texture, generated here.

``setpiece demo`` calls ``add_sample_files`` right after creating Chair (so every publish
of Chair pushes them first) and ``pull_sample_files`` after installing the kitchen (so the
installed, non-editable Chair finds them in its package folder). Without dvc installed
the demo runs without files and says how to get them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.core.files import INSTALL_HINT

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


def available() -> bool:
    return importlib.util.find_spec("dvc_data") is not None


def _chair_obj() -> str:
    """A low-poly chair: a seat, a back and four legs as boxes (Wavefront OBJ)."""
    boxes = [  # (x0, y0, z0, x1, y1, z1) in cm
        (-22, 43, -22, 22, 47, 22), (-22, 47, 18, 22, 90, 22),
        (-21, 0, -21, -17, 43, -17), (17, 0, -21, 21, 43, -17),
        (-21, 0, 17, -17, 43, 21), (17, 0, 17, 21, 43, 21),
    ]
    lines = ["# setpiece demo chair", "o Chair"]
    faces = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
    for i, (x0, y0, z0, x1, y1, z1) in enumerate(boxes):
        for x in (x0, x1):
            for y in (y0, y1):
                for z in (z0, z1):
                    lines.append(f"v {x} {y} {z}")
        lines += ["f " + " ".join(str(v + 8 * i) for v in f) for f in faces]
    return "\n".join(lines) + "\n"


def _wood_ppm(size: int = 128) -> bytes:
    """A procedural wood-grain texture (binary PPM), deterministic."""
    import math

    rows = bytearray()
    for y in range(size):
        for x in range(size):
            ring = (math.sin((x * 0.15) + 4 * math.sin(y * 0.05)) + 1) / 2
            rows += bytes((int(120 + 60 * ring), int(75 + 35 * ring), int(40 + 15 * ring)))
    return f"P6 {size} {size} 255\n".encode() + bytes(rows)


def add_sample_files(ws: Workspace, name: str, report: Callable[[str], None]) -> None:
    if not available():
        report(f"(demo without asset files: dvc is not installed; {INSTALL_HINT})")
        return
    from setpiece.core.files.tracking import add

    pkg: Path = ws.output(name).package_dir
    (pkg / "geo").mkdir(exist_ok=True)
    (pkg / "geo" / "chair.obj").write_text(_chair_obj())
    (pkg / "textures").mkdir(exist_ok=True)
    (pkg / "textures" / "wood.ppm").write_bytes(_wood_ppm())
    add(ws, name, [str(pkg / "geo"), str(pkg / "textures")])


def pull_sample_files(ws: Workspace, report: Callable[[str], None]) -> None:
    if not available():
        return
    from setpiece.core.files.pulling import pull

    result = pull(ws)
    report(f"Pulled the files of {', '.join(result['assets'])}: {result['paths']} tracked "
           f"path(s) linked from the cache ({result['files']} file(s) fetched)")
