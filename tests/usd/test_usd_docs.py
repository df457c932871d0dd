"""The Python example of docs/usd.md runs and prints what the page says."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "usd.md"


def test_python_example_runs(capsys):
    text = DOC.read_text(encoding="utf-8")
    code = re.search(r"## Python API\n\n```python\n(.*?)```", text, re.S).group(1)
    module = types.ModuleType("docs_usd_example")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile(code, str(DOC), "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    out = capsys.readouterr().out.splitlines()
    expected = [line.strip()[2:] for line in code.splitlines()
                if line.strip().startswith("# /World/")]
    assert out == expected
