"""docs/events.md's reactions worked example runs as written, and says what it claims."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pxr")

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


@pytest.mark.slow
def test_reactions_worked_example(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Worked example: a publish in one workspace rebuilds"):]
    script = re.search(r"```sh\n(.*?)```", section, re.S)
    assert script is not None
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never",
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    env.pop("SETPIECE_WORKSPACE", None)
    proc = subprocess.run(["bash", "-e", "-c", script.group(1)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = proc.stdout
    ran = [ln for ln in out.splitlines() if ": ran (" in ln]
    assert ran == [
        "kitchen: ran (published Table 1.2.0); output changed: "
        "KitchenSet.setpiece.usda written (no update)",
        "tell: ran (after kitchen); output changed: KitchenSet's scene changed (Table 1.2.0)",
        "kitchen: ran (published Table 1.3.0); output changed: "
        "KitchenSet.setpiece.usda written (Table 1.2.0 -> 1.3.0)",
        "tell: ran (after kitchen); output changed: KitchenSet's scene changed (Table 1.3.0)",
    ]
    # the output block the page shows is what the second run printed
    shown = re.search(r"rebuilds the scene once:\n\n```\n(.*?)```", section, re.S)
    assert shown is not None and shown.group(1).splitlines() == ran[2:]
    assert out.rstrip().splitlines()[-2:] == ["kitchen: scene.rebuild (ok, 2 run(s))",
                                              "tell: notify (ok, 2 run(s))"]
    assert "0 event(s): nothing to do" in proc.stderr
    generated = (tmp_path / "b" / "scenes" / "KitchenSet.setpiece.usda").read_text()
    assert 'version = "1.3.0"' in generated
    assert (tmp_path / "b" / "kitchen.log").read_text().splitlines() == [
        "KitchenSet's scene changed (Table 1.2.0)", "KitchenSet's scene changed (Table 1.3.0)"]
