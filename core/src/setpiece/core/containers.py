"""Container records: what a scene build loaded, readable without the toolkit's database.

A container is a prim (in USD) or node (in a DCC) that references one asset's interface
layer and carries the asset's name, version, requirement and dependency kind as plain
metadata. ``setpiece.usd`` writes them as ``assetInfo``; host adapters copy them onto the
nodes they create. This module is pure Python so that core, usd and hosts share one shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Keys used on every container, in USD assetInfo and in host node metadata.
METADATA_KEYS = ("name", "version", "identifier", "requirement", "kind")


@dataclass(frozen=True)
class ContainerRecord:
    """One loaded asset in a scene.

    ``prim_path``: the referencing prim in the scene's root layer (e.g. ``/World/Chair``).
    ``asset``: the asset name as published (``Chair``).
    ``version``: the resolved version in the scene.
    ``identifier``: the asset path of its interface layer, resolvable through the workspace
    (e.g. ``chair/asset.usda``), never absolute.
    ``requirement``: the requirement it came from (``Chair>=1,<2``), empty for the root asset.
    ``kind``: ``push`` / ``semi-push`` / ``pull`` (from the requirement).
    ``layer``: the absolute path of the interface layer on this machine, when known.
    """

    prim_path: str
    asset: str
    version: str
    identifier: str
    requirement: str = ""
    kind: str = "push"
    layer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, str]:
        """The plain metadata a host stores on its node (all strings)."""
        return {
            "name": self.asset,
            "version": self.version,
            "identifier": self.identifier,
            "requirement": self.requirement,
            "kind": self.kind,
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
