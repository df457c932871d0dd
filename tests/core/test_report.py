"""``setpiece report`` and the action ring: what a user attaches to a ticket."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import click
import pytest

from setpiece.core import actions
from setpiece.core.cli import COMMANDS


@click.command()
def boom() -> None:
    """A command that fails unexpectedly (what a bug in setpiece looks like)."""
    raise RuntimeError("kaboom https://bob:secret@host/simple/ and again: secret")


def _zip(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist()}


def test_report_after_commands(make_workspace, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "create", "Chair", "--kind", "prop").exit_code == 0
    assert run_cli("-w", ws.root, "publish", "Chair", "-m", "first").exit_code == 0
    assert run_cli("-w", ws.root, "install", "Chair").exit_code == 0
    # a studio index with credentials in its URL (hand-edited: 'repo add' would check it)
    cfg = ws.root / "setpiece.toml"
    cfg.write_text(cfg.read_text() + '\n[repos.studio]\nlocation = "https://bob:secret@host/simple/"\n'
                   '\n[hosts.blender]\nexecutable = "/opt/blender/blender"\ntoken = "tok-12345"\n')
    bad = run_cli("-w", ws.root, "create", "a b")
    bad.user_error("invalid asset name")
    monkeypatch.setitem(COMMANDS, "boom", (f"{__name__}:boom", "fail"))
    with pytest.raises(RuntimeError):
        run_cli("-w", ws.root, "boom")
    out = ws.root / "r.zip"
    r = run_cli("-w", ws.root, "report", "-o", out)
    assert r.exit_code == 0, r.err
    assert r.out.strip() == str(out.resolve())
    files = _zip(out)
    assert set(files) == {"manifest.json", "last-error.txt", "actions.jsonl", "setpiece.toml",
                          "events.jsonl", "environment.txt", "spans.jsonl"}
    for name, text in files.items():
        assert "secret" not in text and "tok-12345" not in text, name
    m = json.loads(files["manifest.json"])
    assert m["format"] == "setpiece-report/1" and m["workspace"] == str(ws.root)
    assert m["versions"]["setpiece-core"] and m["python"] == sys.version.split()[0]
    assert m["hosts"] == ["blender"]
    assert m["last_failed_action"]["command"] == "boom"
    acts = [json.loads(ln) for ln in files["actions.jsonl"].splitlines()]
    assert [a["command"] for a in acts[:3]] == ["create", "publish", "install"]
    failed = next(a for a in acts if a["args"][-1] == "a b")
    assert failed["exit_code"] == 1 and failed["error"].startswith("error: invalid asset name 'a b'")
    assert "Traceback" in files["last-error.txt"] and "RuntimeError: kaboom" in files["last-error.txt"]
    assert "https://***@host/simple/" in files["setpiece.toml"]
    assert 'token = "***"' in files["setpiece.toml"]
    events = [e["event"] for e in map(json.loads, files["events.jsonl"].splitlines())]
    assert "published" in events and "installed" in events, events
    # the installed assets, as 'setpiece list --json' shows them
    listed = json.loads(run_cli("-w", ws.root, "list", "--json").out)
    assert m["installed_assets"] == listed
    assert [(a["name"], a["version"]) for a in listed] == [("Chair", "0.1.0")]
    # the recent spans: the bug's command, an error with its (redacted) traceback
    spans = [json.loads(ln) for ln in files["spans.jsonl"].splitlines()]
    (boom_span,) = [s for s in spans if s["name"] == "setpiece boom"]
    assert boom_span["status"]["status_code"] == "ERROR"
    assert "RuntimeError: kaboom" in boom_span["events"][0]["attributes"]["exception.stacktrace"]
    # the local files are secret-free too
    local = (ws.state_dir / "actions.jsonl").read_text() + (ws.state_dir / "last-error.txt").read_text()
    local += (ws.state_dir / "telemetry" / "spans.jsonl").read_text()
    assert "secret" not in local


def test_report_outside_workspace(run_cli, tmp_path: Path, setpiece_env: Path) -> None:
    assert run_cli("list", cwd=tmp_path).exit_code == 1  # not in a workspace: recorded in HOME
    r = run_cli("report", "-o", tmp_path / "out.zip", cwd=tmp_path)
    assert r.exit_code == 0, r.err
    assert "not inside a workspace" in r.err
    files = _zip(tmp_path / "out.zip")
    assert set(files) == {"manifest.json", "actions.jsonl", "environment.txt"}
    m = json.loads(files["manifest.json"])
    assert m["workspace"] is None and m["last_failed_action"]["command"] == "list"
    assert (setpiece_env / "actions.jsonl").is_file()


@click.command()
def leak() -> None:
    """A bug whose message quotes a token from the environment."""
    import os

    raise RuntimeError(f"the index refused {os.environ['STUDIO_API_TOKEN']}")


PLANTED = {
    "UV_INDEX_STUDIO_USERNAME": "bob-planted-user",
    "UV_INDEX_STUDIO_PASSWORD": "pw-planted-1",
    "UV_INDEX_URL": "https://alice:pw-in-url-2@index.studio/simple",
    "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer tok-planted-3",
    "STUDIO_API_TOKEN": "tok-planted-4",
    "AWS_SECRET_ACCESS_KEY": "aws-planted-5",
    "SENTRY_DSN": "https://key-planted-6@sentry.studio/1",
    "DB_PASSWD": "db-planted-7",
    "AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=kitchen;"
                                       "AccountKey=azure-planted-8/x+y==;"
                                       "EndpointSuffix=core.windows.net",
    "STUDIO_SAS": "sv=2022-11-02&sig=sas-planted-9",
    "STUDIO_BLOB_SAS_TOKEN": "sv=2022-11-02&sig=sas-planted-10",
    "STUDIO_DB_CONN_STR": "Server=db;Pwd=conn-planted-11",
    # a secret in a value whatever the name says
    "STUDIO_STORAGE": "AccountName=kitchen;AccountKey=acct-planted-12==;EndpointSuffix=x",
}


def test_the_environment_is_in_the_report_without_its_secrets(
    make_workspace, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STUDIO_SHOW", "kitchen")
    ws = make_workspace()
    monkeypatch.setitem(COMMANDS, "leak", (f"{__name__}:leak", "fail"))
    with pytest.raises(RuntimeError):
        run_cli("-w", ws.root, "leak")
    out = ws.root / "r.zip"
    assert run_cli("-w", ws.root, "report", "-o", out).exit_code == 0
    files = _zip(out)
    env = dict(line.split("=", 1) for line in files["environment.txt"].splitlines())
    assert env["STUDIO_SHOW"] == "kitchen"  # the rest of the environment is there
    assert env["SETPIECE_HOME"]
    for name in ("UV_INDEX_STUDIO_USERNAME", "UV_INDEX_STUDIO_PASSWORD",
                 "OTEL_EXPORTER_OTLP_HEADERS", "STUDIO_API_TOKEN", "AWS_SECRET_ACCESS_KEY",
                 "SENTRY_DSN", "DB_PASSWD", "AZURE_STORAGE_CONNECTION_STRING", "STUDIO_SAS",
                 "STUDIO_BLOB_SAS_TOKEN", "STUDIO_DB_CONN_STR"):
        assert env[name] == "***", name
    assert env["UV_INDEX_URL"] == "https://***@index.studio/simple"
    assert env["STUDIO_STORAGE"] == "AccountName=kitchen;AccountKey=***;EndpointSuffix=x"
    # no planted secret anywhere, the traceback that quoted one included
    assert "RuntimeError: the index refused ***" in files["last-error.txt"]
    raw = out.read_bytes()
    for value in (*PLANTED.values(), "pw-in-url-2", "tok-planted-3", "key-planted-6"):
        for name, text in files.items():
            assert value not in text, (value, name)
    assert b"planted" not in raw  # the zip is deflated: checked on its text above too


def test_action_log_stays_bounded(tmp_path: Path) -> None:
    log = tmp_path / "actions.jsonl"
    for i in range(500):
        actions.append(log, {"command": "list", "args": [str(i)], "exit_code": 0})
    lines = log.read_text().splitlines()
    assert actions.KEEP <= len(lines) <= actions.MAX_LINES
    assert json.loads(lines[-1])["args"] == ["499"]
    assert [a["args"] for a in actions.read_actions(tmp_path)][-1] == ["499"]
    assert len(actions.read_actions(tmp_path)) == actions.KEEP
