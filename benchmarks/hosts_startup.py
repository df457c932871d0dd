"""What setpiece adds to a DCC's startup: ``setpiece.hosts.install(BlenderHost())`` in real bpy.

Usage: ``.venv/bin/python benchmarks/hosts_startup.py [--runs 7]``

Each run is a fresh Python process (cold imports, as in a real app start):

1. ``import bpy`` (Blender itself starting: not setpiece's cost, reported for scale);
2. **install**: ``import setpiece.hosts`` + ``install(BlenderHost())``: the menu classes
   registered in the top bar, the load_post handler, the deferred call queued. This is
   the number that must stay under 50 ms;
3. **deferred**: the work ``install`` defers to Blender's first idle moment (finding the
   workspace, configuring USD's resolver, ``sys.path``, tool-asset menu entries), with a
   real workspace holding ``--assets`` installed assets.

Prints a table and, with ``--json``, the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import bpy
t1 = time.perf_counter()
import setpiece.hosts
from setpiece.hosts.blender import BlenderHost
# defer=False: in the GUI, install() queues the rest on a timer; headless (bpy.app.background)
# it would run at once, so time the two halves separately, as the GUI sees them
runtime = setpiece.hosts.install(BlenderHost(), sys.argv[1], defer=False)
t2 = time.perf_counter()
runtime.finish_startup()
t3 = time.perf_counter()
assert hasattr(bpy.types, "TOPBAR_MT_setpiece")
print("BENCH" + json.dumps({"bpy": t1 - t0, "install": t2 - t1, "deferred": t3 - t2,
                            "menu": len(BlenderHost().menu_commands())}))
"""


def make_workspace(base: Path, assets: int) -> Path:
    """A workspace whose site-packages holds ``assets`` asset dist-infos (no uv needed)."""
    from setpiece.core.workspace import Workspace

    ws = Workspace.init(base / "ws")
    sp = ws.site_packages
    for i in range(assets):
        name = f"prop{i:04d}"
        di = sp / f"{name}-1.0.0.dist-info"
        di.mkdir(parents=True, exist_ok=True)
        (di / "METADATA").write_text(
            f"Metadata-Version: 2.3\nName: {name}\nVersion: 1.0.0\nKeywords: setpiece-asset,setpiece-kind:prop\n"
        )
        (di / "entry_points.txt").write_text(f"[setpiece.asset]\n{name} = {name}\n")
        (sp / name).mkdir(exist_ok=True)
    return ws.root


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("SETPIECE_HOME", str(Path(tmp) / "home"))
        root = make_workspace(Path(tmp), args.assets)
        rows = []
        for _ in range(args.runs):
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, str(root)], capture_output=True, text=True, check=True
            )
            line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH"))
            rows.append(json.loads(line[5:]))
    result = {
        k: {"median_ms": statistics.median(r[k] for r in rows) * 1000, "min_ms": min(r[k] for r in rows) * 1000}
        for k in ("bpy", "install", "deferred")
    }
    if args.json:
        print(json.dumps({"runs": args.runs, "assets": args.assets, "result": result}, indent=2))
    else:
        print(f"{args.runs} fresh processes, workspace with {args.assets} installed assets")
        print(f"{'step':<10}{'median ms':>12}{'min ms':>10}")
        for k, v in result.items():
            print(f"{k:<10}{v['median_ms']:>12.1f}{v['min_ms']:>10.1f}")
    ok = result["install"]["median_ms"] < 50
    print("install(host) under 50 ms:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
