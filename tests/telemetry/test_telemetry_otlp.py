"""OTLP export to a collector: a small receiver on 127.0.0.1 decodes what setpiece sends;
a collector that is down or hangs is said once on stderr, the command still succeeds and
its spans still reach the files (what it costs in time: benchmarks/telemetry_bench.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
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


# How long a collector that is down or hung holds a command and its exit is measured in
# benchmarks/telemetry_bench.py (results in benchmarks/README.md); these check behaviour.


@pytest.mark.slow
def test_a_collector_that_is_down_costs_nothing_and_warns_once(
    run_setpiece: Any, make_workspace: Any, receiver: Receiver, closed_port: int
) -> None:
    up, down = make_workspace("up"), make_workspace("down")
    _configure(up, receiver.url)
    _configure(down, f"http://127.0.0.1:{closed_port}")
    for _ in range(2):
        result = run_setpiece("-w", up.root, "list")
        assert result.exit_code == 0 and result.err == "", result.err
        result = run_setpiece("-w", down.root, "list")
        assert result.exit_code == 0, result.err
        lines = result.err.splitlines()
        assert len(lines) == 1, result.err  # exactly one warning, never an error
        assert lines[0].startswith("warning: telemetry: could not send to the collector "
                                   f"at http://127.0.0.1:{closed_port}")
        assert "Traceback" not in result.err and "error" not in result.err.lower()
    assert len(named(down.root, "setpiece list")) == 2  # the files still got every span
    assert all(s["attributes"]["setpiece.exit_code"] == 0
               for s in named(down.root, "setpiece list"))


@pytest.mark.slow
def test_a_collector_that_never_answers_is_given_up_after_the_shutdown_timeout(
    run_setpiece: Any, make_workspace: Any
) -> None:
    hung = socket.socket()  # accepts connections (the kernel's backlog), never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    try:
        stuck = make_workspace("stuck")
        _configure(stuck, f"http://127.0.0.1:{hung.getsockname()[1]}", "shutdown_timeout = 0.2\n")
        result = run_setpiece("-w", stuck.root, "list")
        assert result.exit_code == 0
        assert len(result.err.splitlines()) == 1 and "no answer within 0.2 s" in result.err
        assert len(named(stuck.root, "setpiece list")) == 1  # the files still got it
    finally:
        hung.close()
