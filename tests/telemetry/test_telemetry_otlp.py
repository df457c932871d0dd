"""OTLP export to a collector: a small receiver on 127.0.0.1 decodes what setpiece sends;
a collector that is down or hangs never slows the command nor holds its exit, and is said
once on stderr."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from otlp_receiver import Receiver
from tele import named, trace_id


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def _configure(ws: Any, endpoint: str, extra: str = "") -> None:
    with ws.config.path.open("a") as fh:
        fh.write(f'\n[telemetry]\nendpoint = "{endpoint}"\n{extra}')


def _seconds(span: dict[str, Any]) -> float:
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (at(span["end_time"]) - at(span["start_time"])).total_seconds()


def test_spans_and_metrics_reach_the_collector(run_setpiece: Any, make_workspace: Any,
                                               receiver: Receiver) -> None:
    ws = make_workspace()
    _configure(ws, receiver.url)
    result = run_setpiece("-w", ws.root, "create", "Chair")
    assert result.exit_code == 0 and "warning" not in result.err, result.err
    # sent before the process exited: the receiver has them now
    (span,) = [s for s in receiver.spans if s["name"] == "setpiece create"]
    assert span["attributes"]["setpiece.command"] == "create"
    assert span["attributes"]["setpiece.exit_code"] == 0
    assert span["resource"]["service.name"] == "setpiece"
    assert span["resource"]["setpiece.host"] == "cli"
    assert span["resource"]["setpiece.workspace"] == str(ws.root)
    # the same span went to the workspace's files
    (in_file,) = named(ws.root, "setpiece create")
    assert trace_id(in_file) == span["trace_id"]
    uses = [p for p in receiver.points if p["name"] == "setpiece.tool.uses"]
    assert [(p["attributes"], p["value"]) for p in uses] == [({"tool": "create", "host": "cli"}, 1)]
    durations = [p for p in receiver.points if p["name"] == "setpiece.action.duration"]
    assert durations[0]["kind"] == "histogram" and durations[0]["value"] == 1


def test_the_standard_otel_variables_configure_it(run_setpiece: Any, make_workspace: Any,
                                                  receiver: Receiver) -> None:
    ws = make_workspace()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_SERVICE_NAME": "studio-pipe",
           "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"}
    result = run_setpiece("-w", ws.root, "create", "Chair", env=env)
    assert result.exit_code == 0, result.err
    (span,) = [s for s in receiver.spans if s["name"] == "setpiece create"]
    assert span["resource"]["service.name"] == "studio-pipe"
    assert span["resource"]["deployment.environment"] == "test"
    env["OTEL_TRACES_EXPORTER"] = "none"  # the standard switch: no spans to the collector
    result = run_setpiece("-w", ws.root, "list", env=env)
    assert result.exit_code == 0
    assert not [s for s in receiver.spans if s["name"] == "setpiece list"]
    assert named(ws.root, "setpiece list")  # still in the files


def _exit_delay(run_setpiece: Any, ws: Any) -> tuple[float, Any]:
    """Run ``setpiece list``; the seconds from the end of its command span (in the files)
    to the process having exited: what exporting at exit costs, without start-up noise."""
    result = run_setpiece("-w", ws.root, "list")
    returned = time.time()
    ended = datetime.fromisoformat(named(ws.root, "setpiece list")[-1]["end_time"]
                                   .replace("Z", "+00:00")).timestamp()
    return returned - ended, result


@pytest.mark.slow
def test_a_collector_that_is_down_costs_nothing_and_warns_once(
    run_setpiece: Any, make_workspace: Any, receiver: Receiver, closed_port: int
) -> None:
    up, down = make_workspace("up"), make_workspace("down")
    _configure(up, receiver.url)
    _configure(down, f"http://127.0.0.1:{closed_port}")
    up_delays, down_delays = [], []
    for i in range(6):  # interleaved, in turn first: the machine's load hits both alike
        for ws in (up, down) if i % 2 else (down, up):
            seconds, result = _exit_delay(run_setpiece, ws)
            assert result.exit_code == 0, result.err
            if ws is up:
                assert result.err == "", result.err
                up_delays.append(seconds)
                continue
            lines = result.err.splitlines()
            assert len(lines) == 1, result.err  # exactly one warning, never an error
            assert lines[0].startswith("warning: telemetry: could not send to the collector "
                                       f"at http://127.0.0.1:{closed_port}")
            assert "Traceback" not in result.err and "error" not in result.err.lower()
            down_delays.append(seconds)
    # the command itself: its span (from the files) is as long with the collector down
    # (the least of 6 runs each: this shared 2-core machine's load only ever adds)
    up_spans = [_seconds(s) for s in named(up.root, "setpiece list")]
    down_spans = [_seconds(s) for s in named(down.root, "setpiece list")]
    assert len(down_spans) == 6  # the files still got every span
    assert min(down_spans) < min(up_spans) + 0.1, (up_spans, down_spans)
    # exit is not held: from the command's end to the process gone, as with the collector up
    assert min(down_delays) < min(up_delays) + 0.1, (up_delays, down_delays)


@pytest.mark.slow
def test_a_collector_that_never_answers_holds_exit_at_most_the_shutdown_timeout(
    run_setpiece: Any, make_workspace: Any, receiver: Receiver
) -> None:
    hung = socket.socket()  # accepts connections (the kernel's backlog), never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    try:
        up, stuck = make_workspace("up"), make_workspace("stuck")
        _configure(up, receiver.url)
        _configure(stuck, f"http://127.0.0.1:{hung.getsockname()[1]}", "shutdown_timeout = 0.2\n")
        up_delays, stuck_delays = [], []
        for _ in range(3):
            seconds, result = _exit_delay(run_setpiece, up)
            up_delays.append(seconds)
            seconds, result = _exit_delay(run_setpiece, stuck)
            assert result.exit_code == 0
            assert len(result.err.splitlines()) == 1 and "no answer within 0.2 s" in result.err
            stuck_delays.append(seconds)
        assert min(stuck_delays) < min(up_delays) + 0.2 + 0.15, (up_delays, stuck_delays)
    finally:
        hung.close()
