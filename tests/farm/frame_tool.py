"""A stand-in renderer for farm engine tests: ``write OUT FRAMES [--sleep S] [--fail N,..]``
writes ``OUT/NNNN.txt`` for each frame atomically (temp file + rename, so a chunk killed
mid-way leaves no partial frame and a re-run replaces a frame whole) and appends one line per
frame to ``OUT/renders.log``; ``check OUT FRAMES`` exits 1 naming the frames that are missing.
Frames are comma-separated (setpiece's ``{frames}`` token)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    mode, out, frames = argv[0], Path(argv[1]), [int(f) for f in argv[2].split(",")]
    sleep = float(argv[argv.index("--sleep") + 1]) if "--sleep" in argv else 0.0
    fail = {int(f) for f in argv[argv.index("--fail") + 1].split(",")} if "--fail" in argv else set()
    if mode == "check":
        missing = [f for f in frames if not (out / f"{f:04d}.txt").is_file()]
        print(f"checked frames {frames}: missing {missing}")
        return 1 if missing else 0
    out.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        if frame in fail:
            print(f"frame {frame} failed", file=sys.stderr)
            return 3
        time.sleep(sleep)
        tmp = out / f".{frame:04d}.{os.getpid()}.tmp"
        tmp.write_text(f"frame {frame} by {os.environ.get('SETPIECE_LAYER')}\n")
        os.replace(tmp, out / f"{frame:04d}.txt")
        with (out / "renders.log").open("a") as log:
            log.write(f"{frame}\n")
        print(f"wrote frame {frame}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
