"""repo reindex reuses what it checked of an unchanged wheel, and only that: a wheel
replaced, a metadata file removed or a yank is checked and written again."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from startup_bench import wheel

from setpiece.core.repos import simple_index
from setpiece.core.repos.folder import FolderRepo


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import setpiece.core.wheels as wheels

    seen: list[str] = []
    real = wheels.check_wheel

    def counting(path, **kw):  # type: ignore[no-untyped-def]
        seen.append(Path(path).name)
        return real(path, **kw)

    monkeypatch.setattr(wheels, "check_wheel", counting)
    return seen


def _pages(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted((root / "simple").rglob("*.html"))}


def test_unchanged_wheels_are_not_checked_again(tmp_path: Path, checks: list[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from setpiece.core.repos import reindex_cache

    # files made before a reindex started are trusted at once (not 2 s later): no sleeps
    monkeypatch.setattr(reindex_cache, "RACY_NS", 0)
    root = tmp_path / "repo"
    root.mkdir()
    for i in range(4):
        for v in range(2):
            wheel(root, f"Prop{i}", f"1.{v}.0")
    assert simple_index.reindex(root) == 4 and len(set(checks)) == 8
    first = _pages(root)
    checks.clear()
    simple_index.reindex(root)  # the metadata files were new: their rows made once more
    assert len(set(checks)) == 8 and _pages(root) == first
    checks.clear()
    simple_index.reindex(root)
    assert checks == [] and _pages(root) == first  # all from the cache, same pages

    # a wheel replaced by a corrupted one: checked, refused, left out of the page
    bad = root / "prop1-1.1.0-py3-none-any.whl"
    data = bytearray(bad.read_bytes())
    data[60] ^= 0xFF
    bad.write_bytes(bytes(data))
    skipped: list[str] = []
    checks.clear()
    simple_index.reindex(root, skipped)
    assert set(checks) == {bad.name} and skipped and "corrupted wheel" in skipped[0]
    assert bad.name not in (root / "simple" / "prop1" / "index.html").read_text()

    # a metadata file removed: the row is made again (and the file written again)
    (root / "prop2-1.0.0-py3-none-any.whl.metadata").unlink()
    checks.clear()
    simple_index.reindex(root, [])
    assert "prop2-1.0.0-py3-none-any.whl" in checks
    assert (root / "prop2-1.0.0-py3-none-any.whl.metadata").is_file()

    # a yank: the row says so after a reindex
    FolderRepo("r", str(root)).yank("Prop3", "1.0.0", "broken normals")
    simple_index.reindex(root, [])
    page = (root / "simple" / "prop3" / "index.html").read_text()
    assert 'data-yanked="broken normals">prop3-1.0.0' in page


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, checks: list[str]) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    wheel(root, "Chair", "1.0.0")
    simple_index.reindex(root)
    first = _pages(root)
    (root / ".setpiece" / "reindex-cache.json").write_text('{"v": 1, "rows": [1, 2]}')
    checks.clear()
    simple_index.reindex(root)
    assert set(checks) == {"chair-1.0.0-py3-none-any.whl"} and _pages(root) == first
    with zipfile.ZipFile(root / "chair-1.0.0-py3-none-any.whl") as zf:
        assert zf.testzip() is None


def test_a_wheel_rewritten_in_place_with_its_times_put_back_is_checked_again(
        tmp_path: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``cp -p`` / ``touch -r`` over a wheel keep its inode, size and mtime: the ctime
    (which no user can set) still tells reindex the bytes changed."""
    import os
    import time

    from setpiece.core.repos import reindex_cache

    monkeypatch.setattr(reindex_cache, "RACY_NS", 0)
    root = tmp_path / "repo"
    root.mkdir()
    wheel(root, "Lamp", "1.0.0")
    simple_index.reindex(root)
    simple_index.reindex(root)  # the metadata file is new after the first: now all cached
    checks.clear()
    simple_index.reindex(root)
    assert checks == []
    whl = root / "lamp-1.0.0-py3-none-any.whl"
    before = whl.stat()
    time.sleep(0.05)  # past the coarse clock tick the ctime is taken from
    data = bytearray(whl.read_bytes())
    data[60] ^= 0xFF
    with open(whl, "r+b") as f:  # in place: same inode, same size
        f.write(bytes(data))
    os.utime(whl, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = whl.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns)
    skipped: list[str] = []
    simple_index.reindex(root, skipped)
    assert set(checks) == {whl.name} and skipped and "corrupted wheel" in skipped[0]
    assert not (root / "simple" / "lamp" / "index.html").exists() or \
        whl.name not in (root / "simple" / "lamp" / "index.html").read_text()
