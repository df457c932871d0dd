"""Running uv: the binary from the ``uv`` package, a clean environment, exact errors."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.core.errors import SetpieceError, Unavailable

if TYPE_CHECKING:
    from setpiece.core.progress import Task

# Settings a user's shell or uv.toml could add that would make uv reach another index
# (dependency confusion) or behave unlike what setpiece asked for.
_SCRUB = (
    "UV_INDEX",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_INDEX_STRATEGY",
    "UV_CONFIG_FILE",
    "UV_SYSTEM_PYTHON",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
)


@cache
def uv_bin() -> str:
    """Path of the uv executable (the ``uv`` package's binary, else PATH)."""
    env = os.environ.get("SETPIECE_UV")
    if env:
        return env
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except Exception:
        import shutil

        found = shutil.which("uv")
        if found:
            return found
    raise Unavailable("uv is not installed: run 'pip install uv' (setpiece drives uv)")


def uv_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    # uv's warnings (e.g. a wheel it cannot read and skips) only show at this level
    env.setdefault("RUST_LOG", "warn")
    env["UV_NO_PROGRESS"] = "1"
    if extra:
        env.update(extra)
    return env


def run_uv(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    what: str = "uv",
    progress: Task | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``uv ARGS``; on failure raise a one-line SetpieceError built from uv's message.

    ``progress``: a task of the progress line (``setpiece.core.progress``) that shows uv's
    latest line ("Resolved 5 packages in 12ms") while it runs."""
    cmd = [uv_bin(), *args]
    if progress is not None and progress.owner.enabled:
        proc = _run_streaming(cmd, cwd, uv_env(env), progress)
    else:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=uv_env(env),
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        error = SetpieceError(f"{what} failed: {summarize_uv_error(proc.stderr or proc.stdout)}")
        error.output = proc.stderr or proc.stdout  # uv's whole message, for callers to read
        raise error
    return proc


def _run_streaming(cmd: list[str], cwd: Path | None, env: dict[str, str],
                   task: Task) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` that also passes each line uv writes on stderr to ``task``."""
    import threading

    with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()),  # type: ignore[union-attr]
                                  daemon=True)
        reader.start()
        err: list[str] = []
        for line in proc.stderr:
            err.append(line)
            if line.strip():
                task.update(note=line.strip())
        reader.join()
        code = proc.wait()
    return subprocess.CompletedProcess(cmd, code, "".join(out), "".join(err))


def summarize_uv_error(text: str) -> str:
    """uv's error, on one line: the ``error:`` line and its explanation, without hints noise."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    keep: list[str] = []
    started = False
    for ln in lines:
        low = ln.lower()
        if low.startswith(("error:", "×", "caused by:", "╰─▶")) or "no solution found" in low:  # noqa: RUF001
            started = True
        if not started:
            continue
        if low.startswith("hint:") or low.startswith("help:"):
            break
        ln = ln.lstrip("×╰─▶│ ").removeprefix("error:").removeprefix("Caused by:").strip()  # noqa: RUF001
        if ln and ln not in keep:
            keep.append(ln)
    if not keep:
        keep = lines[-3:]
    return " ".join(keep)
