"""Built-in layouts of tool assets, one per DCC: ``setpiece create NAME --template T``.

Each writes files into the new asset's package and its ``asset.toml`` ``[env]`` (see
``setpiece.core.asset_env``), so that once the asset is installed the app finds them in
the environment ``setpiece env/launch HOST`` builds:

- ``houdini-hda``: ``otls/`` on ``HOUDINI_OTLSCAN_PATH`` (save the tool's ``.hda`` files
  there; Houdini scans every folder of that path for digital assets);
- ``nuke-gizmo``: ``gizmos/<Name>.gizmo`` on ``NUKE_PATH`` (Nuke finds a gizmo by its file
  name on its plug-in path: ``nuke.createNode("<Name>")``);
- ``maya-plugin``: ``maya/plug-ins/<module>_plugin.py`` (a Maya Python API 2.0 plug-in
  with one command) on ``MAYA_PLUG_IN_PATH``: ``cmds.loadPlugin("<module>_plugin.py")``;
- ``blender-addon``: ``addon.py`` (a Blender add-on: an operator and its
  ``register``/``unregister``) named in the entry point group ``setpiece.blender.addons``;
  setpiece's Blender startup enables it (``addon_utils.enable``, not saved in the user's
  preferences) while the asset is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from setpiece.core.fsutil import atomic_write_text
from setpiece.core.project import OutputAsset

BLENDER_ADDONS_GROUP = "setpiece.blender.addons"

HDA_README = """\
Digital assets of {name}: save its .hda (or .otl) files in this folder.

Once {name} is installed, 'setpiece env houdini' and 'setpiece launch houdini' put this
folder on HOUDINI_OTLSCAN_PATH (ending with '&': Houdini's own folders stay scanned).
"""

GIZMO = """\
version 14.0
Gizmo {{
 inputs 1
 help "{name}: a gizmo shipped by the setpiece asset {name} {version}"
 addUserKnob {{20 User}}
 addUserKnob {{7 mix l mix}}
 mix 1
}}
 Input {{
  inputs 0
  name Input1
  xpos 0
  ypos 0
 }}
 Output {{
  name Output1
  xpos 0
  ypos 100
 }}
end_group
"""

MAYA_PLUGIN = '''\
"""{name}: a Maya plug-in shipped by the setpiece asset {name}.

Maya Python API 2.0 (``maya_useNewAPI``). Load it with ``cmds.loadPlugin("{module}_plugin.py")``
(its folder is on MAYA_PLUG_IN_PATH while {name} is installed); it adds the command
``{module}Hello``.
"""

import maya.api.OpenMaya as om


def maya_useNewAPI():
    """Tells Maya this plug-in uses the Python API 2.0."""


class HelloCommand(om.MPxCommand):
    NAME = "{module}Hello"

    def doIt(self, args):
        om.MGlobal.displayInfo("hello from {name}")


def _create():
    return HelloCommand()


def initializePlugin(plugin):
    om.MFnPlugin(plugin, "{name}", "{version}").registerCommand(HelloCommand.NAME, _create)


def uninitializePlugin(plugin):
    om.MFnPlugin(plugin).deregisterCommand(HelloCommand.NAME)
'''

BLENDER_ADDON = '''\
"""{name}: a Blender add-on shipped by the setpiece asset {name}.

setpiece's Blender startup enables it while {name} is installed (entry point group
``setpiece.blender.addons``); it adds the operator ``{module}.hello``.
"""

import bpy

bl_info = {{
    "name": "{name}",
    "version": ({major}, {minor}, {micro}),
    "blender": (4, 2, 0),
    "category": "Object",
    "description": "Shipped by the setpiece asset {name}",
}}


class {cls}(bpy.types.Operator):
    bl_idname = "{module}.hello"
    bl_label = "{name}: Hello"

    def execute(self, context):
        self.report({{"INFO"}}, "hello from {name}")
        return {{"FINISHED"}}


def register():
    bpy.utils.register_class({cls})


def unregister():
    bpy.utils.unregister_class({cls})
'''


def _env(asset: OutputAsset, lines: list[str]) -> None:
    text = "# Environment this asset adds when installed (setpiece env/launch HOST).\n"
    text += "# Paths are relative to this folder. See docs/assets-as-code.md.\n[env]\n"
    atomic_write_text(asset.package_dir / "asset.toml", text + "\n".join(lines) + "\n")


def _fields(asset: OutputAsset) -> dict[str, str]:
    parts = [*asset.version.split("."), "0", "0"][:3]
    digits = ["".join(c for c in p if c.isdigit()) or "0" for p in parts]
    return {"name": asset.name, "module": asset.module, "version": asset.version,
            "major": digits[0], "minor": digits[1], "micro": digits[2]}


def houdini_hda(asset: OutputAsset) -> None:
    otls = asset.package_dir / "otls"
    otls.mkdir(parents=True, exist_ok=True)
    atomic_write_text(otls / "README.txt", HDA_README.format(**_fields(asset)))
    _env(asset, ['HOUDINI_OTLSCAN_PATH = { prepend = ["otls"], hosts = ["houdini"] }'])


def nuke_gizmo(asset: OutputAsset) -> None:
    gizmos = asset.package_dir / "gizmos"
    gizmos.mkdir(parents=True, exist_ok=True)
    atomic_write_text(gizmos / f"{gizmo_name(asset.name)}.gizmo", GIZMO.format(**_fields(asset)))
    _env(asset, ['NUKE_PATH = { prepend = ["gizmos"], hosts = ["nuke"] }'])


def gizmo_name(name: str) -> str:
    """A node class name Nuke accepts (letters, digits, _; not starting with a digit)."""
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return out if out and not out[0].isdigit() else f"_{out}"


def maya_plugin(asset: OutputAsset) -> None:
    folder = asset.package_dir / "maya" / "plug-ins"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{asset.module}_plugin.py", MAYA_PLUGIN.format(**_fields(asset)))
    _env(asset, ['MAYA_PLUG_IN_PATH = { prepend = ["maya/plug-ins"], hosts = ["maya"] }'])


def blender_addon(asset: OutputAsset) -> None:
    fields = _fields(asset)
    cls = f"{asset.module.upper()}_OT_hello"
    atomic_write_text(asset.package_dir / "addon.py", BLENDER_ADDON.format(cls=cls, **fields))
    asset.add_entry_point(BLENDER_ADDONS_GROUP, asset.name, f"{asset.module}.addon")


TEMPLATES: dict[str, Callable[[OutputAsset], None]] = {
    "houdini-hda": houdini_hda,
    "nuke-gizmo": nuke_gizmo,
    "maya-plugin": maya_plugin,
    "blender-addon": blender_addon,
}


def apply(template: str, project: Path) -> None:
    """Write built-in ``template``'s files into the asset project at ``project``."""
    TEMPLATES[template](OutputAsset(project))


__all__ = ["BLENDER_ADDONS_GROUP", "TEMPLATES", "apply", "gizmo_name"]
