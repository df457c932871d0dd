"""A no-op install is known without running uv, and only while it is one: anything that
changed the venv (setpiece or uv run directly) or the request sends it to uv again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import setpiece.core.uvrun as uvrun
from setpiece.core.uvrun import uv_bin


@pytest.fixture
def uv_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    real = uvrun.run_uv

    def counting(args, **kw):  # type: ignore[no-untyped-def]
        calls.append(list(args))
        return real(args, **kw)

    monkeypatch.setattr(uvrun, "run_uv", counting)
    return calls


def _installs(calls: list[list[str]]) -> int:
    return sum(1 for c in calls if c[:2] == ["pip", "install"])


def _installed(ws) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from setpiece.core.workspace import Workspace

    return {a.name: a.version for a in Workspace(ws.root).installed_assets().values()}


def test_noop_install_skips_uv_until_the_venv_changes(sample_ws, sample_repo: Path,
                                                     uv_calls: list[list[str]]) -> None:
    ws = sample_ws
    assert ws.install(["KitchenSet[build]"])  # changes: uv ran
    want = _installed(ws)
    assert ws.install(["KitchenSet[build]"]) == []  # uv ran and changed nothing: remembered
    uv_calls.clear()
    assert ws.install(["KitchenSet[build]"]) == [] and _installs(uv_calls) == 0
    assert _installed(ws) == want
    assert ws.install(["Chair"]) == [] and _installs(uv_calls) == 1  # another request: uv

    # behind setpiece's back: uv removes a dependency; the install must put it back
    subprocess.run([uv_bin(), "pip", "uninstall", "lamp", "--python", str(ws.python)],
                   check=True, capture_output=True)
    uv_calls.clear()
    changes = ws.install(["KitchenSet[build]"])
    assert _installs(uv_calls) == 1 and any("lamp" in c for c in changes)
    assert _installed(ws) == want

    # the request's own words and the config count too
    assert ws.install(["KitchenSet[build]"]) == []
    uv_calls.clear()
    ws.install(["KitchenSet[build]", "Chair"])
    assert _installs(uv_calls) == 1
    ws.config.path.write_text(ws.config.path.read_text() + "\n# edited\n")
    uv_calls.clear()
    ws.install(["KitchenSet[build]"])
    assert _installs(uv_calls) == 1


def test_requests_of_other_forms_always_go_to_uv(sample_ws, uv_calls: list[list[str]]) -> None:
    """Only plain ``Name[extras]<specifiers>`` requests take the short way (a marker, a
    URL: uv decides every time)."""
    ws = sample_ws
    for _ in range(3):
        ws.install(["Chair==1.1.0 ; python_version >= '3'"], record=False)
    assert _installs(uv_calls) == 3
    assert _installed(ws)["Chair"] == "1.1.0"
