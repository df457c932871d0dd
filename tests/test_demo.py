"""The README's main job: ``setpiece demo`` on the embedded defaults, end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def test_demo_publishes_installs_builds_and_lays_out_the_set(
    tmp_path: Path, run_setpiece: Any
) -> None:
    demo = tmp_path / "demo"
    result = run_setpiece("demo", demo, "--json", timeout=600)
    assert result.exit_code == 0, result.err
    summary = result.json()
    ws = Path(summary["workspace"])
    assert sorted(summary["installed"]) == [
        "+ chair==1.1.0", "+ kitchenset==1.0.0", "+ lamp==3.2.1", "+ table==1.3.0",
    ]

    listed = run_setpiece("-w", ws, "list", "--json").json()
    assert {a["name"]: (a["version"], a["kind"]) for a in listed} == {
        "Chair": ("1.1.0", "prop"), "KitchenSet": ("1.0.0", "set"),
        "Lamp": ("3.2.1", "prop"), "Table": ("1.3.0", "prop"),
    }
    info = run_setpiece("-w", ws, "info", "KitchenSet", "--json").json()
    kinds = {d["name"].lower(): d["kind"] for d in info["dependencies"]}
    assert kinds == {"chair": "push", "table": "semi-push", "lamp": "pull"}

    # the USD scene: four containers, the layout in the user's layer
    scene = ws / "scenes" / "KitchenSet.usda"
    inventory = run_setpiece("-w", ws, "scene", "inventory", scene, "--json").json()
    rows = inventory if isinstance(inventory, list) else inventory["containers"]
    assert {r["asset"] for r in rows} == {"Chair", "Table", "Lamp", "KitchenSet"}
    assert "xformOp:translate" in scene.read_text()

    # a rebuild keeps the user's layer and writes nothing new
    rebuild = run_setpiece("-w", ws, "scene", "build", "KitchenSet", "--json")
    assert rebuild.exit_code == 0, rebuild.err
    assert "xformOp:translate" in scene.read_text()

    # running the demo again over its own folder starts afresh
    again = run_setpiece("demo", demo, timeout=600)
    assert again.exit_code == 0, again.err


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path, run_setpiece: Any) -> None:
    precious = tmp_path / "work"
    precious.mkdir()
    (precious / "shot.blend").write_text("artist's work")
    result = run_setpiece("demo", precious)
    result.user_error("not a setpiece demo folder")
    assert (precious / "shot.blend").read_text() == "artist's work"


@pytest.mark.bpy
@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy (Blender) is not installed")
def test_demo_blend_has_the_set_laid_out_in_metres_with_setup_code_run(tmp_path: Path, run_setpiece: Any) -> None:
    result = run_setpiece("demo", tmp_path / "demo", "--json", timeout=600)
    assert result.exit_code == 0, result.err
    blend = Path(result.json()["workspace"]) / "scenes" / "KitchenSet.blend"
    assert blend.is_file()
    probe = (
        "import bpy, json, sys\n"
        f"bpy.ops.wm.open_mainfile(filepath={str(blend)!r})\n"
        "out = {o.name: [round(v, 3) for v in o.matrix_world.translation] + "
        "[round(v, 3) for v in o.dimensions] for o in bpy.data.objects if o.type == 'MESH'}\n"
        "lights = {o.name: [round(v, 3) for v in o.matrix_world.translation] "
        "for o in bpy.data.objects if o.type == 'LIGHT'}\n"
        "marks = {c.name: c['demo_setup'] for c in bpy.data.collections if 'demo_setup' in c}\n"
        "sys.stdout.write('RESULT' + json.dumps([out, lights, marks]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    meshes, lights, marks = json.loads(proc.stdout.split("RESULT", 1)[1])
    by_size = {tuple(v[3:]): v[:3] for v in meshes.values()}
    # sizes in metres (authored in centimetres, Y-up) and placements from the layout
    assert by_size[(0.45, 0.9, 0.45)] == [0.0, -0.8, 0.0]  # chair, 0.8 m in front
    assert by_size[(0.3, 0.4, 0.3)] == [0.0, 0.0, 1.6]  # lamp, 1.6 m up
    assert by_size[(1.6, 0.75, 0.9)] == [0.0, 0.0, 0.0]  # table
    # the assets' setup code ran in Blender: the lamp brought its light, the chair its mark
    assert lights == {"Lamp_light": [0.0, 0.0, 1.6]}
    assert marks == {"Chair": "Chair 1.1.0"}
