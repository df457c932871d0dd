"""setpiece-usd's part in core operations (registered in core's hook groups).

* ``setpiece.scaffold``: ``setpiece create`` gets a valid ``asset.usda`` (and, for
  components, ``payload.usda``) in the workspace's units and up-axis; ``tool`` assets
  carry no USD and get none.
* ``setpiece.version_changed``: ``bump``/``edit`` keep ``assetInfo.version`` in step.
* ``setpiece.renamed``: ``clone`` gives the copied ``asset.usda`` the clone's name and
  identifier.
* ``setpiece.before_publish``: every text USD layer the wheel would ship parses (a broken
  ``asset.usda`` would be an immutable broken version).
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


def renamed(ws: Any, package_dir: Path, old_name: str, name: str, version: str) -> None:
    """A clone's interface layer names the clone (``assetInfo`` name and identifier)."""
    from setpiece.usd.interface import find_interface, rename_interface

    layer = find_interface(Path(package_dir))
    if layer is not None:
        rename_interface(layer, name, version)


def before_publish(ws: Any, package_dir: Path, name: str, version: str) -> None:
    """Refuse a publish whose ``.usda`` layers do not parse (tracked files are skipped:
    they are data the artist exported, checked by the tools that read them)."""
    import os

    from setpiece.core.errors import SetpieceError
    from setpiece.usd._pxr import captured_diagnostics, first_line, pxr

    layers = []
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        layers += [Path(folder, f) for f in files
                   if f.endswith(".usda") and not os.path.exists(os.path.join(folder, f + ".dvc"))]
    if not layers:
        return
    Sdf, _, _, Tf = pxr()
    for layer in sorted(layers):
        rel = layer.relative_to(package_dir).as_posix()
        with captured_diagnostics():
            try:
                opened = Sdf.Layer.OpenAsAnonymous(str(layer))
            except Tf.ErrorException as exc:
                opened, why = None, first_line(exc)
            else:
                why = "USD could not read it"
        if opened is None:
            raise SetpieceError(
                f"{name} {version}: {rel} is not a valid USD layer ({why}): fix it (or re-export "
                "it) before publishing; nothing was published"
            )
