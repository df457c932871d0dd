"""The publish report: what each plugin did to each instance, in plain data.

pyblish appends one result dict per (plugin, instance) to ``context.data["results"]`` and
never raises; :func:`from_context` turns them into a :class:`PublishReport` that the API
returns, the CLI prints (``--json`` too) and the in-app window shows. A failed publish
raises :class:`PublishFailed`, which carries the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.publish.orders import STAGES as STAGES
from setpiece.hosts.publish.orders import stage_of as stage_of


@dataclass
class Message:
    level: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"level": self.level, "message": self.message}


@dataclass
class ItemResult:
    """One plugin on one instance (or on the context)."""

    plugin: str
    label: str
    order: float
    instance: str | None
    status: str  # success | failed | not-run
    duration_ms: float = 0.0
    messages: list[Message] = field(default_factory=list)
    error: str = ""
    traceback: str = ""
    source: str = ""
    actions: list[str] = field(default_factory=list)

    @property
    def stage(self) -> str:
        return stage_of(self.order)

    def to_json(self) -> dict[str, Any]:
        return {
            "plugin": self.plugin,
            "label": self.label,
            "order": self.order,
            "stage": self.stage,
            "instance": self.instance,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 1),
            "messages": [m.to_json() for m in self.messages],
            "error": self.error or None,
            "traceback": self.traceback or None,
            "source": self.source,
            "actions": list(self.actions),
        }


@dataclass
class PublishReport:
    asset: str | None = None
    version: str | None = None
    repo: str | None = None
    host: str = ""
    scene: str | None = None
    items: list[ItemResult] = field(default_factory=list)
    #: the order the run stopped before (a border), and why
    stopped_before: float | None = None
    stop_reason: str = ""
    #: problems found before any plugin ran (a tool asset's plugins failed to import...)
    load_errors: list[str] = field(default_factory=list)
    staging: str | None = None
    published: bool = False
    wheel: str | None = None
    resume: str | None = None

    @property
    def failed(self) -> list[ItemResult]:
        return [i for i in self.items if i.status == "failed"]

    @property
    def success(self) -> bool:
        return not self.failed and not self.load_errors and self.stopped_before is None

    def summary(self) -> str:
        what = f"{self.asset or '?'} {self.version or ''}".strip()
        if self.success:
            where = f" to {self.repo}" if self.repo else ""
            return f"published {what}{where}" if self.published else f"{what}: publish passed"
        first = self.failed[0] if self.failed else None
        if self.load_errors:
            why = self.load_errors[0]
        elif first is not None:
            why = f"{first.label}" + (f" on {first.instance}" if first.instance else "")
            why += f": {first.error}"
        else:
            why = self.stop_reason
        return f"publish of {what} failed: {why}"

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "version": self.version,
            "repo": self.repo,
            "host": self.host,
            "scene": self.scene,
            "success": self.success,
            "published": self.published,
            "wheel": self.wheel,
            "stopped_before": self.stopped_before,
            "stop_reason": self.stop_reason or None,
            "load_errors": list(self.load_errors),
            "staging": self.staging,
            "resume": self.resume,
            "summary": self.summary(),
            "results": [i.to_json() for i in self.items],
        }

    def format_text(self, verbose: bool = False) -> str:
        """The report as an artist reads it in a console."""
        lines = [f"setpiece publish: {self.asset or '?'} {self.version or ''}".rstrip()]
        if self.scene:
            lines.append(f"  scene: {self.scene}")
        for err in self.load_errors:
            lines.append(f"  ERROR {err}")
        stage = None
        for item in self.items:
            if item.stage != stage:
                stage = item.stage
                lines.append(f"[{stage}]")
            mark = {"success": "ok  ", "failed": "FAIL", "not-run": "skip"}.get(item.status, "?   ")
            where = f" [{item.instance}]" if item.instance else ""
            took = f" ({item.duration_ms:.0f} ms)" if item.status != "not-run" else ""
            lines.append(f"  {mark} {item.label}{where}{took}")
            if item.status == "failed":
                for line in item.error.splitlines() or [""]:
                    lines.append(f"       {line}")
                if item.actions:
                    lines.append(f"       fix: {', '.join(item.actions)}")
            for msg in item.messages:
                if verbose or msg.level in ("WARNING", "ERROR", "CRITICAL") or (
                    item.status != "success"
                ):
                    lines.append(f"       {msg.level.lower()}: {msg.message}")
                elif msg.level == "INFO" and item.stage == "integrate":
                    lines.append(f"       {msg.message}")
            if verbose and item.traceback:
                lines.extend("       " + t for t in item.traceback.splitlines())
        if self.stopped_before is not None:
            lines.append(f"stopped before order {self.stopped_before:g}: {self.stop_reason}")
        if self.staging and not self.published:
            lines.append(f"staged files kept in {self.staging}")
        if self.resume:
            lines.append(f"to finish it: {self.resume}")
        lines.append(("OK: " if self.success else "FAILED: ") + self.summary())
        return "\n".join(lines)


class PublishFailed(SetpieceError):
    """A publish that did not succeed; ``report`` says what failed, where and how to fix it."""

    def __init__(self, report: PublishReport) -> None:
        super().__init__(report.summary())
        self.report = report


def _message(record: Any) -> Message:
    if isinstance(record, logging.LogRecord):
        return Message(record.levelname, record.getMessage())
    return Message("INFO", str(record))


def _label(plugin: Any) -> str:
    return str(getattr(plugin, "label", None) or plugin.__name__)


def result_item(result: dict[str, Any], sources: dict[Any, str] | None = None) -> ItemResult:
    plugin = result["plugin"]
    instance = result.get("instance")
    error = result.get("error")
    actions = [
        str(getattr(a, "label", None) or a.__name__)
        for a in getattr(plugin, "actions", []) or []
        if getattr(a, "on", "all") in ("failed", "all", "failedOrWarning")
    ]
    tb = ""
    if error is not None:
        tb = str(getattr(error, "formatted_traceback", "") or "")
    return ItemResult(
        plugin=plugin.__name__,
        label=_label(plugin),
        order=float(plugin.order),
        instance=None if instance is None else str(getattr(instance, "name", instance)),
        status="failed" if error is not None else "success",
        duration_ms=float(result.get("duration") or 0.0),
        messages=[_message(r) for r in result.get("records", [])],
        error="" if error is None else (str(error) or type(error).__name__),
        traceback=tb,
        source=(sources or {}).get(plugin, ""),
        actions=actions if error is not None else [],
    )


def from_context(
    context: Any,
    plugins: list[Any],
    *,
    sources: dict[Any, str] | None = None,
    stopped_before: float | None = None,
    stop_reason: str = "",
) -> PublishReport:
    """Build the report from a processed pyblish context."""
    data = context.data
    report = PublishReport(
        asset=data.get("asset"),
        version=data.get("version"),
        repo=data.get("repo"),
        host=str(data.get("hostName", "") or ""),
        scene=data.get("currentFile"),
        stopped_before=stopped_before,
        stop_reason=stop_reason,
    )
    ran: set[Any] = set()
    for result in data.get("results", []):
        if result.get("action"):
            continue
        report.items.append(result_item(result, sources))
        ran.add(result["plugin"])
    if stopped_before is not None:
        for plugin in plugins:
            if plugin not in ran and plugin.order >= stopped_before:
                report.items.append(
                    ItemResult(
                        plugin=plugin.__name__,
                        label=_label(plugin),
                        order=float(plugin.order),
                        instance=None,
                        status="not-run",
                        source=(sources or {}).get(plugin, ""),
                    )
                )
    report.items.sort(key=lambda i: i.order)  # stable: keeps the run order within an order
    staging = data.get("staging")
    report.staging = str(staging.path) if staging is not None else None
    report.published = bool(data.get("published"))
    report.wheel = data.get("wheelName")
    return report
