"""Telemetry's embedded default: spans and metrics as JSON lines in the workspace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tele import named, points, spans, total, trace_id


def test_a_command_is_one_span_counted_by_tool_and_host(run_cli: Any, make_workspace: Any) -> None:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "create", "Chair", "--version", "1.0.0").exit_code == 0
    assert run_cli("-w", ws.root, "list", "--outputs").exit_code == 0
    (create,) = named(ws.root, "setpiece create")  # its --version is not setpiece's
    assert create["attributes"]["setpiece.command"] == "create"
    assert create["attributes"]["setpiece.exit_code"] == 0
    assert create["status"]["status_code"] == "UNSET"
    assert create["resource"]["attributes"]["service.name"] == "setpiece"
    assert create["resource"]["attributes"]["setpiece.host"] == "cli"
    assert named(ws.root, "setpiece list")
    assert total(ws.root, "setpiece.tool.uses", tool="create", host="cli") == 1
    assert total(ws.root, "setpiece.tool.uses", tool="list", host="cli") == 1
    durations = [p for p in points(ws.root, "setpiece.action.duration")
                 if p["attributes"]["action"] == "setpiece create"]
    assert durations and durations[0]["attributes"]["outcome"] == "ok"
    assert 0 < durations[0]["sum"] < 60


def test_a_sub_command_names_the_span_and_the_tool(run_cli: Any, make_workspace: Any) -> None:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "farm", "status").exit_code == 0
    (span,) = named(ws.root, "setpiece farm status")
    assert total(ws.root, "setpiece.tool.uses", tool="farm status") == 1
    assert span["attributes"]["setpiece.args"] == ["-w", str(ws.root), "farm", "status"]


def test_a_failed_command_is_an_error_span_and_a_failure(run_cli: Any, make_workspace: Any) -> None:
    ws = make_workspace()
    result = run_cli("-w", ws.root, "create", "a b")
    assert result.exit_code == 1
    (span,) = named(ws.root, "setpiece create")
    assert span["status"]["status_code"] == "ERROR"
    assert "error:" in span["status"]["description"]
    assert span["attributes"]["error.type"] == "error"
    assert total(ws.root, "setpiece.action.failures", action="setpiece create") == 1
    assert total(ws.root, "setpiece.action.duration", action="setpiece create",
                 outcome="error") == 1


def test_credentials_in_arguments_never_reach_a_span(run_cli: Any, make_workspace: Any) -> None:
    ws = make_workspace()
    run_cli("-w", ws.root, "repo", "add", "idx", "https://bob:hunter2secret@example.invalid/simple")
    text = (ws.root / ".setpiece" / "telemetry" / "spans.jsonl").read_text()
    assert "setpiece repo" in text
    assert "hunter2secret" not in text


def test_library_actions_are_child_spans_with_attributes(run_cli: Any, make_workspace: Any) -> None:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "create", "Chair", "--version", "1.0.0").exit_code == 0
    assert run_cli("-w", ws.root, "publish", "Chair").exit_code == 0
    assert run_cli("-w", ws.root, "install", "Chair", "--repo", "review").exit_code == 0
    (cmd,) = named(ws.root, "setpiece publish")
    (publish,) = named(ws.root, "publish")
    assert publish["parent_id"] == cmd["context"]["span_id"]
    assert trace_id(publish) == trace_id(cmd)
    attrs = publish["attributes"]
    assert attrs["setpiece.asset"] == "Chair"
    assert attrs["setpiece.version"] == "1.0.0"
    assert attrs["setpiece.repo"] == "review"
    assert attrs["setpiece.bytes"] > 0 and attrs["setpiece.wheel"].endswith(".whl")
    (install,) = named(ws.root, "install")
    assert install["attributes"]["setpiece.requirements"] == ["Chair"]
    assert install["attributes"]["setpiece.changes"] >= 0  # Chair is installed editable already
    # the events the command logged carry its trace
    events = [json.loads(x) for x in (ws.root / ".setpiece" / "events.jsonl").read_text().splitlines()]
    (published,) = [e for e in events if e["event"] == "published"]
    assert published["traceparent"].split("-")[1] == trace_id(cmd)


def test_traceparent_in_the_environment_is_joined(run_setpiece: Any, make_workspace: Any) -> None:
    ws = make_workspace()
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    result = run_setpiece("-w", ws.root, "create", "Chair", env={"TRACEPARENT": parent})
    assert result.exit_code == 0, result.err
    (span,) = named(ws.root, "setpiece create")
    assert trace_id(span) == "0af7651916cd43dd8448eb211c80319c"
    assert span["parent_id"] == "0xb7ad6b7169203331"


def test_off_by_a_setting_and_by_otel_sdk_disabled(run_cli: Any, run_setpiece: Any,
                                                    make_workspace: Any) -> None:
    ws = make_workspace()
    with ws.config.path.open("a") as fh:
        fh.write("\n[telemetry]\nfiles = false\n")
    assert run_cli("-w", ws.root, "create", "Chair").exit_code == 0
    assert not (ws.root / ".setpiece" / "telemetry").exists()
    other = make_workspace("other")
    result = run_setpiece("-w", other.root, "create", "Chair", env={"OTEL_SDK_DISABLED": "true"})
    assert result.exit_code == 0, result.err
    assert not (other.root / ".setpiece" / "telemetry").exists()
    assert spans(other.root) == []


def test_a_wrong_setting_is_one_line(run_cli: Any, make_workspace: Any) -> None:
    ws = make_workspace()
    with ws.config.path.open("a") as fh:
        fh.write('\n[telemetry]\nenabled = "no"\n')
    run_cli("-w", ws.root, "create", "Chair").user_error("enabled", "true or false")


def test_help_and_version_never_import_opentelemetry(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from setpiece.core.cli import main\n"
        "for args in (['--help'], ['--version'], ['install', '--help'], []):\n"
        "    main(args)\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
