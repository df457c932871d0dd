"""The demo: a fresh workspace with sample assets on the embedded defaults.

Props Chair, Table and Lamp, and a set KitchenSet that needs them with an abstract
(push), a bounded (semi-push) and a concrete (pull) requirement; several versions are
published to the review repo, promoted to blessed, and ``KitchenSet[build]`` is
installed. Later stages (files, USD scene, Blender) extend it through the entry point
group ``setpiece.demo`` (``fn(ws, report) -> None``), run in name order.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from setpiece.core import hooks
from setpiece.core.errors import SetpieceError
from setpiece.core.files import demo as files_demo
from setpiece.core.workspace import Workspace

MARKER = ".setpiece-demo"

#: (name, kind, description, versions to publish, build requirements)
SAMPLES: list[tuple[str, str, str, list[str], list[str]]] = [
    ("Chair", "prop", "A kitchen chair", ["1.0.0", "1.1.0"], []),
    ("Table", "prop", "A kitchen table", ["1.2.3", "1.3.0", "2.0.0"], []),
    ("Lamp", "prop", "A pendant lamp", ["3.2.1", "3.3.0"], []),
    (
        "KitchenSet",
        "set",
        "The kitchen: chairs around a table under a lamp",
        ["1.0.0"],
        ["Chair", "Table>=1.2.3,<2", "Lamp==3.2.1"],
    ),
]


#: Setup code the sample assets ship (entry point ``setpiece.setup``): it runs in the DCC
#: after a build, once per container and version. Asset code is plain Python in the package.
SETUP_CODE: dict[str, str] = {
    "Lamp": '''"""Lamp setup: the lamp brings its own light."""


def setup(context):
    if getattr(context.host, "name", "") != "blender":
        context.logger.info("%s %s: no light for %s", context.asset, context.version, context.host)
        return
    import bpy

    light = bpy.data.lights.new(f"{context.asset}_light", type="POINT")
    light.energy = 150.0
    obj = bpy.data.objects.new(f"{context.asset}_light", light)
    context.host.collection(context.container).objects.link(obj)
    obj.parent = context.host.container_empty(context.container)
    context.logger.info("%s %s: light added", context.asset, context.version)
''',
    "Chair": '''"""Chair setup: leaves a mark an artist can see on the container."""


def setup(context):
    context.logger.info("%s %s set up in %s", context.asset, context.version, context.host.name)
    setter = getattr(context.host, "set_container_data", None)
    if callable(setter):
        setter(context.container, "demo_setup", f"{context.asset} {context.version}")
''',
}


def add_setup_code(ws: Workspace, name: str) -> None:
    code = SETUP_CODE.get(name)
    if code is None:
        return
    asset = ws.output(name)
    (asset.package_dir / "setup.py").write_text(code, encoding="utf-8")
    asset.add_entry_point("setpiece.setup", name, f"{asset.module}.setup:setup")


def run_demo(path: Path, report: Callable[[str], None]) -> dict[str, Any]:
    root = path.expanduser().resolve()
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise SetpieceError(
                f"{root} exists and is not a setpiece demo folder: pick an empty or new folder"
            )
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / MARKER).write_text("made by 'setpiece demo'; safe to delete\n")
    repos = root / "repos"
    ws = Workspace.init(
        root / "workspace",
        repos=[("blessed", str(repos / "blessed")), ("review", str(repos / "review"))],
        blessed="blessed",
        default="review",
        reporter=report,
    )
    for name, kind, description, versions, reqs in SAMPLES:
        ws.create(name, kind=kind, version=versions[0], description=description)
        add_setup_code(ws, name)
        if name == "Chair":  # tracked files: pushed before each publish, pulled after install
            files_demo.add_sample_files(ws, name, report)
        if reqs:
            ws.require(name, reqs, group="build")
        for i, version in enumerate(versions):
            if i:
                ws.output(name).set_version(version)
                hooks.run("setpiece.version_changed", ws=ws, package_dir=ws.output(name).package_dir,
                          name=name, version=version)
            hooks.run("setpiece.demo.asset", ws=ws, asset=ws.output(name))
            ws.publish(name)
            ws.promote(f"{name}=={version}", to="blessed", from_="review")
    # The outputs were the authoring side; a user installs what was published.
    for name, *_ in SAMPLES:
        shutil.rmtree(ws.output(name).path)
    ws.uv_pip("uninstall", [n for n, *_ in SAMPLES], what="cleaning the demo", with_index=False)
    changes = ws.install(["KitchenSet[build]"])
    files_demo.pull_sample_files(ws, report)
    hooks.run("setpiece.demo", ws=ws, report=report)
    report(f"Demo workspace ready: {ws.root}")
    return {"workspace": str(ws.root), "installed": changes}
