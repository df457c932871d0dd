"""``setpiece react`` as a user runs it: declarations, --once, --list, --json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _ws(make_workspace: Any, text: str) -> Any:
    ws = make_workspace()
    with ws.config.path.open("a") as fh:
        fh.write(text)
    return type(ws)(ws.root)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('[[reactions]]\nname = "x"\ndo = "explode"\n', ["'x'", "explode", "notify"]),
        ('[[reactions]]\nname = "x"\ndo = "notify"\nwhen = { closur = "A" }\n', ["closur"]),
        ('[[reactions]]\nname = "x"\ndo = "notify"\nmessage = "hi"\n', ["message", "with"]),
        ('[[reactions]]\nname = "x"\ndo = "notify"\nafter = ["y"]\n', ["'y'", "not a reaction"]),
        ('[[reactions]]\nname = "a b"\ndo = "notify"\n', ["'a b'", "not valid"]),
        ('[[reactions]]\nname = "x"\ndo = "notify"\n[[reactions]]\nname = "x"\ndo = "notify"\n',
         ["two reactions", "'x'"]),
        ('[[reactions]]\nname = "x"\ndo = "notify"\nafter = ["y"]\n'
         '[[reactions]]\nname = "y"\ndo = "notify"\nafter = ["x"]\n', ["cycle"]),
    ],
)
def test_bad_declarations_are_one_line_errors(make_workspace: Any, run_cli: Any, text: str,
                                              fragments: list[str]) -> None:
    ws = _ws(make_workspace, text)
    before = sorted(p.name for p in (ws.root / ".setpiece").iterdir()) if (
        ws.root / ".setpiece").exists() else []
    result = run_cli("-w", ws.root, "react", "--once")
    result.user_error(*fragments)
    assert not (Path(ws.root) / ".setpiece" / "reactions").exists() or before
