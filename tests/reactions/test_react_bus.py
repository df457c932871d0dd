"""Two workspaces, a shared folder repo and a real Redis bus on 127.0.0.1.

B's ``setpiece react`` consumes the bus (one consumer group per reaction). Publishing
in A rebuilds B's scene exactly once; a replay does nothing; Redis killed (-9) while a
reaction runs and restarted loses no event and re-runs nothing; a publish while the bus
is down succeeds and its event reaches B once the bus is back and the log forwarded.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from studio import Service, installed, runs_of, wait_for

pytest.importorskip("pxr")
pytest.importorskip("redis")


def _use_bus(ws: Any, url: str) -> Any:
    with ws.config.path.open("a") as fh:
        fh.write(f'\n[events]\nbus = "{url}"\nconnect_timeout = 0.5\n')
    return type(ws)(ws.root)


@pytest.mark.slow
def test_bus_publish_rebuilds_once_and_a_replay_does_nothing(
    studio: Any, redis_server: Any, run_cli: Any
) -> None:
    a, b = _use_bus(studio.a, redis_server.url), _use_bus(studio.b, redis_server.url)
    studio.a = a
    studio.publish_table("1.3.0")  # logged in the repo, forwarded to the bus by the emit
    result = run_cli("-w", b.root, "react", "--once", "--json")
    assert result.exit_code == 0, result.err
    summary = result.json()
    ran = [o for o in summary["outcomes"] if o["status"] == "ran"]
    assert [o["reaction"] for o in ran] == ["kitchen"]
    assert "Table 1.2.0 -> 1.3.0" in ran[0]["message"]
    assert installed(b)["table"] == "1.3.0"

    replay = run_cli("-w", a.root, "events", "replay", "--repo", "shared", "--json")
    assert replay.exit_code == 0, replay.err
    assert replay.json()["bus"] >= 7
    again = run_cli("-w", b.root, "react", "--once", "--json").json()
    assert again["events"] >= 7
    assert [o for o in again["outcomes"] if o["status"] == "ran"] == []
    assert runs_of(b) == (1, "ok")

    # A's bounded and pinned dependents: not concerned by Table 1.3.0
    mine = run_cli("-w", a.root, "react", "--once", "--json").json()
    assert [o["reaction"] for o in mine["outcomes"] if o["status"] == "ran"] == [
        "old-kitchen", "pinned-kitchen"]  # their first build, from the older events
    assert installed(a)["table"] == "1.2.0"
    for o in mine["outcomes"]:
        assert "1.3.0" not in o["message"]


@pytest.mark.slow
def test_redis_killed_mid_reaction_and_down_during_publish(
    studio: Any, redis_server: Any
) -> None:
    a, b = _use_bus(studio.a, redis_server.url), _use_bus(studio.b, redis_server.url)
    studio.a = a
    service = Service(Path(sys.executable).parent / "setpiece", b)
    try:
        # 1. Redis is killed while B's reaction runs; the reaction finishes, its ack waits
        studio.publish_table("1.3.0")
        wait_for(lambda: runs_of(b)[1] == "running", what="the reaction to start")
        redis_server.kill()
        wait_for(lambda: runs_of(b) == (1, "ok"), what="the reaction to finish")
        redis_server.start()  # same port and data folder: the AOF brings the stream back

        # 2. the bus is down during a publish: the publish succeeds, the log keeps it
        redis_server.kill()
        out = a.output("Table")
        out.set_version("1.4.0")
        a.publish("Table")
        assert a.repo("shared").has_version("Table", "1.4.0")
        time.sleep(1.0)
        assert runs_of(b) == (1, "ok")  # nothing reached B
        redis_server.start()  # B's service forwards the repo log (the outbox) by itself
        wait_for(lambda: runs_of(b) == (2, "ok"), what="the forwarded event's reaction")
        time.sleep(1.0)  # time for any (wrong) second delivery to show
    finally:
        code, err = service.stop()
    assert code == 0, err
    ran = service.ran()
    assert [o["message"].split("(")[-1] for o in ran] == [
        "Table 1.2.0 -> 1.3.0)", "Table 1.3.0 -> 1.4.0)"]
    assert runs_of(b) == (2, "ok")
    assert installed(b)["table"] == "1.4.0"
    assert "stopped by SIGTERM" in err
