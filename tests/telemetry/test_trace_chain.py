"""One trace across processes: a publish, the reaction it causes (the real reactions engine,
``setpiece react --once``) and the farm job that reaction submits (the real local backend,
its chunks in worker processes), seen by a collector and in the workspace's files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from otlp_receiver import Receiver
from tele import spans, trace_id

SETPIECE = Path(sys.executable).parent / "setpiece"

JOB = """\
name: plate-check
layers:
  - name: check
    frames: 1-2
    chunk: 1
    command: [sh, -c, 'echo frame {frame} >> frames.txt']
"""


@pytest.mark.slow
def test_publish_reaction_and_farm_job_share_one_trace(run_setpiece: Any, make_workspace: Any,
                                                       tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        ws = make_workspace()
        (ws.root / "job.yaml").write_text(JOB)
        with ws.config.path.open("a") as fh:
            fh.write(f"""
[telemetry]
endpoint = "{receiver.url}"

[[reactions]]
name = "check-plate"
on = ["published"]
when = {{ asset = "Plate" }}
do = "command"
with = {{ run = "{SETPIECE} farm submit job.yaml --wait --workers 2" }}
""")
        for args in (["create", "Plate", "--version", "1.0.0"], ["publish", "Plate"],
                     ["react", "--once"]):
            result = run_setpiece("-w", ws.root, *args, timeout=300)
            assert result.exit_code == 0, (args, result.err)
        jobs = list((ws.root / ".setpiece" / "farm" / "jobs").iterdir())
        assert len(jobs) == 1
        assert sorted((jobs[0] / "frames.txt").read_text().splitlines()) == ["frame 1", "frame 2"]

        by_name: dict[str, list[dict[str, Any]]] = {}
        for s in receiver.spans:
            by_name.setdefault(s["name"], []).append(s)
        (publish_cmd,) = by_name["setpiece publish"]
        trace = publish_cmd["trace_id"]
        (publish,) = by_name["publish"]
        (reaction,) = by_name["reaction"]
        (submit_cmd,) = by_name["setpiece farm submit"]
        (submit,) = by_name["farm.submit"]
        chunks = by_name["farm.chunk"]
        assert len(chunks) == 2
        assert {s["trace_id"] for s in [publish, reaction, submit_cmd, submit, *chunks]} == {trace}
        # the links of the chain, parent to child, across four processes
        assert publish["parent"] == publish_cmd["span_id"]
        assert reaction["parent"] == publish["span_id"]  # the published event's traceparent
        assert submit_cmd["parent"] == reaction["span_id"]  # TRACEPARENT given to the command
        assert submit["parent"] == submit_cmd["span_id"]
        assert {c["parent"] for c in chunks} == {submit["span_id"]}  # from the job folder
        assert reaction["attributes"]["setpiece.reaction"] == "check-plate"
        assert reaction["attributes"]["setpiece.status"] == "ran"
        assert reaction["attributes"]["setpiece.asset"] == "Plate"
        assert sorted(c["attributes"]["setpiece.frames"] for c in chunks) == ["1", "2"]
        assert {c["resource"]["setpiece.host"] for c in chunks} == {"farm"}
        # the 'react' command itself is another trace, linked: it handled this event
        (react_cmd,) = by_name["setpiece react"]
        assert react_cmd["trace_id"] != trace

        # the events carry the same trace: published, farm.submitted, farm.done
        events = [json.loads(x) for x in
                  (ws.root / ".setpiece" / "events.jsonl").read_text().splitlines()]
        traced = {e["event"]: e["traceparent"].split("-")[1] for e in events
                  if e["event"] in ("published", "farm.submitted", "reaction.ran")}
        assert traced == {"published": trace, "farm.submitted": trace, "reaction.ran": trace}
        # and the files hold the same spans
        in_files = {s["name"] for s in spans(ws.root) if trace_id(s) == trace}
        assert {"setpiece publish", "publish", "reaction", "setpiece farm submit", "farm.submit",
                "farm.chunk"} <= in_files
    finally:
        receiver.stop()
