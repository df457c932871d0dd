"""The Blender end of ``setpiece demo``: the sample set built in Blender, saved as .blend.

``save_demo_blend(ws, asset, path)`` runs in a Python where ``bpy`` is importable (it
builds, loads, runs setup code and saves in this process); ``demo_step(ws, report)``
(the ``setpiece.demo`` entry point) runs it headless in a subprocess through
``setpiece batch blender build`` so the CLI process never imports bpy.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError

DEMO_ASSET = "KitchenSet"


def save_demo_blend(
    ws: Any, asset: str = DEMO_ASSET, path: str | Path | None = None, *, no_setup: bool = False
) -> dict[str, Any]:
    """Build ``asset`` in Blender (this process), run setup code, save the .blend."""
    from setpiece.hosts.blender import BlenderHost
    from setpiece.hosts.runtime import Runtime

    out = Path(path) if path else Path(ws.root) / "scenes" / f"{asset}.blend"
    host = BlenderHost()
    host.new_scene()
    runtime = Runtime(host, ws, no_setup=no_setup or None)
    containers, report = runtime.build(asset)
    saved = host.save_scene(str(out))
    return {
        "blend": saved,
        "containers": [{"asset": c.asset, "version": c.version} for c in containers],
        "setup": report.to_json(),
    }


def demo_step(ws: Any, report: Callable[[str], None]) -> None:
    """``setpiece demo``'s last step: where bpy is installed, save the set as a .blend."""
    if importlib.util.find_spec("bpy") is None:
        report("Blender scene skipped: bpy is not installed (pip install bpy, Python 3.11)")
        return
    from setpiece.hosts.launching import batch_build

    out = Path(ws.root) / "scenes" / f"{DEMO_ASSET}.blend"
    try:
        code = batch_build("blender", ws, DEMO_ASSET, str(out))
    except SetpieceError as exc:
        report(f"Blender scene skipped: {exc}")
        return
    if out.is_file():
        report(
            f"Blender scene saved: {out}"
            + ("" if code == 0 else " (some setup code failed: see above)")
        )
    else:
        report(f"Blender scene not saved (exit code {code}): see the messages above")
