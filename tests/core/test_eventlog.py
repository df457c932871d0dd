"""Events live with the data they describe: repo logs, ids, the reader API and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from setpiece.core import eventlog
from setpiece.core.eventlog import Cursor, FolderLog, WorkspaceLog

REPO_EVENTS = Path(".setpiece") / "events"


def lines(result: Any) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.err
    return [json.loads(x) for x in result.out.splitlines()]


def test_publish_lands_in_the_repo_log_with_a_full_envelope(
    make_workspace: Any, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SETPIECE_SITE", "paris")
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    monkeypatch.setenv("TRACEPARENT", parent)
    ws = make_workspace()
    assert run_cli("-w", ws.root, "create", "Chair").exit_code == 0
    assert run_cli("-w", ws.root, "publish", "Chair").exit_code == 0

    review = tmp_path / "repos" / "review"
    files = sorted((review / REPO_EVENTS).glob("[0-9][0-9][0-9][0-9]/*/*.json"))
    assert len(files) == 1  # one file per event, under <yyyy>/<mm>/<id>.json
    event = json.loads(files[0].read_bytes())
    assert files[0].name == event["id"] + ".json" and len(event["id"]) == 26
    t = time.gmtime(event["time"])
    assert files[0].parent == review / REPO_EVENTS / f"{t.tm_year:04d}" / f"{t.tm_mon:02d}"
    assert event["event"] == "published" and event["asset"] == "Chair"
    assert event["version"] == "0.1.0" and event["repo"] == "review"
    # the event joins the given trace, under the span of the publish that logged it
    version, trace, span, flags = event["traceparent"].split("-")
    assert event["site"] == "paris" and (version, trace, flags) == ("00", parent.split("-")[1], "01")
    assert span != parent.split("-")[2]
    assert event["user"] and event["host"]
    assert eventlog.id_time(event["id"]) == event["time"]

    # the CLI reads the repo log and the workspace log; the workspace has the rest too
    repo_events = lines(run_cli("-w", ws.root, "events", "--repo", "review", "--json"))
    assert repo_events == [event]
    ws_events = lines(run_cli("-w", ws.root, "events", "--json"))
    assert [e["event"] for e in ws_events] == ["created", "built", "published"]
    assert all(e["traceparent"].split("-")[1] == parent.split("-")[1] and e["site"] == "paris"
               for e in ws_events)  # one trace; each under the span of what logged it
    assert [e["id"] for e in ws_events] == sorted(e["id"] for e in ws_events)
    text = run_cli("-w", ws.root, "events", "--repo", "review").out
    assert "published" in text and "asset=Chair" in text and "version=0.1.0" in text


def test_a_trace_is_made_when_none_is_given(make_workspace: Any, run_setpiece: Any) -> None:
    ws = make_workspace()
    env = {k: v for k, v in os.environ.items() if k != "TRACEPARENT"}
    r = subprocess.run([str(Path(sys.executable).parent / "setpiece"), "-w", str(ws.root),
                        "create", "Chair"], env=env, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    (event,) = list(eventlog.read(WorkspaceLog(ws.root)))
    version, trace, span, flags = event.traceparent.split("-")
    assert version == "00" and len(trace) == 32 and len(span) == 16 and flags == "01"
    assert int(trace, 16) != 0


def test_two_workspaces_sharing_a_folder_repo_see_each_others_publishes(
    make_workspace: Any, run_cli: Any
) -> None:
    a = make_workspace("a")
    b = make_workspace("b")  # the same blessed and review folders
    for ws, name in ((a, "Chair"), (b, "Table")):
        assert run_cli("-w", ws.root, "create", name).exit_code == 0
        assert run_cli("-w", ws.root, "publish", name).exit_code == 0
    for ws in (a, b):
        seen = lines(run_cli("-w", ws.root, "events", "--repo", "review", "--json"))
        assert [(e["asset"], e["workspace"]) for e in seen] == [
            ("Chair", str(a.root)), ("Table", str(b.root))]
    # and each workspace log keeps only its own
    assert [e["asset"] for e in lines(run_cli("-w", b.root, "events", "--event", "published",
                                             "--json"))] == ["Table"]


def test_filters_since_and_cursor(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    for name in ("Chair", "Table"):
        ws.create(name)
        ws.publish(name)
    ws.output("Chair").set_version("0.2.0")
    ws.publish("Chair")
    review = ws.repo("review")
    all_ = lines(run_cli("-w", ws.root, "events", "--repo", "review", "--json"))
    assert [(e["asset"], e["version"]) for e in all_] == [
        ("Chair", "0.1.0"), ("Table", "0.1.0"), ("Chair", "0.2.0")]
    chair = lines(run_cli("-w", ws.root, "events", "--repo", "review", "--asset", "chair", "--json"))
    assert [e["version"] for e in chair] == ["0.1.0", "0.2.0"]
    after_first = lines(run_cli("-w", ws.root, "events", "--repo", "review", "--since",
                                all_[0]["id"], "--json"))
    assert [e["id"] for e in after_first] == [e["id"] for e in all_[1:]]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(all_[0]["time"] - 1))
    assert len(lines(run_cli("-w", ws.root, "events", "--repo", "review", "--since", iso,
                             "--json"))) == 3
    assert lines(run_cli("-w", ws.root, "events", "--since", "1h", "--event", "published",
                         "--json"))[0]["id"] == all_[0]["id"]
    run_cli("-w", ws.root, "events", "--since", "yesterday-ish").user_error(
        "yesterday-ish", "event id", "2h")

    # the reader API and a cursor that resumes
    log = eventlog.repo_log(ws, review)
    cursor = Cursor()
    got = []
    for ev in eventlog.read(log, cursor, names=["published"]):
        got.append((ev.asset, ev.version))
        cursor.advance(ev)
    assert got == [("Chair", "0.1.0"), ("Table", "0.1.0"), ("Chair", "0.2.0")]
    saved = ws.root / "cursor.json"
    cursor.save(saved)
    assert list(eventlog.read(log, Cursor.load(saved))) == []
    ws.output("Table").set_version("0.2.0")
    ws.publish("Table")
    assert [(e.asset, e.version) for e in eventlog.read(log, Cursor.load(saved))] == [
        ("Table", "0.2.0")]


def test_a_late_event_is_still_seen_by_a_cursor(tmp_path: Path) -> None:
    """Another machine's clock is behind (or its write was slow): its event lands with an
    id older than one already read. A cursor re-reads its look-back window and sees it."""
    log = FolderLog(tmp_path / "events")
    now = int(time.time() * 1000)

    def add(ms: int, n: int) -> str:
        event_id = eventlog.new_id(ms)
        log.append({"id": event_id, "time": ms / 1000, "event": "note", "n": n})
        return event_id

    add(now - 2000, 1)
    add(now, 2)
    cursor = Cursor()
    for ev in eventlog.read(log, cursor):
        cursor.advance(ev)
    add(now - 1000, 3)  # late: older than the last id read
    add(now - 10 * 60 * 1000, 4)  # later than the look-back window: not seen (documented)
    assert [e.get("n") for e in eventlog.read(log, cursor)] == [3]


def test_a_cursor_at_the_end_sees_only_what_comes_next(tmp_path: Path) -> None:
    log = FolderLog(tmp_path / "events")
    assert list(eventlog.read(log, Cursor.at_end(log))) == []  # an empty log
    now = int(time.time() * 1000)
    for k, ms in enumerate((now - 40 * 86400 * 1000, now - 60_000, now - 1000)):
        log.append({"id": eventlog.new_id(ms), "time": ms / 1000, "event": "note", "n": k})
    cursor = Cursor.at_end(log)
    assert list(eventlog.read(log, cursor)) == []
    log.append({"id": eventlog.new_id(now - 2000), "time": 0, "event": "note", "n": 3})  # late
    log.append({"id": eventlog.new_id(), "time": 0, "event": "note", "n": 4})
    assert [e.get("n") for e in eventlog.read(log, cursor)] == [3, 4]
    old = FolderLog(tmp_path / "old")  # only old events: the cursor is past the newest
    old.append({"id": eventlog.new_id(now - 40 * 86400 * 1000), "time": 0, "event": "note"})
    assert list(eventlog.read(old, Cursor.at_end(old))) == []


def test_events_are_never_rewritten_and_keyed_ones_are_logged_once(tmp_path: Path) -> None:
    log = FolderLog(tmp_path / "events")
    first, new = log.append({"id": eventlog.new_id(), "time": 1.0, "event": "published",
                             "asset": "Chair", "version": "1.0"})
    assert new
    again, new = log.append({"id": eventlog.new_id(), "time": 2.0, "event": "published",
                             "asset": "chair", "version": "1.0.0"})
    assert not new and again.id == first.id
    assert [e.id for e in log.events()] == [first.id]


WRITER = textwrap.dedent("""
    import sys
    from setpiece.core.events import emit
    from setpiece.core.workspace import Workspace
    ws = Workspace(sys.argv[1])
    repo = ws.repo("review")
    n = int(sys.argv[2])
    sys.stdin.readline()  # start together
    for i in range(n):
        emit(ws, "note", to_repo=repo, writer=sys.argv[3], n=i, pad="x" * 5000)
    emit(ws, "published", to_repo=repo, asset="Chair", version="9.9.9", writer=sys.argv[3])
""")


def test_many_processes_emit_to_one_repo_log_at_once(make_workspace: Any, run_cli: Any) -> None:
    """8 processes, 40 events each (5 kB, beyond any atomic-append size) and all racing to
    log the same keyed ``published``: every event is there, whole, and ``published`` once."""
    ws = make_workspace()
    writers, per = 8, 40
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ws.root), str(per), f"w{k}"],
                              stdin=subprocess.PIPE, stderr=subprocess.PIPE)
             for k in range(writers)]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    got = lines(run_cli("-w", ws.root, "events", "--repo", "review", "--json"))
    notes = [e for e in got if e["event"] == "note"]
    assert len(notes) == writers * per
    assert len({e["id"] for e in got}) == len(got)
    assert all(e["pad"] == "x" * 5000 for e in notes)  # none torn
    for k in range(writers):  # each writer's own events in its order
        assert [e["n"] for e in notes if e["writer"] == f"w{k}"] == list(range(per))
    assert [e["event"] for e in got].count("published") == 1
    root = ws.repo("review").root / REPO_EVENTS
    assert not [p for p in root.rglob(".*") if p.is_file()]  # no temp file left


def test_promote_killed_after_the_wheel_landed_ends_with_one_event(
    make_workspace: Any, run_cli: Any
) -> None:
    ws = make_workspace()
    ws.create("Chair", version="1.0.0")
    ws.publish("Chair")
    wheel = ws.build("Chair")
    ws.repo("blessed").publish(wheel)  # what a promote killed before its event left
    r = run_cli("-w", ws.root, "promote", "Chair==1.0.0", "--to", "blessed")
    assert r.exit_code == 0 and "interrupted" in r.err, r.err
    r = run_cli("-w", ws.root, "promote", "Chair==1.0.0", "--to", "blessed")  # a re-run
    assert r.exit_code == 0 and "already in 'blessed' with the same bytes" in r.err, r.err
    got = lines(run_cli("-w", ws.root, "events", "--repo", "blessed", "--json"))
    assert [(e["event"], e["source"], e.get("recovered")) for e in got] == [
        ("promoted", "review", True)]


def test_yank_marks_the_index_and_installs_skip_it_unless_pinned(
    sample_ws: Any, run_cli: Any, sample_repo: Path, make_workspace: Any
) -> None:
    ws = sample_ws
    r = run_cli("-w", ws.root, "yank", "Chair==1.1.0", "--reason", "broken UVs", "--json")
    assert r.exit_code == 0, r.err
    assert r.json()["changed"] is True and r.json()["repo"] == "blessed"
    page = (sample_repo / "simple" / "chair" / "index.html").read_text()
    row = next(x for x in page.splitlines() if "chair-1.1.0" in x)
    assert 'data-yanked="broken UVs"' in row
    assert "data-yanked" not in next(x for x in page.splitlines() if "chair-1.0.0" in x)
    assert (sample_repo / "chair-1.1.0-py3-none-any.whl").exists()  # never deleted
    assert "blessed      1.0.0, 1.1.0 (yanked)" in run_cli("-w", ws.root, "versions", "Chair").out
    assert run_cli("-w", ws.root, "install", "Chair").exit_code == 0
    assert ws.installed_assets()["chair"].version == "1.0.0"
    r = run_cli("-w", ws.root, "install", "Chair==1.1.0")
    assert r.exit_code == 0, r.err
    assert ws.installed_assets()["chair"].version == "1.1.0"
    # a second yank changes nothing and logs nothing; a rebuilt index keeps the mark
    assert run_cli("-w", ws.root, "yank", "Chair==1.1.0", "--json").json()["changed"] is False
    got = lines(run_cli("-w", ws.root, "events", "--repo", "blessed", "--event", "yanked",
                        "--json"))
    assert [(e["asset"], e["version"], e["reason"]) for e in got] == [
        ("Chair", "1.1.0", "broken UVs")]
    assert run_cli("-w", ws.root, "repo", "reindex", "blessed").exit_code == 0
    assert 'data-yanked="broken UVs"' in (
        sample_repo / "simple" / "chair" / "index.html").read_text()


def test_yank_bad_input(sample_ws: Any, run_cli: Any, make_repo: Any) -> None:
    run_cli("-w", sample_ws.root, "yank", "Chair").user_error("exact version", "Chair==1.2.3")
    run_cli("-w", sample_ws.root, "yank", "Chair==9.0.0").user_error(
        "Chair==9.0.0", "not published", "setpiece versions Chair")
    run_cli("-w", sample_ws.root, "yank", "Chair==1.0.0", "--repo", "review").user_error(
        "not published in repo 'review'")
