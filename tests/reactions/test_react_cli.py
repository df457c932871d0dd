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


BAD = [
    ('[[reactions]]\nname = "x"\ndo = "explode"\n', ["'x'", "explode", "notify"]),
    ('[[reactions]]\nname = "x"\ndo = "notify"\nwhen = { closur = "A" }\n', ["closur"]),
    ('[[reactions]]\nname = "x"\ndo = "notify"\nmessage = "hi"\n', ["message", "with"]),
    ('[[reactions]]\nname = "x"\ndo = "notify"\nafter = ["y"]\n', ["'y'", "not a reaction"]),
    ('[[reactions]]\nname = "a b"\ndo = "notify"\n', ["'a b'", "not valid"]),
    ('[[reactions]]\nname = "x"\ndo = "notify"\n[[reactions]]\nname = "x"\ndo = "notify"\n',
     ["two reactions", "'x'"]),
    ('[[reactions]]\nname = "x"\ndo = "notify"\nafter = ["y"]\n'
     '[[reactions]]\nname = "y"\ndo = "notify"\nafter = ["x"]\n', ["cycle"]),
    ('reactions = "yes"\n', ["array of tables"]),
    ("", ["no reactions", "[[reactions]]"]),
]


def test_bad_declarations_are_one_line_errors(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    base = ws.config.path.read_text()
    for text, fragments in BAD:
        ws.config.path.write_text(base + text if not text.startswith("reactions =")
                                  else text + base)
        result = run_cli("-w", ws.root, "react", "--once")
        result.user_error(*fragments)
        assert not (Path(ws.root) / ".setpiece" / "reactions").exists()  # nothing written


REVIEW = '''
from setpiece.core.reactions import ActionResult


class Review:
    """Writes a review note for each published version of Plate."""

    on = ("published",)
    when = {"asset": "Plate"}
    params = {"size": 64}

    def run(self, ctx):
        out = ctx.path(f"review/{ctx.event['asset']}-{ctx.event['version']}.txt")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"review of {ctx.event['version']} at {ctx.params['size']}\\n")
        return ActionResult(outputs=[out], message=f"wrote {out.name}")
'''


def test_an_installed_asset_declares_a_reaction(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    plate = ws.create("Plate", kind="prop", version="1.0.0")
    (Path(plate.package_dir) / "reactions.py").write_text(REVIEW)
    plate.add_entry_point("setpiece.reactions", "plate-review", "plate.reactions:Review")
    ws.publish("Plate")
    assert run_cli("-w", ws.root, "uninstall", "Plate").exit_code == 0
    import shutil

    shutil.rmtree(plate.path)
    assert run_cli("-w", ws.root, "install", "Plate").exit_code == 0  # from the repo

    listing = run_cli("-w", ws.root, "react", "--list", "--json")
    assert [(r["name"], r["do"], r["source"]) for r in listing.json()] == [
        ("plate-review", "entry-point",
         "entry point plate-review = plate.reactions:Review (Plate 1.0.0)")]
    out = run_cli("-w", ws.root, "react", "--once")
    assert out.exit_code == 0, out.err
    assert "plate-review: ran (published Plate 1.0.0); output changed: wrote Plate-1.0.0.txt" in out.out
    assert (ws.root / "review" / "Plate-1.0.0.txt").read_text() == "review of 1.0.0 at 64\n"
    assert "1 event(s)" in out.err or "event(s)" in out.err

    # safe mode: asset code is not loaded, so there is nothing to run
    run_cli("-w", ws.root, "react", "--no-asset-code", "--once").user_error("no reactions")


def test_pipeline_run_runs_the_assets_pipeline(make_workspace: Any, run_cli: Any) -> None:
    """A published Plate makes the reaction run Shot's pipeline (``setpiece pipeline run``)."""
    import shlex
    import sys

    pytest.importorskip("dvc")
    ws = _ws(make_workspace, '[[reactions]]\nname = "plate"\nwhen = "Plate"\n'
                             'do = "pipeline.run"\nwith = { asset = "Shot" }\n')
    ws.create("Shot")
    code = "import pathlib; pathlib.Path('out.txt').write_text(pathlib.Path('in.txt').read_text())"
    pkg = ws.output("Shot").package_dir
    (pkg / "in.txt").write_text("plate v1")
    assert run_cli("-w", ws.root, "pipeline", "add", "Shot", "copy", "--cmd",
                   f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}",
                   "--dep", "in.txt", "--out", "out.txt").exit_code == 0
    ws.create("Plate", kind="prop", version="1.0.0")
    ws.publish("Plate")
    out = run_cli("-w", ws.root, "react", "--once")
    assert out.exit_code == 0, out.out + out.err
    assert "Shot: ran copy" in out.out + out.err
    assert (pkg / "out.txt").read_text() == "plate v1"


def test_since_with_the_bus_needs_an_event_id(make_workspace: Any, run_cli: Any) -> None:
    ws = _ws(make_workspace, '[[reactions]]\nname = "x"\ndo = "notify"\n'
                             '[events]\nbus = "redis://127.0.0.1:1/0"\n')
    run_cli("-w", ws.root, "react", "--once", "--since", "2h").user_error(
        "--since '2h'", "event id", "--source log")
