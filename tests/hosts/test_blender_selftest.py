"""``setpiece selftest blender`` in this Python's real bpy (every Blender line runs it):
every step passes, the version-specific ones included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy


def test_selftest_blender_passes(run_setpiece: Any, tmp_path: Path) -> None:
    result = run_setpiece("selftest", "blender", "--workdir", tmp_path / "work", timeout=600)
    assert result.exit_code == 0, result.out + result.err[-2000:]
    lines = result.out.splitlines()
    assert "FAIL" not in result.out
    assert any(ln.strip().startswith("PASS  USD operators (per Blender version): Blender")
               for ln in lines), result.out
    assert any("PASS  export units (per Blender version): metersPerUnit 0.01" in ln
               for ln in lines), result.out
    assert lines[-1].startswith("ok: 11 passed, 0 failed"), result.out
