"""Blender end to end, in real bpy: build a set from installed packages, setup code,
publish a new prop version, reopen the saved .blend and let the on-open check act.

Every Blender step runs in a fresh subprocess (``bpy`` keeps global state), which is
also how ``setpiece batch blender`` runs. The workspace is real: assets created,
published to a folder repo and installed with uv by ``setpiece.core``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy

ROOT = Path(__file__).resolve().parents[2]

PAYLOAD = """#usda 1.0
(
    defaultPrim = "Geo"
    metersPerUnit = 0.01
    upAxis = "Y"
)

def Xform "Geo"
{{
    def Cube "Box"
    {{
        double size = {size}
        double3 xformOp:translate = (0, {half}, 0)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }}
}}
"""

CHAIR_SETUP = """
def setup(context):
    bpy = context.host.bpy
    coll = context.host.collection(context.container)
    coll["chair_setup_mark"] = context.version
    mark = bpy.data.objects.new("ChairSetupMark", None)
    coll.objects.link(mark)
    context.logger.info("chair set up")
"""

TABLE_SETUP = """
def setup(context):
    raise RuntimeError("table setup broke")
"""

LAMP_SETUP = """
def setup(context):
    context.host.collection(context.container)["lamp_setup_mark"] = context.version
"""


def _write_asset_files(
    ws: Any, name: str, kind: str, version: str, size: float, setup: str | None
) -> None:
    from setpiece.usd.interface import write_interface_layer

    out = ws.output(name)
    imp = name.lower()
    pkg = Path(out.path) / "src" / imp
    if kind != "set":
        (pkg / "payload.usda").write_text(
            PAYLOAD.format(size=size, half=size / 2), encoding="utf-8"
        )
    write_interface_layer(
        pkg / "asset.usda",
        name,
        version,
        kind,
        identifier=f"{imp}/asset.usda",
        payload="./payload.usda" if kind != "set" else None,
    )
    if setup is not None and not (pkg / "setup.py").exists():
        (pkg / "setup.py").write_text(setup, encoding="utf-8")
        pyproject = Path(out.path) / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text(encoding="utf-8")
            + f'\n[project.entry-points."setpiece.setup"]\n{name} = "{imp}.setup:setup"\n',
            encoding="utf-8",
        )


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A workspace with Chair/Table/Lamp 1.0.0 and KitchenSet[build] installed from a repo."""
    from setpiece.core.workspace import Workspace

    base = tmp_path_factory.mktemp("kitchen")
    old = {k: os.environ.get(k) for k in ("SETPIECE_HOME", "SETPIECE_WORKSPACE")}
    os.environ["SETPIECE_HOME"] = str(base / "home")
    os.environ.pop("SETPIECE_WORKSPACE", None)
    try:
        ws = Workspace.init(
            base / "ws",
            repos=[("blessed", str(base / "repos" / "blessed"))],
            blessed="blessed",
            default="blessed",
        )
        props = [
            ("Chair", 100.0, CHAIR_SETUP),
            ("Table", 150.0, TABLE_SETUP),
            ("Lamp", 50.0, LAMP_SETUP),
        ]
        for name, size, setup in props:
            ws.create(name, kind="prop", version="1.0.0")
            _write_asset_files(ws, name, "prop", "1.0.0", size, setup)
            ws.publish(name)
        ws.create("KitchenSet", kind="set", version="1.0.0")
        ws.require("KitchenSet", ["Chair", "Table>=1,<2", "Lamp==1.0.0"], group="build")
        _write_asset_files(ws, "KitchenSet", "set", "1.0.0", 0, None)
        ws.publish("KitchenSet")
        ws.uv_pip(
            "uninstall", ["Chair", "Table", "Lamp", "KitchenSet"], what="test", with_index=False
        )
        ws.install(["KitchenSet[build]"])
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"ws": ws, "base": base}


def run_blender(script: str, **params: Any) -> tuple[dict[str, Any], str]:
    """Run ``script`` in a fresh Python with bpy; it prints one JSON line starting RESULT:."""
    code = "import json, logging, sys\nlogging.basicConfig(level=logging.INFO)\n"
    code += f"P = json.loads({json.dumps(json.dumps(params))})\n" + textwrap.dedent(script)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SETPIECE_WORKSPACE", "PXR_AR_DEFAULT_SEARCH_PATH")
    }
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT:")]
    assert proc.returncode == 0 and lines, f"bpy run failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1][len("RESULT:") :]), proc.stderr


SNAPSHOT = """
def snapshot(host):
    import bpy
    bpy.context.view_layer.update()
    out = {}
    for c in host.ls():
        coll = host.collection(c)
        empty = host.container_empty(c)
        meshes = [o for o in coll.all_objects if o.type == "MESH"]
        zs = [(o.matrix_world @ __import__("mathutils").Vector(v)).z for o in meshes for v in o.bound_box]
        out[c.asset] = {
            "version": c.version,
            "node": c.node,
            "setup": c.record.extra.get("setup"),
            "marks": {k: coll[k] for k in ("chair_setup_mark", "lamp_setup_mark") if k in coll},
            "objects": sorted(o.name for o in coll.all_objects),
            "empty_location": list(empty.matrix_world.translation),
            "dimensions": [list(o.dimensions * 1.0) for o in meshes],
            "world_scale": [list(o.matrix_world.to_scale()) for o in meshes],
            "z_range": [min(zs), max(zs)] if zs else None,
        }
    return out
"""

BUILD = (
    SNAPSHOT
    + """
import bpy
from setpiece.hosts.blender import BlenderHost
from setpiece.hosts.runtime import install

host = BlenderHost()
host.new_scene()
runtime = install(host, P["ws"], defer=False)
containers, report = runtime.build("KitchenSet")
# the artist moves the chair's container
host.container_empty("Chair").location.x += 3.0
host.save_scene(P["blend"])
print("RESULT:" + json.dumps({
    "containers": {c.asset: c.version for c in containers},
    "setup": report.to_json(),
    "summary": report.summary(),
    "snapshot": snapshot(host),
    "menu": [c.label for c in host.menu_commands()],
    "topbar": hasattr(bpy.types, "TOPBAR_MT_setpiece"),
    "scene_asset": host.get_scene_data("setpiece_asset"),
}))
"""
)

REOPEN = (
    SNAPSHOT
    + """
from setpiece.hosts.blender import BlenderHost
from setpiece.hosts.runtime import install

host = BlenderHost()
runtime = install(host, P["ws"], defer=False)
host.open_scene(P["blend"])   # load_post -> runtime.scene_opened
check = runtime.last_check
print("RESULT:" + json.dumps({
    "policy": check.policy,
    "asset": check.asset,
    "changes": [c.to_json() for c in check.changes],
    "updated": [c.asset for c in check.updated],
    "message": check.message(),
    "snapshot": snapshot(host),
}))
"""
)


@pytest.fixture(scope="module")
def built(kitchen: dict[str, Any]) -> dict[str, Any]:
    ws, base = kitchen["ws"], kitchen["base"]
    blend = base / "scenes" / "kitchen.blend"
    result, log = run_blender(BUILD, ws=str(ws.root), blend=str(blend))
    return {"result": result, "log": log, "blend": blend, **kitchen}


def test_build_loads_every_container_with_versions(built: dict[str, Any]) -> None:
    r = built["result"]
    assert r["containers"] == {
        "Chair": "1.0.0",
        "Table": "1.0.0",
        "Lamp": "1.0.0",
        "KitchenSet": "1.0.0",
    }
    snap = r["snapshot"]
    assert set(snap) == {"Chair", "Table", "Lamp", "KitchenSet"}
    assert snap["Chair"]["version"] == "1.0.0"
    assert r["scene_asset"] == "KitchenSet"
    assert built["blend"].is_file()


def test_centimetre_y_up_asset_arrives_one_metre_and_upright(built: dict[str, Any]) -> None:
    chair = built["result"]["snapshot"]["Chair"]
    # 100 cm cube authored Y-up, translated +50 cm along Y: in Blender 1 m, standing on Z=0
    # (Object.dimensions is the world-space size: parent and unit scale included)
    assert chair["dimensions"][0] == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    assert chair["z_range"] == pytest.approx([0.0, 1.0], abs=1e-4)


def test_setup_code_ran_and_failure_reported_while_others_run(built: dict[str, Any]) -> None:
    r, log = built["result"], built["log"]
    status = {x["asset"]: x["status"] for x in r["setup"]["results"]}
    assert status == {"Chair": "ok", "Lamp": "ok", "Table": "failed", "KitchenSet": "none"}
    snap = r["snapshot"]
    assert snap["Chair"]["marks"] == {"chair_setup_mark": "1.0.0"}
    assert "ChairSetupMark" in snap["Chair"]["objects"]
    assert snap["Lamp"]["marks"] == {"lamp_setup_mark": "1.0.0"}
    assert snap["Chair"]["setup"] == {"version": "1.0.0", "status": "ok"}
    assert snap["Table"]["setup"]["status"] == "failed"
    assert "setup of Table 1.0.0 failed: RuntimeError: table setup broke" in log
    assert "Traceback" in log and "table/setup.py" in log
    assert "1 failed (Table 1.0.0)" in r["summary"]


def test_menu_in_top_bar(built: dict[str, Any]) -> None:
    r = built["result"]
    assert r["topbar"] is True
    assert r["menu"][:4] == ["Build scene", "Update all", "Inventory", "Publish"]


def test_batch_build_in_safe_mode_skips_asset_code(kitchen: dict[str, Any]) -> None:
    """``setpiece batch blender build KitchenSet -o F --no-setup``: headless, no asset code."""
    from setpiece.hosts.launching import batch_build

    out = kitchen["base"] / "batch" / "kitchen.blend"
    summary = kitchen["base"] / "batch" / "summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    code = batch_build(
        "blender", kitchen["ws"], "KitchenSet", str(out), no_setup=True, json_out=str(summary)
    )
    assert code == 0
    assert out.is_file()
    data = json.loads(summary.read_text())
    assert {c["asset"]: c["version"] for c in data["containers"]}["Chair"] == "1.0.0"
    assert data["setup"]["safe_mode"] is True
    assert {r["status"] for r in data["setup"]["results"]} == {"skipped"}

    # without safe mode the failing Table setup makes the batch exit non-zero (file still saved)
    out2 = kitchen["base"] / "batch" / "kitchen2.blend"
    assert batch_build("blender", kitchen["ws"], "KitchenSet", str(out2)) == 1
    assert out2.is_file()


def _publish_chair(ws: Any, version: str, size: float) -> None:
    out = ws.output("Chair")
    out.set_version(version)
    _write_asset_files(ws, "Chair", "prop", version, size, CHAIR_SETUP)
    ws.publish("Chair")
    ws.install([f"Chair=={version}"])


def _set_on_open(ws: Any, policy: str) -> None:
    with ws.config.edit() as doc:
        import tomlkit

        if "settings" not in doc:
            doc["settings"] = tomlkit.table()
        doc["settings"]["on_open"] = policy


def test_reopen_reports_then_updates_keeping_user_transform(built: dict[str, Any]) -> None:
    ws, blend = built["ws"], built["blend"]
    old = {k: os.environ.get(k) for k in ("SETPIECE_HOME",)}
    os.environ["SETPIECE_HOME"] = str(built["base"] / "home")
    try:
        _publish_chair(ws, "1.1.0", 120.0)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    moved = built["result"]["snapshot"]["Chair"]["empty_location"]

    # report: says what changed upstream, changes nothing
    _set_on_open(ws, "report")
    report_copy = blend.with_name("report.blend")
    shutil.copy(blend, report_copy)
    r, _ = run_blender(REOPEN, ws=str(ws.root), blend=str(report_copy))
    assert r["policy"] == "report" and r["asset"] == "KitchenSet"
    outdated = [c for c in r["changes"] if c["status"] == "outdated"]
    assert outdated == [
        {
            "asset": "Chair",
            "node": "Chair",
            "scene_version": "1.0.0",
            "installed_version": "1.1.0",
            "status": "outdated",
            "requirement": "Chair",
        }
    ]
    assert "Chair: 1.0.0 in the scene, 1.1.0 installed" in r["message"]
    assert r["updated"] == []
    assert r["snapshot"]["Chair"]["version"] == "1.0.0"

    # off: nothing checked
    _set_on_open(ws, "off")
    r, _ = run_blender(REOPEN, ws=str(ws.root), blend=str(report_copy))
    assert r["changes"] == [] and r["snapshot"]["Chair"]["version"] == "1.0.0"

    # update: the container moves to 1.1.0, the artist's transform survives, setup reruns
    _set_on_open(ws, "update")
    r, _ = run_blender(REOPEN, ws=str(ws.root), blend=str(blend))
    assert r["updated"] == ["Chair"]
    chair = r["snapshot"]["Chair"]
    assert chair["version"] == "1.1.0"
    assert chair["empty_location"] == pytest.approx(moved, abs=1e-6)
    assert chair["dimensions"][0] == pytest.approx(
        [1.2, 1.2, 1.2], abs=1e-4
    )  # the new version's content
    assert chair["marks"] == {"chair_setup_mark": "1.1.0"}
    assert chair["setup"] == {"version": "1.1.0", "status": "ok"}
    assert r["snapshot"]["Table"]["version"] == "1.0.0"
