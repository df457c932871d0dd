"""The reaction engine on the built-in notify and command actions (no USD needed)."""

from __future__ import annotations

import threading
import time
from typing import Any

import studio

from setpiece.core.reactions import Engine, load_reactions
from setpiece.core.reactions.state import StateStore

CHAIN = """
[[reactions]]
name = "note"
on = ["published"]
when = { asset = "Plate" }
do = "notify"
with = { file = "notes.log", message = "{asset} {version} is out", hook = "studio:hear" }

[[reactions]]
name = "make"
when = "Plate"
do = "command"
with = { run = "test ! -e fail || exit 3; cat source.txt > made.txt; echo $SETPIECE_REACTION $SETPIECE_ASSET $SETPIECE_VERSION >> env.log", outputs = ["made.txt"] }

[[reactions]]
name = "count"
after = ["make"]
do = "command"
with = { run = "echo run >> count.log; echo counted" }
"""


def _ws(make_workspace: Any, text: str) -> Any:
    ws = make_workspace()
    with ws.config.path.open("a") as fh:
        fh.write(text)
    return type(ws)(ws.root)


def _ev(eid: str, version: str, asset: str = "Plate") -> dict[str, Any]:
    return {"id": eid, "event": "published", "asset": asset, "version": version}


def _statuses(outcomes: list[Any]) -> list[tuple[str, str]]:
    return [(o.reaction, o.status) for o in outcomes]


def test_hash_everything_chain(make_workspace: Any) -> None:
    ws = _ws(make_workspace, CHAIN)
    (ws.root / "source.txt").write_text("v1\n")
    engine = Engine(ws, load_reactions(ws))
    notes, count = ws.root / "notes.log", ws.root / "count.log"

    out = engine.handle(_ev("A1", "1.0.0"))
    assert _statuses(out) == [("note", "ran"), ("make", "ran"), ("count", "ran")]
    assert notes.read_text() == "Plate 1.0.0 is out\n"
    assert count.read_text() == "run\n"

    # a duplicate delivery, then a replay by a new engine (a restart): nothing runs
    assert _statuses(engine.handle(_ev("A1", "1.0.0"))) == [("note", "duplicate"),
                                                            ("make", "duplicate")]
    again = Engine(ws, load_reactions(ws))
    assert _statuses(again.handle(_ev("A1", "1.0.0"))) == [("note", "duplicate"),
                                                           ("make", "duplicate")]
    # another asset: not these reactions' business
    assert again.handle(_ev("A2", "1.0.0", asset="Cup")) == []

    # a new version re-runs 'make', whose output comes out byte-identical: 'count' does not fire
    out = again.handle(_ev("A3", "1.1.0"))
    assert _statuses(out) == [("note", "ran"), ("make", "ran"), ("count", "unchanged")]
    assert not out[1].output_changed
    assert out[2].line() == ("count: unchanged (after make): what it runs after came out "
                             "unchanged: not fired")
    assert count.read_text() == "run\n"

    # the output changes: downstream fires once
    (ws.root / "source.txt").write_text("v2\n")
    out = again.handle(_ev("A4", "1.2.0"))
    assert _statuses(out) == [("note", "ran"), ("make", "ran"), ("count", "ran")]
    assert out[1].output_changed
    assert count.read_text() == "run\nrun\n"
    assert notes.read_text().splitlines() == ["Plate 1.0.0 is out", "Plate 1.1.0 is out",
                                              "Plate 1.2.0 is out"]
    assert studio.HEARD[-3:] == ["note: Plate 1.0.0 is out", "note: Plate 1.1.0 is out",
                                 "note: Plate 1.2.0 is out"]
    assert (ws.root / "env.log").read_text().splitlines() == [
        "make Plate 1.0.0", "make Plate 1.1.0", "make Plate 1.2.0"]


def test_a_failure_blocks_only_downstream_and_is_retried(make_workspace: Any) -> None:
    ws = _ws(make_workspace, CHAIN)
    (ws.root / "source.txt").write_text("v1\n")
    (ws.root / "fail").write_text("")
    engine = Engine(ws, load_reactions(ws))
    out = engine.handle(_ev("B1", "1.0.0"))
    assert _statuses(out) == [("note", "ran"), ("make", "failed"), ("count", "blocked")]
    assert "command exited 3" in out[1].error
    assert not (ws.root / "count.log").exists()
    state = StateStore(ws.root / ".setpiece" / "reactions").load("make")
    assert state.status == "failed" and state.failures == 1

    # retried on the next trigger (even with the same inputs), from a restarted engine
    (ws.root / "fail").unlink()
    engine = Engine(ws, load_reactions(ws))
    out = engine.handle(_ev("B2", "1.0.0"))
    assert _statuses(out) == [("note", "unchanged"), ("make", "ran"), ("count", "ran")]
    assert (ws.root / "count.log").read_text() == "run\n"


def test_stopping_mid_command_abandons_cleanly(make_workspace: Any) -> None:
    ws = _ws(make_workspace, """
[[reactions]]
name = "slow"
do = "command"
with = { run = "sleep 30; echo done > slow.txt" }
""")
    engine = Engine(ws, load_reactions(ws))
    threading.Timer(0.5, engine.stop.set).start()
    start = time.monotonic()
    out = engine.handle(_ev("C1", "1.0.0"))
    assert time.monotonic() - start < 25  # the command would run 30 s: it was stopped
    assert _statuses(out) == [("slow", "abandoned")]
    assert not (ws.root / "slow.txt").exists()
    state = StateStore(ws.root / ".setpiece" / "reactions").load("slow")
    assert state.status == "never" and not state.has_seen("C1")  # handled again next start


def test_event_fields_never_run_as_shell_code(make_workspace: Any) -> None:
    """A publish comment is free text from a shared folder or the bus: ``{comment}`` in a
    command is one quoted word, never code."""
    ws = _ws(make_workspace, """
[[reactions]]
name = "say"
do = "command"
with = { run = "echo {comment} > said.txt" }
""")
    engine = Engine(ws, load_reactions(ws))
    event = {**_ev("D1", "1.0.0"), "comment": "x; touch pwned $(touch pwned2)"}
    assert _statuses(engine.handle(event)) == [("say", "ran")]
    assert (ws.root / "said.txt").read_text() == "x; touch pwned $(touch pwned2)\n"
    assert not (ws.root / "pwned").exists() and not (ws.root / "pwned2").exists()
