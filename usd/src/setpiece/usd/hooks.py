"""setpiece-usd's part in core operations (registered in core's hook groups).

* ``setpiece.scaffold``: ``setpiece create`` gets a valid ``asset.usda`` (and, for
  components, ``payload.usda``) in the workspace's units and up-axis; ``tool`` assets
  carry no USD and get none.
* ``setpiece.version_changed``: ``bump``/``edit`` keep ``assetInfo.version`` in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

NO_USD_KINDS = frozenset({"tool"})


def scaffold(ws: Any, package_dir: Path, name: str, version: str, kind: str) -> None:
    if kind in NO_USD_KINDS:
        return
    from setpiece.usd.interface import scaffold_interface
    from setpiece.usd.metadata import StageMetadata

    scaffold_interface(
        Path(package_dir), name, version, kind, StageMetadata.from_settings(ws.config.settings)
    )


def version_changed(ws: Any, package_dir: Path, name: str, version: str) -> None:
    from setpiece.usd.interface import find_interface, set_interface_version

    layer = find_interface(Path(package_dir))
    if layer is not None:
        set_interface_version(layer, version)
