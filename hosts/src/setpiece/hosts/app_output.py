"""What a DCC prints at C level (file descriptors 1 and 2), filtered or relayed.

* :func:`dropping_lines`: a headless Blender's GPU start-up prints ``EGL Error (0x3009):
  EGL_BAD_MATCH ...`` lines on stderr each time it tries an OpenGL context version the
  EGL display refuses before one it accepts (measured here on bpy 5.0 with Mesa: three lines,
  then the render succeeds). They say nothing to an artist and came with every headless
  publish (the thumbnail render): the lines matching are dropped, the rest are written.
* :func:`relayed`: while a publish runs with a progress line on a terminal, every line the
  app prints goes through the line (``Progress.echo``), so app chatter and the progress
  line never share a row.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

#: lines of a headless Blender's EGL context probing (GHOST), dropped from its output
EGL_NOISE = re.compile(rb"^EGL Error \(0x[0-9A-Fa-f]+\): ")


@contextlib.contextmanager
def dropping_lines(pattern: re.Pattern[bytes] = EGL_NOISE) -> Iterator[None]:
    """Run the body with fd 2 sent to a temporary file, then write its lines back to fd 2
    without those matching ``pattern``. Nothing is changed when fd 2 cannot be redirected
    (stderr is a Python object, as in a DCC's script editor)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = b"".join(ln for ln in tmp.read().splitlines(keepends=True)
                            if not pattern.match(ln))
            if kept:
                os.write(2, kept)


@contextlib.contextmanager
def relayed(progress: Any) -> Iterator[None]:
    """Send fds 1 and 2 through a pipe whose lines are printed with ``progress.echo`` on
    ``progress.stream`` (a duplicate of the real stderr), so they never mix with the
    progress line. Without a progress line: stdout is sent to stderr, nothing else."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    reader: threading.Thread | None = None
    if progress.enabled:
        r, w = os.pipe()
        os.dup2(w, 1)
        os.dup2(w, 2)
        os.close(w)
        reader = threading.Thread(target=_relay, args=(r, progress), daemon=True,
                                  name="setpiece-app-output")
        reader.start()
    else:
        os.dup2(2, 1)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(saved_out, 1)  # the pipe's last write ends close: the relay reads its end
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        if reader is not None:
            reader.join(10)


def _relay(fd: int, progress: Any) -> None:
    pending = b""
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for ln in lines:
                progress.echo(ln.decode("utf-8", "replace").rstrip("\r"))
    if pending:
        progress.echo(pending.decode("utf-8", "replace"))
