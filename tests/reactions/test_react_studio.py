"""Two workspaces and a shared folder repo, through the repo logs (no server).

Publishing Table 1.3.0 in A makes B's reaction update and rebuild KitchenSet's scene
exactly once; a duplicate or a re-read does nothing; A's bounded (<1.3) and pinned
(==1.2.0) dependents are not touched.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from studio import Service, installed, runs_of, tree_state, wait_for

pytest.importorskip("pxr")


def _react(run_cli: Any, ws: Any, *args: str) -> dict[str, Any]:
    result = run_cli("-w", ws.root, "react", "--once", "--json", *args)
    assert result.exit_code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


def _ran(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in summary["outcomes"] if o["status"] == "ran"]


@pytest.mark.slow
def test_publish_in_a_rebuilds_b_once(studio: Any, run_cli: Any) -> None:
    a, b = studio.a, studio.b
    generated = b.root / "scenes" / "KitchenSet.setpiece.usda"

    # first run: each workspace catches up with the repo's log and builds its scenes once
    first = _react(run_cli, b)
    assert [o["reaction"] for o in _ran(first)] == ["kitchen"]
    assert 'version = "1.2.0"' in generated.read_text()
    assert len(_ran(_react(run_cli, a))) == 2  # old-kitchen and pinned-kitchen
    a_scenes = tree_state(a.root / "scenes")

    studio.publish_table("1.3.0")  # in workspace A, into the shared repo

    summary = _react(run_cli, b)
    ran = _ran(summary)
    assert len(ran) == 1 and ran[0]["reaction"] == "kitchen"
    assert "Table 1.2.0 -> 1.3.0" in ran[0]["message"]
    assert ran[0]["output_changed"] is True
    assert installed(b)["table"] == "1.3.0"
    text = generated.read_text()
    assert 'version = "1.3.0"' in text and 'version = "1.2.0"' not in text
    assert installed(b)["lamp"] == "1.0.0"  # KitchenSet's pin on Lamp holds
    # what B's reaction logged joins the trace of A's publish (W3C traceparent)
    from setpiece.core import events

    (pub,) = [e for e in events.read(a.root, "published") if e["version"] == "1.3.0"]
    trace = pub["traceparent"].split("-")[1]
    logged = [e for e in events.read(b.root) if e.get("cause") == pub["id"]
              or e["event"] in ("scene.updated", "installed")]
    assert {e["event"] for e in logged if e["traceparent"].split("-")[1] == trace} >= {
        "reaction.ran", "scene.updated", "installed"}

    # nothing more is pending; a re-read of the whole log (a new cursor) runs nothing
    assert _react(run_cli, b)["events"] == 0
    shutil.rmtree(b.root / ".setpiece" / "reactions" / "cursors")
    again = _react(run_cli, b)
    assert again["events"] >= 7 and _ran(again) == []
    assert {o["status"] for o in again["outcomes"]} == {"duplicate"}

    # a new cursor started after the publish (--since its id) sees nothing
    shutil.rmtree(b.root / ".setpiece" / "reactions" / "cursors")
    assert _react(run_cli, b, "--since", pub["id"])["events"] == 0

    # A: Table 1.3.0 is outside OldKitchen's '<1.3' and PinnedKitchen's '==1.2.0'
    mine = _react(run_cli, a)
    assert _ran(mine) == [] and mine["outcomes"] == []
    assert tree_state(a.root / "scenes") == a_scenes
    assert installed(a)["table"] == "1.2.0"

    listing = run_cli("-w", b.root, "react", "--list", "--json").json()
    assert [(r["name"], r["state"]["runs"], r["state"]["status"]) for r in listing] == [
        ("kitchen", 2, "ok")
    ]


@pytest.mark.slow
def test_service_on_the_repo_logs_survives_kill_and_stops_on_sigterm(
    studio: Any, run_cli: Any
) -> None:
    b = studio.b
    exe = Path(sys.executable).parent / "setpiece"
    service = Service(exe, b)
    try:
        wait_for(lambda: runs_of(b) == (1, "ok"), what="the first build")
        studio.publish_table("1.3.0")
        wait_for(lambda: runs_of(b)[1] == "running", what="the reaction to start")
        service.proc.kill()  # kill -9 mid-reaction: the state says 'running'
        service.proc.wait(10)
    finally:
        if service.proc.poll() is None:
            service.proc.kill()
    assert runs_of(b) == (1, "running")

    # restarted: the event was not acknowledged, so it comes again and the reaction re-runs
    service = Service(exe, b)
    try:
        wait_for(lambda: runs_of(b) == (2, "ok"), what="the re-run after the kill")
        time.sleep(0.5)
    finally:
        code, err = service.stop()
    assert code == 0 and "stopped by SIGTERM" in err, err
    assert [o["reaction"] for o in service.ran()] == ["kitchen"]
    assert installed(b)["table"] == "1.3.0"
    assert _react(run_cli, b)["events"] == 0  # the cursor was saved
