"""Asset setup code: each asset's ``setup(context)``, run in the host after a build or update.

An asset exposes it through the entry point group ``setpiece.setup``, named after the
asset::

    [project.entry-points."setpiece.setup"]
    Chair = "chair.setup:setup"

Rules (design: asset code is arbitrary code):

- setups run in dependency order (an asset's dependencies before the asset), once per
  container and version: the run is recorded on the container (``setpiece_setup``:
  version, status) and skipped when it already ran fine for that version (a failed
  one runs again);
- a setup that raises (even ``sys.exit()``) is reported with the asset, the version and the traceback in the
  log; the other setups, and the build, go on;
- a setup has a time limit (``[setup] timeout``, see ``setup_guard``): one still running
  then is stopped and reported as failed; in ``batch HOST build`` a supervising parent
  also survives a setup that calls ``os._exit`` or freezes the app;
- safe mode (``--no-setup`` or ``SETPIECE_SAFE_MODE=1``) skips all asset code.
"""

from __future__ import annotations

import importlib
import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from setpiece.core.asset_code import safe_mode as core_safe_mode
from setpiece.core.naming import normalize
from setpiece.hosts.protocol import Container, ContainerData, Host, SetupScene

GROUP = "setpiece.setup"
#: the key under which a host records a container's setup run
RECORD_KEY = "setpiece_setup"

log = logging.getLogger("setpiece.setup")

# Fallback record for hosts without container data storage (kept for this process only).
_MEMORY: dict[tuple[str, str], dict[str, Any]] = {}


def safe_mode(explicit: bool | None = None) -> bool:
    """True when asset code must not run (``--no-setup`` or ``SETPIECE_SAFE_MODE=1``: the
    one switch, read by ``setpiece.core.asset_code.safe_mode``)."""
    if explicit is not None:
        return explicit
    return core_safe_mode()


@dataclass
class SetupContext:
    """What an asset's ``setup(context)`` receives."""

    asset: str
    version: str
    container: Container
    host: Any
    logger: logging.Logger
    #: the composed ``Usd.Stage`` when the host has one (headless build), else None
    stage: Any = None
    #: the host's scene handle (Blender: ``bpy.context.scene``), else None
    scene: Any = None
    workspace: Any = None

    @property
    def node(self) -> str:
        """The host's handle on the container (Blender: the collection name)."""
        return self.container.node


@dataclass
class SetupResult:
    asset: str
    version: str
    node: str
    status: str  # ok | failed | skipped | already | none
    error: str = ""
    traceback: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "version": self.version,
            "node": self.node,
            "status": self.status,
            "error": self.error,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class SetupReport:
    results: list[SetupResult] = field(default_factory=list)
    safe_mode: bool = False

    def _with(self, status: str) -> list[SetupResult]:
        return [r for r in self.results if r.status == status]

    @property
    def ran(self) -> list[SetupResult]:
        return [r for r in self.results if r.status in ("ok", "failed")]

    @property
    def failed(self) -> list[SetupResult]:
        return self._with("failed")

    @property
    def ok(self) -> list[SetupResult]:
        return self._with("ok")

    def summary(self) -> str:
        if self.safe_mode:
            return "safe mode: asset setup code skipped"
        parts = [f"{len(self.ok)} setup(s) ran"]
        if self.failed:
            names = ", ".join(f"{r.asset} {r.version}" for r in self.failed)
            parts.append(f"{len(self.failed)} failed ({names}): see the log")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"safe_mode": self.safe_mode, "results": [r.to_json() for r in self.results]}


# -- discovery -------------------------------------------------------------------------


_norm = normalize


def discover(workspace: Any = None) -> dict[str, str]:
    """``{normalized asset name: "module:function"}`` of every installed setup."""
    return discover_checked(workspace)[0]


def discover_checked(workspace: Any = None) -> tuple[dict[str, str], dict[str, str]]:
    """(``{asset: "module:function"}``, ``{asset: error}``): an asset whose metadata cannot
    be read is reported by name, and the others are still found."""
    found: dict[str, str] = {}
    broken: dict[str, str] = {}
    if workspace is not None:
        for key, asset in workspace.installed_assets().items():
            try:
                eps = asset.entry_point_groups().get(GROUP, {})
            except Exception as exc:  # broken metadata of one asset: report it, go on
                broken[key] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                continue
            for name, target in eps.items():
                if _norm(name) == key or len(eps) == 1:
                    found[key] = target
    else:
        from importlib.metadata import entry_points

        for ep in entry_points(group=GROUP):
            found[_norm(ep.name)] = ep.value
    return found, broken


def dependencies(workspace: Any = None) -> dict[str, set[str]]:
    """``{asset: {assets it depends on}}`` from installed metadata (every group)."""
    out: dict[str, set[str]] = {}
    if workspace is None:
        return out
    for key, asset in workspace.installed_assets().items():
        deps: set[str] = set()
        try:
            groups = asset.groups()
        except Exception:  # unreadable metadata: no ordering constraint
            groups = {}
        for reqs in groups.values():
            deps.update(_norm(r.name) for r in reqs)
        out[key] = deps
    return out


def dependency_order(
    containers: Sequence[Container], deps: Mapping[str, set[str]]
) -> list[Container]:
    """Containers sorted so that an asset's dependencies come first (stable otherwise)."""
    by_asset: dict[str, list[Container]] = {}
    for c in containers:
        by_asset.setdefault(_norm(c.asset), []).append(c)
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:  # a cycle: keep the given order
            return
        state[name] = 1
        for dep in sorted(deps.get(name, ())):
            if dep in by_asset:
                visit(dep)
        state[name] = 2
        order.append(name)

    for c in containers:
        visit(_norm(c.asset))
    return [c for name in order for c in by_asset[name]]


def load_target(target: str) -> Callable[[SetupContext], Any]:
    from setpiece.core.targets import load

    obj: Any = load(target, default="setup")
    if not callable(obj):
        raise TypeError(f"{target} is not callable")
    fn: Callable[[SetupContext], Any] = obj
    return fn


# -- bookkeeping on the container --------------------------------------------------------


def _get_record(host: Host, container: Container) -> dict[str, Any] | None:
    if isinstance(host, ContainerData):
        value = host.get_container_data(container, RECORD_KEY)
        return dict(value) if isinstance(value, Mapping) else None
    extra = container.record.extra.get("setup")
    if isinstance(extra, Mapping):
        return dict(extra)
    return _MEMORY.get((host.name, container.node))


def _set_record(host: Host, container: Container, value: dict[str, Any]) -> None:
    if isinstance(host, ContainerData):
        host.set_container_data(container, RECORD_KEY, value)
    else:
        _MEMORY[(host.name, container.node)] = value


# -- running -----------------------------------------------------------------------------


_SITE_DIRS: set[str] = set()


def ensure_importable(workspace: Any) -> None:
    """Put the workspace's site-packages on ``sys.path`` with its ``.pth`` files processed,
    once per process. A DCC's startup may already have put the folder on ``sys.path``
    (``SETPIECE_PYTHONPATH``) without reading its ``.pth`` files, and those are what make
    editable outputs importable: ``site.addsitedir`` reads them even then."""
    if workspace is None:
        return
    import site

    sp = str(workspace.site_packages)
    if sp not in _SITE_DIRS:
        site.addsitedir(sp)
        _SITE_DIRS.add(sp)
    importlib.invalidate_caches()


def run_setups(
    host: Host,
    containers: Iterable[Container],
    *,
    workspace: Any = None,
    stage: Any = None,
    no_setup: bool | None = None,
    force: bool = False,
    targets: Mapping[str, str] | None = None,
    logger: logging.Logger | None = None,
) -> SetupReport:
    """Run each container's setup once per version, dependencies first; never raises
    for a failing setup (it is reported in the returned :class:`SetupReport` and the log).
    """
    logger = logger or log
    items = list(containers)
    if safe_mode(True if no_setup else None):
        if items:
            logger.warning("safe mode: skipped asset setup code of %d container(s)", len(items))
        return SetupReport(
            [SetupResult(c.asset, c.version, c.node, "skipped") for c in items], safe_mode=True
        )
    ensure_importable(workspace)
    broken: dict[str, str] = {}
    if targets is not None:
        targets = dict(targets)
    else:
        try:
            targets, broken = discover_checked(workspace)
        except Exception as exc:  # the workspace's assets cannot be listed at all
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            logger.error("setup code not found (installed assets unreadable): %s", error)
            targets, broken = {}, {_norm(c.asset): error for c in items}
    try:
        deps = dependencies(workspace)
    except Exception as exc:  # no ordering constraint rather than no build
        logger.error("setup order unknown (installed assets unreadable): %s", exc)
        deps = {}
    ordered = dependency_order(items, deps)
    from setpiece.hosts.setup_guard import progress, setup_timeout, time_limit

    limit = setup_timeout(workspace)
    scene = host.scene_handle() if isinstance(host, SetupScene) else None
    report = SetupReport()
    for container in ordered:
        asset, version = container.asset, container.version
        if _norm(asset) in broken:
            error = f"setup code not found: {broken[_norm(asset)]}"
            logger.error("setup of %s %s failed: %s", asset, version, error)
            report.results.append(SetupResult(asset, version, container.node, "failed", error))
            continue
        target = targets.get(_norm(asset))
        if target is None:
            report.results.append(SetupResult(asset, version, container.node, "none"))
            continue
        done = _get_record(host, container)
        if (
            not force
            and done
            and done.get("version") == version
            and done.get("status", "ok") == "ok"
        ):  # a failed setup runs again next time (the asset may have been fixed)
            report.results.append(SetupResult(asset, version, container.node, "already"))
            continue
        context = SetupContext(
            asset=asset,
            version=version,
            container=container,
            host=host,
            logger=logging.getLogger(f"setpiece.setup.{asset}"),
            stage=stage,
            scene=scene,
            workspace=workspace,
        )
        start = time.perf_counter()
        progress(phase="setup", asset=asset, version=version, started=time.time(), timeout=limit)
        try:
            with time_limit(limit):
                load_target(target)(context)
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as exc:  # SystemExit too: a setup never ends the build
            tb = traceback.format_exc()
            seconds = time.perf_counter() - start
            error = f"{type(exc).__name__}: {exc}"
            logger.error("setup of %s %s failed: %s\n%s", asset, version, error, tb)
            report.results.append(
                SetupResult(asset, version, container.node, "failed", error, tb, seconds)
            )
            _set_record(host, container, {"version": version, "status": "failed", "error": error})
            continue
        seconds = time.perf_counter() - start
        logger.info("setup of %s %s ran in %.3f s", asset, version, seconds)
        report.results.append(SetupResult(asset, version, container.node, "ok", seconds=seconds))
        _set_record(host, container, {"version": version, "status": "ok"})
    return report
