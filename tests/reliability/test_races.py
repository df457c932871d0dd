"""Races: a command run right before another's K-th file operation (made deterministic
with the kill hook's ``SETPIECE_HOOK_RUN_AT``), and several processes writing one shared
file at once. The independent checker judges the result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import checker
import pytest
from harness import KILLHOOK, Sweep, exit_ok, restore, workspace_with_repos

pytestmark = pytest.mark.slow


def test_files_add_racing_a_publish(sandbox: Path, run_cli: Any) -> None:
    """A re-exported take added while a publish runs: the publish refuses with one line
    (the wheel would point to bytes never pushed) or publishes one consistent snapshot;
    every published pointer has its object in the files remote."""
    ws = workspace_with_repos(sandbox)
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    (pkg / "take.abc").write_bytes(b"take one " * 5000)
    assert run_cli("-w", ws.root, "files", "add", "Chair", pkg / "take.abc").exit_code == 0
    review = sandbox / "repos" / "review"

    sweep = Sweep("publish", ["publish", "Chair"], sandbox, ws.root,
                  check=lambda _s: [], recovered=exit_ok)
    pristine = sandbox.parent / "pristine"
    restore(sandbox, pristine)
    log = sandbox.parent / "ops.log"
    assert sweep.run(log=log).code == 0, "the publish alone works"
    ops = log.read_text().splitlines()
    # the race windows: before the wheel is built (uv), before it is published
    points = [int(line.split()[0]) for line in ops
              if "subprocess.Popen" in line or f"os.link {review}" in line
              or "build/.publish" in line]
    assert len(points) >= 2, ops
    outcomes = {}
    take = pkg / "take.abc"
    race = [sys.executable, "-c", (  # the artist re-exports the take and adds it
        "import os, subprocess, sys\n"
        f"os.unlink({str(take)!r})\n"
        f"open({str(take)!r}, 'wb').write(b'take two ' * 5000)\n"
        f"sys.exit(subprocess.call([sys.executable, {str(KILLHOOK)!r}, '-w', {str(ws.root)!r},"
        f" 'files', 'add', 'Chair', {str(take)!r}]))\n")]
    for k in points:
        restore(pristine, sandbox)
        sweep.env = {"SETPIECE_HOOK_RUN_AT": str(k), "SETPIECE_HOOK_RUN": json.dumps(race)}
        r = sweep.run()
        sweep.env = {}
        problems = checker.check_repo(review) + checker.check_files_parse(sandbox)
        assert not problems, (k, problems)
        assert "Traceback" not in r.err
        if r.code == 0:
            outcomes[k] = "published"
        else:
            lines = [x for x in r.err.splitlines() if x.startswith("error:")]
            assert r.code == 1 and len(lines) == 1, r.err
            assert "changed while it was being published" in lines[0], lines[0]
            assert not list(review.glob("*.whl")), "nothing was published"
            outcomes[k] = "refused"
            # the re-run publishes the new take, with its object pushed
            assert exit_ok(sweep.run_plain("publish", "Chair")) == []
            assert not checker.check_repo(review)
        wheel = next(review.glob("*.whl"))
        import zipfile

        with zipfile.ZipFile(wheel) as zf:
            md5 = checker.pointer_md5(zf.read("chair/take.abc.dvc"))
        assert (review / "files" / "md5" / md5[:2] / md5[2:]).is_file()
    assert "refused" in outcomes.values(), outcomes  # the build saw the new pointer
    restore(pristine, sandbox)
