"""The Blender adapter (real, tested end to end in ``bpy``).

``BlenderHost`` is imported lazily so that ``import setpiece.hosts.blender`` never imports
``bpy``: only calling a method does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from setpiece.hosts.blender.host import BlenderHost

__all__ = ["BlenderHost", "startup_dir"]


def startup_dir() -> Path:
    """The scripts folder ``BLENDER_SYSTEM_SCRIPTS`` points at (its ``startup/`` holds the
    module that calls ``setpiece.hosts.install(BlenderHost())``)."""
    return Path(__file__).parent / "startup_scripts"


def __getattr__(name: str) -> Any:
    if name == "BlenderHost":
        from setpiece.hosts.blender.host import BlenderHost

        return BlenderHost
    raise AttributeError(name)
