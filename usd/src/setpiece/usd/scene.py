"""Scene build: a generated layer referencing every container, under the user's layer.

Files, for ``-o shots/sh010.usda``::

    shots/sh010.usda            the user's layer (created once, never rewritten):
                                    subLayers = [@./sh010.setpiece.usda@]
    shots/sh010.setpiece.usda   generated: rewritten by every build whose inputs changed
    shots/.sh010.setpiece.usda.stamp   what the last build saw (fast no-op rebuilds)

The user's edits (overrides, new prims, deactivations) live in the stronger user layer,
so a rebuild never loses one. The generated layer holds ``/World`` (kind ``group``) and
one prim per container, ``/World/<Asset>`` (``layout="flat"``, the default) or
``/World/<kind>/<Asset>`` (``layout="kind"``), each with ``assetInfo`` (name, version,
identifier, requirement, kind, requiredBy) and a reference (or payload, ``arc="payload"``)
to the asset's interface layer by identifier. It is authored with the Sdf API only, sorted
and free of timestamps and absolute paths: the same inputs give the same bytes, and an
unchanged result is not written at all.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.usd._pxr import pxr
from setpiece.usd.closure import AssetLike, Closure, ClosureEntry, resolve_closure
from setpiece.usd.fileio import write_if_changed
from setpiece.usd.interface import identifier_for, interface_file, prim_name
from setpiece.usd.metadata import StageMetadata

WORLD = "World"
GENERATED_SUFFIX = ".setpiece.usda"
LAYOUTS = ("flat", "kind")
ARCS = ("reference", "payload")
STAMP_VERSION = 2  # 2: editable assets' interface layer and pyproject.toml are watched


@dataclass(frozen=True)
class BuildOptions:
    """How a scene is built. Everything here is part of the build's inputs."""

    group: str = "build"
    metadata: StageMetadata = field(default_factory=StageMetadata)
    layout: str = "flat"  # flat: /World/<Asset>; kind: /World/<kind>/<Asset>
    arc: str = "reference"  # reference | payload
    include_root: bool = True
    skip_kinds: tuple[str, ...] = ("tool",)  # asset kinds that carry no USD
    force: bool = False  # ignore the stamp (the bytes are still compared)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise SetpieceError(f"unknown layout '{self.layout}': use one of {', '.join(LAYOUTS)}")
        if self.arc not in ARCS:
            raise SetpieceError(f"unknown arc '{self.arc}': use one of {', '.join(ARCS)}")

    def key(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("force")
        data["metadata"] = self.metadata.to_json()
        data["skip_kinds"] = sorted(self.skip_kinds)
        return data


@dataclass
class BuildResult:
    scene: Path
    generated: Path
    status: str  # written | unchanged
    scene_created: bool = False
    containers: list[ContainerRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    container_count: int | None = None  # set when the containers were not re-read

    @property
    def count(self) -> int:
        return self.container_count if self.container_count is not None else len(self.containers)

    @property
    def changed(self) -> bool:
        return self.status == "written" or self.scene_created

    def summary(self) -> str:
        what = "written" if self.status == "written" else "unchanged (nothing written)"
        line = f"{self.generated}: {what}"
        line += f", {self.count} containers"
        if self.scene_created:
            line += f"; created {self.scene}"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "scene": str(self.scene),
            "generated": str(self.generated),
            "status": self.status,
            "scene_created": self.scene_created,
            "count": self.count,
            "containers": [c.to_json() for c in self.containers],
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 4),
        }


def generated_path(scene: Path) -> Path:
    """The generated layer that ``scene`` sublayers (``sh010.usda`` -> ``sh010.setpiece.usda``)."""
    scene = Path(scene)
    return scene.with_name(scene.stem + GENERATED_SUFFIX)


def _stamp_path(generated: Path) -> Path:
    return generated.with_name(f".{generated.name}.stamp")


def _check_out_path(scene: Path) -> Path:
    scene = Path(scene)
    if scene.suffix not in (".usda", ".usd"):
        raise SetpieceError(
            f"scene file '{scene}' must end in .usda or .usd: e.g. -o shots/sh010.usda"
        )
    if scene.name.endswith(GENERATED_SUFFIX):
        raise SetpieceError(
            f"'{scene}' is a generated layer name: give the user's scene file "
            f"(e.g. {scene.name[: -len(GENERATED_SUFFIX)]}.usda)"
        )
    if scene.exists() and scene.is_dir():
        raise SetpieceError(f"'{scene}' is a folder: give a file name such as sh010.usda")
    return scene


class _Container(NamedTuple):
    entry: ClosureEntry
    prim_path: str
    identifier: str
    layer: str  # absolute path of the interface layer


def _plan(closure: Closure, options: BuildOptions, warnings: list[str]) -> list[_Container]:
    skip = {k.lower() for k in options.skip_kinds}
    planned: dict[str, _Container] = {}
    for entry in closure.containers():
        if entry.is_root and not options.include_root:
            continue
        asset = entry.asset
        kind = (asset.kind or "").strip()
        if kind.lower() in skip:
            continue
        package_dir = getattr(asset, "package_path", None)  # InstalledAsset: a str, no pathlib
        if package_dir is None:
            package_dir = asset.package_dir
            if not isinstance(package_dir, Path):
                package_dir = Path(package_dir)  # normalised, as the recorded layer path is
        layer = interface_file(package_dir)
        if layer is None:
            if entry.is_root:
                continue  # a root asset without USD is just a recipe: its deps are the scene
            by = f" (required by {', '.join(entry.required_by)})" if entry.required_by else ""
            raise SetpieceError(
                f"{asset.name} {asset.version}{by} has no interface layer "
                f"({Path(package_dir) / 'asset.usda'} is missing): add asset.usda to "
                f"the asset, or give it kind 'tool' if it carries no USD"
            )
        name = prim_name(asset.name)
        if options.layout == "kind":
            prim_path = f"/{WORLD}/{prim_name(kind or 'asset')}/{name}"
        else:
            prim_path = f"/{WORLD}/{name}"
        other = planned.get(prim_path)
        if other is not None:
            raise SetpieceError(
                f"duplicate prim name {prim_path}: assets {other.entry.name} and {asset.name} "
                "map to it; rename one asset or use --layout kind"
            )
        planned[prim_path] = _Container(
            entry, prim_path, identifier_for(asset.import_name, os.path.basename(layer)), layer
        )
    return sorted(planned.values(), key=lambda c: c.prim_path)


def _record(c: _Container) -> ContainerRecord:
    e = c.entry
    extra = {"requiredBy": ", ".join(e.required_by)} if e.required_by else {}
    return ContainerRecord(
        prim_path=c.prim_path,
        asset=e.asset.name,
        version=str(e.asset.version),
        identifier=c.identifier,
        requirement=e.requirement,
        kind=e.dependency_kind,
        layer=c.layer,
        extra=extra,
    )


def generated_layer_text(
    closure: Closure, options: BuildOptions, planned: list[_Container]
) -> str:
    """The generated layer's text for these containers (deterministic).

    The text Sdf writes (:func:`generated_layer_text_sdf`), byte for byte: the layer's
    metadata and ``/World`` are authored with Sdf, the container prims (10,000 in a big
    set: most of the time Sdf spends) are written from a template of Sdf's own output.
    Any name or string outside the plain characters the template was checked on
    (``tests/usd/test_scene_text.py``) goes through Sdf for the whole layer.
    """
    if not all(_plain(c) for c in planned):
        return generated_layer_text_sdf(closure, options, planned)
    head = generated_layer_text_sdf(closure, options, [])
    end = "\n{\n}\n\n"  # /World without children, at the end of the layer
    if not planned or not head.endswith(end):
        return generated_layer_text_sdf(closure, options, planned)
    verb = "payload" if options.arc == "payload" else "references"
    parts: list[str] = [head[: -len(end)], "\n{\n"]
    out = parts.append
    group = ""
    first = True
    for c in planned:
        parent, _, name = c.prim_path.rpartition("/")
        if parent != group:
            if group:
                out("    }\n")
            if parent != f"/{WORLD}":
                if not first:
                    out("\n")
                out(f'    def Xform "{parent.rpartition("/")[2]}" (\n        kind = "group"\n'
                    "    )\n    {\n")
                first = True
            group = parent
        pad = "        " if parent != f"/{WORLD}" else "    "
        if not first:
            out("\n")
        first = False
        e = c.entry
        by = e.required_by
        out(
            f'{pad}def Xform "{name}" (\n'
            f"{pad}    assetInfo = {{\n"
            f"{pad}        asset identifier = @{c.identifier}@\n"
            f'{pad}        string kind = "{e.dependency_kind}"\n'
            f'{pad}        string name = "{e.asset.name}"\n'
            + (f'{pad}        string requiredBy = "{", ".join(by)}"\n' if by else "")
            + f'{pad}        string requirement = "{e.requirement}"\n'
            f'{pad}        string version = "{e.asset.version}"\n'
            f"{pad}    }}\n"
            f"{pad}    prepend {verb} = @{c.identifier}@\n"
            f"{pad})\n{pad}{{\n{pad}}}\n"
        )
    if group and group != f"/{WORLD}":
        out("    }\n")
    out("}\n\n")
    return "".join(parts)


#: what the template writes as Sdf does: no quoting, escaping or @@@ asset paths needed
_PLAIN_STRING = re.compile(r"[A-Za-z0-9_ .,:<>=!~*+-]*")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_PRIM = re.compile(r"(?:/[A-Za-z_][A-Za-z0-9_]*){2,3}")


def _plain(c: _Container) -> bool:
    e = c.entry
    return bool(
        _PRIM.fullmatch(c.prim_path)
        and _PLAIN_PATH.fullmatch(c.identifier)
        and _PLAIN_STRING.fullmatch(e.asset.name)
        and _PLAIN_STRING.fullmatch(str(e.asset.version))
        and _PLAIN_STRING.fullmatch(e.requirement)
        and _PLAIN_STRING.fullmatch(e.dependency_kind)
        and all(_PLAIN_STRING.fullmatch(b) for b in e.required_by)
    )


def generated_layer_text_sdf(
    closure: Closure, options: BuildOptions, planned: list[_Container]
) -> str:
    """The generated layer's text, every prim authored with Sdf (deterministic)."""
    Sdf, _, _, _ = pxr()
    layer = Sdf.Layer.CreateAnonymous(".usda")
    root = closure.root.asset
    with Sdf.ChangeBlock():
        options.metadata.apply(layer)
        layer.defaultPrim = WORLD
        layer.customLayerData = {
            "setpiece": {
                "root": root.name,
                "rootVersion": str(root.version),
                "group": closure.group,
                "layout": options.layout,
                "arc": options.arc,
            }
        }
        world = Sdf.PrimSpec(layer.pseudoRoot, WORLD, Sdf.SpecifierDef, "Xform")
        world.kind = "group"
        groups: dict[str, Any] = {}
        payload = options.arc == "payload"
        for c in planned:
            parent_path, _, name = c.prim_path.rpartition("/")
            parent = world
            if parent_path != f"/{WORLD}":
                parent = groups.get(parent_path)
                if parent is None:
                    parent = Sdf.PrimSpec(
                        world, parent_path.rpartition("/")[2], Sdf.SpecifierDef, "Xform"
                    )
                    parent.kind = "group"
                    groups[parent_path] = parent
            spec = Sdf.PrimSpec(parent, name, Sdf.SpecifierDef, "Xform")
            e = c.entry
            info: dict[str, Any] = {
                "name": e.asset.name,
                "version": str(e.asset.version),
                "identifier": Sdf.AssetPath(c.identifier),
                "requirement": e.requirement,
                "kind": e.dependency_kind,
            }
            if e.required_by:
                info["requiredBy"] = ", ".join(e.required_by)
            spec.assetInfo = info
            if payload:
                spec.payloadList.Prepend(Sdf.Payload(c.identifier))
            else:
                spec.referenceList.Prepend(Sdf.Reference(c.identifier))
    return str(layer.ExportToString())


def scene_layer_text(generated: Path, metadata: StageMetadata) -> str:
    """The user's scene layer as first created: metadata + the generated sublayer."""
    Sdf, _, _, _ = pxr()
    layer = Sdf.Layer.CreateAnonymous(".usda")
    metadata.apply(layer)
    layer.defaultPrim = WORLD
    layer.subLayerPaths.append(f"./{generated.name}")
    return str(layer.ExportToString())


def _shadow_warnings(planned: list[_Container], out_dir: Path) -> list[str]:
    """Identifiers that a folder next to the scene, or the current folder, would shadow."""
    out: list[str] = []
    for folder in {out_dir.resolve(), Path.cwd().resolve()}:
        try:
            names = set(os.listdir(folder))
        except OSError:
            continue
        for c in planned:
            top = c.identifier.split("/", 1)[0]
            if top in names:
                candidate = folder / c.identifier
                if candidate.is_file() and candidate.resolve() != Path(c.layer).resolve():
                    out.append(
                        f"{candidate} shadows the installed {c.entry.name} for "
                        f"@{c.identifier}@: move or rename that folder"
                    )
    return sorted(out)


def build_scene(
    root_asset: str | AssetLike,
    closure: Closure | Mapping[str, AssetLike],
    out_path: Path,
    options: BuildOptions | None = None,
    site_packages: Path | None = None,
) -> BuildResult:
    """Build (or rebuild) the scene ``out_path`` for ``root_asset``'s closure.

    ``closure``: a :class:`Closure` (from :func:`resolve_closure`), or the installed
    assets by normalised name, from which it is resolved. Raises SetpieceError (nothing
    written) for a missing interface layer, a duplicate prim name, a missing or refused
    dependency, or a cycle. ``site_packages``: recorded in the stamp so that
    :func:`build_workspace_scene` can skip discovery on a no-op rebuild.
    """
    from setpiece.core import telemetry

    root_name = root_asset if isinstance(root_asset, str) else root_asset.name
    with telemetry.span("scene.build", asset=root_name, scene=str(out_path)) as span:
        result = _build_scene(root_asset, closure, out_path, options, site_packages)
        span.set(status=result.status, containers=len(result.containers),
                 warnings=len(result.warnings))
        return result


def _build_scene(
    root_asset: str | AssetLike,
    closure: Closure | Mapping[str, AssetLike],
    out_path: Path,
    options: BuildOptions | None,
    site_packages: Path | None,
) -> BuildResult:
    start = time.perf_counter()
    options = options or BuildOptions()
    scene = _check_out_path(Path(out_path))
    root_name = root_asset if isinstance(root_asset, str) else root_asset.name
    if not isinstance(closure, Closure):
        closure = resolve_closure(root_name, closure, options.group)
    elif _norm(closure.root.asset.name) != _norm(root_name):
        raise SetpieceError(
            f"the closure is for {closure.root.asset.name}, not {root_name}: resolve it again"
        )
    warnings = list(closure.warnings)
    planned = _plan(closure, options, warnings)
    generated = generated_path(scene)
    text = generated_layer_text(closure, options, planned)
    warnings.extend(_shadow_warnings(planned, scene.parent))

    written = write_if_changed(generated, text)
    created = False
    if not scene.exists():
        write_if_changed(scene, scene_layer_text(generated, options.metadata))
        created = True
    else:
        try:
            if f"{generated.name}".encode() not in scene.read_bytes():
                warnings.append(
                    f"{scene} does not sublayer ./{generated.name}: add it to its subLayers "
                    "to see the built containers"
                )
        except OSError:
            pass
    _write_stamp(generated, scene, closure, options, planned, site_packages)
    return BuildResult(
        scene=scene,
        generated=generated,
        status="written" if written else "unchanged",
        scene_created=created,
        containers=[_record(c) for c in planned],
        warnings=warnings,
        seconds=time.perf_counter() - start,
    )


def _norm(name: str) -> str:
    from setpiece.usd.closure import normalize

    return normalize(name)


# -- stamps: no-op rebuilds without discovery ------------------------------------------


def _stat(path: Path) -> list[int]:
    try:
        st = os.stat(path)
    except OSError:
        return [0, -1]
    return [st.st_mtime_ns, st.st_size]


def _stamp_key(root: str, options: BuildOptions, search: list[str]) -> str:
    return json.dumps(
        {"v": STAMP_VERSION, "root": _norm(root), "options": options.key(), "search": search},
        sort_keys=True,
    )


def _editable_inputs(asset: AssetLike) -> list[str]:
    """What a no-op rebuild watches of an asset being edited: its package folder (files
    added or removed), its interface layer and its ``pyproject.toml`` (edited in place,
    which leaves the folder's mtime alone)."""
    package_dir = Path(asset.package_dir)
    layer = interface_file(package_dir) or str(package_dir / "asset.usda")
    project = getattr(asset, "source_dir", None)  # InstalledAsset: the output's project
    if project is None:
        parent = package_dir.parent
        project = parent.parent if parent.name == "src" else parent
    return [str(package_dir), layer, str(Path(project) / "pyproject.toml")]


def _write_stamp(
    generated: Path,
    scene: Path,
    closure: Closure,
    options: BuildOptions,
    planned: list[_Container],
    site_packages: Path | None,
) -> None:
    if site_packages is None:
        return
    watch = [str(site_packages)]
    for entry in closure.entries.values():
        if entry.asset.editable:
            watch.extend(_editable_inputs(entry.asset))
    stamp = {
        "key": _stamp_key(closure.root.asset.name, options, [str(site_packages)]),
        "generated": _stat(generated),
        "scene": str(scene.name),
        "watch": {p: _stat(Path(p)) for p in sorted(set(watch))},
        "containers": len(planned),
    }
    try:
        write_if_changed(_stamp_path(generated), json.dumps(stamp, sort_keys=True))
    except OSError:
        pass  # a stamp is only a cache


def up_to_date(
    root: str, out_path: Path, options: BuildOptions, site_packages: Path
) -> int | None:
    """Number of containers if the last build of ``out_path`` saw these exact inputs."""
    scene = Path(out_path)
    generated = generated_path(scene)
    try:
        stamp = json.loads(_stamp_path(generated).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stamp.get("key") != _stamp_key(root, options, [str(site_packages)]):
        return None
    if stamp.get("generated") != _stat(generated) or not scene.exists():
        return None
    for path, st in stamp.get("watch", {}).items():
        if _stat(Path(path)) != st:
            return None
    count = stamp.get("containers")
    return count if isinstance(count, int) else None


def scene_settings(scene_path: Path) -> dict[str, Any]:
    """What the generated layer of ``scene_path`` was built from (root, group, layout, arc)."""
    Sdf, _, _, Tf = pxr()
    generated = generated_path(Path(scene_path))
    if Path(scene_path).name.endswith(GENERATED_SUFFIX):
        generated = Path(scene_path)
    if not generated.is_file():
        raise SetpieceError(
            f"{generated} is missing: {scene_path} was not built by setpiece; build it with "
            "'setpiece scene build NAME -o FILE'"
        )
    try:
        layer = Sdf.Layer.OpenAsAnonymous(str(generated), True)  # metadata only
    except Tf.ErrorException:
        layer = None
    data = dict(layer.customLayerData.get("setpiece", {})) if layer is not None else {}
    if not data.get("root"):
        raise SetpieceError(
            f"{generated} has no setpiece build settings: rebuild it with "
            "'setpiece scene build NAME -o FILE'"
        )
    return data
