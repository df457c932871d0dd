"""Progress of long work (files pull and push, install, build, publish, scene build).

One transient line on stderr, rewritten in place (``\\r`` and erase-to-end-of-line), as uv
and git draw theirs: ``Fetching from blessed: 12/25 files, 150.3 MB (2.1s)``. It is drawn
only when stderr is a terminal (not ``TERM=dumb``), never with ``-q`` or ``--json``,
nor when ``SETPIECE_NO_PROGRESS`` is set; otherwise every call here does nothing, so the Python API
(``Workspace.progress``, off unless the CLI turns it on) pays nothing.

A task is opened around a piece of work and closed after it (a context manager); a task
with a total shows ``done/total``, one without shows the time it has run, redrawn by a
ticker thread so work inside a subprocess (uv) is seen to be alive. Lines printed while a
task is shown (``Progress.echo``, which the CLI's reporter uses) clear it first and redraw
it after, so a message is never mixed with a progress line. Closing the last task erases
the line: what remains on the terminal is the command's own output.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

#: seconds between redraws (updates in between are kept, drawn on the next redraw)
REDRAW_EVERY = 0.1
#: seconds between ticks of the elapsed time of a task without a total
TICK_EVERY = 0.25
_ERASE = "\r\x1b[K"


def _size(nbytes: int) -> str:
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - the loop returns first


class Task:
    """One piece of work shown on the progress line (see :meth:`Progress.task`)."""

    def __init__(self, owner: Progress, what: str, total: int | None, unit: str) -> None:
        self.owner = owner
        self.what = what
        self.total = total
        self.unit = unit
        self.done = 0
        self.nbytes = 0
        self.note = ""
        self.started = time.monotonic()

    def update(self, done: int | None = None, *, total: int | None = None,
               nbytes: int | None = None, note: str | None = None) -> None:
        """Set how far the work is (absolute values); redrawn at most every 0.1 s."""
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if nbytes is not None:
            self.nbytes = nbytes
        if note is not None:
            self.note = note
        # the last step is always drawn (a fast task would otherwise end on "0/1")
        self.owner._changed(force=self.total is not None and self.done >= self.total)

    def advance(self, count: int = 1, nbytes: int = 0) -> None:
        self.update(self.done + count, nbytes=self.nbytes + nbytes)

    def line(self) -> str:
        parts = []
        if self.total is not None:
            parts.append(f"{self.done}/{self.total}{' ' + self.unit if self.unit else ''}")
        if self.nbytes:
            parts.append(_size(self.nbytes))
        if self.note:
            parts.append(self.note)
        head = f"{self.what}: {', '.join(parts)}" if parts else self.what
        return f"{head} ({time.monotonic() - self.started:.1f}s)"

    def close(self) -> None:
        self.owner._close(self)

    def __enter__(self) -> Task:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class Progress:
    """The progress line of one process's stderr; off unless :meth:`for_terminal` says on."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = False) -> None:
        self.stream = stream
        self.enabled = enabled and stream is not None
        self._tasks: list[Task] = []
        self._shown = False
        self._last = 0.0
        self._lock = threading.RLock()
        self._ticker: threading.Thread | None = None

    @classmethod
    def off(cls) -> Progress:
        return cls()

    @classmethod
    def for_terminal(cls, *, quiet: bool = False, as_json: bool = False,
                     stream: TextIO | None = None) -> Progress:
        """On when ``stream`` (default stderr) is a terminal and neither ``-q`` nor ``--json``
        nor ``SETPIECE_NO_PROGRESS`` asks for silence."""
        stream = stream if stream is not None else sys.stderr
        try:
            tty = bool(stream is not None and stream.isatty())
        except (AttributeError, ValueError):  # a closed or replaced stream
            tty = False
        on = (tty and not quiet and not as_json and not os.environ.get("SETPIECE_NO_PROGRESS")
              and os.environ.get("TERM") != "dumb")  # a dumb terminal cannot erase a line
        return cls(stream, enabled=on)

    # -- tasks ---------------------------------------------------------------------------
    def task(self, what: str, total: int | None = None, unit: str = "") -> Task:
        """Open a task (use it as a context manager): drawn now, erased when closed."""
        task = Task(self, what, total, unit)
        if not self.enabled:
            return task
        with self._lock:
            self._tasks.append(task)
            self._draw()
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="setpiece-progress",
                                                daemon=True)
                self._ticker.start()
        return task

    def _close(self, task: Task) -> None:
        if not self.enabled:
            return
        with self._lock:
            if task in self._tasks:
                self._tasks.remove(task)
            if self._tasks:
                self._draw()
            else:
                self._erase()

    def close_all(self) -> None:
        """Erase the line and forget every task (the command is over)."""
        if not self.enabled:
            return
        with self._lock:
            self._tasks.clear()
            self._erase()

    # -- other output --------------------------------------------------------------------
    def echo(self, message: str, stream: TextIO | None = None) -> None:
        """Print ``message`` (a line of its own) without mixing it with the progress line."""
        out = stream if stream is not None else (self.stream or sys.stderr)
        with self._lock:
            self._erase()
            out.write(message + "\n")
            out.flush()
            if self._tasks:
                self._draw()

    # -- drawing -------------------------------------------------------------------------
    def _changed(self, force: bool = False) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self._tasks and (force or time.monotonic() - self._last >= REDRAW_EVERY):
                self._draw()

    def _draw(self) -> None:
        assert self.stream is not None
        line = self._tasks[-1].line()
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = 0
        width = width if width >= 20 else 80  # a pty nobody sized says 0
        if len(line) >= width:
            line = line[: width - 2] + "…"
        self._write(_ERASE + line)
        self._shown = True
        self._last = time.monotonic()

    def _erase(self) -> None:
        if self._shown:
            self._write(_ERASE)
            self._shown = False

    def _write(self, text: str) -> None:
        assert self.stream is not None
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal: progress is never worth a failure
            self.enabled = False

    def _tick(self) -> None:
        while True:
            time.sleep(TICK_EVERY)
            with self._lock:
                if not self._tasks:
                    self._ticker = None
                    return
                self._draw()
