"""What a batch writes into a folder repo without its own fsyncs (``repo reindex``, ``repo
sync``) is fsynced at the batch's end: each page and metadata file, then the folders (their
names), and never by flushing every filesystem on the host (``os.sync``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from startup_bench import wheel

from setpiece.core.repos import simple_index
from setpiece.core.repos.folder import FolderRepo


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        seen.append((st.st_dev, st.st_ino))
        real(fd)

    def no_sync() -> None:
        raise AssertionError("os.sync() flushes every filesystem on the host")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "sync", no_sync, raising=False)
    return seen


def _missing(paths: list[Path], seen: list[tuple[int, int]]) -> list[str]:
    return [str(p) for p in paths if (p.stat().st_dev, p.stat().st_ino) not in seen]


def test_reindex_fsyncs_its_pages_metadata_and_folders(tmp_path: Path,
                                                        fsynced: list[tuple[int, int]]) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Prop", "Chair"):
        for v in ("1.0.0", "1.1.0"):
            wheel(root, name, f"{v}")
    assert simple_index.reindex(root) == 2
    simple = root / "simple"
    written = [simple / "index.html", simple / "prop" / "index.html",
               simple / "chair" / "index.html", *root.glob("*.metadata")]
    assert len(written) == 7
    assert _missing([*written, root, simple, simple / "prop", simple / "chair"], fsynced) == []


def test_repo_sync_batch_fsyncs_its_pages_and_metadata(tmp_path: Path,
                                                       fsynced: list[tuple[int, int]]) -> None:
    src = tmp_path / "built"
    src.mkdir()
    wheels = [wheel(src, "Prop", "1.0.0"), wheel(src, "Chair", "2.0.0")]
    root = tmp_path / "repo"
    root.mkdir()
    repo = FolderRepo("review", root)
    for w in wheels:
        repo.publish(w, durable=False)
    fsynced.clear()  # only what the end of the batch does
    repo.sync_folders(["Prop", "Chair"], [w.name for w in wheels])
    simple = root / "simple"
    pages = [simple / "index.html", simple / "prop" / "index.html", simple / "chair" / "index.html"]
    metas = [root / (w.name + ".metadata") for w in wheels]
    assert all(p.exists() for p in [*pages, *metas])
    assert _missing([*pages, *metas, root, simple, simple / "prop", simple / "chair"],
                    fsynced) == []
