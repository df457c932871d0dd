"""A container's record on an app node: the ``setpiece_*`` attributes (parameters, knobs)
the Maya, Houdini and Nuke adapters write on each container node and read back, the node
name and the interface layer file a node loads.

Pure Python: nothing here imports ``pxr`` or a DCC module.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.core.containers import ContainerRecord

if TYPE_CHECKING:
    pass

#: Prefix of every attribute / parameter / knob setpiece writes on a container node.
PREFIX = "setpiece_"

#: Metadata fields stored on a container node, in this order (the node attribute is
#: ``setpiece_<field>``). ``name`` etc. are ``ContainerRecord.metadata()``; ``prim_path``
#: and ``layer`` let ``ls`` rebuild the full record from the node alone.
FIELDS: tuple[str, ...] = (
    "name",
    "version",
    "identifier",
    "requirement",
    "kind",
    "prim_path",
    "layer",
)

#: The attribute that marks a node as a setpiece container.
MARKER = PREFIX + "name"


def record_to_attrs(record: ContainerRecord) -> dict[str, str]:
    """``{"setpiece_name": "Chair", "setpiece_version": "1.0.0", ...}``: all strings."""
    values = dict(record.metadata())
    values["prim_path"] = record.prim_path
    values["layer"] = record.layer
    return {PREFIX + key: str(values.get(key, "")) for key in FIELDS}


def record_from_attrs(get: Callable[[str], str | None]) -> ContainerRecord | None:
    """Rebuild a record from a node; ``get(attr)`` returns the value or None when absent.

    Returns None when the node is not a container (no ``setpiece_name``).
    """
    values = {key: get(PREFIX + key) for key in FIELDS}
    if not values["name"]:
        return None
    return ContainerRecord(
        prim_path=values["prim_path"] or "",
        asset=values["name"] or "",
        version=values["version"] or "",
        identifier=values["identifier"] or "",
        requirement=values["requirement"] or "",
        kind=values["kind"] or "push",
        layer=values["layer"] or "",
    )


def node_name(record: ContainerRecord) -> str:
    """A node name every DCC accepts: letters, digits and ``_``, not starting with a digit.

    Built from the last element of the prim path (the container prim), else the asset.
    """
    from setpiece.usd.interface import prim_name

    base = record.prim_path.rstrip("/").rsplit("/", 1)[-1] or record.asset
    return prim_name(base or "container")


def layer_path(record: ContainerRecord, root_layer: str | None = None) -> str:
    """The file a container node loads: the interface layer of ``record``.

    ``record.layer`` (absolute, this machine) when set; else ``record.identifier``
    anchored next to the root layer when that file exists; else the identifier as is
    (a search-path asset path, resolved by the app's USD resolver). Forward slashes:
    Houdini and Nuke want them on Windows too.
    """
    if record.layer:
        return record.layer.replace("\\", "/")
    ident = record.identifier
    if root_layer and ident and not os.path.isabs(ident):
        candidate = Path(root_layer).parent / ident
        if candidate.exists():
            return str(candidate).replace("\\", "/")
    return ident.replace("\\", "/")


def with_loaded_layer(record: ContainerRecord, path: str) -> ContainerRecord:
    """The record as stored on its node: ``layer`` is the file actually loaded (``path``,
    from :func:`layer_path`) unless the record names one already."""
    return record if record.layer else dataclasses.replace(record, layer=path)
