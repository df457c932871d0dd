"""``setpiece``, ``-h`` and ``--help`` answered from the kept help: the same text, exit code
and stream as click's, and click again whenever what the text depends on changed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# the console script beside this Python (as tests/conftest.py finds it: a line run may
# collect tests/hosts first, whose conftest module is the one named ``conftest``)
SETPIECE = Path(sys.executable).parent / ("setpiece.exe" if sys.platform == "win32" else "setpiece")


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = subprocess.run([str(SETPIECE), *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})}, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


ENTRY = "setpiece.core.quickhelp:entry"


def _script_target() -> str:
    """The ``module:function`` the installed ``setpiece`` console script runs."""
    if sys.platform == "win32":  # a launcher .exe: the installed metadata says what it runs
        from importlib.metadata import entry_points
        return next(iter(entry_points(group="console_scripts", name="setpiece"))).value
    found = re.search(r"^from (\S+) import (\w+)$", SETPIECE.read_text(), re.MULTILINE)
    return f"{found[1]}:{found[2]}" if found else "(no import line)"


def _imports_click(*args: str, env: dict[str, str] | None = None) -> bool:
    """Whether the console script imported click for ``args`` (its import is logged)."""
    target = _script_target()
    assert target == ENTRY, (
        f"{SETPIECE} runs {target}, not {ENTRY}: the venv is stale, re-run "
        "`uv sync --all-packages` so the console script is regenerated")
    proc = subprocess.run([str(SETPIECE), *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1", **(env or {})},
                          timeout=120)
    return any(line.split("|")[-1].strip() == "click" for line in proc.stderr.splitlines())


@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_kept_help_is_clicks_help(args: list[str]) -> None:
    click_says = _run(*args, env={"SETPIECE_NO_QUICK_HELP": "1"})
    assert click_says[0] == (0 if args else 2) and "Commands:" in "".join(click_says[1:])
    first = _run(*args)  # click answers (nothing kept yet in this SETPIECE_HOME) and keeps it
    assert first == click_says
    assert not _imports_click(*args)  # answered from the kept text ...
    assert _run(*args) == click_says  # ... byte for byte, same stream and exit code


def test_kept_help_follows_the_width_and_the_install(tmp_path: Path) -> None:
    _run("--help")
    assert not _imports_click("--help")
    narrow = {"COLUMNS": "60"}
    assert _imports_click("--help", env=narrow)  # another width: click renders it
    assert _run("--help", env=narrow) == _run("--help", env={**narrow,
                                                             "SETPIECE_NO_QUICK_HELP": "1"})
    assert not _imports_click("--help", env=narrow)
    # a plug-in command installed on the path: the new command is in the help at once
    site = tmp_path / "plugins"
    info = site / "myplugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[setpiece.cli]\nhello = myplugin_cli:hello\n")
    (site / "myplugin_cli.py").write_text(
        "import click\n\n@click.command()\ndef hello():\n    '''Say hello from a plug-in.'''\n")
    plugged = {"PYTHONPATH": str(site)}
    code, out, _ = _run("--help", env=plugged)
    assert code == 0 and "hello      Say hello from a plug-in." in out
    assert not _imports_click("--help", env=plugged)
    assert _run("--help", env=plugged)[1] == out
    (site / "myplugin_cli.py").write_text(  # its help changed: the file's mtime
        "import click\n\n@click.command()\ndef hello():\n    '''Greet, now.'''\n")
    os.utime(site / "myplugin_cli.py", ns=(1, 10**18))
    assert "hello      Greet, now." in _run("--help", env=plugged)[1]


def test_other_command_lines_go_to_click() -> None:
    _run("--help")
    assert _imports_click("--version") and _imports_click("list", "--help")
    code, out, _ = _run("--version")
    assert code == 0 and "setpiece" in out
