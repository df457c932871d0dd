"""Built-in pipeline stage templates: real tools (ffmpeg, OpenImageIO) behind plain commands.

``setpiece pipeline add NAME STAGE --template T --dep SRC --out OUT`` writes a ``dvc.yaml``
stage whose ``cmd`` is ``python -m setpiece.core.stages.<module> --params STAGE SRC OUT``;
the template's settings go to ``params.yaml`` under STAGE (``--param key=value`` overrides
them) and are listed as the stage's dvc ``params``, so changing one re-runs the stage.
``python`` is the interpreter running setpiece (``pipeline run`` puts its folder first on
PATH), so the command stays the same on every machine.

The tools are the ``media`` extra of setpiece-core: ``imageio-ffmpeg`` (an ffmpeg binary)
and ``openimageio``. Modules: ``common`` (sequences, params, atomic outputs), ``movie``,
``web``, ``thumbnail``, ``contact_sheet``; ``asset`` launches a template that an installed
tool asset declares (entry point group ``setpiece.stages``: ``NAME = "module"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Template:
    name: str
    module: str
    summary: str
    dep: str  # what the one --dep is: "frames" (a sequence folder), "movie", "image"
    defaults: dict[str, Any] = field(default_factory=dict)


TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template("frames-to-movie", "movie", "frames -> H.264 MP4 (ffmpeg)", "frames",
             {"fps": 24, "crf": 18, "preset": "medium"}),
    Template("web-transcode", "web", "movie -> web MP4, faststart, capped size (ffmpeg)",
             "movie", {"max_width": 1280, "crf": 28, "maxrate": "2M"}),
    Template("thumbnail", "thumbnail", "a frame (or a sequence's middle frame) -> PNG "
             "(OpenImageIO)", "image", {"width": 256}),
    Template("contact-sheet", "contact_sheet", "frames -> a grid of frames in one PNG "
             "(OpenImageIO)", "frames", {"count": 16, "columns": 4, "width": 160}),
)}


def command(template: Template, stage: str, dep: str, out: str) -> str:
    """The stage's ``cmd``: portable (no machine path), shell-quoted."""
    import shlex

    builtin = TEMPLATES.get(template.name) is template
    entry = ([f"setpiece.core.stages.{template.module}"] if builtin
             else ["setpiece.core.stages.asset", shlex.quote(template.module)])
    return " ".join(["python", "-m", *entry, "--params",
                     shlex.quote(stage), shlex.quote(dep), shlex.quote(out)])
