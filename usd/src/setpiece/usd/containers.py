"""Reading containers from a USD scene: the one reader.

A *container* is a prim whose ``assetInfo`` names an asset version and the requirement
it was placed by: ``name``, ``version``, ``requirement`` and ``kind`` (what ``setpiece
scene build`` writes on every referencing prim, and what an interface layer writes on
each dependency it composes). An interface layer's own root prim carries ``name`` and
``version`` only: it is the asset, not a placement, and is never read as a container.
Containers do not nest: what an asset composes inside itself belongs to it.

``setpiece scene inventory`` / ``update``, the in-app runtime's scene build and every
host adapter (Blender, Maya, Houdini, Nuke: each with the app's own ``pxr``) read
containers here, so they agree on what a container is. The record is
:class:`setpiece.core.containers.ContainerRecord`; a host pairs it with its node as
:class:`setpiece.hosts.protocol.Container`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import NotFound, SetpieceError
from setpiece.usd._pxr import pxr
from setpiece.usd.scene import GENERATED_SUFFIX, generated_path

#: the ``assetInfo`` keys that make a prim a container
CONTAINER_KEYS = ("name", "version", "requirement", "kind")


def is_container(info: Mapping[str, Any]) -> bool:
    """Whether a prim's ``assetInfo`` marks it as a container (see the module doc)."""
    return bool(info.get("name")) and all(key in info for key in CONTAINER_KEYS)


def record_from_info(prim_path: str, info: Mapping[str, Any]) -> ContainerRecord:
    """The record of the container at ``prim_path`` whose ``assetInfo`` is ``info``."""
    ident = info.get("identifier")
    identifier = getattr(ident, "path", ident) or ""
    extra = {k: v for k, v in info.items() if k == "requiredBy"}
    return ContainerRecord(
        prim_path=prim_path,
        asset=str(info.get("name", "")),
        version=str(info.get("version", "")),
        identifier=str(identifier),
        requirement=str(info.get("requirement", "")),
        kind=str(info.get("kind", "") or "push"),
        extra=extra,
    )


def read_containers(scene_path: str | Path, composed: bool = True) -> list[ContainerRecord]:
    """The containers of a scene, read without loading any payload.

    ``composed`` (default): open the scene with ``Usd.Stage.LoadNone`` and read the
    composed ``assetInfo`` (sublayers and the user's layer count: a deactivated container
    is not listed). Otherwise read the generated layer alone with Sdf (fastest, no
    resolution; a path not ending in ``.setpiece.usda`` means its generated layer).
    """
    Sdf, Usd, _, Tf = pxr()
    from setpiece.usd._pxr import captured_diagnostics, first_line

    scene_path = Path(scene_path)
    if not scene_path.is_file():
        raise NotFound(
            f"scene {scene_path} does not exist: build it with 'setpiece scene build NAME -o "
            f"{scene_path}'"
        )
    out: list[ContainerRecord] = []
    try:
        with captured_diagnostics():
            if not composed:
                target = scene_path
                if not scene_path.name.endswith(GENERATED_SUFFIX):
                    target = generated_path(scene_path)
                layer = Sdf.Layer.FindOrOpen(str(target))
                if layer is None:
                    raise SetpieceError(f"{target} cannot be opened: rebuild the scene")

                def visit(spec: Any) -> None:
                    info = spec.assetInfo if spec.HasInfo("assetInfo") else {}
                    if is_container(info):
                        out.append(record_from_info(spec.path.pathString, info))
                        return  # containers do not nest
                    for child in spec.nameChildren:
                        visit(child)

                for root in layer.rootPrims:
                    visit(root)
                out.sort(key=lambda r: r.prim_path)
                return out
            stage = Usd.Stage.Open(str(scene_path), Usd.Stage.LoadNone)
            # Unloaded prims are not "loaded": the default predicate would skip them.
            predicate = Usd.PrimIsActive & Usd.PrimIsDefined & ~Usd.PrimIsAbstract
            it = iter(Usd.PrimRange(stage.GetPseudoRoot(), predicate))
            for prim in it:
                if not prim.HasAuthoredAssetInfo():
                    continue
                info = prim.GetAssetInfo()
                if is_container(info):
                    out.append(record_from_info(prim.GetPath().pathString, info))
                    it.PruneChildren()  # containers do not nest
            del stage
    except Tf.ErrorException as exc:
        raise SetpieceError(f"{scene_path} fails to parse: {first_line(exc)}; fix the file")
    return out


__all__ = ["CONTAINER_KEYS", "is_container", "read_containers", "record_from_info"]
