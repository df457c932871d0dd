"""Fault injection for ``setpiece repo sync``: killed before each of its mutating file
operations, the destination repo never shows a version whose wheel or files are
incomplete (objects first, the wheel after its files, its index row last), no file is
half-written, and one re-run finishes the sync with the events copied once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")

import checker
from harness import Run, Sweep, exit_ok

pytestmark = pytest.mark.slow

WHEELS = ["chair-0.1.0-py3-none-any.whl", "kitchenset-1.0.0-py3-none-any.whl",
          "table-1.0.0-py3-none-any.whl"]


def two_sites(root: Path) -> Any:
    """``root/repos/london`` with KitchenSet[build] (Chair: a file, Table: a folder of 3)
    and Lamp published, an empty ``root/repos/mumbai``, a workspace at site london."""
    from setpiece.core import Workspace
    from setpiece.core.files.tracking import add
    from setpiece.core.repos.folder import FolderRepo

    for name in ("london", "mumbai"):
        FolderRepo(name, str(root / "repos" / name)).create()
    ws = Workspace.init(root / "ws", repos=[(n, str(root / "repos" / n)) for n in ("london", "mumbai")],
                        blessed="london", default="london")
    text = ws.config.path.read_text().replace("[workspace]\n", '[workspace]\nsite = "london"\n', 1)
    ws.config.path.write_text(text + '\n[sites.london]\nrepos = ["london"]\n'
                              '[sites.mumbai]\nrepos = ["mumbai"]\n')
    ws = Workspace(ws.root)
    data = root / "data"
    (data / "tex").mkdir(parents=True)
    (data / "geo.abc").write_bytes(b"chair geometry " * 4000)
    for i in range(3):
        (data / "tex" / f"t{i}.png").write_bytes(f"texture {i} ".encode() * 2000)
    ws.create("Chair")
    add(ws, "Chair", [str(data / "geo.abc")], dest="geo.abc")
    ws.publish("Chair")
    ws.create("Table", version="1.0.0")
    add(ws, "Table", [str(data / "tex")], dest="textures")
    ws.publish("Table")
    ws.create("KitchenSet", kind="set", version="1.0.0")
    ws.require("KitchenSet", ["Chair", "Table"], group="build")
    ws.publish("KitchenSet")
    return ws


def test_repo_sync_killed_at_every_point(sandbox: Path, record: Any) -> None:
    ws = two_sites(sandbox)
    mumbai = sandbox / "repos" / "mumbai"
    events = mumbai / ".setpiece" / "events"

    def check(stage: str) -> list[str]:
        problems = checker.check_repo(mumbai) + checker.check_files_parse(sandbox)
        ids = [p.stem for p in events.glob("2*/*/*.json")]
        if len(ids) != len(set(ids)):
            problems.append(f"an event was copied twice: {sorted(ids)}")
        return problems

    def recovered(run: Run) -> list[str]:
        problems = exit_ok(run)
        shown = sorted(p.name for p in mumbai.glob("*.whl"))
        if shown != WHEELS:
            problems.append(f"mumbai holds {shown}")
        for name in ("chair", "table", "kitchenset"):
            page = mumbai / "simple" / name / "index.html"
            if not page.is_file() or f"{name}-" not in page.read_text():
                problems.append(f"{name} is not in mumbai's index")
        logged = [json.loads(p.read_bytes())["asset"] for p in events.glob("2*/*/*.json")]
        if sorted(logged) != ["Chair", "KitchenSet", "Table"]:
            problems.append(f"events at mumbai: {logged}")
        return problems

    sweep = Sweep("repo sync", ["repo", "sync", "london", "mumbai", "KitchenSet[build]"],
                  sandbox, ws.root, check, recovered)
    tally = sweep.sweep()
    record(tally)
    assert tally.points >= 20
    assert not tally.failures, "\n".join(tally.failures[:10])
