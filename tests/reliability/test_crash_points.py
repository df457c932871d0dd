"""Fault injection: each command is SIGKILLed before each of its mutating file operations
(every K), then an independent checker looks at what is on disk, and one re-run of the
command must recover and succeed. See docs/reliability.md for what is promised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")

import checker
from harness import Run, Sweep, exit_ok

pytestmark = pytest.mark.slow


def _write(path: Path, data: bytes) -> None:
    """Write a file the way a DCC exports: a new file at the path (the old one replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    path.write_bytes(data)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the workspace, its repos and ``SETPIECE_HOME``."""
    root = tmp_path / "sb"
    (root / "home").mkdir(parents=True)
    monkeypatch.setenv("SETPIECE_HOME", str(root / "home"))
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(root / "home" / "dvc-site"))
    return root


def _workspace(root: Path) -> Any:
    from setpiece.core import Workspace
    from setpiece.core.repos.folder import FolderRepo

    repos = []
    for name in ("blessed", "review"):
        FolderRepo(name, str(root / "repos" / name)).create()
        repos.append((name, str(root / "repos" / name)))
    return Workspace.init(root / "ws", repos=repos, blessed="blessed", default="review")


def test_files_add_of_a_re_exported_take(sandbox: Path, run_cli: Any, record: Any) -> None:
    """A tracked take and frame folder re-exported in place, then ``files add`` killed at
    every point: the new bytes are at their path at every instant, a ``files pull`` after
    the kill never brings the previous take back, and the re-run records the new take."""
    ws = _workspace(sandbox)
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    _write(pkg / "take.abc", b"take one " * 5000)
    for i in range(3):
        _write(pkg / "frames" / f"f{i:04d}.exr", f"frame {i} take one ".encode() * 300)
    assert run_cli("-w", ws.root, "files", "add", "Chair", pkg / "take.abc", pkg / "frames").exit_code == 0
    # the artist re-exports: new bytes at the tracked paths (a changed and a new frame)
    _write(pkg / "take.abc", b"take two " * 5000)
    _write(pkg / "frames" / "f0001.exr", b"frame 1 take two " * 300)
    _write(pkg / "frames" / "f0003.exr", b"frame 3 take two " * 300)
    artist = checker.artist_files(pkg)
    cache = ws.state_dir / "files" / "cache" / "files" / "md5"

    def check(stage: str) -> list[str]:
        problems = checker.check_artist_files(artist, cache) + checker.check_files_parse(sandbox)
        if stage == "killed":
            # the suggested repair must not bring the previous take back
            pull = sweep.run_plain("files", "pull", "Chair")
            if pull.code not in (0, 1) or "Traceback" in pull.err:
                problems.append(f"files pull after the kill: exit {pull.code} {pull.err[-300:]}")
            problems += [f"after files pull: {p}" for p in checker.check_artist_files(artist, cache)]
        return problems

    def recovered(run: Run) -> list[str]:
        problems = exit_ok(run)
        take = checker.pointer_md5((pkg / "take.abc.dvc").read_bytes())
        if take != artist[pkg / "take.abc"]:
            problems.append("take.abc.dvc does not record the new take")
        return problems

    sweep = Sweep("files add", ["files", "add", "Chair", str(pkg / "take.abc"), str(pkg / "frames")],
                  sandbox, ws.root, check, recovered)
    tally = sweep.sweep()
    record(tally)
    assert tally.points >= 5
    assert not tally.failures, "\n".join(tally.failures)
