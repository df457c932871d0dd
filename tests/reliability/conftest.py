"""The fault-injection suite: collects each command's points tried / held and prints the
table (``pytest tests/reliability -s`` shows it; ``SETPIECE_RELIABILITY_TABLE=FILE`` also
writes it to FILE, the table in docs/reliability.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import Tally

_TALLIES: list[Tally] = []


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the workspace, its repos and ``SETPIECE_HOME``."""
    root = tmp_path / "sb"
    (root / "home").mkdir(parents=True)
    monkeypatch.setenv("SETPIECE_HOME", str(root / "home"))
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(root / "home" / "dvc-site"))
    return root


@pytest.fixture
def record() -> Any:
    """``record(tally)``: add a sweep's figures to the table."""
    return _TALLIES.append


def table() -> str:
    lines = ["| command | kill points tried | held |", "| --- | --- | --- |"]
    lines += [t.row() for t in sorted(_TALLIES, key=lambda t: t.command)]
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TALLIES:
        return
    terminalreporter.write_sep("-", "setpiece fault injection: kill points")
    terminalreporter.write(table())
    out = os.environ.get("SETPIECE_RELIABILITY_TABLE")
    if out:
        Path(out).write_text(table(), encoding="utf-8")
