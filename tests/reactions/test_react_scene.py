"""scene.rebuild through the reaction engine, in one workspace, on real uv and USD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pxr")

from setpiece.core.reactions import Engine, load_reactions

REACTION = """
[[reactions]]
name = "kitchen"
on = ["published", "promoted"]
when = { closure = "KitchenSet[build]" }
do = "scene.rebuild"
"""


def _event(eid: str, asset: str, version: str, name: str = "published") -> dict[str, Any]:
    return {"id": eid, "event": name, "asset": asset, "version": version, "repo": "blessed"}


def _installed(ws: Any) -> dict[str, str]:
    return {k: str(a.version) for k, a in ws.installed_assets().items()}


def test_scene_rebuild_updates_within_requirements_once(sample_ws: Any) -> None:
    ws = sample_ws
    ws.install(["KitchenSet[build]"])
    ws.install(["Table==1.2.3"], record=False)  # as if 1.3.0 were not published yet
    with ws.config.path.open("a") as fh:
        fh.write(REACTION)
    ws = type(ws)(ws.root)
    engine = Engine(ws, load_reactions(ws))
    scene = ws.root / "scenes" / "KitchenSet.usda"
    generated = ws.root / "scenes" / "KitchenSet.setpiece.usda"

    out = engine.handle(_event("E1", "Table", "1.3.0"))
    assert [(o.reaction, o.status) for o in out] == [("kitchen", "ran")]
    assert out[0].output_changed
    assert _installed(ws)["table"] == "1.3.0"
    assert 'version = "1.3.0"' in generated.read_text()
    assert scene.is_file()
    first = generated.stat().st_mtime_ns

    # the same event again (a duplicate delivery, a replay): nothing
    assert [o.status for o in engine.handle(_event("E1", "Table", "1.3.0"))] == ["duplicate"]
    # the same version promoted (another event, same wheel): inputs hash the same
    again = engine.handle(_event("E2", "Table", "1.3.0", "promoted"))
    assert [o.status for o in again] == ["unchanged"]
    # outside the bound (<2) and past the pin (Lamp==3.2.1): not this reaction's business
    assert engine.handle(_event("E3", "Table", "2.0.0")) == []
    assert engine.handle(_event("E4", "Lamp", "3.3.0")) == []
    assert _installed(ws)["table"] == "1.3.0" and _installed(ws)["lamp"] == "3.2.1"
    assert generated.stat().st_mtime_ns == first

    state = engine.states()[0]
    assert state.runs == 1 and state.status == "ok"
    closure = {row[0]: row[1] for row in state.inputs["inputs"]["closure"]}
    assert closure == {"chair": "1.1.0", "kitchenset": "1.0.0", "lamp": "3.2.1", "table": "1.3.0"}
    assert all(len(row[2]) == 64 for row in state.inputs["inputs"]["closure"])  # sha256


def test_a_deleted_output_is_rebuilt(sample_ws: Any) -> None:
    ws = sample_ws
    ws.install(["KitchenSet[build]"])
    with ws.config.path.open("a") as fh:
        fh.write(REACTION)
    ws = type(ws)(ws.root)
    engine = Engine(ws, load_reactions(ws))
    assert [o.status for o in engine.handle(_event("E1", "Chair", "1.1.0"))] == ["ran"]
    generated = Path(ws.root / "scenes" / "KitchenSet.setpiece.usda")
    generated.unlink()
    out = engine.handle(_event("E2", "Chair", "1.1.0", "promoted"))
    assert [o.status for o in out] == ["ran"]
    assert generated.is_file()
