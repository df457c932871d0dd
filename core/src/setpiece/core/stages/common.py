"""What every built-in stage entry shares: its arguments, its params, frame sequences,
running a tool with its last lines of output on failure, and atomic outputs.

A stage entry runs as ``python -m setpiece.core.stages.<name> ...`` in the asset's package
folder (the stage's ``cmd`` in ``dvc.yaml``). It exits 0 with its output complete at the
output path, or non-zero with a one-line ``error: ...`` (and the tool's last lines) on
stderr and nothing at the output path that was not there before: every output is written
to a hidden temp file beside it and renamed over it only when complete.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

PARAMS_FILE = "params.yaml"
_FRAME = re.compile(r"^(?P<prefix>.*?)(?P<num>\d+)(?P<ext>\.[A-Za-z0-9]+)$")
# ffmpeg prints the cause first, then how each of its threads stopped because of it
_CASCADE = re.compile(r"Task finished with error code|Terminating thread|Nothing was written "
                      r"into output|Could not open encoder before EOF|Error sending frames to "
                      r"consumers|Conversion failed")
_PREFIX = re.compile(r"^(\[[^\]]* @ 0x[0-9a-f]+\] ?)+")
IMAGE_EXTS = {".png", ".exr", ".jpg", ".jpeg", ".tif", ".tiff", ".dpx"}


class StageFailed(Exception):
    """A stage cannot make its output: message for the user, exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(" ".join(message.split()))
        self.code = code


def fail(message: str, code: int = 1) -> NoReturn:
    raise StageFailed(message, code)


def main_wrapper(run: Any, argv: list[str] | None = None) -> int:
    """Run ``run(argv)``; a StageFailed becomes one ``error:`` line and its exit code, an
    OSError one ``error: cannot write PATH: REASON`` line and exit 1."""
    try:
        run(sys.argv[1:] if argv is None else argv)
    except StageFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except OSError as exc:  # a full disk, a read-only or vanished folder: one line
        where = exc.filename if exc.filename is not None else "the output"
        print(f"error: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def read_params(section: str | None, defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``params.yaml``'s ``section`` (in the working folder)."""
    out = dict(defaults)
    if not section or not os.path.exists(PARAMS_FILE):
        return out
    text = Path(PARAMS_FILE).read_text(encoding="utf-8")
    try:
        try:  # PyYAML's C loader imports in a fraction of ruamel's time (a stage is a process)
            import yaml

            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        except ImportError:
            from ruamel.yaml import YAML

            data = YAML(typ="safe").load(text) or {}
    except Exception as exc:  # either parser's errors
        fail(f"{PARAMS_FILE} is not valid YAML ({str(exc).splitlines()[0]}): fix it")
    found = data.get(section) if isinstance(data, dict) else None
    if isinstance(found, dict):
        out.update({k: v for k, v in found.items() if k in defaults})
    return out


@dataclass(frozen=True)
class Sequence:
    folder: Path
    prefix: str
    ext: str
    first: int
    last: int
    pad: int  # 0: unpadded numbers

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def path(self, number: int) -> Path:
        num = f"{number:0{self.pad}d}" if self.pad else str(number)
        return self.folder / f"{self.prefix}{num}{self.ext}"

    def ffmpeg_pattern(self) -> str:
        """The image2 pattern (``%`` in names escaped)."""
        folder = str(self.folder).replace("%", "%%")
        num = f"%0{self.pad}d" if self.pad else "%d"
        return os.path.join(folder, f"{self.prefix.replace('%', '%%')}{num}{self.ext}")

    @property
    def is_exr(self) -> bool:
        return self.ext.lower() == ".exr"


def frame_sequence(folder: str) -> Sequence:
    """The one numbered image sequence in ``folder``, contiguous; refused otherwise."""
    root = Path(folder)
    if not root.is_dir():
        if not root.exists():
            fail(f"{folder} does not exist: pull it ('setpiece files pull ASSET') or give the "
                 "frames folder")
        fail(f"{folder} is not a folder of frames: give the folder holding the sequence")
    names = sorted(n for n in os.listdir(root) if not n.startswith("."))
    if not names:
        fail(f"{folder} has no frames: render or add them first")
    parsed = []
    for n in names:
        m = _FRAME.match(n)
        if m is None or m["ext"].lower() not in IMAGE_EXTS:
            fail(f"{folder}/{n} is not a numbered frame (name0001.png, .exr, ...): move it out "
                 "of the frames folder")
        parsed.append((m["prefix"], m["ext"], m["num"]))
    kinds = {(p, e) for p, e, _ in parsed}
    if len(kinds) > 1:
        shown = ", ".join(sorted(f"{p}#{e}" for p, e in kinds)[:3])
        fail(f"{folder} holds more than one sequence ({shown}): keep one per folder")
    prefix, ext = next(iter(kinds))
    nums = sorted(int(n) for _, _, n in parsed)
    widths = {len(n) for _, _, n in parsed}
    pad = widths.pop() if len(widths) == 1 else 0
    seq = Sequence(root, prefix, ext, nums[0], nums[-1], pad)
    missing = sorted(set(range(nums[0], nums[-1] + 1)) - set(nums))
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        fail(f"{folder} has a gap: frame {missing[0]} ({seq.path(missing[0]).name}){more} is "
             "missing: render it or renumber the sequence")
    return seq


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[Path]:
    """A hidden temp path beside ``path`` (same suffix, for tools that go by it), fsynced and
    renamed over ``path`` when the block ends without error; removed otherwise
    (:func:`setpiece.core.fsutil.atomic_path`)."""
    from setpiece.core.fsutil import atomic_path

    with atomic_path(Path(path)) as tmp:
        yield tmp
        if os.path.getsize(tmp) == 0:
            fail(f"{path}: the tool wrote nothing")


def run_tool(args: list[str], what: str) -> None:
    """Run a tool; on failure, fail with its exit code and its last lines of output."""
    try:
        proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace")
    except OSError as exc:
        fail(f"cannot run {what} ({args[0]}): {exc}")
    if proc.returncode != 0:
        lines = [_PREFIX.sub("", ln).strip() for ln in (proc.stderr + proc.stdout).splitlines()]
        lines = [ln for ln in lines if ln and not _CASCADE.search(ln)]
        tail = " | ".join(lines[-3:]) or "no output"
        fail(f"{what} failed (exit {proc.returncode}): {tail[:400]}", proc.returncode or 1)


def ffmpeg_exe() -> str:
    """The ffmpeg binary: ``SETPIECE_FFMPEG``, else imageio-ffmpeg's (the ``media`` extra)."""
    configured = os.environ.get("SETPIECE_FFMPEG")
    if configured:
        return configured
    try:
        import imageio_ffmpeg
    except ImportError:
        fail('ffmpeg is not installed: pip install "setpiece-core[media]" (imageio-ffmpeg '
             "ships it), or set SETPIECE_FFMPEG to an ffmpeg binary")
    return str(imageio_ffmpeg.get_ffmpeg_exe())
