"""The in-app runtime: what a DCC's startup file calls, and what the ``setpiece`` menu does.

``setpiece.hosts.install(host)`` costs the DCC's startup a few milliseconds: it adds the
``setpiece`` menu with the built-in entries, registers the scene-opened callback and
defers everything else (finding the workspace, configuring USD's resolver, putting the
workspace packages on ``sys.path``, adding the entries of installed tool assets) to the
app's first idle moment through ``host.defer``. No ``pxr``, Qt or workspace scan at import.

Built-in menu entries (registered commands, looked up lazily by ``module:function``, so
another package fills or replaces them with :func:`register_command`):

- **Build scene**: build the open scene's asset from the installed packages and load it;
- **Update all**: update every container to the installed version;
- **Inventory**: the containers against what is installed;
- **Publish**: ``setpiece.hosts.publish:publish`` (provided by the publishing package);
- **Loader**: the loader window; **Workfiles**: the workfiles window;
- **Report a problem**: the ``setpiece report`` zip, with this app's name and version.

Every entry run is traced (a ``menu <label>`` span) and counted (``setpiece.tool.uses`` by
tool and host; see ``setpiece.core.telemetry``).

Tool assets add entries through the entry point group ``setpiece.menu``
(``"Chair: Randomise" = "chair_tools.menu:randomise"``); each callable gets the
:class:`Runtime`. Safe mode skips them as it skips setup code.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError, Unavailable
from setpiece.core.naming import normalize
from setpiece.hosts.freshness import Change as Change
from setpiece.hosts.freshness import OpenCheck as OpenCheck
from setpiece.hosts.freshness import UpdateFailure as UpdateFailure
from setpiece.hosts.freshness import UpdateResult as UpdateResult
from setpiece.hosts.protocol import (
    Asking,
    Container,
    Host,
    MenuCommand,
    Notifying,
    OpenPolicy,
    SceneData,
    SceneLoad,
    Shelves,
    Timers,
    ToolAddons,
)
from setpiece.usd.status import Status, container_status

log = logging.getLogger("setpiece.hosts")

MENU_GROUP = "setpiece.menu"
#: entry point group of a tool asset's shelf buttons (``"Randomise" = "pkg.mod:fn"``)
SHELF_GROUP = "setpiece.shelf"
ON_OPEN_CHOICES = ("update", "ask", "report", "off")
#: scene-level property naming the output asset a scene belongs to
SCENE_ASSET_KEY = "setpiece_asset"

Command = Callable[["Runtime"], Any]

#: key -> (label, target): target is "module:function" (imported when run) or a callable
_COMMANDS: dict[str, tuple[str, str | Command]] = {
    "build": ("Build scene", "setpiece.hosts.runtime:build_command"),
    "update": ("Update all", "setpiece.hosts.runtime:update_command"),
    "inventory": ("Inventory", "setpiece.hosts.runtime:inventory_command"),
    "publish": ("Publish", "setpiece.hosts.publish:publish"),
    "loader": ("Loader", "setpiece.hosts.ui.loader:show"),
    "workfiles": ("Workfiles", "setpiece.hosts.ui.workfiles:show"),
    "report": ("Report a problem", "setpiece.hosts.runtime:report_command"),
}

_current: Runtime | None = None


def register_command(key: str, label: str, target: str | Command) -> None:
    """Add or replace a built-in menu command (``target``: callable or ``"module:fn"``).

    The publishing package calls ``register_command("publish", "Publish", ...)`` or simply
    provides ``setpiece.hosts.publish:publish(runtime)``.
    """
    _COMMANDS[key] = (label, target)


def commands() -> dict[str, tuple[str, str | Command]]:
    return dict(_COMMANDS)


def _resolve(target: str | Command, what: str) -> Command:
    if callable(target):
        return target
    from setpiece.core.targets import load, split

    try:
        obj: Any = load(target)
    except ImportError as exc:
        raise SetpieceError(
            f"{what} is not available ({split(target)[0]} cannot be imported: {exc}): install "
            "the package that provides it"
        )
    except AttributeError:
        raise SetpieceError(f"{what} is not available ({target} is missing): update setpiece")
    fn: Command = obj
    return fn


def current() -> Runtime | None:
    """The runtime installed in this process, if any."""
    return _current


_norm = normalize


# -- the runtime ------------------------------------------------------------------------


class Runtime:
    """setpiece inside one running app: its host adapter and (lazily) its workspace."""

    def __init__(
        self,
        host: Host,
        workspace: Any = None,
        *,
        no_setup: bool | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.host = host
        self._workspace = workspace
        self.no_setup = no_setup
        self.log = logger or log
        self.last_check: OpenCheck | None = None
        self.startup_seconds = 0.0

    # -- workspace ---------------------------------------------------------------
    @property
    def workspace(self) -> Any:
        """The workspace: given, else ``SETPIECE_WORKSPACE``, else found from the open scene
        or the current folder (a SetpieceError saying how to fix it when there is none)."""
        if self._workspace is None:
            from setpiece.core.workspace import Workspace

            self._workspace = _find_workspace(Workspace, self.host)
        elif isinstance(self._workspace, (str, Path)):
            from setpiece.core.workspace import Workspace

            self._workspace = Workspace(self._workspace)
        return self._workspace

    def configure_usd(self) -> list[str]:
        """Point USD's resolver at the workspace's installed packages (and the env var)."""
        ws = self.workspace
        paths = resolver_search_paths(ws)
        os.environ["PXR_AR_DEFAULT_SEARCH_PATH"] = os.pathsep.join(paths)
        if "pxr" not in sys.modules:
            # USD reads the variable when its resolver is first made: no need to import
            # pxr (hundreds of ms) at startup. Blender's importer uses its own USD, which
            # only ever sees the variable.
            return paths
        try:
            from setpiece.usd.resolver import configure_resolver
        except ImportError:
            return paths
        try:
            configure_resolver(paths)
        except Unavailable as exc:  # no pxr in this interpreter: the env var is set
            self.log.debug("USD resolver not configured in Python: %s", exc)
        return paths

    def finish_startup(self) -> None:
        """The deferred half of :func:`install` (runs when the app is idle)."""
        try:
            ws = self.workspace
        except SetpieceError as exc:
            self.log.info("setpiece: %s", exc)
            return
        from setpiece.hosts.setup_code import ensure_importable

        self.configure_usd()
        ensure_importable(ws)
        self.host.install_menu(self.menu_commands(with_tools=True))
        self.install_shelves()
        self.load_tool_assets()
        if not self.host.is_headless() and isinstance(self.host, Timers):
            try:
                self.watch_events()  # "a newer version was published" while the app is open
            except Exception as exc:  # never break the app's start-up
                self.log.warning("setpiece: not watching events: %s", exc)

    def load_tool_assets(self) -> list[Any]:
        """What installed tool assets bring into the app besides menu entries, through the
        host's optional ``load_tool_assets(workspace)`` (Blender: their add-ons, enabled).
        Skipped in safe mode; never raises (a problem is logged)."""
        from setpiece.hosts.setup_code import safe_mode

        if not isinstance(self.host, ToolAddons) or safe_mode(self.no_setup or None):
            return []
        try:
            return list(self.host.load_tool_assets(self.workspace))
        except Exception as exc:  # never break the app's start-up
            self.log.warning("setpiece: tool assets not loaded: %s", exc)
            return []

    def shelf_commands(self) -> dict[str, list[MenuCommand]]:
        """Each installed tool asset's shelf buttons (``setpiece.shelf``); none in safe
        mode."""
        from setpiece.hosts.setup_code import safe_mode

        out: dict[str, list[MenuCommand]] = {}
        if safe_mode(self.no_setup or None):
            return out
        try:
            assets = self.workspace.installed_assets()
        except SetpieceError:
            return out
        for asset in sorted(assets.values(), key=lambda a: a.name):
            entries = sorted(asset.entry_point_groups().get(SHELF_GROUP, {}).items())
            if entries:
                out[asset.name] = [
                    MenuCommand(label, self._runner(f"shelf:{label}", label, target),
                                group=asset.name, tooltip=f"{label} ({asset.name} {asset.version})")
                    for label, target in entries
                ]
        return out

    def install_shelves(self) -> list[str]:
        """The tool assets' shelves, through the host's optional ``install_shelves`` (Maya):
        shelves of assets no longer installed go away. Never raises (logged)."""
        if not isinstance(self.host, Shelves) or self.host.is_headless():
            return []
        try:
            return list(self.host.install_shelves(self.shelf_commands()))
        except Exception as exc:  # never break the app's start-up
            self.log.warning("setpiece: shelves not installed: %s", exc)
            return []

    # -- menu --------------------------------------------------------------------
    def menu_commands(self, with_tools: bool = False) -> list[MenuCommand]:
        out = [
            MenuCommand(label, self._runner(key, label, target))
            for key, (label, target) in _COMMANDS.items()
        ]
        if with_tools:
            out.extend(self.tool_commands())
        return out

    def tool_commands(self) -> list[MenuCommand]:
        """Entries contributed by installed tool assets (``setpiece.menu``)."""
        from setpiece.hosts.setup_code import safe_mode

        if safe_mode(self.no_setup or None):
            return []
        out: list[MenuCommand] = []
        try:
            assets = self.workspace.installed_assets()
        except SetpieceError:
            return out
        for asset in assets.values():
            for label, target in sorted(asset.entry_point_groups().get(MENU_GROUP, {}).items()):
                out.append(
                    MenuCommand(
                        label, self._runner(f"tool:{label}", label, target), group=asset.name
                    )
                )
        return out

    def _runner(self, key: str, label: str, target: str | Command) -> Callable[[], Any]:
        def run() -> Any:
            from setpiece.core import telemetry

            telemetry.start(self._workspace_root(), host=self.host_name)
            try:
                with telemetry.span(f"menu {label}", tool=label, app=self.host_name):
                    return _resolve(target, label)(self)
            except SetpieceError as exc:  # one line (no traceback) here; the host shows it
                self.log.error("setpiece: %s: %s", label, " ".join(str(exc).split()))
                raise
            finally:
                telemetry.tool_used(label)
                telemetry.flush()

        run.__name__ = f"setpiece_{re.sub(r'[^0-9a-zA-Z]+', '_', key)}"
        return run

    @property
    def host_name(self) -> str:
        return str(getattr(self.host, "name", "") or "app")

    def _workspace_root(self) -> Path | None:
        """The workspace folder if one is found (None, never an error: telemetry and the
        problem report work outside a workspace too)."""
        try:
            return Path(self.workspace.root)
        except Exception:
            return None

    # -- scene ownership -------------------------------------------------------------
    def scene_asset(self) -> str | None:
        """The output asset the open scene belongs to: recorded on the scene at build,
        else the ``outputs/<Asset>/`` folder it is saved in."""
        if isinstance(self.host, SceneData):
            name = self.host.get_scene_data(SCENE_ASSET_KEY)
            if name:
                return str(name)
        path = self.host.current_scene()
        if not path:
            return None
        try:
            outputs = Path(self.workspace.outputs).resolve()
        except SetpieceError:
            return None
        try:
            rel = Path(path).resolve().relative_to(outputs)
        except ValueError:
            return None
        if len(rel.parts) < 2:
            return None
        folder = rel.parts[0]
        try:
            return str(self.workspace.output(folder).name)
        except (SetpieceError, AttributeError):
            return folder

    # -- build / update / inventory ------------------------------------------------------
    def build(
        self, asset: str, *, output: str | Path | None = None, group: str = "build",
        before_setup: Callable[[], Any] | None = None,
    ) -> tuple[list[Container], Any]:
        """Build ``asset``'s scene from the installed packages, load it, run setup code
        (``before_setup`` runs in between: a batch build saves the scene there)."""
        from setpiece.hosts.setup_code import run_setups

        ws = self.workspace
        self.configure_usd()
        root, records = build_layer(ws, asset, output=output, group=group)
        containers = self.host.load(SceneLoad(str(root), tuple(records)))
        if isinstance(self.host, SceneData):
            self.host.set_scene_data(SCENE_ASSET_KEY, asset)
            self.host.set_scene_data("setpiece_root_layer", str(root))
        if before_setup is not None:
            before_setup()
        report = run_setups(
            self.host, containers, workspace=ws, no_setup=self.no_setup, logger=self.log
        )
        self.log.info("built %s: %d container(s); %s", asset, len(containers), report.summary())
        return containers, report

    def check(self, containers: Sequence[Container] | None = None) -> list[Change]:
        """Every container of the open scene (or ``containers``, already listed) against
        the installed version (the published versions are not asked: a container is
        ``not-installed``, ``outdated``, ``held`` or ``up-to-date``)."""
        installed = self.workspace.installed_assets()
        out = []
        for c in self.host.ls() if containers is None else containers:
            inst = installed.get(_norm(c.asset))
            version = None if inst is None else str(inst.version)
            # one version per asset in a workspace: never move past the requirement (held)
            state = container_status(c.record, version)
            out.append(
                Change(c.asset, c.node, c.version, version, state.status, c.record.requirement)
            )
        return out

    def update(
        self, changes: Sequence[Change] | None = None, *, assets: Sequence[str] = ()
    ) -> UpdateResult:
        """Update outdated containers to the installed version, then run the setup of those
        that updated. A container that fails to update is reported (one line each, in
        ``result.failed`` and the log) and keeps its version; the others go on."""
        from setpiece.hosts.setup_code import run_setups

        ws = self.workspace
        self.configure_usd()
        changes = list(changes) if changes is not None else self.check()
        wanted = {_norm(a) for a in assets}
        installed = ws.installed_assets()
        by_node = {c.node: c for c in self.host.ls()}
        updated: list[Container] = []
        failed: list[UpdateFailure] = []
        for change in changes:
            if change.status is not Status.OUTDATED or (wanted and _norm(change.asset) not in wanted):
                continue
            container = by_node.get(change.node)
            if container is None:
                continue
            target = str(change.installed_version or "")
            try:
                inst = installed[_norm(change.asset)]
                target = str(inst.version)
                record = replace(
                    container.record,
                    version=target,
                    layer=str(interface_layer(inst) or ""),
                )
                updated.append(self.host.update(container, record))
            except SetpieceError as exc:  # a user-fixable problem: one line, no traceback
                failure = UpdateFailure(
                    change.asset, change.node, change.scene_version, target, str(exc)
                )
                self.log.error("setpiece: %s", failure.line())
                failed.append(failure)
                continue
            except Exception as exc:  # unexpected: the traceback goes to the log
                error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                failure = UpdateFailure(
                    change.asset, change.node, change.scene_version, target, error
                )
                self.log.exception("setpiece: %s", failure.line())
                failed.append(failure)
                continue
            self.log.info("updated %s %s -> %s", change.asset, change.scene_version, target)
        report = run_setups(
            self.host, updated, workspace=ws, no_setup=self.no_setup, logger=self.log
        )
        return UpdateResult(updated, report, failed)

    def scene_opened(self) -> OpenCheck:
        """The scene-opened callback: check (and per ``on_open``, update) the containers."""
        scene = self.host.current_scene()
        try:
            ws = self.workspace
            policy = str(ws.config.settings.get("on_open", "report")).lower()
        except SetpieceError as exc:
            self.log.debug("setpiece: no workspace for %s: %s", scene, exc)
            result = OpenCheck(scene, None, "off")
            self.last_check = result
            return result
        if policy not in ON_OPEN_CHOICES:
            self.log.error(
                "setpiece: on_open = %r is not valid: set it to one of %s in setpiece.toml [settings]",
                policy,
                ", ".join(ON_OPEN_CHOICES),
            )
            policy = "report"
        asset = self.scene_asset()
        result = OpenCheck(scene, asset, policy)
        self.last_check = result
        if asset is None or policy == "off":
            return result
        if (policy == "update" and isinstance(self.host, OpenPolicy)
                and not self.host.may_update_on_open()):
            self.log.info("setpiece: on_open = update is not applied in this session (render or "
                          "batch): reporting only; set SETPIECE_UPDATE_ON_OPEN=1 to update")
            policy = result.policy = "report"
        result.changes = self.check()
        if not result.outdated:
            self.log.info("setpiece: %s", result.message())
            self._check_published(result)
            return result
        if policy == "update":
            done = self.update(result.changes)
            result.updated, result.setup, result.failed = done.updated, done.setup, done.failed
        elif policy == "ask" and isinstance(self.host, Asking):
            result.asked = bool(
                self.host.ask(
                    result.message() + "\nUpdate them now?",
                    lambda: self.update(result.changes),
                    "Update all",
                )
            )
        self.log.warning("setpiece: %s", result.message())
        if isinstance(self.host, Notifying) and not result.asked:
            self.host.notify(result.message())
        self._check_published(result)
        return result

    def _check_published(self, result: OpenCheck) -> None:
        """Newer published versions the containers admit: say them, offer the update."""
        if not hasattr(self.workspace, "available_versions"):
            return  # a stand-in workspace without repos
        try:
            from setpiece.hosts import published
        except ImportError:  # no setpiece-usd in this interpreter
            return
        try:
            result.published = published.published_updates(self.workspace, self.host.ls())
            if result.published:
                result.asked = published.offer(
                    self, result.asset, result.published, result.policy
                ) or result.asked
        except SetpieceError as exc:  # a repo unreachable: the installed check stands
            self.log.warning("setpiece: published versions not checked: %s", exc)

    def watch_events(self, seconds: float = 2.0) -> Any:
        """Watch new events while the app is open (see ``setpiece.hosts.published``)."""
        from setpiece.hosts.published import watch

        return watch(self, seconds)


# -- module-level API ---------------------------------------------------------------


def install(
    host: Host,
    workspace: Any = None,
    *,
    no_setup: bool | None = None,
    defer: bool = True,
) -> Runtime:
    """What each DCC's startup file calls: menu, scene-opened callback, deferred rest."""
    global _current
    start = time.perf_counter()
    if _current is not None and _current.host is not host:
        _current.host = host
    runtime = Runtime(host, workspace, no_setup=no_setup)
    from setpiece.core import telemetry  # cheap: OpenTelemetry is imported at the first span

    telemetry.set_host(runtime.host_name)
    host.install_menu(runtime.menu_commands())
    host.on_scene_opened(runtime.scene_opened)
    if defer:
        host.defer(runtime.finish_startup)
    _current = runtime
    runtime.startup_seconds = time.perf_counter() - start
    return runtime


def resolver_search_paths(ws: Any) -> list[str]:
    try:
        from setpiece.usd.resolver import search_paths
    except ImportError:
        return [str(ws.site_packages)]
    return search_paths(Path(ws.site_packages))


def interface_layer(installed: Any) -> Path | None:
    """The interface layer of an installed asset version, if it ships one."""
    package_dir = Path(installed.package_dir)
    try:
        from setpiece.usd.interface import find_interface
    except ImportError:
        pass
    else:
        return find_interface(package_dir)
    for name in ("asset.usda", "asset.usd", "asset.usdc"):
        if (package_dir / name).is_file():
            return package_dir / name
    return None


def build_layer(
    ws: Any, asset: str, *, output: str | Path | None = None, group: str = "build"
) -> tuple[Path, list[Any]]:
    """Build ``asset``'s USD scene with ``setpiece.usd`` and return (path, containers).

    The same scene ``setpiece scene build`` makes (default ``<workspace>/scenes/<Asset>.usda``):
    the generated layer is rebuilt, the user's stronger layer (the layout, overrides) is
    kept, and the containers are read back composed, so what the app loads is what the
    USD scene says.
    """
    try:
        from setpiece.usd.containers import read_containers
        from setpiece.usd.workspace import build_workspace_scene, default_scene_path
    except ImportError as exc:
        raise SetpieceError(f"scene build needs setpiece-usd ({exc}): install setpiece-usd")
    out = Path(output) if output else default_scene_path(ws, asset)
    result = build_workspace_scene(ws, f"{asset}[{group}]", out)
    for warning in result.warnings:
        log.warning("setpiece: %s", warning)
    records = list(result.containers) or read_containers(Path(result.scene))
    return Path(result.scene), records


def _find_workspace(workspace_cls: Any, host: Any) -> Any:
    if os.environ.get("SETPIECE_WORKSPACE"):
        return workspace_cls.find()
    scene = None
    try:
        scene = host.current_scene()
    except Exception:
        scene = None
    if scene:
        for folder in Path(scene).resolve().parents:
            if (folder / "setpiece.toml").is_file():
                return workspace_cls(folder)
    return workspace_cls.find()


# -- built-in menu commands (each takes the Runtime) ------------------------------------


def build_command(runtime: Runtime) -> Any:
    asset = runtime.scene_asset()
    if asset is None:
        raise SetpieceError(
            "this scene belongs to no output asset: save it under outputs/<Asset>/ of the "
            "workspace, or run 'setpiece batch HOST build ASSET -o FILE'"
        )
    return runtime.build(asset)


def update_command(runtime: Runtime) -> Any:
    result = runtime.update()
    message = f"updated {len(result.updated)} container(s); {result.setup.summary()}"
    if result.failed:
        message += f"; {len(result.failed)} could not be updated:\n" + "\n".join(
            f.line() for f in result.failed
        )
        if isinstance(runtime.host, Notifying):
            runtime.host.notify(message)
    runtime.log.warning("setpiece: %s", message)
    return result.updated


def report_command(runtime: Runtime) -> Path:
    """**Report a problem**: what ``setpiece report`` writes (the last error, the recent
    actions and events, versions, configuration, environment with secrets removed), plus this
    app and its version, to ``<workspace>/.setpiece/reports/`` (``$SETPIECE_HOME/reports/``
    outside a workspace); the artist is told where to find it. Nothing is sent anywhere."""
    from setpiece.core import report

    root = runtime._workspace_root()
    try:
        version = str(runtime.host.app_version())
    except Exception as exc:  # the report is for when things are broken: say, go on
        version = f"unknown ({type(exc).__name__})"
    path, _manifest = report.write_in(root, app={"name": runtime.host_name, "version": version})
    message = f"Problem report written: {path}\nAttach this file to your ticket."
    runtime.log.warning("setpiece: %s", message)
    notify = getattr(runtime.host, "notify", None)
    if callable(notify):
        notify(message)
    return path


def inventory_command(runtime: Runtime) -> Any:
    try:
        ui = importlib.import_module("setpiece.hosts.ui.inventory")
    except ImportError:
        ui = None
    show = getattr(ui, "show", None)
    if callable(show):
        return show(runtime)
    changes = runtime.check()
    text = "\n".join(c.line() for c in changes) or "no containers in this scene"
    runtime.log.warning("setpiece inventory:\n%s", text)
    if isinstance(runtime.host, Notifying):
        runtime.host.notify(text)
    return changes


__all__ = [
    "Change",
    "OpenCheck",
    "Runtime",
    "UpdateFailure",
    "UpdateResult",
    "current",
    "install",
    "register_command",
]
