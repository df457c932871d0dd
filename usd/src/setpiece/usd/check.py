"""Validate a layer: parse, defaultPrim, absolute paths, resolution, composition, metadata.

``check_layer`` never raises for a problem in the layer: it returns :class:`Problem` items,
each one line naming the thing and the fix; ``setpiece usd check NAME`` prints them and
exits 1 when any is an error.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from setpiece.usd._pxr import captured_diagnostics, first_line, pxr
from setpiece.usd.interface import INTERFACE_FILES, is_absolute_asset_path
from setpiece.usd.metadata import StageMetadata


@dataclass(frozen=True)
class Problem:
    """One finding. ``severity``: ``error`` (the layer is unusable) or ``warning``."""

    severity: str
    code: str
    message: str
    layer: str = ""
    prim: str = ""

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def errors(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


@dataclass(frozen=True)
class _Arc:
    kind: str  # reference | payload | sublayer | attribute
    asset_path: str
    prim: str


def _open(path: Path, name: str, out: list[Problem]) -> Any:
    Sdf, _, _, Tf = pxr()
    if not path.is_file():
        out.append(
            Problem(
                "error",
                "missing-layer",
                f"{name} does not exist: scaffold it with 'setpiece create --kind ...' "
                "or add an asset.usda to the asset's package",
                str(path),
            )
        )
        return None
    try:
        with captured_diagnostics():
            layer = Sdf.Layer.Find(str(path))
            if layer is not None:
                layer.Reload()
            else:
                layer = Sdf.Layer.FindOrOpen(str(path))
    except Tf.ErrorException as exc:
        out.append(
            Problem(
                "error",
                "parse",
                f"{name} fails to parse: {first_line(exc)}; fix the file",
                str(path),
            )
        )
        return None
    if layer is None:
        out.append(
            Problem(
                "error",
                "parse",
                f"{name} is not a USD layer USD can read: check its extension and format",
                str(path),
            )
        )
    return layer


def _arcs(layer: Any) -> list[_Arc]:
    """Every external asset path a layer authors, with the prim that authors it."""
    Sdf, _, _, _ = pxr()
    arcs = [_Arc("sublayer", p, "") for p in layer.subLayerPaths]

    def visit(path: Any) -> None:
        if path.IsPrimPath() or path.IsPrimVariantSelectionPath():
            spec = layer.GetPrimAtPath(path)
            if spec is None:
                return
            prim = str(path.StripAllVariantSelections())
            for ref in spec.referenceList.GetAddedOrExplicitItems():
                if ref.assetPath:
                    arcs.append(_Arc("reference", ref.assetPath, prim))
            for pay in spec.payloadList.GetAddedOrExplicitItems():
                if pay.assetPath:
                    arcs.append(_Arc("payload", pay.assetPath, prim))
        elif path.IsPropertyPath():
            spec = layer.GetAttributeAtPath(path)
            if spec is None or not spec.HasDefaultValue():
                return
            if spec.typeName not in (Sdf.ValueTypeNames.Asset, Sdf.ValueTypeNames.AssetArray):
                return
            value = spec.default
            values = [value] if isinstance(value, Sdf.AssetPath) else list(value or [])
            for v in values:
                if v.path:
                    arcs.append(_Arc("attribute", v.path, str(path)))

    layer.Traverse(Sdf.Path.absoluteRootPath, visit)
    return arcs


def _tracked_but_missing(asset_path: str, folder: Path, package: str) -> str | None:
    """The ``.dvc`` pointer of a relative ``asset_path`` that is tracked but not pulled (the
    file, or a tracked folder holding it, e.g. ``frames.dvc`` for ``frames/f0001.exr``)."""
    if not asset_path.startswith("."):
        return None
    target = os.path.normpath(folder / asset_path)
    if os.path.exists(target):
        return None
    current = target
    while len(current) > len(package) and current.startswith(package):
        if os.path.isfile(current + ".dvc"):
            return current + ".dvc"
        current = os.path.dirname(current)
    return None


def check_layer(
    path: Path,
    expect_name: str | None = None,
    expect_version: str | None = None,
    metadata: StageMetadata | None = None,
    expected_paths: Callable[[str], Path | None] | None = None,
    label: str | None = None,
    package_dir: Path | None = None,
) -> list[Problem]:
    """Problems of the layer at ``path`` (empty list: the layer is fine).

    Resolution uses the search paths configured with
    :func:`setpiece.usd.resolver.configure_resolver` (the CLI configures the workspace's).
    ``expect_name``/``expect_version``: the asset the layer belongs to (assetInfo is
    compared with them). ``metadata``: the workspace's stage metadata (compared too).
    ``expected_paths``: identifier -> installed file (or None), to report shadowing.
    ``package_dir``: the asset's package folder (default: the layer's folder); a relative
    path that leaves it is an error, since only the package is published.
    """
    path = Path(path).absolute()
    package = os.path.normpath(Path(package_dir).absolute() if package_dir else path.parent)
    name = label or str(path)
    out: list[Problem] = []
    layer = _open(path, name, out)
    if layer is None:
        return out
    where = str(path)
    _check_default_prim(layer, path, name, expect_name, expect_version, out)

    from setpiece.usd.resolver import resolve, shadowing

    unresolved = False
    for arc in _arcs(layer):
        what = f"{arc.kind} @{arc.asset_path}@" + (f" on {arc.prim}" if arc.prim else "")
        if is_absolute_asset_path(arc.asset_path):
            out.append(
                Problem(
                    "error",
                    "absolute-path",
                    f"{name}: {what} is absolute: use an identifier such as "
                    "'chair/asset.usda' or a path relative to the layer ('./payload.usdc')",
                    where,
                    arc.prim,
                )
            )
            continue
        outside = _outside_package(arc.asset_path, path.parent, package)
        if outside is not None:
            out.append(
                Problem(
                    "error",
                    "outside-package",
                    f"{name}: {what} leaves the package folder {package}, so it breaks once "
                    f"the asset is published: use an identifier such as '{outside}' (or keep "
                    "the file inside the package)",
                    where,
                    arc.prim,
                )
            )
            continue
        pointer = _tracked_but_missing(arc.asset_path, path.parent, package)
        if pointer is not None:
            unresolved = unresolved or arc.kind != "attribute"  # said once, as a warning
            out.append(
                Problem(
                    "warning",
                    "not-pulled",
                    f"{name}: {what} is tracked with dvc ({os.path.basename(pointer)}) but "
                    "not pulled: it loads once the files are pulled ('setpiece files pull "
                    "NAME', or 'setpiece files pull' for every installed asset)",
                    where,
                    arc.prim,
                )
            )
            continue
        if arc.kind == "attribute":
            continue  # textures and the like: resolved by renderers, not composition
        resolved = resolve(arc.asset_path, path)
        if resolved is None:
            unresolved = True
            hint = (
                "install the asset that provides it ('setpiece install ...')"
                if not arc.asset_path.startswith(".")
                else "create the file or fix the path"
            )
            out.append(
                Problem(
                    "error",
                    "unresolved",
                    f"{name}: {what} does not resolve: {hint}",
                    where,
                    arc.prim,
                )
            )
            continue
        expected = expected_paths(arc.asset_path) if expected_paths else None
        if expected is not None:
            other = shadowing(arc.asset_path, expected, path)
            if other is not None:
                out.append(
                    Problem(
                        "warning",
                        "shadowed",
                        f"{name}: {what} resolves to {other}, which shadows the "
                        f"installed {expected}: move or rename that file",
                        where,
                        arc.prim,
                    )
                )

    out.extend(_composition(layer, path, name, skip_asset_errors=unresolved))
    if metadata is not None:
        for diff in metadata.differences(layer):
            out.append(
                Problem(
                    "warning",
                    "metadata",
                    f"{name}: {diff}: author it to match setpiece.toml [settings]",
                    where,
                )
            )
    return out


def _outside_package(asset_path: str, layer_dir: Path, package: str) -> str | None:
    """For a layer-relative path (``./x``, ``../x``) that, normalised against the layer's
    folder, lands outside ``package``: an identifier to suggest instead. Else None."""
    text = asset_path.replace("\\", "/")
    if not text.startswith(("./", "../")):
        return None  # a search-path identifier (or a plain name beside the layer)
    target = os.path.normpath(os.path.join(layer_dir, text))
    try:
        inside = os.path.commonpath([package, target]) == package
    except ValueError:  # different drives
        inside = False
    if inside:
        return None
    parts = posixpath.normpath(text).split("/")
    if len(parts) >= 2 and parts[-2] not in ("..", ".") and parts[-1] in INTERFACE_FILES:
        return "/".join(parts[-2:])  # another asset's interface layer, by identifier
    return "chair/asset.usda"


def _check_default_prim(
    layer: Any,
    path: Path,
    name: str,
    expect_name: str | None,
    expect_version: str | None,
    out: list[Problem],
) -> None:
    where = str(path)
    if not layer.defaultPrim:
        out.append(
            Problem(
                "error",
                "default-prim",
                f"{name} has no defaultPrim: add defaultPrim = \"<AssetPrim>\" to the "
                "layer metadata so it can be referenced by identifier",
                where,
            )
        )
        return
    prim = layer.GetPrimAtPath("/" + layer.defaultPrim)
    if prim is None and layer.subLayerPaths:
        return  # defined by a sublayer (a scene layer): checked on the composed stage
    if prim is None:
        out.append(
            Problem(
                "error",
                "default-prim",
                f"{name}: defaultPrim '{layer.defaultPrim}' names no prim in the layer: "
                "define it or fix defaultPrim",
                where,
            )
        )
        return
    if not prim.kind:
        out.append(
            Problem(
                "warning",
                "kind",
                f"{name}: /{layer.defaultPrim} has no model kind: set kind = "
                "\"component\" (prop) or \"assembly\" (set, shot)",
                where,
                prim.path.pathString,
            )
        )
    info = dict(prim.assetInfo) if prim.HasInfo("assetInfo") else {}
    if expect_name is not None and info.get("name") not in (None, expect_name):
        out.append(
            Problem(
                "warning",
                "asset-info",
                f"{name}: assetInfo name is '{info.get('name')}', the package is "
                f"'{expect_name}': fix assetInfo",
                where,
                prim.path.pathString,
            )
        )
    if expect_version is not None and info.get("version") not in (None, expect_version):
        out.append(
            Problem(
                "warning",
                "asset-info",
                f"{name}: assetInfo version is '{info.get('version')}', the package is "
                f"{expect_version}: run 'setpiece usd stamp NAME' or fix assetInfo",
                where,
                prim.path.pathString,
            )
        )


def _composition(layer: Any, path: Path, name: str, skip_asset_errors: bool) -> list[Problem]:
    _, Usd, _, Tf = pxr()
    out: list[Problem] = []
    try:
        with captured_diagnostics():
            stage = Usd.Stage.Open(layer, Usd.Stage.LoadNone)
            errs = list(stage.GetCompositionErrors())
            missing_default = (
                bool(layer.defaultPrim)
                and layer.GetPrimAtPath("/" + layer.defaultPrim) is None
                and not stage.GetDefaultPrim()
            )
    except Tf.ErrorException as exc:
        return [
            Problem(
                "error",
                "composition",
                f"{name} does not compose: {first_line(exc)}",
                str(path),
            )
        ]
    if missing_default:
        out.append(
            Problem(
                "error",
                "default-prim",
                f"{name}: defaultPrim '{layer.defaultPrim}' names no prim, in the layer or its "
                "sublayers: define it or fix defaultPrim",
                str(path),
            )
        )
    seen: set[str] = set()
    for err in errs:
        text = " ".join(str(err).split())
        if skip_asset_errors and "Could not open asset" in text:
            continue
        if text in seen:
            continue
        seen.add(text)
        match = re.match(r"Could not open asset @([^@]*)@ for (\w+) introduced by @[^@]*@<([^>]*)>", text)
        if match:
            text = (
                f"{match.group(2)} @{match.group(1)}@ on {match.group(3)} does not resolve: "
                "install the asset that provides it ('setpiece install ...') or fix the path"
            )
        out.append(
            Problem(
                "error",
                "composition",
                f"{name}: composition error: {text}",
                str(path),
            )
        )
    return out
