"""The installed index: current after every install, and after changes made behind
setpiece's back (uv or pip run directly), reading again only what changed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from setpiece.core import installed_index
from setpiece.core.assets import read_dist, scan_site_packages
from setpiece.core.uvrun import uv_bin


def _dist(site: Path, name: str, version: str = "1.0.0", summary: str = "") -> Path:
    info = site / f"{name.lower()}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.3\nName: {name}\nVersion: {version}\nSummary: {summary or name}\n"
        "Keywords: setpiece-asset,setpiece-kind:prop\nProvides-Extra: build\n"
        "Requires-Dist: base[build] ; extra == 'build'\n"
    )
    (info / "entry_points.txt").write_text(f"[setpiece.asset]\n{name} = {name.lower()}\n")
    return info


def _age(site: Path, seconds: float = 60) -> None:
    """Every dist-info as if installed ``seconds`` ago (past the racy window)."""
    for info in site.glob("*.dist-info"):
        st = info.stat()
        os.utime(info, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


class Reads:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        import setpiece.core.assets as assets

        def counting(path: str):  # type: ignore[no-untyped-def]
            self.paths.append(os.path.basename(path))
            return read_dist(path)

        monkeypatch.setattr(assets, "read_dist", counting)

    def take(self) -> list[str]:
        out, self.paths = sorted(self.paths), []
        return out


def _listing(site: Path) -> dict[str, tuple[str, str, str, list[str]]]:
    assets, _ = scan_site_packages(site)
    return {k: (a.name, a.version, a.description, [str(r) for r in a.requirements("build")])
            for k, a in assets.items()}


def test_only_what_changed_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "lib" / "site-packages"
    for i in range(20):
        _dist(site, f"Prop{i:02d}")
    _age(site)
    reads = Reads(monkeypatch)
    full = _listing(site)
    assert len(reads.take()) == 20 and len(full) == 20
    assert Path(installed_index.index_path(site)).is_file()
    assert _listing(site) == full and reads.take() == []  # all from the index

    # a new distribution, one removed, one upgraded (a new folder), one half-installed
    _dist(site, "Extra")
    import shutil

    shutil.rmtree(site / "prop03-1.0.0.dist-info")
    shutil.rmtree(site / "prop05-1.0.0.dist-info")
    _dist(site, "Prop05", "2.0.0", summary="upgraded")
    (site / "prop07-1.0.0.dist-info" / "METADATA").unlink()
    now = _listing(site)
    assert reads.take() == ["extra-1.0.0.dist-info", "prop05-2.0.0.dist-info",
                            "prop07-1.0.0.dist-info"]
    assert "prop03" not in now and "prop07" not in now and "extra" in now
    assert now["prop05"] == ("Prop05", "2.0.0", "upgraded", ["base[build]"])
    assert now == _listing_uncached(site)
    reads.take()

    # just changed: read again on every look (a change in the same clock tick keeps the
    # mtime) until it is older than the racy window
    assert _listing(site) == now
    assert reads.take() == ["extra-1.0.0.dist-info", "prop05-2.0.0.dist-info",
                            "prop07-1.0.0.dist-info"]
    _age(site)
    _listing(site)
    assert len(reads.take()) == 20  # new mtimes: read once more, then trusted
    assert _listing(site) == now and reads.take() == []


def _listing_uncached(site: Path) -> dict[str, tuple[str, str, str, list[str]]]:
    assets, _ = scan_site_packages(site, use_index=False)
    return {k: (a.name, a.version, a.description, [str(r) for r in a.requirements("build")])
            for k, a in assets.items()}


@pytest.mark.parametrize("damage", [
    b"not json", b"[]", json.dumps({"v": installed_index.VERSION, "site": "", "made_ns": 0,
                                   "dists": {}}).encode(),
])
def test_a_damaged_index_is_rebuilt(tmp_path: Path, damage: bytes) -> None:
    site = tmp_path / "lib" / "site-packages"
    for i in range(3):
        _dist(site, f"Prop{i}")
    _age(site)
    expected = _listing(site)
    Path(installed_index.index_path(site)).write_bytes(damage)
    assert _listing(site) == expected
    assert json.loads(Path(installed_index.index_path(site)).read_bytes())["v"] == installed_index.VERSION


def test_an_index_of_another_shape_is_read_around(tmp_path: Path) -> None:
    """Valid JSON whose records are not what this version writes: read every dist-info."""
    site = tmp_path / "lib" / "site-packages"
    _dist(site, "Chair")
    _age(site)
    expected = _listing(site)
    path = Path(installed_index.index_path(site))
    data = json.loads(path.read_bytes())
    for entry in data["dists"].values():
        entry[2] = ["too", "short"]
    data["made_ns"] += 10**12  # trusted
    path.write_text(json.dumps(data))
    assert _listing(site) == expected


def test_an_index_that_cannot_be_written_is_done_without(tmp_path: Path) -> None:
    """A venv setpiece cannot write to (a studio's shared install): listing still works.
    (The index's place is taken by a folder: every write fails, as read-only would.)"""
    site = tmp_path / "lib" / "site-packages"
    _dist(site, "Chair")
    Path(installed_index.index_path(site)).mkdir()
    assert list(_listing(site)) == ["chair"]
    _dist(site, "Table")
    assert list(_listing(site)) == ["chair", "table"]
    assert Path(installed_index.index_path(site)).is_dir()


def _uv(ws, *args: str) -> None:  # type: ignore[no-untyped-def]
    """uv run directly on the workspace's venv: behind setpiece's back."""
    subprocess.run([uv_bin(), "pip", *args, "--python", str(ws.python)], check=True,
                   capture_output=True)


def test_changes_behind_setpieces_back_are_seen(sample_ws, sample_repo: Path,
                                                run_setpiece) -> None:
    ws = sample_ws
    ws.install(["Chair==1.0.0"])
    assert Path(installed_index.index_path(ws.site_packages)).is_file()  # kept at install
    r = run_setpiece("-w", ws.root, "list", "--installed", "--json")
    assert {a["name"]: a["version"] for a in r.json()} == {"Chair": "1.0.0"}

    wheels = {"-".join(p.name.split("-")[:2]): p for p in sample_repo.glob("*.whl")}
    _uv(ws, "install", "--no-deps", str(wheels["chair-1.1.0"]), str(wheels["lamp-3.2.1"]))
    r = run_setpiece("-w", ws.root, "list", "--installed", "--json")
    assert {a["name"]: a["version"] for a in r.json()} == {"Chair": "1.1.0", "Lamp": "3.2.1"}

    _uv(ws, "uninstall", "lamp")
    r = run_setpiece("-w", ws.root, "list", "--installed", "--json")
    assert {a["name"]: a["version"] for a in r.json()} == {"Chair": "1.1.0"}

    # reinstalled as it was: a new folder, read again (same answer)
    _uv(ws, "install", "--no-deps", "--reinstall", str(wheels["chair-1.1.0"]))
    r = run_setpiece("-w", ws.root, "list", "--installed", "--json")
    assert {a["name"]: a["version"] for a in r.json()} == {"Chair": "1.1.0"}
