"""What publishing needs from a host beyond the host protocol, with protocol-only fallbacks.

A host adapter may implement any of these methods itself (``publish_export``,
``save_copy``, ``thumbnail``); otherwise :class:`HostSupport` falls back to the protocol:
``export_usd`` of the whole scene, ``save_scene`` and a copy of the file, no thumbnail.
Blender's richer support is :class:`setpiece.hosts.publish.blender.BlenderSupport`.
"""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path
from typing import Any


class HostSupport:
    def __init__(self, host: Any, ws: Any = None) -> None:
        self.host = host
        self.ws = ws

    # -- export ----------------------------------------------------------------
    def unit_kwargs(self) -> dict[str, Any]:
        """``up_axis``/``meters_per_unit`` for ``export_usd`` when the adapter takes them."""
        if self.ws is None:
            return {}
        try:
            params = inspect.signature(self.host.export_usd).parameters
        except (TypeError, ValueError):
            return {}
        out: dict[str, Any] = {}
        settings = self.ws.settings
        if "up_axis" in params:
            out["up_axis"] = str(settings.get("up_axis", "Y")).upper()
        if "meters_per_unit" in params:
            out["meters_per_unit"] = float(settings.get("meters_per_unit", 0.01))
        return out

    def can_convert_units(self) -> bool:
        return len(self.unit_kwargs()) == 2

    def export(self, instance: Any, path: Path) -> str:
        custom = getattr(self.host, "publish_export", None)
        if callable(custom):
            return str(custom(instance, str(path)))
        return str(self.host.export_usd(str(path), selection=False, **self.unit_kwargs()))

    # -- workfile --------------------------------------------------------------
    def workfile_suffix(self) -> str:
        current = self.host.current_scene()
        return Path(current).suffix if current else ""

    def save_copy(self, path: Path) -> str | None:
        """Save the open scene to ``path`` without changing the artist's current file."""
        custom = getattr(self.host, "save_copy", None)
        if callable(custom):
            return str(custom(str(path)))
        current = self.host.current_scene()
        if not current:
            return None
        self.host.save_scene()
        shutil.copy2(current, path)
        return str(path)

    # -- thumbnail -------------------------------------------------------------
    def thumbnail(self, instance: Any, path: Path) -> str | None:
        custom = getattr(self.host, "thumbnail", None)
        if callable(custom):
            result = custom(str(path))
            return str(result) if result else None
        return None
