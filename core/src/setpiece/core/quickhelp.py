"""The ``setpiece`` console script: ``setpiece``, ``setpiece -h`` and ``setpiece --help``
answered without importing click or any command.

The top-level help is the text click renders (``setpiece.core.cli``), kept from the last
time it was rendered for this interpreter, terminal width and install. Every other command
line goes to the click CLI, which renders and keeps the help when asked for it. The kept
text is used only when nothing it depends on changed: the interpreter and ``sys.path``,
the mtime of every folder on ``sys.path`` (an install or uninstall of any package changes
its site-packages folder), of the CLI's own module and of every plug-in command's module
(``setpiece.cli`` entry points), and the terminal width click wraps to. Otherwise the
click CLI answers (and keeps the new text). ``SETPIECE_NO_QUICK_HELP=1`` turns it off.

Only built-in modules are imported here (``os``, ``sys``, ``marshal``, ``zlib``): the point
is start-up. The kept text is a ``marshal`` file (written and read by the same interpreter).
Help shown from the kept text is not written to the action log (``setpiece.core.actions``);
help rendered by click is, like every command.
"""

from __future__ import annotations

import os
import sys

VERSION = 1
HELP_ARGS: tuple[list[str], ...] = ([], ["-h"], ["--help"])


def home_folder() -> str:
    """``$SETPIECE_HOME``, else the platform's per-user data folder + ``/setpiece``
    (``setpiece.core.paths.setpiece_home``, as a string: no pathlib here)."""
    env = os.environ.get("SETPIECE_HOME")
    if env:
        return os.path.realpath(os.path.expanduser(env))
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(
            os.path.expanduser("~"), "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(
            os.path.expanduser("~"), ".local", "share")
    return os.path.realpath(os.path.join(base, "setpiece"))


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` (what click wraps help to), without shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns


def _cache_path() -> str:
    import zlib

    tag = zlib.crc32(f"{sys.executable}\0{sys.prefix}".encode())
    return os.path.join(home_folder(), "cache", f"help-{tag:08x}.marshal")


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _key(files: list[str]) -> dict[str, object]:
    folders = [p for p in sys.path if p]
    return {
        "v": VERSION,
        "python": sys.executable,
        "path": sys.path,
        "columns": terminal_columns(),
        "stamps": [_mtime(p) for p in folders] + [_mtime(f) for f in files],
        "files": files,
    }


def kept_help() -> str | None:
    """The kept top-level help if nothing it depends on changed, else None."""
    import marshal  # built in: json would import re (~5 ms)

    try:
        with open(_cache_path(), "rb") as fh:
            data = marshal.loads(fh.read())
        files = data["key"]["files"]
        if data["key"] == _key(files) and isinstance(data["text"], str):
            return str(data["text"])
    except (OSError, ValueError, EOFError, KeyError, TypeError):
        pass
    return None


def keep_help(text: str, files: list[str]) -> None:
    """Keep ``text`` (click's rendering) for the next ``setpiece --help``; never raises."""
    import marshal
    from pathlib import Path

    from setpiece.core.fsutil import atomic_write_bytes

    try:
        data = marshal.dumps({"key": _key(files), "text": text})
        atomic_write_bytes(Path(_cache_path()), data, durable=False)  # a cache
    except OSError:
        pass


def entry() -> None:
    args = sys.argv[1:]
    if args in HELP_ARGS and not os.environ.get("SETPIECE_NO_QUICK_HELP"):
        text = kept_help()
        if text is not None:
            stream = sys.stdout if args else sys.stderr  # click: no command is a usage error
            stream.write(text + "\n")
            stream.flush()
            sys.exit(0 if args else 2)
    from setpiece.core.cli import entry as cli_entry

    cli_entry()


if __name__ == "__main__":  # pragma: no cover
    entry()
