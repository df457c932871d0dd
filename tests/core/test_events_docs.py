"""docs/events.md's shell examples run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "events.md"


def block(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, f"no sh block under {heading!r}"
    return found.group(1)


def run(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "UV_PYTHON_DOWNLOADS": "never",
        **env,
    }
    full.pop("SETPIECE_WORKSPACE", None)
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=600, check=False)


def test_two_workspaces_example_runs(tmp_path: Path) -> None:
    proc = run(block("### Worked example: two workspaces"), tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = proc.stdout.splitlines()
    assert "published" in out[0] and "asset=Chair" in out[0]  # b sees a's publish
    events = [json.loads(x) for x in out[1:]]
    assert [(e["event"], e["workspace"]) for e in events] == [
        ("published", str(tmp_path / "a")), ("yanked", str(tmp_path / "b"))]
    assert 'data-yanked="wrong scale"' in (
        tmp_path / "studio-repo" / "simple" / "chair" / "index.html").read_text()


def test_bus_example_runs(tmp_path: Path, redis_server: object) -> None:
    import pytest

    pytest.importorskip("redis")
    url = redis_server.url  # type: ignore[attr-defined]
    proc = run(block("### Worked example\n\nThis runs as written in the tests against"), tmp_path,
               REDIS_URL=url)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = proc.stdout.strip().split("\n", 1)
    assert json.loads(out[0]) == {"shared": 0, "workspace": 0}
    assert json.loads(out[1])["events"] == 1 and json.loads(out[1])["bus"] == 1
    # the consumer example from the same section, on that stream
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Consumers"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code
    from setpiece.core.workspace import Workspace

    printed = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom setpiece.core.workspace import Workspace\n"
         f"ws = Workspace({str(tmp_path / 'studio')!r})\n" + code.group(1)],
        capture_output=True, text=True, timeout=60, check=False)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines() == ["rebuild for Lamp 0.1.0", "rebuild for Lamp 0.1.0"]
    assert Workspace(tmp_path / "studio").config.section("events")["bus"] == url
