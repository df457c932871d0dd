"""``repo sync`` between a folder repo and a real index server (pypiserver on 127.0.0.1),
both ways: a site whose repo is an index, with its files remote a folder of its own."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pypiserver")

WHEELS = ["chair-0.1.0-py3-none-any.whl", "kitchenset-1.0.0-py3-none-any.whl",
          "table-1.0.0-py3-none-any.whl"]


@pytest.fixture
def index_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """pypiserver, uploads open, no fallback to PyPI (as tests/core/test_index_repo.py)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    packages = tmp_path / "pypi-packages"
    packages.mkdir()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "pypi-server"), "run", "-p", str(port), "-i",
         "127.0.0.1", "-a", ".", "-P", ".", "--backend", "simple-dir", "--log-stream", "none",
         "--disable-fallback", str(packages)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("pypiserver did not start")
            time.sleep(0.1)
    try:
        yield url + "/simple/", packages
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_folder_to_index_and_back(two_sites: Any, index_server: tuple[str, Path], run_cli: Any,
                                  tmp_path: Path) -> None:
    s = two_sites
    url, packages = index_server
    ws = s.london.root
    files = tmp_path / "mumbai-lan-files"
    files.mkdir()
    events = tmp_path / "mumbai-lan-events"
    assert run_cli("-w", ws, "repo", "add", "lan", url).exit_code == 0
    from setpiece.core.workspace import Workspace

    with Workspace(ws).config.edit() as doc:  # the index's own files remote and event log
        doc["repos"]["lan"]["files_remote"] = str(files)
        doc["repos"]["lan"]["events"] = str(events)
    r = run_cli("-w", ws, "repo", "sync", "london", "lan", "KitchenSet[build]", "--json")
    assert r.exit_code == 0, r.err
    assert (r.json()["wheels"], r.json()["objects"], r.json()["events"]) == (3, 5, 3)
    assert sorted(p.name for p in packages.glob("*.whl")) == WHEELS
    for name in WHEELS:
        assert (packages / name).read_bytes() == (s.london_repo / name).read_bytes()
    assert len(list((files / "files" / "md5").glob("*/*"))) == 5
    assert len(list(events.glob("2*/*/*.json"))) == 3
    again = run_cli("-w", ws, "repo", "sync", "london", "lan", "KitchenSet[build]", "--json")
    assert again.exit_code == 0 and again.json()["wheels"] == 0 and again.json()["objects"] == 0

    # and from the index into another site's empty folder repo
    assert run_cli("-w", ws, "repo", "add", "paris", tmp_path / "repos" / "paris",
                   "--create").exit_code == 0
    r = run_cli("-w", ws, "repo", "sync", "lan", "paris", "KitchenSet[build]", "--json")
    assert r.exit_code == 0, r.err
    assert (r.json()["wheels"], r.json()["objects"], r.json()["events"]) == (3, 5, 3)
    paris = tmp_path / "repos" / "paris"
    for name in WHEELS:
        assert (paris / name).read_bytes() == (s.london_repo / name).read_bytes()
    assert WHEELS[0] in (paris / "simple" / "chair" / "index.html").read_text()

    # a conflicting version on the index is refused, naming both hashes
    (packages / WHEELS[0]).unlink()
    (packages / WHEELS[0]).write_bytes((s.london_repo / WHEELS[2]).read_bytes())
    run_cli("-w", ws, "repo", "sync", "london", "lan", "KitchenSet[build]").user_error(
        "conflict: chair 0.1.0", "repo 'lan'", "nothing was synced")
