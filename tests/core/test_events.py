"""Events reach subscribers registered in ``setpiece.events``; a failing one breaks nothing."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from setpiece.core import events


def _subscriber_dist(site: Path, name: str, body: str) -> None:
    """A minimal installed distribution whose entry point subscribes to setpiece events."""
    (site / f"{name}.py").write_text(body)
    info = site / f"{name}-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.3\nName: {name}\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text(f"[setpiece.events]\n{name} = {name}:on_event\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(events, "_subscribers_cache", None)
    return folder


def test_subscribers_get_every_event_and_a_failing_one_breaks_nothing(
    site: Path, make_workspace: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen = tmp_path / "seen.jsonl"
    _subscriber_dist(site, "studio_notify", (
        "import json\n"
        "def on_event(event):\n"
        f"    with open({str(seen)!r}, 'a') as fh:\n"
        "        fh.write(json.dumps(event) + '\\n')\n"
    ))
    _subscriber_dist(site, "broken_hook", "def on_event(event):\n    raise RuntimeError('hook down')\n")
    ws = make_workspace("ws")
    with caplog.at_level(logging.WARNING, logger="setpiece.events"):
        ws.create("Chair")
        ws.publish("Chair")
    got = [json.loads(line) for line in seen.read_text().splitlines()]
    published = [e for e in got if e["event"] == "published"]
    assert published and published[0]["asset"] == "Chair" and published[0]["version"] == "0.1.0"
    # the log holds the same events, and the broken subscriber was reported, not raised
    logged = [e["event"] for e in events.read(ws.root)]
    assert [e["event"] for e in got] == logged
    assert "broken_hook" in caplog.text and "hook down" in caplog.text


def test_replay_resends_a_window_to_subscribers_marked(
    site: Path, make_workspace: Any, tmp_path: Path, run_cli: Any
) -> None:
    seen = tmp_path / "seen.jsonl"
    _subscriber_dist(site, "studio_luts", (
        "import json\n"
        "def on_event(event):\n"
        f"    with open({str(seen)!r}, 'a') as fh:\n"
        "        fh.write(json.dumps(event) + '\\n')\n"
    ))
    ws = make_workspace("ws")
    for name in ("Chair", "Table", "Lamp"):
        ws.create(name)
        ws.publish(name)
    seen.unlink()
    logged = [json.loads(x) for x in run_cli("-w", ws.root, "events", "--repo", "review",
                                             "--json").out.splitlines()]
    r = run_cli("-w", ws.root, "events", "replay", "--repo", "review", "--since", logged[0]["id"],
                "--until", logged[1]["id"], "--json")
    assert r.exit_code == 0, r.err
    assert r.json()["events"] == 1 and r.json()["bus"] == 0
    got = [json.loads(line) for line in seen.read_text().splitlines()]
    assert [(e["asset"], e["replay"]) for e in got] == [("Table", r.json()["replay"])]
    assert {k: v for k, v in got[0].items() if k != "replay"} == logged[1]
    # the log itself is unchanged
    assert [json.loads(x) for x in run_cli("-w", ws.root, "events", "--repo", "review",
                                           "--json").out.splitlines()] == logged
