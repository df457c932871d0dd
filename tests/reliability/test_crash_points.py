"""Fault injection: each command is SIGKILLed before each of its mutating file operations
(every K), then an independent checker looks at what is on disk, and one re-run of the
command must recover and succeed. See docs/reliability.md for what is promised."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")

import checker
from harness import Run, Sweep, exit_ok, workspace_with_repos

pytestmark = pytest.mark.slow


def _write(path: Path, data: bytes) -> None:
    """Write a file the way a DCC exports: a new file at the path (the old one replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    path.write_bytes(data)


def test_files_add_of_a_re_exported_take(sandbox: Path, run_cli: Any, record: Any) -> None:
    """A tracked take and frame folder re-exported in place, then ``files add`` killed at
    every point: the new bytes are at their path at every instant, a ``files pull`` after
    the kill never brings the previous take back, and the re-run records the new take."""
    ws = workspace_with_repos(sandbox)
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


def _chair_with_files(ws: Any, run_cli: Any) -> Path:
    """An output Chair with a tracked take and a tracked folder of frames."""
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    _write(pkg / "take.abc", b"chair take " * 4000)
    for i in range(3):
        _write(pkg / "frames" / f"f{i:04d}.exr", f"chair frame {i} ".encode() * 300)
    r = run_cli("-w", ws.root, "files", "add", "Chair", pkg / "take.abc", pkg / "frames")
    assert r.exit_code == 0, r.err
    return pkg


def _repos(sandbox: Path) -> list[Path]:
    return sorted(p for p in (sandbox / "repos").iterdir() if p.is_dir())


def _visible(repo: Path, wheel: str) -> bool:
    """The version is in the repo's index (what uv resolves from)."""
    project = wheel.split("-")[0]
    page = repo / "simple" / project / "index.html"
    return page.is_file() and wheel in page.read_text()


def _common(sandbox: Path) -> list[str]:
    problems = checker.check_files_parse(sandbox)
    for repo in _repos(sandbox):
        problems += checker.check_repo(repo)
    return problems


def test_publish(sandbox: Path, run_cli: Any, record: Any) -> None:
    """Publish (push files, build, link the wheel, write the index), killed at every point:
    no version is visible without its files; the re-run publishes it."""
    ws = workspace_with_repos(sandbox)
    pkg = _chair_with_files(ws, run_cli)
    artist = checker.artist_files(pkg)
    cache = ws.state_dir / "files" / "cache" / "files" / "md5"
    review = sandbox / "repos" / "review"

    def recovered(run: Run) -> list[str]:
        problems = exit_ok(run)
        if not _visible(review, "chair-0.1.0-py3-none-any.whl"):
            problems.append("the re-run left chair 0.1.0 invisible in review")
        return problems

    sweep = Sweep("publish", ["publish", "Chair"], sandbox, ws.root,
                  lambda _stage: _common(sandbox) + checker.check_artist_files(artist, cache),
                  recovered)
    tally = sweep.sweep()
    record(tally)
    assert tally.points >= 10
    assert not tally.failures, "\n".join(tally.failures)


def test_promote(sandbox: Path, run_cli: Any, record: Any) -> None:
    """Promote (copy the files between remotes, link the wheel, index) killed at every point:
    the version is never visible in blessed without its files; the re-run finishes it."""
    ws = workspace_with_repos(sandbox)
    _chair_with_files(ws, run_cli)
    assert run_cli("-w", ws.root, "publish", "Chair").exit_code == 0
    blessed = sandbox / "repos" / "blessed"

    def recovered(run: Run) -> list[str]:
        problems = exit_ok(run)
        if not _visible(blessed, "chair-0.1.0-py3-none-any.whl"):
            problems.append("the re-run left chair 0.1.0 invisible in blessed")
        return problems

    sweep = Sweep("promote", ["promote", "Chair==0.1.0", "--to", "blessed"], sandbox, ws.root,
                  lambda _stage: _common(sandbox), recovered)
    tally = sweep.sweep()
    record(tally)
    assert tally.points >= 10
    assert not tally.failures, "\n".join(tally.failures)


def _consumer(sandbox: Path, run_cli: Any) -> Any:
    """An author's Chair (with files) published to review, and an empty consumer workspace."""
    author = workspace_with_repos(sandbox)
    _chair_with_files(author, run_cli)
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0
    from setpiece.core import Workspace

    repos = [(r.name, str(r)) for r in _repos(sandbox)]
    return Workspace.init(sandbox / "consumer", repos=repos, blessed="blessed", default="review")


def test_install(sandbox: Path, run_cli: Any, record: Any) -> None:
    """Install (uv into the venv, the request recorded, the asset's files pulled) killed at
    every point (uv itself is not hooked: the moment before it starts is): the re-run
    installs, records the request and pulls."""
    ws = _consumer(sandbox, run_cli)

    def installed(run: Run) -> list[str]:
        problems = exit_ok(run)
        listed = sweep.run_plain("-w", str(ws.root), "list", "--json")
        if listed.code != 0 or "chair" not in listed.out.lower():
            problems.append(f"setpiece list after the re-run: {listed.code} {listed.err[-200:]}")
        if "Chair" not in (ws.root / "setpiece.toml").read_text():
            problems.append("the request is not recorded")
        if not (site / "chair" / "take.abc").is_file():
            problems.append("the re-run did not pull the asset's files")
        return problems

    site = Path(ws.site_packages)
    cache = ws.state_dir / "files" / "cache" / "files" / "md5"
    sweep = Sweep("install", ["install", "Chair", "--repo", "review"], sandbox, ws.root,
                  lambda _stage: _common(sandbox) + checker.check_pulled(site, cache), installed)
    tally = sweep.sweep()
    record(tally)
    assert tally.points >= 5
    assert not tally.failures, "\n".join(tally.failures)


def test_files_pull(sandbox: Path, run_cli: Any, record: Any) -> None:
    """Pulling an installed asset's files (fetch into the cache, verified; link into the
    package) killed at every point: pulled files are never partial; the re-run pulls."""
    ws = _consumer(sandbox, run_cli)
    with ws.config.edit() as doc:
        doc["settings"]["pull_on_install"] = False  # pull is the command under test here
    assert run_cli("-w", ws.root, "install", "Chair", "--repo", "review").exit_code == 0
    site = Path(ws.site_packages)
    cache = ws.state_dir / "files" / "cache" / "files" / "md5"

    def pulled(run: Run) -> list[str]:
        problems = exit_ok(run)
        for rel in ("chair/take.abc", "chair/frames/f0002.exr"):
            if not (site / rel).is_file():
                problems.append(f"{rel} is not there after the re-run")
        return problems + checker.check_pulled(site, cache)

    sweep = Sweep("files pull", ["files", "pull", "Chair"], sandbox, ws.root,
                  lambda _stage: _common(sandbox) + checker.check_pulled(site, cache), pulled)
    tally = sweep.sweep()
    record(tally)
    assert tally.points >= 5
    assert not tally.failures, "\n".join(tally.failures)


def test_scene_build(sandbox: Path, _sample_repo_master: Path, record: Any) -> None:
    """``setpiece scene build`` (setpiece-usd) killed at every point: the scene file and its
    generated layer are whole USD layers or absent; the re-run builds the scene."""
    pytest.importorskip("pxr")
    from setpiece.core import Workspace

    shutil.copytree(_sample_repo_master, sandbox / "repos" / "blessed")
    ws = Workspace.init(sandbox / "ws", repos=[("blessed", str(sandbox / "repos" / "blessed"))],
                        blessed="blessed", default="blessed")
    ws.install(["KitchenSet[build]"])
    scene = ws.root / "scenes" / "KitchenSet.usda"

    def recovered(run: Run) -> list[str]:
        problems = exit_ok(run)
        if not scene.is_file() or "Chair" not in scene.read_text() + "".join(
                p.read_text() for p in scene.parent.rglob("*.usda")):
            problems.append("no scene with the kitchen's assets after the re-run")
        return problems

    sweep = Sweep("scene build", ["scene", "build", "KitchenSet"], sandbox, ws.root,
                  lambda _stage: checker.check_files_parse(sandbox), recovered)
    tally = sweep.sweep()
    record(tally)
    assert tally.points >= 3
    assert not tally.failures, "\n".join(tally.failures)
