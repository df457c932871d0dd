"""The publisher, without Qt: what a publish of the open scene would publish (the
collectors' instances, the plug-ins that will run), then the publish itself with the
artist's choices (instances turned off, a comment) and repairs.

The publish is :func:`setpiece.hosts.publish.run.publish_scene`, the same run as the
menu's *Publish* and ``setpiece batch HOST publish``; the collection shown first is the
same discovery and collectors, run alone (nothing is exported, locked or written).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from setpiece.core.errors import SetpieceError

#: pyblish-base's own collectors (found on its default plug-in path): they record the
#: date, the user and the current folder, which an artist has nothing to do with. Hidden
#: in the window unless asked for ("Show housekeeping collectors").
HOUSEKEEPING = frozenset({"CollectCurrentDate", "CollectCurrentUser",
                          "CollectCurrentWorkingDirectory"})


@dataclass
class InstanceInfo:
    """One thing the collectors found to publish."""

    name: str
    family: str = ""
    objects: int | None = None  # how many objects it holds, when the collector says


@dataclass
class PluginInfo:
    """One plug-in of the run."""

    name: str  # class name (what the report's items carry)
    label: str
    order: float
    stage: str
    housekeeping: bool = False
    repairable: bool = False
    optional: bool = False


@dataclass
class Plan:
    """What a publish of the open scene would do."""

    asset: str | None = None
    version: str | None = None
    repo: str | None = None
    instances: list[InstanceInfo] = field(default_factory=list)
    plugins: list[PluginInfo] = field(default_factory=list)
    #: collection problems, each in full ("label: message")
    errors: list[str] = field(default_factory=list)

    def headline(self) -> str:
        if not self.asset:
            return "nothing to publish yet"
        where = f" to {self.repo}" if self.repo else ""
        return f"{self.asset} {self.version or ''}{where}".replace("  ", " ")


def _workspace(host: Any, ws: Any) -> Any:
    from setpiece.hosts.publish.run import _workspace_for

    return _workspace_for(host, ws)


def plugin_infos(plugins: list[Any]) -> list[PluginInfo]:
    from setpiece.hosts.publish.actions import repairable
    from setpiece.hosts.publish.report import stage_of

    return [
        PluginInfo(p.__name__, str(getattr(p, "label", None) or p.__name__), float(p.order),
                   stage_of(float(p.order)), p.__name__ in HOUSEKEEPING, bool(repairable(p)),
                   bool(getattr(p, "optional", False)))
        for p in plugins
    ]


def plan(host: Any, ws: Any = None, *, repo: str | None = None) -> Plan:
    """Run the collectors of the publish alone and say what they found."""
    import pyblish.api
    import pyblish.util

    from setpiece.hosts.publish.borders import BorderTest
    from setpiece.hosts.publish.discovery import discover
    from setpiece.hosts.publish.run import _isolated, support_for
    from setpiece.hosts.publish.session import KEY, Session

    workspace = _workspace(host, ws)
    found = discover(host, workspace)
    out = Plan(plugins=plugin_infos(found.plugins), errors=list(found.errors))
    session = Session(workspace, host, support_for(host, workspace), repo_name=repo,
                      in_app=True)
    context = pyblish.api.Context()
    context.data[KEY] = session
    collectors = [p for p in found.plugins if p.order < pyblish.api.CollectorOrder + 0.5]
    with _isolated(BorderTest([], context), None):
        pyblish.util.collect(context, plugins=collectors)
    for result in context.data.get("results", []):
        error = result.get("error")
        if error is not None:
            plugin = result["plugin"]
            label = getattr(plugin, "label", None) or plugin.__name__
            out.errors.append(f"{label}: {' '.join(str(error).split())}")
    for instance in context:
        objects = instance.data.get("objects")
        out.instances.append(InstanceInfo(
            instance.name, str(instance.data.get("family", "")),
            len(objects) if isinstance(objects, (list, tuple)) else None,
        ))
    out.asset, out.version = session.asset_name, session.planned_version
    out.repo = context.data.get("repo")
    return out


def publish(host: Any, ws: Any = None, *, comment: str = "", off: Collection[str] = (),
            repo: str | None = None, progress: Callable[[Any], None] | None = None) -> Any:
    """Publish the open scene with the artist's choices: the ``off`` instances are not
    published, ``comment`` is kept with the version. Returns the PublishReport (never
    raises for a failed publish: the window shows the report)."""
    from setpiece.hosts.publish.report import PublishReport
    from setpiece.hosts.publish.run import publish_scene

    workspace = _workspace(host, ws)
    try:
        return publish_scene(host, workspace, repo=repo, comment=comment.strip() or None,
                             skip=tuple(off), in_app=True, progress=progress,
                             raise_on_failure=False)
    except SetpieceError as exc:  # no workspace, a bad setting: still a report
        return PublishReport(host=str(getattr(host, "name", "")), load_errors=[str(exc)])


def repair(report: Any, plugin: str) -> list[str]:
    """Run ``plugin``'s Repair action on the open scene (it failed in ``report``)."""
    from setpiece.hosts.publish.run import repair as run_repair

    done = run_repair(report, only=plugin)
    if not done:
        raise SetpieceError(f"{plugin} has nothing to repair: publish again")
    return done


def finish(report: Any, ws: Any) -> Any:
    """Finish a publish that stopped during integration (what ``publish --resume`` does),
    from its staging folder: the report of that run."""
    from setpiece.hosts.publish.resume import resume

    if not report.asset:
        raise SetpieceError("this publish has no asset to finish")
    return resume(ws, report.asset, report.repo, raise_on_failure=False)


def details(report: Any, plugin: str) -> str:
    """Everything the report says about ``plugin``: each instance's status, the full error,
    the traceback and the log, in that order (nothing cut off)."""
    parts: list[str] = []
    for item in report.items:
        if item.plugin != plugin:
            continue
        where = f" on {item.instance}" if item.instance else ""
        parts.append(f"{item.label}{where}: {item.status} ({item.duration_ms:.0f} ms)")
        if item.error:
            parts.append(item.error)
        if item.actions:
            parts.append("can be repaired: press Repair")
        if item.messages:
            parts.append("log:")
            parts.extend(f"  {m.level.lower()}: {m.message}" for m in item.messages)
        if item.traceback:
            parts.append(item.traceback.rstrip())
        parts.append("")
    return "\n".join(parts).strip()
