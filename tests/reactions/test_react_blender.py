"""In the app (real bpy): containers with a newer *published* version their requirement
admits are said on open, offered, updated by policy, and said again when an event
arrives while the scene is open. Headless, nothing is ever modal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")

BUILD = """
from setpiece.hosts.blender import BlenderHost
from setpiece.hosts.runtime import install
host = BlenderHost()
host.new_scene()
runtime = install(host, P["ws"], defer=False)
containers, _ = runtime.build("KitchenSet")
host.save_scene(P["blend"])
print("RESULT:" + json.dumps({c.asset: c.version for c in containers}))
"""

REOPEN = """
import logging
from setpiece.hosts.blender import BlenderHost
from setpiece.hosts.runtime import install
messages = []
class Catch(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())
logging.getLogger("setpiece").addHandler(Catch())
host = BlenderHost()
runtime = install(host, P["ws"], defer=False)
host.open_scene(P["blend"])
check = runtime.last_check
out = {
    "published": [u.to_json() for u in check.published],
    "asked": check.asked,
    "versions": {c.asset: c.version for c in host.ls()},
}
if P.get("watch"):
    watch = runtime.watch_events()
    out["before"] = [u.to_json() for u in watch.poll()]
    from setpiece.core.workspace import Workspace
    a = Workspace(P["publisher"])
    a.output("Table").set_version("1.4.0")
    a.publish("Table")          # another workspace publishes while this scene is open
    out["after"] = [u.to_json() for u in watch.poll()]
out["messages"] = messages
print("RESULT:" + json.dumps(out))
"""


def run_blender(script: str, **params: Any) -> dict[str, Any]:
    code = "import json, sys\n"
    code += f"P = json.loads({json.dumps(json.dumps(params))})\n" + textwrap.dedent(script)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SETPIECE_WORKSPACE", "PXR_AR_DEFAULT_SEARCH_PATH")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT:")]
    assert proc.returncode == 0 and lines, f"bpy run failed:\n{proc.stdout}\n{proc.stderr}"
    data: dict[str, Any] = json.loads(lines[-1][len("RESULT:"):])
    return data


def _on_open(ws: Any, policy: str) -> None:
    import tomlkit

    with ws.config.edit() as doc:
        if "settings" not in doc:
            doc["settings"] = tomlkit.table()
        doc["settings"]["on_open"] = policy


@pytest.mark.slow
def test_open_says_and_updates_to_newer_published_versions(studio: Any, tmp_path: Path) -> None:
    b = studio.b
    blend = b.root / "scenes" / "KitchenSet.blend"
    assert run_blender(BUILD, ws=str(b.root), blend=str(blend))["Table"] == "1.2.0"
    studio.publish_table("1.3.0")  # in A; B has not installed it

    _on_open(b, "report")
    r = run_blender(REOPEN, ws=str(b.root), blend=str(blend))
    assert r["published"] == [{
        "asset": "Table", "node": "Table", "scene_version": "1.2.0",
        "installed_version": "1.2.0", "published_version": "1.3.0",
        "requirement": "Table<2,>=1.2",
    }]
    said = "\n".join(r["messages"])
    assert "Table: 1.3.0 is published ('Table<2,>=1.2' admits it), 1.2.0 in the scene" in said
    assert r["versions"]["Table"] == "1.2.0" and r["asked"] is False

    _on_open(b, "ask")  # headless: nobody to ask, no dialog: said, nothing changed
    r = run_blender(REOPEN, ws=str(b.root), blend=str(blend))
    assert r["asked"] is False and r["versions"]["Table"] == "1.2.0"
    assert "1.3.0 is published" in "\n".join(r["messages"])

    _on_open(b, "update")  # installs the published version and updates the container
    r = run_blender(REOPEN, ws=str(b.root), blend=str(blend))
    assert r["versions"]["Table"] == "1.3.0"
    assert {k: str(v.version) for k, v in b.installed_assets().items()}["table"] == "1.3.0"
    assert r["versions"]["Lamp"] == "1.0.0"  # pinned: never offered


@pytest.mark.slow
@pytest.mark.parametrize("via", ["repo log", "bus"])
def test_an_event_while_open_is_said(studio: Any, via: str, request: pytest.FixtureRequest) -> None:
    b = studio.b
    if via == "bus":
        pytest.importorskip("redis")
        url = request.getfixturevalue("redis_server").url
        for ws in (studio.a, b):
            with ws.config.path.open("a") as fh:
                fh.write(f'\n[events]\nbus = "{url}"\nconnect_timeout = 0.5\n')
    blend = b.root / "scenes" / "KitchenSet.blend"
    run_blender(BUILD, ws=str(b.root), blend=str(blend))
    _on_open(b, "report")
    r = run_blender(REOPEN, ws=str(b.root), blend=str(blend), watch=True,
                    publisher=str(studio.a.root))
    assert r["published"] == [] and r["before"] == []
    assert [(u["asset"], u["published_version"]) for u in r["after"]] == [("Table", "1.4.0")]
    assert any("Table: 1.4.0 is published" in m for m in r["messages"])


@pytest.mark.slow
def test_scene_rebuild_also_builds_the_blend_headless(studio: Any, run_cli: Any) -> None:
    b = studio.b
    text = b.config.path.read_text().replace(
        'with = { scene = "scenes/KitchenSet.usda" }',
        'with = { scene = "scenes/KitchenSet.usda", blend = "scenes/KitchenSet.blend" }')
    b.config.path.write_text(text)
    result = run_cli("-w", b.root, "react", "--once", "--json")
    assert result.exit_code == 0, result.err
    (ran,) = [o for o in result.json()["outcomes"] if o["status"] == "ran"]
    blend = b.root / "scenes" / "KitchenSet.blend"
    assert ran["data"]["artifacts"] == [str(blend)]
    head = blend.read_bytes()[:7]  # a real .blend saved by bpy: plain, or zstd-compressed
    assert head == b"BLENDER" or head[:4] == b"\x28\xb5\x2f\xfd"
