"""The USD layer on a setpiece workspace: resolver set-up, scene build, checks.

Everything here takes a ``setpiece.core.Workspace``; the functions it calls take plain
objects, so host adapters can use either level.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.progress import Progress, Task
from setpiece.core.scene_records import SceneEntry, has_record, record_build
from setpiece.usd.closure import normalize, resolve_closure
from setpiece.usd.interface import find_interface
from setpiece.usd.metadata import StageMetadata
from setpiece.usd.resolver import configure_resolver, search_paths
from setpiece.usd.scene import BuildOptions, BuildResult, build_scene, generated_path, up_to_date

if TYPE_CHECKING:  # setpiece.usd.check is imported when a layer is checked: no-op rebuilds
    from setpiece.usd.check import Problem  # stay fast

GROUPS = ("build", "edit", "export")  # setpiece.core.requirements.GROUPS (without its import cost)


def configure_workspace(ws: Any) -> list[str]:
    """Point USD's default resolver at ``ws``'s installed packages; returns the paths."""
    paths = search_paths(Path(ws.site_packages))
    configure_resolver(paths)
    return paths


def stage_metadata(ws: Any) -> StageMetadata:
    return StageMetadata.from_settings(ws.config.settings)


def parse_spec(spec: str, group: str | None) -> tuple[str, str]:
    """``KitchenSet`` or ``KitchenSet[build]`` -> (name, group)."""
    name, _, rest = spec.partition("[")
    name = name.strip()
    if rest:
        extra = rest.rstrip("]").strip()
        if group and extra and extra != group:
            raise SetpieceError(
                f"'{spec}' names group '{extra}' but --group is '{group}': give one of them"
            )
        group = extra or group
    from setpiece.core.naming import validate_name

    validate_name(name)
    group = group or "build"
    if group not in GROUPS:
        raise SetpieceError(f"unknown dependency group '{group}': use one of {', '.join(GROUPS)}")
    return name, group


def default_scene_path(ws: Any, name: str) -> Path:
    return Path(ws.root) / "scenes" / f"{name}.usda"


def build_workspace_scene(
    ws: Any,
    spec: str,
    out: Path | None = None,
    *,
    group: str | None = None,
    layout: str = "flat",
    arc: str = "reference",
    force: bool = False,
    check: str = "editable",
) -> BuildResult:
    """``setpiece scene build``: resolve ``spec``'s group closure as installed and build.

    See :func:`_build_workspace_scene`. Every build is an event in the workspace's log
    (when ``ws`` has ``emit``, as ``setpiece.core.Workspace`` does): ``scene.built``
    (asset, group, scene, status ``written``/``unchanged``, containers) or, when it
    raises a SetpieceError, ``failed`` (action ``scene.build``, asset, scene, error).
    """
    try:
        result = _build_workspace_scene(
            ws, spec, out, group=group, layout=layout, arc=arc, force=force, check=check
        )
    except SetpieceError as exc:
        name = spec.partition("[")[0].strip()
        scene = Path(out) if out is not None else default_scene_path(ws, name)
        _emit(ws, "failed", action="scene.build", asset=name, scene=str(scene), error=str(exc))
        raise
    name, group = parse_spec(spec, group)
    _emit(
        ws,
        "scene.built",
        asset=name,
        group=group,
        scene=str(result.scene),
        status=result.status,
        scene_created=result.scene_created,
        containers=result.count,
    )
    return result


def _emit(ws: Any, event: str, **data: Any) -> None:
    emit = getattr(ws, "emit", None)  # plain objects standing for a workspace may lack it
    if emit is not None:
        emit(event, **data)


def _build_workspace_scene(
    ws: Any,
    spec: str,
    out: Path | None = None,
    *,
    group: str | None = None,
    layout: str = "flat",
    arc: str = "reference",
    force: bool = False,
    check: str = "editable",
) -> BuildResult:
    """Resolve ``spec``'s group closure as installed and build (no event).

    A rebuild whose inputs (installed set, editable assets' folders, options, the
    generated file itself) are unchanged since the last build returns at once, without
    discovering the installed assets. ``check``: which interface layers are validated
    before writing (``editable``: those being edited in outputs/, ``all``, ``none``).
    """
    start = time.perf_counter()
    name, group = parse_spec(spec, group)
    options = BuildOptions(
        group=group, metadata=stage_metadata(ws), layout=layout, arc=arc, force=force
    )
    scene = Path(out) if out is not None else default_scene_path(ws, name)
    site = Path(ws.site_packages)
    state_dir = getattr(ws, "state_dir", None)
    if not force:
        count = up_to_date(name, scene, options, site)
        if count is not None and (state_dir is None or has_record(Path(state_dir), scene)):
            return BuildResult(
                scene=scene,
                generated=generated_path(scene),
                status="unchanged",
                container_count=count,
                seconds=time.perf_counter() - start,
            )
    configure_workspace(ws)
    line = getattr(ws, "progress", None) or Progress.off()
    # the collector is re-enabled once _build's objects are freed: nothing left to scan
    with line.task(f"Building scene {scene.name}") as task, _collector_paused():
        result = _build(ws, name, group, scene, options, site, check, state_dir, task)
    result.seconds = time.perf_counter() - start
    return result


def _build(ws: Any, name: str, group: str, scene: Path, options: BuildOptions, site: Path,
           check: str, state_dir: Any, task: Any) -> BuildResult:
    task.update(note="reading the installed assets")
    installed = ws.installed_assets()
    task.update(note=f"resolving {name}[{group}]")
    closure = resolve_closure(name, installed, group)
    if check != "none":
        _validate(closure, installed, check, stage_metadata(ws), task)
    task.update(note="writing the layers")
    result = build_scene(name, closure, scene, options, site_packages=site)
    if state_dir is not None:
        _record(Path(state_dir), scene, closure)
    return result


def _record(state_dir: Path, scene: Path, closure: Any) -> None:
    """What the scene was built from, for ``setpiece affected`` (setpiece.core.scene_records)."""
    record_build(
        state_dir, scene, closure.root.asset.name, closure.group,
        (SceneEntry(e.asset.name, str(e.asset.version), e.requirement, e.dependency_kind)
         for e in closure.entries.values()),
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a build allocates (restored after).

    A 10,000-asset build allocates ~10 objects per asset, none in cycles; the collector's
    repeated full passes over them were a quarter of the build's CPU time. Re-enabled
    after they are freed (the build runs in a function of its own), so that the first
    collection after it scans only what survives (the result), not a 0.5 s pass over
    everything the build allocated.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _validate(closure: Any, installed: Any, check: str, metadata: StageMetadata,
              task: Task | None = None) -> None:
    """Refuse to build on an interface layer that fails to parse or has no defaultPrim."""
    todo = [e for e in closure.containers() if check != "editable" or e.asset.editable]
    for done, entry in enumerate(todo):
        asset = entry.asset
        if task is not None:
            task.update(note=f"checking interface layers {done}/{len(todo)}")
        layer = find_interface(Path(asset.package_dir))
        if layer is None:
            continue  # reported by build_scene with its own message
        from setpiece.usd.check import check_layer

        for problem in check_layer(layer, label=f"{asset.name} {asset.version} ({layer})"):
            if problem.severity == "error" and problem.code in ("parse", "default-prim"):
                raise SetpieceError(
                    f"{problem.message} (see 'setpiece usd check {asset.name}')"
                )


def interface_of(ws: Any, name: str) -> tuple[Any, Path]:
    """(asset, interface layer path) of an installed or output asset."""
    key = normalize(name)
    asset = ws.installed_assets().get(key)
    if asset is None:
        outputs = ws.output_assets()
        asset = outputs.get(key)
        if asset is None:
            raise SetpieceError(
                f"asset '{name}' is neither installed nor in outputs/: "
                f"run 'setpiece install {name}' or 'setpiece create {name}'"
            )
    package_dir = Path(asset.package_dir)
    layer = find_interface(package_dir) or package_dir / "asset.usda"
    return asset, layer


def check_asset(ws: Any, name: str) -> tuple[Any, Path, list[Problem]]:
    """``setpiece usd check NAME``: the asset's interface layer against the workspace."""
    configure_workspace(ws)
    asset, layer = interface_of(ws, name)
    installed = ws.installed_assets()
    by_import = {a.import_name: a for a in installed.values()}

    def expected(identifier: str) -> Path | None:
        top, _, rest = identifier.partition("/")
        owner = by_import.get(top)
        return Path(owner.package_dir) / rest if owner is not None and rest else None

    from setpiece.usd.check import check_layer

    problems = check_layer(
        layer,
        expect_name=asset.name,
        expect_version=str(asset.version),
        metadata=stage_metadata(ws),
        expected_paths=expected,
        label=f"{asset.name} ({layer})",
        package_dir=Path(asset.package_dir),
    )
    return asset, layer, problems
