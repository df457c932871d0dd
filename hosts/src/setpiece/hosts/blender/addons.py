"""Blender add-ons shipped by tool assets: enabled at setpiece's startup in Blender.

A tool asset names its add-on modules in the entry point group ``setpiece.blender.addons``
(``setpiece create NAME --template blender-addon`` writes one)::

    [project.entry-points."setpiece.blender.addons"]
    Outliner = "outliner.addon"

Once the workspace is found, each is enabled with ``addon_utils.enable(module,
default_set=False, persistent=True)`` (bpy's ``scripts/modules/addon_utils.py``: it imports
the module with ``importlib.import_module`` and calls its ``register()``; ``default_set=False``
keeps it out of the user's saved preferences, ``persistent=True`` keeps it across file
loads). The add-on therefore exists exactly while the asset is installed: after
``setpiece uninstall`` it is gone at Blender's next start. Safe mode enables none. A
failing add-on is reported with its asset and version; the others are still enabled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from setpiece.core.tool_templates import BLENDER_ADDONS_GROUP as GROUP

log = logging.getLogger("setpiece.blender.addons")



@dataclass
class AddonResult:
    asset: str
    version: str
    module: str
    status: str  # enabled | failed
    error: str = ""

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


def enable_asset_addons(workspace: Any) -> list[AddonResult]:
    """Enable the add-ons of every installed tool asset (never raises for one add-on)."""
    import addon_utils

    from setpiece.core import asset_code

    out: list[AddonResult] = []
    for ref in asset_code.find(workspace, GROUP):
        module = ref.target.partition(":")[0].strip()
        errors: list[BaseException] = []
        mod = addon_utils.enable(module, default_set=False, persistent=True,
                                 handle_error=errors.append)
        if mod is None or errors:
            error = (f"{type(errors[0]).__name__}: {' '.join(str(errors[0]).split())}"
                     if errors else "not loaded")
            log.error("add-on %s of %s failed: %s", module, ref.who, error)
            out.append(AddonResult(ref.asset, ref.version, module, "failed", error))
        else:
            log.info("add-on %s of %s enabled", module, ref.who)
            out.append(AddonResult(ref.asset, ref.version, module, "enabled"))
    return out
