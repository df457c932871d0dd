"""What publishing needs from a host beyond the host protocol, with protocol-only fallbacks.

A host adapter with the :class:`~setpiece.hosts.protocol.Publishing` capability exports
each instance and saves a copy itself (``publish_export``, ``save_copy``); otherwise
:class:`HostSupport` falls back to the protocol: ``export_usd`` of the whole scene,
``save_scene`` and a copy of the file. An export converts to the workspace's up axis and
units when the host has the :class:`~setpiece.hosts.protocol.UnitsExport` capability.
Blender's richer support is :class:`setpiece.hosts.publish.blender.BlenderSupport`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from setpiece.hosts.protocol import Host, Publishing, UnitsExport


class HostSupport:
    def __init__(self, host: Host, ws: Any = None) -> None:
        self.host = host
        self.ws = ws

    # -- export ----------------------------------------------------------------
    def unit_kwargs(self) -> dict[str, Any]:
        """``up_axis``/``meters_per_unit`` for ``export_usd`` when the adapter converts
        (the UnitsExport capability)."""
        if self.ws is None or not self.can_convert_units():
            return {}
        from setpiece.hosts.publish.session import stage_settings

        up_axis, meters_per_unit = stage_settings(self.ws)
        return {"up_axis": up_axis, "meters_per_unit": meters_per_unit}

    def can_convert_units(self) -> bool:
        return isinstance(self.host, UnitsExport) and bool(self.host.export_units)

    def export(self, instance: Any, path: Path) -> str:
        if isinstance(self.host, Publishing):
            return str(self.host.publish_export(instance, str(path)))
        if isinstance(self.host, UnitsExport) and self.host.export_units:
            return str(self.host.export_usd(str(path), selection=False, **self.unit_kwargs()))
        return str(self.host.export_usd(str(path), selection=False))

    # -- workfile --------------------------------------------------------------
    def workfile_suffix(self) -> str:
        current = self.host.current_scene()
        return Path(current).suffix if current else ""

    def save_copy(self, path: Path) -> str | None:
        """Save the open scene to ``path`` without changing the artist's current file."""
        if isinstance(self.host, Publishing):
            return str(self.host.save_copy(str(path)))
        current = self.host.current_scene()
        if not current:
            return None
        self.host.save_scene()
        shutil.copy2(current, path)
        return str(path)

    # -- thumbnail -------------------------------------------------------------
    def thumbnail(self, instance: Any, path: Path) -> str | None:
        """None: a host's support class renders one (Blender's)."""
        return None
