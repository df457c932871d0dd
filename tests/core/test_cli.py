"""The CLI as a shell sees it: exit codes 0/1/2, help, events, the demo; the API mirrors it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from setpiece.core import SetpieceError, Workspace


@pytest.mark.parametrize(
    "args",
    [
        ["no-such-command"],
        ["create"],
        ["bump", "Chair", "sideways"],
        ["list", "--bogus"],
        ["require", "Chair", "Table", "--group", "render"],
        ["promote", "Chair==1.0.0"],  # --to is required
        ["repo", "add", "onlyname"],
        ["external"],
    ],
)
def test_usage_errors_exit_2(make_workspace, run_cli, args: list[str]) -> None:
    ws = make_workspace()
    r = run_cli("-w", ws.root, *args)
    assert r.exit_code == 2, (r.out, r.err)
    assert "Traceback" not in r.err
    if args != ["external"]:
        assert "Usage:" in r.err or "Error" in r.err


def test_help_and_version(run_cli) -> None:
    r = run_cli("--help")
    assert r.exit_code == 0
    for command in ("init", "repo", "create", "require", "unrequire", "bump", "build", "publish",
                    "install", "uninstall", "edit", "list", "versions", "info", "external",
                    "freeze", "sync", "promote", "demo", "events"):
        assert f"  {command}" in r.out, command
    r = run_cli("--version")
    assert r.exit_code == 0 and "setpiece" in r.out


def test_subprocess_exit_codes(make_workspace, run_setpiece, tmp_path: Path) -> None:
    ws = make_workspace()
    ok = run_setpiece("-w", ws.root, "create", "Chair", "--kind", "prop")
    assert ok.exit_code == 0, ok.err
    user = run_setpiece("-w", ws.root, "create", "a b")
    user.user_error("invalid asset name")
    assert user.out == ""
    usage = run_setpiece("-w", ws.root, "frobnicate")
    assert usage.exit_code == 2 and "Traceback" not in usage.err
    quiet = run_setpiece("-q", "-w", ws.root, "create", "../x")
    assert quiet.exit_code == 1 and len(quiet.err.strip().splitlines()) == 1
    env = run_setpiece("list", "--outputs", "--json", cwd=tmp_path,
                       env={"SETPIECE_WORKSPACE": str(ws.root)})
    assert env.exit_code == 0 and [r["name"] for r in json.loads(env.out)] == ["Chair"]
    help_ = run_setpiece("--help")
    assert help_.exit_code == 0 and "publish" in help_.out


def test_events_log(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.create("Shot")
    ws.publish("Shot")
    ws.install(["KitchenSet[build]"])
    run_cli("-w", ws.root, "install", "Sofa")  # a failure is an event too
    ws.promote("Shot==0.1.0", to="blessed")
    lines = run_cli("-w", ws.root, "events", "--json").out.splitlines()
    events = [json.loads(line) for line in lines]
    kinds = [e["event"] for e in events]
    assert kinds == ["created", "built", "published", "installed", "failed", "promoted"]
    for e in events:
        assert {"time", "event", "user", "host", "workspace"} <= set(e)
        assert e["workspace"] == str(ws.root)
    pub = events[2]
    assert (pub["asset"], pub["version"], pub["repo"]) == ("Shot", "0.1.0", "review")
    assert "Sofa" in events[4]["error"] or "sofa" in events[4]["error"]
    only = run_cli("-w", ws.root, "events", "--event", "published", "--json").out.splitlines()
    assert [json.loads(x)["event"] for x in only] == ["published"]
    text = run_cli("-w", ws.root, "events").out
    assert "published" in text and "asset=Shot" in text
    # a torn last line (a crash mid-write) is skipped, never fatal
    with open(ws.state_dir / "events.jsonl", "a") as fh:
        fh.write('{"event": "publi')
    assert run_cli("-w", ws.root, "events", "--json").exit_code == 0


def test_demo(tmp_path: Path, run_cli, run_setpiece) -> None:
    target = tmp_path / "demo"
    # a real process: later demo stages run headless apps that inherit its stdout/stderr
    r = run_setpiece("-q", "demo", target, "--json", timeout=600)
    assert r.exit_code == 0, r.err
    summary = r.json()
    ws = Workspace(summary["workspace"])
    versions = {k: a.version for k, a in ws.installed_assets().items()}
    assert versions == {"chair": "1.1.0", "kitchenset": "1.0.0", "lamp": "3.2.1", "table": "1.3.0"}
    assert ws.versions("Table") == {"blessed": ["1.2.3", "1.3.0", "2.0.0"],
                                    "review": ["1.2.3", "1.3.0", "2.0.0"]}
    # a folder that is not a demo folder is never wiped
    other = tmp_path / "precious"
    other.mkdir()
    (other / "work.txt").write_text("keep")
    run_cli("demo", other).user_error("not a setpiece demo folder")
    assert (other / "work.txt").read_text() == "keep"


def test_api_mirrors_the_cli(make_workspace, tmp_path: Path) -> None:
    ws = make_workspace()
    table = ws.create("Table", kind="prop", version="1.0.0", description="t")
    assert table.version == "1.0.0"
    ws.publish("Table")
    ws.create("Room", kind="set")
    ws.require("Room", ["Table>=1,<2"], group="build")
    assert ws.bump("Room", "minor") == "0.2.0"
    wheel = ws.build("Room")
    assert wheel.name == "room-0.2.0-py3-none-any.whl"
    ws.publish("Room")
    assert ws.promote("Room==0.2.0", to="blessed") == "0.2.0"
    assert ws.versions("Room") == {"blessed": ["0.2.0"], "review": ["0.2.0"]}
    info = ws.info("Room")
    assert info["dependencies"][0]["kind"] == "semi-push"
    ws.unrequire("Room", "Table")
    assert ws.output("Room").requirements("build") == []
    with pytest.raises(SetpieceError, match="bump first"):
        ws.publish("Room")
    with pytest.raises(SetpieceError, match="unknown repo"):
        ws.repo("nope")
    lock = ws.freeze(tmp_path / "lock.txt")
    assert "editable output, not locked: Room" in lock
    assert ws.uninstall(["Room"]) == ["- room==0.2.0"]


def test_global_options_after_the_command(sample_ws, run_setpiece, tmp_path: Path) -> None:
    """``-w DIR`` and ``-q`` work after the command, as in uv and git, in nested groups too."""
    ws = sample_ws
    before = run_setpiece("list", "--repo", "blessed", cwd=ws.root)
    assert before.exit_code == 0, before.err
    after = run_setpiece("list", "--repo", "blessed", "-w", ws.root, cwd=tmp_path)
    assert after.exit_code == 0, after.err
    assert after.out == before.out and "chair" in after.out.lower()
    joined = run_setpiece("list", "--repo", "blessed", f"--workspace={ws.root}", cwd=tmp_path)
    assert joined.out == before.out
    nested = run_setpiece("files", "status", "Chair", "-w", ws.root, cwd=tmp_path)
    assert "no workspace" not in nested.err.lower()
    ws.create("Stool", kind="prop")
    bumped = run_setpiece("bump", "Stool", "minor", "-w", ws.root, cwd=tmp_path)
    assert (bumped.out, bumped.err) == ("0.2.0\n", "")  # the result, once
    loud = run_setpiece("create", "Bench", "-w", ws.root, cwd=tmp_path)
    quiet = run_setpiece("create", "Shelf", "-q", "-w", ws.root, cwd=tmp_path)
    assert loud.exit_code == 0 and quiet.exit_code == 0, (loud.err, quiet.err)
    assert loud.err.startswith("Created Bench 0.1.0 (prop) in ")
    assert quiet.err == ""  # -q after the command
    # a script's own arguments are never taken: 'batch run SCRIPT -q' passes -q on
    r = run_setpiece("batch", "run", "--help", "-w", ws.root, cwd=tmp_path)
    assert r.exit_code == 0


def test_every_command_that_changes_something_has_json(make_workspace, run_cli,
                                                         tmp_path: Path) -> None:
    """Scripts read results from stdout as JSON; the reports stay on stderr."""

    def js(*args: object) -> object:
        r = run_cli(*args, "--json")
        assert r.exit_code == 0, (args, r.err)
        return r.json()

    init = js("init", tmp_path / "ws2", "--repo", f"review={tmp_path / 'repos' / 'review'}")
    assert init["root"] == str(tmp_path / "ws2") and init["default"] == "review"
    ws = make_workspace()
    w = ("-w", ws.root)
    assert js(*w, "create", "Chair", "--kind", "prop")["version"] == "0.1.0"
    js(*w, "create", "Table")
    deps = js(*w, "require", "Chair", "Table>=0.1")["dependencies"]
    assert [(d["name"], d["kind"]) for d in deps] == [("Table", "semi-push")]
    assert js(*w, "unrequire", "Chair", "Table")["dependencies"] == []
    assert js(*w, "bump", "Chair", "minor") == {"name": "Chair", "previous": "0.1.0",
                                                 "version": "0.2.0"}
    assert js(*w, "build", "Chair")["wheel"].endswith("chair-0.2.0-py3-none-any.whl")
    pub = js(*w, "publish", "Chair", "-m", "first")
    assert (pub["version"], pub["repo"], pub["comment"]) == ("0.2.0", "review", "first")
    assert js(*w, "promote", "Chair==0.2.0", "--to", "blessed") == {
        "name": "Chair", "version": "0.2.0", "to": "blessed", "from": None}
    extra = tmp_path / "repos" / "extra"
    added = js(*w, "repo", "add", "extra", extra, "--create")
    assert (added["name"], added["location"], added["blessed"]) == ("extra", str(extra), False)
    assert js(*w, "repo", "reindex", "extra") == {"repo": "extra", "indexed": 0, "skipped": []}
    assert js(*w, "repo", "remove", "extra") == {"removed": "extra"}
    import shutil

    shutil.rmtree(ws.output("Chair").path)
    ws.uv_pip("uninstall", ["chair"], what="cleanup", with_index=False)
    edited = js(*w, "edit", "Chair==0.2.0")
    assert (edited["name"], edited["version"]) == ("Chair", "0.2.1")
