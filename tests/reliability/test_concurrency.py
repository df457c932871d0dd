"""Several setpiece processes writing one shared file at once: nothing is lost.

``setpiece.toml`` (installs recording their requests, ``repo add``), an asset's
``pyproject.toml`` (``require``) and a folder repo's static index (publishes of different
assets) are each read-modify-written under a file lock; without it, 8 of 24 concurrent
installs lost their request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import checker
import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: tomli (declared by setpiece-core for < 3.11)
    import tomli as tomllib  # type: ignore[no-redef]
from packaging.requirements import Requirement

pytestmark = pytest.mark.slow

SETPIECE = Path(sys.executable).parent / "setpiece"


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(SETPIECE), *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(procs: list[subprocess.Popen[str]]) -> list[str]:
    failed = []
    for p in procs:
        _out, err = p.communicate(timeout=300)
        if p.returncode != 0:
            failed.append(f"{p.args[1:]}: exit {p.returncode}: {err.strip()[-300:]}")
    return failed


def test_concurrent_installs_requires_and_repo_adds_lose_nothing(
        make_workspace: Any, make_repo: Any, tmp_path: Path) -> None:
    props = [f"Prop{i}" for i in range(8)]
    author = make_workspace("author")
    for name in props:
        author.create(name)
        author.publish(name, repo="blessed")
    ws = make_workspace("ws")
    ws.create("Set", kind="set")
    extra = [make_repo(f"extra{i}") for i in range(4)]

    procs = [_start(["install", name], ws.root) for name in props]
    procs += [_start(["repo", "add", f"extra{i}", str(path)], ws.root) for i, path in enumerate(extra)]
    procs += [_start(["require", "Set", name, "--group", "build"], ws.root) for name in props[:4]]
    assert _finish(procs) == []

    config = tomllib.loads((ws.root / "setpiece.toml").read_text())
    recorded = {r.lower() for r in config["requests"]["install"]}
    assert recorded == {p.lower() for p in props}, "every install recorded its request"
    assert {f"extra{i}" for i in range(4)} <= set(config["repos"]), "every repo add kept its repo"
    pyproject = tomllib.loads((ws.output("Set").pyproject).read_text())
    build = {Requirement(r).name.lower()
             for r in pyproject["project"]["optional-dependencies"]["build"]}
    assert build == {p.lower() for p in props[:4]}, "every require kept its requirement"
    r = subprocess.run([str(SETPIECE), "list", "--json"], cwd=ws.root, capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert {p.lower() for p in props} <= {a["name"].lower() for a in json.loads(r.stdout)}


def test_concurrent_publishes_into_one_folder_repo_keep_the_index_complete(
        make_workspace: Any, tmp_path: Path) -> None:
    ws = make_workspace()
    props = [f"Prop{i}" for i in range(6)]
    for name in props:
        ws.create(name)
        (ws.output(name).package_dir / "take.abc").write_bytes(f"{name} take ".encode() * 2000)
    procs = [_start(["files", "add", name, str(ws.output(name).package_dir / "take.abc")], ws.root)
             for name in props]
    assert _finish(procs) == []
    procs = [_start(["publish", name], ws.root) for name in props]
    assert _finish(procs) == []
    review = tmp_path / "repos" / "review"
    root = (review / "simple" / "index.html").read_text()
    for name in props:
        assert f'href="{name.lower()}/"' in root, f"{name} is in the root index"
        page = (review / "simple" / name.lower() / "index.html").read_text()
        assert f"{name.lower()}-0.1.0-py3-none-any.whl" in page
    assert checker.check_repo(review) == []
