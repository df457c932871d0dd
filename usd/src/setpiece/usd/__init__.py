"""setpiece USD: asset interface layers and scene build by USD composition.

``pxr`` is imported only when a function needs it: inside a DCC the host's own ``pxr`` is
used; standalone it comes from usd-core (``setpiece-usd[standalone]``).

Python API (used by the CLI and the host adapters)::

    from setpiece.usd import (
        write_interface_layer, scaffold_interface, check_layer,      # interface layers
        configure_resolver, using_search_paths, search_paths,        # resolution
        resolve_closure, build_scene, build_workspace_scene,         # scene build
        read_containers, inventory, plan_update,                     # inventory / update
        Status, container_status,                                    # a container's status
    )
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "write_interface_layer": "interface",
    "interface_layer_text": "interface",
    "scaffold_interface": "interface",
    "set_interface_version": "interface",
    "InterfaceDependency": "interface",
    "identifier_for": "interface",
    "prim_name": "interface",
    "find_interface": "interface",
    "check_layer": "check",
    "Problem": "check",
    "configure_resolver": "resolver",
    "using_search_paths": "resolver",
    "search_paths": "resolver",
    "resolve": "resolver",
    "StageMetadata": "metadata",
    "resolve_closure": "closure",
    "Closure": "closure",
    "build_scene": "scene",
    "BuildOptions": "scene",
    "BuildResult": "scene",
    "read_containers": "containers",
    "generated_path": "scene",
    "inventory": "inventory",
    "plan_update": "inventory",
    "InventoryRow": "inventory",
    "UpdatePlan": "inventory",
    "Status": "status",
    "ContainerState": "status",
    "container_status": "status",
    "build_workspace_scene": "workspace",
    "configure_workspace": "workspace",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(importlib.import_module(f"setpiece.usd.{module}"), name)
