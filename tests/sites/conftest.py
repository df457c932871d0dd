"""Two sites on one machine: ``london`` (a folder repo holding a published closure with
tracked files, and its events) and ``mumbai`` (an empty folder repo), each with a
workspace configured with both repos and both sites.

The london repo is published once per session (real uv builds, real dvc pushes) and
copied for each test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")

SITES = """
[sites.london]
repos = ["london"]
owns = ["Kitchen*"]
review = "london"

[sites.mumbai]
repos = ["mumbai", "mumbai-review"]
review = "mumbai-review"
"""


def publish_london(ws: Any, data: Path) -> None:
    """Chair 0.1.0 (one tracked file), Table 1.0.0 (a tracked folder of 3 files),
    KitchenSet 1.0.0 (build: Chair, Table), Lamp 0.1.0 (no files, outside the closure)."""
    data.mkdir(parents=True, exist_ok=True)
    ws.create("Chair")
    (data / "geo.abc").write_bytes(b"chair geometry " * 8000)
    _files_add(ws, "Chair", [str(data / "geo.abc")], "geo.abc")
    ws.publish("Chair")
    ws.create("Table", version="1.0.0")
    (data / "tex").mkdir()
    for i in range(3):
        (data / "tex" / f"t{i}.png").write_bytes(f"table texture {i} ".encode() * 3000)
    _files_add(ws, "Table", [str(data / "tex")], "textures")
    ws.publish("Table")
    ws.create("KitchenSet", kind="set", version="1.0.0")
    ws.require("KitchenSet", ["Chair", "Table"], group="build")
    ws.publish("KitchenSet")
    ws.create("Lamp")
    ws.publish("Lamp")


def _files_add(ws: Any, name: str, paths: list[str], dest: str) -> None:
    from setpiece.core.files.tracking import add

    add(ws, name, paths, dest=dest)


@pytest.fixture(scope="session")
def _london_master(tmp_path_factory: pytest.TempPathFactory, uv_cache_dir: Path) -> Path:
    from setpiece.core import Workspace

    base = tmp_path_factory.mktemp("london")
    with pytest.MonkeyPatch.context() as mp:  # as tests/conftest.py isolates every test
        mp.setenv("SETPIECE_HOME", str(base / "home"))
        mp.setenv("UV_CACHE_DIR", str(uv_cache_dir))
        mp.setenv("UV_PYTHON_DOWNLOADS", "never")
        mp.setenv("DVC_SITE_CACHE_DIR", str(base / "home" / "dvc-site-cache"))
        mp.delenv("SETPIECE_WORKSPACE", raising=False)
        mp.setenv("SETPIECE_SITE", "london")  # the events say where it was published
        repo = base / "london"
        ws = Workspace.init(base / "ws", repos=[("london", str(repo))], blessed="london",
                            default="london")
        publish_london(ws, base / "data")
    return repo


@dataclass
class TwoSites:
    root: Path
    london_repo: Path
    mumbai_repo: Path
    london: Any  # the workspace at london
    mumbai: Any  # the workspace at mumbai

    def site_of(self, ws: Any) -> str:
        return "london" if ws is self.london else "mumbai"


def site_workspace(root: Path, name: str, repos: dict[str, Path], site: str) -> Any:
    from setpiece.core import Workspace

    first = next(iter(repos))
    ws = Workspace.init(root / f"{name}-ws", repos=[(n, str(p)) for n, p in repos.items()],
                        blessed=first, default=first)
    text = ws.config.path.read_text(encoding="utf-8")
    text = text.replace("[workspace]\n", f'[workspace]\nsite = "{site}"\n', 1) + SITES
    ws.config.path.write_text(text, encoding="utf-8")
    return Workspace(ws.root)


@pytest.fixture
def two_sites(tmp_path: Path, _london_master: Path, make_repo: Any) -> TwoSites:
    london_repo = tmp_path / "repos" / "london"
    shutil.copytree(_london_master, london_repo)
    mumbai_repo = make_repo("mumbai")
    review = make_repo("mumbai-review")
    repos = {"london": london_repo, "mumbai": mumbai_repo, "mumbai-review": review}
    london = site_workspace(tmp_path, "london", repos, "london")
    mumbai = site_workspace(tmp_path, "mumbai",
                            {"mumbai": mumbai_repo, "london": london_repo, "mumbai-review": review},
                            "mumbai")
    return TwoSites(tmp_path, london_repo, mumbai_repo, london, mumbai)


@pytest.fixture(autouse=True)
def _no_site_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SETPIECE_SITE", raising=False)
