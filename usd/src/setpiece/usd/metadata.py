"""Stage metadata authored on every setpiece layer: units, up axis, time codes.

One :class:`StageMetadata` per workspace (``[settings]`` in ``setpiece.toml``:
``meters_per_unit``, ``up_axis``, ``time_codes_per_second``, ``frames_per_second``,
``start_time_code``, ``end_time_code``), applied identically to interface layers,
generated scene layers and the user's scene layer, so that every DCC reads the same scale
and orientation (a layer without them is read by Blender as centimetres, Y-up).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from setpiece.core.errors import SetpieceError


@dataclass(frozen=True)
class StageMetadata:
    meters_per_unit: float = 0.01
    up_axis: str = "Y"
    time_codes_per_second: float = 24.0
    frames_per_second: float | None = None  # defaults to time_codes_per_second
    start_time_code: float | None = None
    end_time_code: float | None = None

    def __post_init__(self) -> None:
        if self.up_axis not in ("Y", "Z"):
            raise SetpieceError(
                f"up_axis '{self.up_axis}' is not valid: set up_axis = \"Y\" or \"Z\" "
                "in setpiece.toml [settings]"
            )
        if not float(self.meters_per_unit) > 0:
            raise SetpieceError(
                f"meters_per_unit {self.meters_per_unit} is not valid: use a positive number "
                "(0.01 = centimetres, 1.0 = metres) in setpiece.toml [settings]"
            )
        if not float(self.time_codes_per_second) > 0:
            raise SetpieceError(
                f"time_codes_per_second {self.time_codes_per_second} is not valid: "
                "use a positive number (24, 25, 30...) in setpiece.toml [settings]"
            )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> StageMetadata:
        """From a workspace's ``[settings]`` (unknown keys are ignored)."""
        s = dict(settings or {})
        kwargs: dict[str, Any] = {}
        for key in (
            "meters_per_unit",
            "time_codes_per_second",
            "frames_per_second",
            "start_time_code",
            "end_time_code",
        ):
            if s.get(key) is not None:
                try:
                    kwargs[key] = float(s[key])
                except (TypeError, ValueError):
                    raise SetpieceError(
                        f"setting {key} = {s[key]!r} is not a number: fix setpiece.toml [settings]"
                    )
        if s.get("up_axis") is not None:
            kwargs["up_axis"] = str(s["up_axis"]).upper()
        return cls(**kwargs)

    def apply(self, layer: Any) -> None:
        """Author these values on an ``Sdf.Layer``."""
        root = layer.pseudoRoot
        root.SetInfo("metersPerUnit", float(self.meters_per_unit))
        root.SetInfo("upAxis", self.up_axis)
        layer.timeCodesPerSecond = float(self.time_codes_per_second)
        layer.framesPerSecond = float(
            self.frames_per_second
            if self.frames_per_second is not None
            else self.time_codes_per_second
        )
        if self.start_time_code is not None:
            layer.startTimeCode = float(self.start_time_code)
        if self.end_time_code is not None:
            layer.endTimeCode = float(self.end_time_code)

    def to_json(self) -> dict[str, Any]:
        return {
            "meters_per_unit": self.meters_per_unit,
            "up_axis": self.up_axis,
            "time_codes_per_second": self.time_codes_per_second,
            "frames_per_second": self.frames_per_second,
            "start_time_code": self.start_time_code,
            "end_time_code": self.end_time_code,
        }

    def differences(self, layer: Any) -> list[str]:
        """Human-readable differences between these values and what ``layer`` authors."""
        out = []
        root = layer.pseudoRoot
        mpu = root.GetInfo("metersPerUnit") if root.HasInfo("metersPerUnit") else None
        if mpu is None:
            out.append("metersPerUnit is not authored")
        elif abs(float(mpu) - float(self.meters_per_unit)) > 1e-9:
            out.append(f"metersPerUnit is {mpu}, the workspace uses {self.meters_per_unit}")
        up = root.GetInfo("upAxis") if root.HasInfo("upAxis") else None
        if up is None:
            out.append("upAxis is not authored")
        elif up != self.up_axis:
            out.append(f"upAxis is {up}, the workspace uses {self.up_axis}")
        if layer.HasTimeCodesPerSecond() and abs(
            layer.timeCodesPerSecond - float(self.time_codes_per_second)
        ) > 1e-9:
            out.append(
                f"timeCodesPerSecond is {layer.timeCodesPerSecond}, "
                f"the workspace uses {self.time_codes_per_second}"
            )
        return out
