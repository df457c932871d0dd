"""Where publish plugins come from, in increasing precedence (a later plugin with the same
class name replaces an earlier one, so a studio can override any of setpiece's):

1. setpiece's own (:mod:`setpiece.hosts.publish.plugins`);
2. the host adapter's: ``host.publish_plugins()`` when the adapter has it, else setpiece's
   module for that host (Blender: :mod:`setpiece.hosts.publish.blender`);
3. installed tool assets, through the entry point group ``setpiece.publish`` of the
   workspace's assets (so studio validators are versioned assets) and of the
   environment setpiece runs in. A target is a plugin class, a list of them, a callable
   returning them, or a module (every plugin in it);
4. ``PYBLISHPLUGINPATH`` and pyblish's registered paths and plugins.

Plugins are filtered by host (their ``hosts``) and ``[publish] exclude`` (class names)
in setpiece.toml. Safe mode (``SETPIECE_SAFE_MODE=1``) skips tool assets' plugins.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from setpiece.hosts.protocol import Host, Publishing
from setpiece.hosts.publish.orders import is_collector

GROUP = "setpiece.publish"
HOST_MODULES = {"blender": "setpiece.hosts.publish.blender"}


@dataclass
class Discovered:
    plugins: list[Any] = field(default_factory=list)
    sources: dict[Any, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, plugins: list[Any], source: str) -> None:
        for plugin in plugins:
            for old in [p for p in self.plugins if p.__name__ == plugin.__name__]:
                self.plugins.remove(old)
                self.sources.pop(old, None)
            self.plugins.append(plugin)
            self.sources[plugin] = source


def _is_plugin(obj: Any) -> bool:
    import pyblish.plugin

    return (
        inspect.isclass(obj)
        and issubclass(obj, pyblish.plugin.Plugin)
        and obj not in (pyblish.plugin.ContextPlugin, pyblish.plugin.InstancePlugin)
        and not obj.__name__.startswith("_")
    )


def plugins_from(obj: Any) -> list[Any]:
    """Plugins from an entry point target (class, list, callable or module)."""
    import pyblish.plugin

    if isinstance(obj, ModuleType):
        # not pyblish.plugin.plugins_from_module: it drops plugins of hosts that were not
        # registered with pyblish.api.register_host (setpiece filters by host itself)
        return [
            v for k, v in sorted(vars(obj).items())
            if not k.startswith("_") and _is_plugin(v) and pyblish.plugin.plugin_is_valid(v)
            and getattr(v, "__module__", None) == obj.__name__
        ]
    if _is_plugin(obj):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [p for p in obj if _is_plugin(p)]
    if callable(obj):
        return plugins_from(list(obj()))
    return []


def _load_target(target: str) -> Any:
    from setpiece.core.targets import load

    return load(target)


def host_plugins(host: Host) -> list[Any]:
    if isinstance(host, Publishing):
        return plugins_from(host.publish_plugins)
    module = HOST_MODULES.get(host.name)
    if module:
        return list(importlib.import_module(module).PLUGINS)
    return []


def tool_plugins(ws: Any, found: Discovered) -> None:
    from importlib.metadata import entry_points

    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.setup_code import ensure_importable, safe_mode

    if safe_mode(None):
        return
    seen: set[str] = set()
    if ws is not None:
        try:
            assets = ws.installed_assets()
        except SetpieceError:
            assets = {}
        if assets:
            ensure_importable(ws)
        for asset in assets.values():
            for name, target in sorted(asset.entry_point_groups().get(GROUP, {}).items()):
                seen.add(target)
                source = f"{asset.name} {asset.version}"
                try:
                    found.add(plugins_from(_load_target(target)), source)
                except Exception as exc:
                    found.errors.append(
                        f"publish plugins {name} = {target} of {source} cannot be loaded "
                        f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}): fix or "
                        f"reinstall {asset.name}, or set SETPIECE_SAFE_MODE=1 to skip tool assets"
                    )
    for ep in entry_points(group=GROUP):
        dist = getattr(ep, "dist", None)
        is_asset = dist is not None and any(e.group == "setpiece.asset" for e in dist.entry_points)
        if ep.value in seen or is_asset:  # assets count only from this workspace (above)
            continue
        try:
            found.add(plugins_from(ep.load()), f"entry point {ep.name}")
        except Exception as exc:
            found.errors.append(
                f"publish plugins {ep.name} = {ep.value} cannot be loaded ({exc}): reinstall it"
            )


def discover(host: Any, ws: Any = None, *, extra: list[Any] | None = None) -> Discovered:
    import pyblish.api
    import pyblish.logic

    from setpiece.hosts.publish import plugins as builtin

    found = Discovered()
    own = list(builtin.BUILTIN)
    hp = host_plugins(host) if host is not None else []
    if any(is_collector(p.order) for p in hp):
        own.remove(builtin.CollectScene)  # the host collects its own instances
    found.add(own, "setpiece")
    if hp:
        found.add(hp, f"host {host.name if host is not None else ''}")
    tool_plugins(ws, found)
    found.add(list(pyblish.api.discover()), "PYBLISHPLUGINPATH")
    if extra:
        found.add(list(extra), "given")
    host_name = host.name if host is not None else ""
    keep = found.plugins
    if host_name:
        keep = pyblish.logic.plugins_by_host(keep, host_name)
    exclude: set[str] = set()
    if ws is not None:
        exclude = {str(n) for n in ws.config.section("publish").get("exclude", [])}
    found.plugins = sorted((p for p in keep if p.__name__ not in exclude), key=lambda p: p.order)
    return found
