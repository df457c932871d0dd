"""The Blender adapter (real, tested end to end in ``bpy``).

``BlenderHost`` is imported lazily so that ``import setpiece.hosts.blender`` never imports
``bpy``: only calling a method does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from setpiece.hosts.blender.host import BlenderHost

__all__ = ["BlenderHost"]


def __getattr__(name: str) -> Any:
    if name == "BlenderHost":
        from setpiece.hosts.blender.host import BlenderHost

        return BlenderHost
    raise AttributeError(name)
