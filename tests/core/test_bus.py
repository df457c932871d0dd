"""The studio bus on a real redis-server: the repo log is the outbox, consumer groups
deliver at least once, handlers run once per event id, and a crash of Redis loses nothing."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("redis", reason="redis-py is the bus extra: setpiece-core[bus]")

from setpiece.core import bus as busmod
from setpiece.core import eventlog
from setpiece.core.bus import Bus
from setpiece.core.eventlog import Event


@pytest.fixture(autouse=True)
def _fresh_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(busmod, "_down_until", {})


def with_bus(ws: Any, url: str) -> Any:
    with ws.config.edit() as doc:
        doc["events"] = {"bus": url}
    return ws


def repo_events(ws: Any, repo: str = "review") -> list[Event]:
    return list(eventlog.read(eventlog.repo_log(ws, ws.repo(repo))))


def new_bus(url: str, tmp_path: Path, name: str = "state") -> Bus:
    return Bus(url, state_dir=tmp_path / name, connect_timeout=1.0)


def collect(b: Bus, group: str, consumer: str = "c1", **kw: Any) -> list[Event]:
    got: list[Event] = []
    b.consume(group, consumer, got.append, once=True, **kw)
    return got


def test_publish_reaches_a_consumer_group_exactly_as_logged(
    make_workspace: Any, redis_server: Any, run_cli: Any, tmp_path: Path
) -> None:
    ws = with_bus(make_workspace(), redis_server.url)
    for name in ("Chair", "Table"):
        assert run_cli("-w", ws.root, "create", name).exit_code == 0
        assert run_cli("-w", ws.root, "publish", name).exit_code == 0  # forwarded by emit
    logged = repo_events(ws)
    b = new_bus(redis_server.url, tmp_path)
    got = collect(b, "rebuild-scenes")
    # workspace events (created, built) travel too; the published ones once each
    assert [e.name for e in got] == ["created", "built", "published"] * 2
    published = [e for e in got if e.name == "published"]
    assert [e.id for e in published] == [e.id for e in logged]
    assert [e.raw for e in published] == [e.raw for e in logged]  # the file's bytes
    assert collect(b, "rebuild-scenes") == []  # acked: nothing left
    assert [e.id for e in collect(b, "notify")] == [e.id for e in got]  # one group each
    # forwarding again (from any machine, any number of times) adds nothing
    r = run_cli("-w", ws.root, "events", "forward", "--once", "--json")
    assert r.exit_code == 0 and json.loads(r.out) == {"blessed": 0, "review": 0, "workspace": 0}
    assert b.client.xlen(b.stream) == 6


def test_bus_down_during_publish_then_forwarded_in_order(
    make_workspace: Any, redis_server: Any, run_cli: Any, run_setpiece: Any, tmp_path: Path
) -> None:
    redis_server.stop()
    ws = with_bus(make_workspace(), redis_server.url)
    ws.create("Chair")
    ws.create("Table")
    for name in ("Chair", "Table"):  # real processes: each pays the failed connect
        r = run_setpiece("-w", ws.root, "publish", name)
        assert r.exit_code == 0, r.err
    assert [e.asset for e in repo_events(ws)] == ["Chair", "Table"]
    run_cli("-w", ws.root, "events", "forward", "--once").user_error("unreachable")
    redis_server.start()
    r = run_cli("-w", ws.root, "events", "forward", "--once")
    assert r.exit_code == 0 and "review: forwarded 2 event(s)" in r.out, r.out + r.err
    assert "workspace: forwarded 4 event(s)" in r.out  # created x2, built x2 (not failed)
    got = collect(new_bus(redis_server.url, tmp_path), "g")
    assert [(e.asset, e.raw) for e in got if e.name == "published"] == [
        (e.asset, e.raw) for e in repo_events(ws)]
    assert [e.name for e in got] == ["published", "published", "created", "created", "built",
                                     "built"]


def test_a_dead_consumers_messages_are_claimed_and_handled_once(
    make_workspace: Any, redis_server: Any, tmp_path: Path
) -> None:
    ws = with_bus(make_workspace(), redis_server.url)
    for i in range(5):
        ws.emit("note", to_repo=ws.repo("review"), n=i)
    b = new_bus(redis_server.url, tmp_path)
    b.ensure_group("g")
    # consumer "dead" reads everything, then dies before acking
    taken = b.client.xreadgroup("g", "dead", {b.stream: ">"}, count=100)
    assert len(taken[0][1]) == 5
    assert collect(b, "g", "alive", claim_idle_ms=60_000) == []  # not idle long enough
    time.sleep(0.15)
    got = collect(b, "g", "alive", claim_idle_ms=100)
    assert [e.get("n") for e in got] == [0, 1, 2, 3, 4]
    assert b.client.xpending(b.stream, "g")["pending"] == 0
    # a duplicate delivery (the same event added again) does not run the handler again
    first = repo_events(ws)[0]
    b.client.xadd(b.stream, {"id": first.id, "event": first.name, "data": first.raw})
    assert collect(b, "g", "alive") == []


def test_a_failing_handler_is_retried_and_replay_reaches_each_group_once(
    make_workspace: Any, redis_server: Any, run_cli: Any, tmp_path: Path
) -> None:
    ws = with_bus(make_workspace(), redis_server.url)
    for i in range(3):
        ws.emit("note", to_repo=ws.repo("review"), n=i)
    b = new_bus(redis_server.url, tmp_path)
    calls: list[int] = []

    def flaky(event: Event) -> None:
        calls.append(event.get("n"))
        if event.get("n") == 1 and calls.count(1) == 1:
            raise RuntimeError("farm down")

    b.consume("g", "c", flaky, once=True)
    assert calls == [0, 1, 2]
    b.consume("g", "c", flaky, once=True, claim_idle_ms=0)  # retried, then done
    assert calls == [0, 1, 2, 1]
    b.consume("g", "c", flaky, once=True, claim_idle_ms=0)
    assert calls == [0, 1, 2, 1]

    # replay: re-sent, marked, handled once per group however often it is delivered
    r = run_cli("-w", ws.root, "events", "replay", "--repo", "review", "--json")
    assert r.exit_code == 0 and r.json()["events"] == 3 and r.json()["bus"] == 3
    replayed = collect(b, "g")
    assert [e.get("n") for e in replayed] == [0, 1, 2]
    assert {e.replay for e in replayed} == {r.json()["replay"]}
    assert all(e.to_dict()["replay"] == r.json()["replay"] for e in replayed)
    assert collect(b, "g") == []

    # replay from any point: rewind the group to after the first event; everything on the
    # stream after it (two events, then the three replayed) is handled again
    events = repo_events(ws)
    assert b.rewind("g", events[0].id) == 5
    again = collect(b, "g")
    assert [(e.get("n"), bool(e.replay)) for e in again] == [
        (1, False), (2, False), (0, True), (1, True), (2, True)]


def test_redis_killed_mid_stream_loses_nothing_and_runs_no_handler_twice(
    make_workspace: Any, redis_server: Any, tmp_path: Path
) -> None:
    """Events are emitted (and forwarded) while a consumer handles them; Redis is killed
    with SIGKILL halfway and restarted. Every logged event is handled exactly once."""
    ws = with_bus(make_workspace(), redis_server.url)
    repo = ws.repo("review")
    total = 120
    handled: list[str] = []
    stop = threading.Event()
    consumer_bus = new_bus(redis_server.url, tmp_path, "consumer")
    consumer_bus.timeout = 0.5

    def handler(event: Event) -> None:
        handled.append(event.id)

    thread = threading.Thread(target=consumer_bus.consume, args=("g", "c", handler),
                              kwargs={"stop": stop, "block_ms": 50, "claim_idle_ms": 1000})
    thread.start()
    try:
        for i in range(total):
            ws.emit("note", to_repo=repo, n=i)
            if i == total // 2:
                redis_server.kill()
            if i == total // 2 + 20:
                redis_server.start()
            time.sleep(0.005)
        forwarder = new_bus(redis_server.url, tmp_path, "forwarder")
        forwarder.forward(ws, repo)  # what 'setpiece events forward' does
        deadline = time.monotonic() + 30
        while len(handled) < total and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    logged = [e.id for e in repo_events(ws)]
    assert len(logged) == total
    assert sorted(handled) == sorted(set(handled)), "a handler ran twice"
    assert sorted(handled) == sorted(logged)
    assert forwarder.client.xlen(forwarder.stream) == total  # and no event twice on the bus


def test_bad_bus_configuration(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    run_cli("-w", ws.root, "events", "forward", "--once").user_error(
        "no bus configured", "[events] bus")
    with_bus(ws, "http://127.0.0.1:1/")
    run_cli("-w", ws.root, "events", "forward", "--once").user_error("not a Redis URL")
    # a bad bus never fails a publish: the event is in the repo log, to forward later
    ws.create("Chair")
    assert run_cli("-w", ws.root, "publish", "Chair").exit_code == 0
    assert [e.asset for e in repo_events(ws)] == ["Chair"]


def test_without_redis_py_a_publish_still_succeeds(
    make_workspace: Any, redis_server: Any, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from setpiece.core.errors import SetpieceError

    def missing() -> Any:
        raise SetpieceError("the bus needs redis-py: pip install 'setpiece-core[bus]'")

    monkeypatch.setattr(busmod, "_redis", missing)
    ws = with_bus(make_workspace(), redis_server.url)
    ws.create("Chair")
    assert run_cli("-w", ws.root, "publish", "Chair").exit_code == 0
    assert [e.asset for e in repo_events(ws)] == ["Chair"]
    run_cli("-w", ws.root, "events", "forward", "--once").user_error("setpiece-core[bus]")


def test_redis_dies_between_a_handler_and_its_ack(
    make_workspace: Any, redis_server: Any, tmp_path: Path
) -> None:
    """The worst moment: the handler finished, Redis is gone before the event is recorded
    as processed. The record waits in a local journal; nothing runs twice, nothing is lost."""
    ws = with_bus(make_workspace(), redis_server.url)
    for i in range(5):
        ws.emit("note", to_repo=ws.repo("review"), n=i)
    b = new_bus(redis_server.url, tmp_path)
    b.timeout = 0.5
    calls: list[int] = []

    def handler(event: Event) -> None:
        calls.append(event.get("n"))
        if event.get("n") == 2 and calls.count(2) == 1:
            redis_server.kill()
            threading.Timer(0.3, redis_server.start).start()

    b.consume("g", "c", handler, once=True, reconnect_for=20)
    assert calls == [0, 1, 2, 3, 4]
    assert b.client.xpending(b.stream, "g")["pending"] == 0
    assert b.consume("g", "c", handler, once=True, claim_idle_ms=0) == 0
    assert calls == [0, 1, 2, 3, 4]


def test_forward_service_forwards_until_sigterm(
    make_workspace: Any, redis_server: Any, tmp_path: Path
) -> None:
    """``setpiece events forward`` (no --once): a service that forwards what emits could
    not (the bus was down then) and stops cleanly on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys

    redis_server.stop()
    ws = with_bus(make_workspace(), redis_server.url)
    ws.emit("note", to_repo=ws.repo("review"), n=1)  # the bus is down: only logged
    exe = Path(sys.executable).parent / "setpiece"
    proc = subprocess.Popen([str(exe), "-w", str(ws.root), "events", "forward", "--interval",
                             "0.1", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # the service is up, and says the bus is down
        assert "bus down" in first and "retrying" in first, first
        redis_server.start()
        b = new_bus(redis_server.url, tmp_path)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not b.client.exists(b.stream):
            time.sleep(0.05)
        assert [e.get("n") for e in collect(b, "g")] == [1]
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[0]) == {"blessed": 0, "review": 1, "workspace": 0}


def test_trim_drops_old_entries_ids_and_records(
    make_workspace: Any, redis_server: Any, run_cli: Any, tmp_path: Path
) -> None:
    ws = with_bus(make_workspace(), redis_server.url)
    for i in range(3):
        ws.emit("note", to_repo=ws.repo("review"), n=i)
    b = new_bus(redis_server.url, tmp_path)
    assert len(collect(b, "g")) == 3
    r = run_cli("-w", ws.root, "events", "trim", "--older-than", "1d", "--json")
    assert r.exit_code == 0 and r.json() == {"entries": 0, "ids": 0, "processed": 0}, r.err
    assert b.trim(-60) == {"entries": 3, "ids": 3, "processed": 3}  # everything is "old"
    assert b.client.xlen(b.stream) == 0 and b.client.hlen(b.key("ids")) == 0
    run_cli("-w", ws.root, "events", "trim", "--older-than", "10m").user_error("too short", "1h")
    run_cli("-w", ws.root, "events", "trim", "--older-than", "soon").user_error("not an age")
    # the repo log is the record: it keeps every event
    assert len(repo_events(ws)) == 3


def test_a_bus_password_is_never_shown(make_workspace: Any, run_cli: Any, closed_port: int) -> None:
    """``redis://:PASSWORD@host`` is how Redis auth is configured: errors say the host only."""
    from setpiece.core.bus import safe_url

    assert safe_url("redis://bob:s3cret@h:6379/0") == "redis://bob:***@h:6379/0"
    assert safe_url("redis://:s3cret@h/0") == "redis://:***@h/0"
    ws = with_bus(make_workspace(), f"redis://:s3cret@127.0.0.1:{closed_port}/0")
    r = run_cli("-w", ws.root, "events", "forward", "--once")
    assert "s3cret" not in r.err + r.out, r.err
