"""A small studio: one shared folder repo, workspace A (publishes Table, and holds a
bounded and a pinned dependent of it) and workspace B (KitchenSet, with a reaction)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

#: (name, kind, version, build requirements) published in the shared repo
STUDIO = [
    ("Chair", "prop", "1.0.0", []),
    ("Table", "prop", "1.2.0", []),
    ("Lamp", "prop", "1.0.0", []),
    ("KitchenSet", "set", "1.0.0", ["Chair", "Table>=1.2,<2", "Lamp==1.0.0"]),
    ("OldKitchen", "set", "1.0.0", ["Table>=1.0,<1.3"]),
    ("PinnedKitchen", "set", "1.0.0", ["Table==1.2.0"]),
]

KITCHEN = """
[[reactions]]
name = "kitchen"
on = ["published", "promoted"]
when = { closure = "KitchenSet[build]" }
do = "scene.rebuild"
with = { scene = "scenes/KitchenSet.usda" }
"""

DEPENDENTS = """
[[reactions]]
name = "old-kitchen"
when = { closure = "OldKitchen[build]" }
do = "scene.rebuild"

[[reactions]]
name = "pinned-kitchen"
when = { closure = "PinnedKitchen[build]" }
do = "scene.rebuild"
"""


@dataclass
class Studio:
    repo: Path
    a: Any  # publishes Table 1.3.0 (outputs/Table is ready); OldKitchen, PinnedKitchen
    b: Any  # KitchenSet[build] installed, reaction "kitchen"

    def publish_table(self, version: str = "1.3.0") -> None:
        out = self.a.output("Table")
        if out.version != version:
            out.set_version(version)
        self.a.publish("Table")


@pytest.fixture(scope="session")
def _studio_master(tmp_path_factory: pytest.TempPathFactory, uv_cache_dir: Path) -> Path:
    from setpiece.core import Workspace

    base = tmp_path_factory.mktemp("studio")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETPIECE_HOME", str(base / "home"))
        mp.setenv("UV_CACHE_DIR", str(uv_cache_dir))
        mp.setenv("UV_PYTHON_DOWNLOADS", "never")
        mp.delenv("SETPIECE_WORKSPACE", raising=False)
        repo = base / "repo"
        ws = Workspace.init(base / "ws", repos=[("shared", str(repo))], blessed="shared",
                            default="shared")
        for name, kind, version, reqs in STUDIO:
            ws.create(name, kind=kind, version=version)
            if reqs:
                ws.require(name, reqs, group="build")
            ws.publish(name)
        shutil.copytree(ws.output("Table").path, base / "table-project")
    return base


@pytest.fixture
def studio(tmp_path: Path, _studio_master: Path, make_workspace: Callable[..., Any]) -> Studio:
    repo = tmp_path / "repos" / "shared"
    shutil.copytree(_studio_master / "repo", repo)
    repos = {"shared": repo}
    a = make_workspace("A", repos=repos, blessed="shared", default="shared")
    shutil.copytree(_studio_master / "table-project", a.outputs / "Table")
    a.install(["OldKitchen[build]", "PinnedKitchen[build]"])
    b = make_workspace("B", repos=repos, blessed="shared", default="shared")
    b.install(["KitchenSet[build]"])
    for ws, text in ((a, DEPENDENTS), (b, KITCHEN)):
        with ws.config.path.open("a") as fh:
            fh.write(text)
    return Studio(repo, type(a)(a.root), type(b)(b.root))
