"""Asset interface layers: the ``asset.usda`` every USD-bearing asset ships in its package.

An interface layer is small and light: a defaultPrim named after the asset with its model
kind (``component`` for props, ``assembly`` for sets and shots), ``assetInfo`` (name,
version, identifier), the variant sets a user picks while the asset is unloaded, and a
payload holding the heavy content by a path relative to the layer (ASWF usd-wg asset
structure guidelines). Other assets are referenced by *identifiers*
(``table/asset.usda``: import name + file) that resolve through the workspace's installed
packages, never by absolute paths (see :mod:`setpiece.usd.resolver`).

Everything is authored with the Sdf API and written deterministically (sorted, no
timestamps, no absolute paths), atomically, and only when the bytes change.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from setpiece.core.errors import NotFound, SetpieceError
from setpiece.usd._pxr import pxr
from setpiece.usd.fileio import write_if_changed
from setpiece.usd.metadata import StageMetadata

#: The interface layer's file name inside an asset's Python package.
INTERFACE_FILE = "asset.usda"
#: Accepted names, in order of preference, when looking for an asset's interface layer.
INTERFACE_FILES = ("asset.usda", "asset.usd", "asset.usdc")
#: Asset kinds whose interface prim is an ``assembly``; every other kind is a ``component``.
ASSEMBLY_KINDS = frozenset(
    {"set", "shot", "sequence", "assembly", "environment", "layout", "casting"}
)

_IDENT_BAD = re.compile(r"[^A-Za-z0-9_]")


def prim_name(asset_name: str) -> str:
    """A valid USD prim name for an asset (``My-Chair`` -> ``My_Chair``)."""
    name = _IDENT_BAD.sub("_", asset_name)
    if not name or name[0].isdigit():
        name = "_" + name
    return name


def identifier_for(import_name: str, filename: str = INTERFACE_FILE) -> str:
    """The identifier of an asset's interface layer: ``<import name>/<file>``."""
    return f"{import_name}/{filename}"


def model_kind(asset_kind: str) -> str:
    """USD model kind for an asset kind: ``assembly`` for sets/shots, else ``component``."""
    return "assembly" if asset_kind.strip().lower() in ASSEMBLY_KINDS else "component"


def find_interface(package_dir: Path) -> Path | None:
    """The interface layer in an installed asset's package folder, if it ships one."""
    found = interface_file(package_dir)
    return Path(found) if found is not None else None


def interface_file(package_dir: str | os.PathLike[str]) -> str | None:
    """:func:`find_interface` as a string (the scene build's hot loop: no pathlib)."""
    base = os.fspath(package_dir)
    sep = "" if base.endswith(("/", os.sep)) else os.sep  # os.path.join's result, quicker
    for filename in INTERFACE_FILES:
        path = f"{base}{sep}{filename}"
        if os.path.isfile(path):
            return path
    return None


def is_absolute_asset_path(path: str) -> bool:
    """``/x``, ``C:/x``, ``C:\\x``, ``\\\\server\\x`` and ``file:`` URLs are absolute."""
    return (
        path.startswith(("/", "\\", "file:"))
        or bool(re.match(r"^[A-Za-z]:[/\\]", path))
    )


def check_identifier(identifier: str, what: str = "identifier") -> str:
    """Refuse identifiers that would tie a layer to one machine or one folder."""
    if not identifier:
        raise SetpieceError(f"{what} is empty: use '<import_name>/asset.usda'")
    if is_absolute_asset_path(identifier):
        raise SetpieceError(
            f"{what} '{identifier}' is absolute: use a search-path identifier such as "
            "'chair/asset.usda' so the layer composes in any workspace"
        )
    if identifier.startswith(("./", "../")):
        raise SetpieceError(
            f"{what} '{identifier}' is relative to a folder: use a search-path identifier "
            "such as 'chair/asset.usda' so it resolves to the installed version"
        )
    return identifier


def _check_relative(path: str, what: str) -> str:
    if is_absolute_asset_path(path):
        raise SetpieceError(
            f"{what} '{path}' is absolute: use a path relative to the interface layer "
            "(e.g. './payload.usdc')"
        )
    return path


@dataclass(frozen=True)
class InterfaceDependency:
    """Another asset an interface layer references, as a child of its defaultPrim."""

    name: str
    identifier: str
    version: str = ""
    requirement: str = ""
    kind: str = "push"


def write_interface_layer(
    path: Path,
    name: str,
    version: str,
    kind: str,
    identifier: str,
    payload: str | None = None,
    variants: Mapping[str, Mapping[str, str | None]] | None = None,
    dependencies: Sequence[InterfaceDependency] = (),
    metadata: StageMetadata | None = None,
    class_inherit: bool = False,
) -> bool:
    """Write an interface layer at ``path``. Returns True if the file changed.

    ``kind``: the asset kind (``prop``, ``set``, ``shot``...); sets the model kind.
    ``payload``: path relative to the layer of the heavy content (``./payload.usdc``).
    ``variants``: ``{set: {variant: payload-or-None}}``; each variant may hold its own
    payload (representations, LODs); the first variant of each set is selected.
    ``dependencies``: other assets referenced by identifier under the defaultPrim.
    ``class_inherit``: inherit from ``/__class__/<Name>`` (a hook for broadcast edits).
    """
    text = interface_layer_text(
        name,
        version,
        kind,
        identifier,
        payload=payload,
        variants=variants,
        dependencies=dependencies,
        metadata=metadata,
        class_inherit=class_inherit,
    )
    return write_if_changed(Path(path), text)


def interface_layer_text(
    name: str,
    version: str,
    kind: str,
    identifier: str,
    payload: str | None = None,
    variants: Mapping[str, Mapping[str, str | None]] | None = None,
    dependencies: Sequence[InterfaceDependency] = (),
    metadata: StageMetadata | None = None,
    class_inherit: bool = False,
) -> str:
    """The bytes :func:`write_interface_layer` writes, as text (deterministic)."""
    Sdf, _, _, _ = pxr()
    check_identifier(identifier)
    if payload is not None:
        _check_relative(payload, f"payload of {name}")
    root_name = prim_name(name)
    layer = Sdf.Layer.CreateAnonymous(".usda")
    (metadata or StageMetadata()).apply(layer)
    layer.defaultPrim = root_name

    if class_inherit:
        cls = Sdf.CreatePrimInLayer(layer, f"/__class__/{root_name}")
        cls.specifier = Sdf.SpecifierClass
        cls.nameParent.specifier = Sdf.SpecifierClass

    spec = Sdf.CreatePrimInLayer(layer, f"/{root_name}")
    spec.specifier = Sdf.SpecifierDef
    spec.typeName = "Xform"
    spec.kind = model_kind(kind)
    spec.assetInfo = {
        "name": name,
        "version": str(version),
        "identifier": Sdf.AssetPath(identifier),
    }
    if class_inherit:
        spec.inheritPathList.Prepend(Sdf.Path(f"/__class__/{root_name}"))
    if payload:
        spec.payloadList.Prepend(Sdf.Payload(payload))

    for set_name, choices in (variants or {}).items():
        if not choices:
            raise SetpieceError(
                f"variant set '{set_name}' of {name} has no variants: give at least one"
            )
        vset = Sdf.VariantSetSpec(spec, prim_name(set_name))
        for variant_name, variant_payload in choices.items():
            variant = Sdf.VariantSpec(vset, prim_name(variant_name))
            if variant_payload:
                _check_relative(variant_payload, f"payload of {name} variant {variant_name}")
                variant.primSpec.payloadList.Prepend(Sdf.Payload(variant_payload))
        spec.variantSetNameList.Prepend(prim_name(set_name))
        spec.variantSelections[prim_name(set_name)] = prim_name(next(iter(choices)))

    seen: dict[str, str] = {}
    for dep in sorted(dependencies, key=lambda d: prim_name(d.name)):
        child_name = prim_name(dep.name)
        if child_name in seen:
            raise SetpieceError(
                f"duplicate prim name '{child_name}' in {name}: dependencies "
                f"'{seen[child_name]}' and '{dep.name}' map to it; keep one of them"
            )
        seen[child_name] = dep.name
        check_identifier(dep.identifier, f"identifier of dependency {dep.name}")
        child = Sdf.CreatePrimInLayer(layer, f"/{root_name}/{child_name}")
        child.specifier = Sdf.SpecifierDef
        child.typeName = "Xform"
        child.assetInfo = _container_info(
            Sdf, dep.name, dep.version, dep.identifier, dep.requirement, dep.kind
        )
        child.referenceList.Prepend(Sdf.Reference(dep.identifier))
    return str(layer.ExportToString())


def _container_info(
    Sdf: Any, name: str, version: str, identifier: str, requirement: str, kind: str
) -> dict[str, Any]:
    return {
        "name": name,
        "version": str(version),
        "identifier": Sdf.AssetPath(identifier),
        "requirement": requirement,
        "kind": kind,
    }


def scaffold_interface(
    package_dir: Path,
    name: str,
    version: str,
    kind: str,
    metadata: StageMetadata | None = None,
) -> Path:
    """Write a valid starting ``asset.usda`` (and, for components, ``payload.usda``).

    Called by ``setpiece create --kind prop|set|shot``. Props get a component with a
    payload ``./payload.usda`` holding an empty ``geo`` scope to fill; sets and shots get
    an assembly to which other assets are added by reference. Refuses to overwrite.
    """
    Sdf, _, _, _ = pxr()
    package_dir = Path(package_dir)
    target = package_dir / INTERFACE_FILE
    if target.exists():
        raise SetpieceError(
            f"{target} already exists: edit it, or delete it to scaffold a new one"
        )
    identifier = identifier_for(package_dir.name)
    payload: str | None = None
    if model_kind(kind) == "component":
        payload = "./payload.usda"
        payload_path = package_dir / "payload.usda"
        if not payload_path.exists():
            layer = Sdf.Layer.CreateAnonymous(".usda")
            (metadata or StageMetadata()).apply(layer)
            layer.defaultPrim = prim_name(name)
            spec = Sdf.CreatePrimInLayer(layer, f"/{prim_name(name)}")
            spec.specifier = Sdf.SpecifierDef
            spec.typeName = "Xform"
            geo = Sdf.CreatePrimInLayer(layer, f"/{prim_name(name)}/geo")
            geo.specifier = Sdf.SpecifierDef
            geo.typeName = "Scope"
            write_if_changed(payload_path, str(layer.ExportToString()))
    write_interface_layer(
        target, name, version, kind, identifier, payload=payload, metadata=metadata
    )
    return target


def set_interface_version(path: Path, version: str) -> bool:
    """Update ``assetInfo.version`` of an interface layer (for ``bump``). True if changed."""
    layer = _open_layer(Path(path))
    prim = layer.GetPrimAtPath(f"/{layer.defaultPrim}") if layer.defaultPrim else None
    if prim is None:
        raise SetpieceError(
            f"{path} has no defaultPrim: set defaultPrim to the asset's prim "
            "('setpiece usd check' explains)"
        )
    if not stamp_version(prim, version):
        return False
    return write_if_changed(Path(path), str(layer.ExportToString()))


def stamp_version(prim: Any, version: str) -> bool:
    """Set ``assetInfo.version`` on an interface layer's prim spec (``Sdf.PrimSpec``);
    False when it already says ``version``. The one way a version is stamped."""
    info = dict(prim.assetInfo)
    if info.get("version") == str(version):
        return False
    info["version"] = str(version)
    prim.assetInfo = info
    return True


def rename_interface(path: Path, name: str, version: str) -> bool:
    """Give a cloned asset's interface layer its own ``assetInfo`` (name, identifier,
    version); the prims keep their names (the scene names containers after the asset).
    True if the file changed."""
    layer = _open_layer(Path(path))
    prim = layer.GetPrimAtPath(f"/{layer.defaultPrim}") if layer.defaultPrim else None
    if prim is None:
        raise SetpieceError(
            f"{path} has no defaultPrim: set defaultPrim to the asset's prim "
            "('setpiece usd check' explains)"
        )
    info = dict(prim.assetInfo)
    info.update(name=str(name), version=str(version),
                identifier=identifier_for(Path(path).parent.name, Path(path).name))
    prim.assetInfo = info
    return write_if_changed(Path(path), str(layer.ExportToString()))


def _open_layer(path: Path) -> Any:
    Sdf, _, _, Tf = pxr()
    from setpiece.usd._pxr import first_line

    if not path.is_file():
        raise NotFound(f"{path} does not exist: check the path")
    try:
        layer = Sdf.Layer.OpenAsAnonymous(str(path))
    except Tf.ErrorException as exc:
        raise SetpieceError(f"{path} fails to parse: {first_line(exc)}; fix the file")
    if layer is None:
        raise SetpieceError(f"{path} cannot be opened as a USD layer: check its format")
    return layer
