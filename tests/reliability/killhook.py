"""Run the ``setpiece`` CLI with a kill switch: SIGKILL itself right before its K-th
mutating file operation (the fault-injection suite's process; see docs/reliability.md).

    python killhook.py ARGS...      # the same as ``setpiece ARGS...``

Environment:

* ``SETPIECE_KILL_AT=K``: kill before the K-th mutating operation (0 or unset: never).
* ``SETPIECE_KILL_ROOT=DIR``: count only operations on paths under ``DIR`` (the test's
  sandbox), so imports, pytest's and uv's own caches do not count.
* ``SETPIECE_KILL_COUNT=FILE``: at exit, write the number of operations seen to ``FILE``.
* ``SETPIECE_KILL_LOG=FILE``: append one line per operation (for debugging a point).
* ``SETPIECE_HOOK_RUN_AT=K`` with ``SETPIECE_HOOK_RUN=["argv", ...]`` (JSON): run that
  command to its end right before the K-th operation (a race, made deterministic).

What counts as mutating, from CPython's audit events (``sys.addaudithook``): ``open``
with a write, create, truncate or append flag; ``os.rename`` (also raised by
``os.replace``), ``os.remove`` (``os.unlink``), ``os.rmdir``, ``os.mkdir`` of a folder
that does not exist yet, ``os.link``, ``os.symlink``, ``os.truncate``, ``shutil.copyfile``,
``shutil.copytree``, ``shutil.move``, ``shutil.rmtree``; and ``subprocess.Popen`` (the
moment before uv, a Rust program, starts: the hook sees only this Python process, so
operations inside uv itself are not points; a kill before it starts is).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {
    "os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.link", "os.symlink", "os.truncate",
    "shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.rmtree",
}

KILL_AT = 0
RUN_AT = 0
ROOT = ""
LOG = ""
_lock = threading.Lock()
_seen = 0
_inside = threading.local()


def install(env: dict[str, str]) -> None:
    """Add the audit hook to this process, configured from ``env`` (the variables above)."""
    global KILL_AT, RUN_AT, ROOT, LOG
    KILL_AT = int(env.get("SETPIECE_KILL_AT", "0") or 0)
    RUN_AT = int(env.get("SETPIECE_HOOK_RUN_AT", "0") or 0)
    ROOT = os.path.realpath(env["SETPIECE_KILL_ROOT"]) if env.get("SETPIECE_KILL_ROOT") else ""
    LOG = env.get("SETPIECE_KILL_LOG", "")
    sys.addaudithook(_hook)


def seen() -> int:
    """Mutating operations counted so far."""
    return _seen


def _under_root(path: object) -> bool:
    if isinstance(path, int):
        return False  # an already open descriptor (os.fdopen): its creation was the point
    try:
        p = os.fsdecode(path)  # type: ignore[arg-type]
    except TypeError:
        return False
    if not ROOT:
        return True
    if not os.path.isabs(p):
        p = os.path.join(os.getcwd(), p)
    return os.path.realpath(os.path.dirname(p)).startswith(ROOT)


def _mutating(event: str, args: tuple[object, ...]) -> str | None:
    if event == "open":
        path, _mode, flags = (*args, None, None, None)[:3]
        if not isinstance(flags, int) or not flags & _FLAGS:
            return None
        return f"open {path}" if _under_root(path) else None
    if event in _PATH_EVENTS:
        if len(args) >= 2 and event in ("os.remove", "os.rmdir", "os.mkdir") and args[-1] not in (None, -1):
            return None  # relative to a dir_fd (inside shutil.rmtree, itself a point)
        if event == "os.mkdir" and os.path.isdir(os.fsdecode(args[0])):  # type: ignore[arg-type]
            return None  # makedirs(exist_ok=True) of a folder that is there: no change
        return f"{event} {args[0]}" if _under_root(args[0]) else None
    if event == "subprocess.Popen":
        return f"subprocess.Popen {args[1]!r:.120}"
    return None


def _hook(event: str, args: tuple[object, ...]) -> None:
    global _seen
    if getattr(_inside, "busy", False):
        return
    _inside.busy = True
    try:
        what = _mutating(event, args)
        if what is None:
            return
        with _lock:
            _seen += 1
            n = _seen
        if LOG:
            with open(LOG, "a", encoding="utf-8") as fh:
                fh.write(f"{n} {what}\n")
        if n == RUN_AT:
            import subprocess

            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("SETPIECE_HOOK_", "SETPIECE_KILL_"))}
            subprocess.run(json.loads(os.environ["SETPIECE_HOOK_RUN"]), check=False,
                           capture_output=True, env=env)
        if n == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)
    finally:
        _inside.busy = False


def write_count(env: dict[str, str]) -> None:
    count = env.get("SETPIECE_KILL_COUNT")
    if count:
        _inside.busy = True
        with open(count, "w", encoding="utf-8") as fh:
            fh.write(str(_seen))


def main() -> int:
    install(dict(os.environ))
    from setpiece.core.cli import main as cli

    try:
        return cli(sys.argv[1:])
    finally:
        write_count(dict(os.environ))


if __name__ == "__main__":
    sys.exit(main())
