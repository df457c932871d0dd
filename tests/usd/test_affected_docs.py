"""docs/events.md, "What a publish affects": the worked example runs as written and prints
what the page says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pxr")

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## What a publish affects"):text.index("## Reactions")]
    found = re.search(r"### Worked example\n.*?```sh\n(.*?)```", section, re.S)
    assert found, "no sh block in the worked example"
    return found.group(1)


@pytest.mark.slow
def test_affected_worked_example(tmp_path: Path) -> None:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "SETPIECE_HOME": str(tmp_path / "home"),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    env.pop("SETPIECE_WORKSPACE", None)
    proc = subprocess.run(["bash", "-e", "-c", example()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = proc.stdout
    scene = tmp_path / "b" / "scenes" / "KitchenSet.usda"
    text = DOC.read_text(encoding="utf-8")
    printed = text[text.index("`setpiece -w b affected Table==1.3.0` prints:"):]
    shown = re.search(r"```text\n(.*?)```", printed, re.S).group(1)  # type: ignore[union-attr]
    assert shown.replace("/…/b/scenes", str(tmp_path / "b" / "scenes")) in out
    start = out.index("{")
    end = out.index("\n}\n", start) + 2
    updates = json.loads(out[start:end])["updates"]
    assert [(u["name"], u["installed"], u["version"]) for u in updates] == [
        ("Table", "1.2.3", "1.3.0")]
    assert [s["scene"] for s in updates[0]["scenes"]] == [str(scene)]
    assert out.rstrip().endswith("Table 2.0.0 reaches no published version")
