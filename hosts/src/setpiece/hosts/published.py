"""In the app: containers whose requirement admits a newer **published** version.

The scene-opened check (``Runtime.scene_opened``) compares containers with what is
installed; this module looks further, at the workspace's repos: for each container, the
newest version published in any repo that its requirement admits (push: any newer one;
semi-push: inside its bounds; a pull pin: never), newer than the scene's. The runtime
says so (a status message: ``host.notify``, the log when headless), offers the update
(``host.ask``: a popup button in the UI, never a modal; headless there is no one to ask)
and, with ``on_open = "update"``, installs and updates at once.

While the app is open, :class:`EventWatch` reads new events (the bus when configured,
else the repo logs) and repeats the check when one names an asset of the scene.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Asking, Notifying, Timers

log = logging.getLogger("setpiece.hosts")

#: events that can make a newer version appear
EVENTS = ("published", "promoted")


@dataclass(frozen=True)
class PublishedUpdate:
    """A container whose requirement admits a newer published version."""

    asset: str
    node: str
    scene_version: str
    installed_version: str | None
    published_version: str
    requirement: str

    def line(self) -> str:
        req = f"'{self.requirement}'" if self.requirement else "its requirement"
        return (
            f"{self.asset}: {self.published_version} is published ({req} admits it), "
            f"{self.scene_version} in the scene"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "node": self.node,
            "scene_version": self.scene_version,
            "installed_version": self.installed_version,
            "published_version": self.published_version,
            "requirement": self.requirement,
        }


def published_updates(ws: Any, containers: Sequence[Any]) -> list[PublishedUpdate]:
    """Every container with a newer published version its requirement admits: the
    ``target`` of :func:`setpiece.usd.status.container_status` when it is newer than both
    the installed and the scene's version (an asset not installed is compared with the
    scene's version)."""
    from setpiece.usd.closure import normalize
    from setpiece.usd.status import container_status, parse_version

    installed = ws.installed_assets()
    available: dict[str, list[str]] = {}
    out = []
    for c in containers:
        key = normalize(c.asset)
        inst = installed.get(key)
        if inst is not None and getattr(inst, "editable", False):
            continue  # its version is the one being edited in outputs/
        if key not in available:
            try:
                available[key] = list(ws.available_versions(c.asset))
            except SetpieceError as exc:
                log.debug("setpiece: versions of %s unknown: %s", c.asset, exc)
                available[key] = []
        inst_version = str(inst.version) if inst is not None else None
        state = container_status(c.record, inst_version or c.version, available[key])
        target, scene = parse_version(state.target), parse_version(c.version)
        if target is None or scene is None or target <= scene or state.target == inst_version:
            continue  # nothing newer, or installed already: the scene-opened check says it
        out.append(PublishedUpdate(c.asset, c.node, c.version, inst_version, str(state.target),
                                   c.record.requirement))
    return out


def message(asset: str | None, updates: Sequence[PublishedUpdate]) -> str:
    head = f"{asset or 'this scene'}: {len(updates)} container(s) can update to a published version"
    return "\n".join([head, *(u.line() for u in updates)])


def apply(runtime: Any, updates: Sequence[PublishedUpdate]) -> Any:
    """Install the published versions, then update those containers (``Runtime.update``)."""
    if not updates:
        return None
    wanted: dict[str, str] = {}
    for u in updates:
        wanted.setdefault(u.asset, u.published_version)
    runtime.workspace.install([f"{a}=={v}" for a, v in sorted(wanted.items())], record=False)
    return runtime.update(assets=sorted(wanted))


def offer(runtime: Any, asset: str | None, updates: Sequence[PublishedUpdate],
          policy: str) -> bool:
    """Say what can update and, by ``policy``, offer it (``ask``) or do it (``update``).
    Returns True when the artist was asked (a popup button; never a blocking dialog)."""
    if not updates:
        return False
    text = message(asset, updates)
    if policy == "update":
        done = apply(runtime, updates)
        text += f"\nupdated {len(done.updated) if done is not None else 0} container(s)"
    elif policy == "ask" and _ask(runtime, text, lambda: apply(runtime, updates)):
        return True
    runtime.log.warning("setpiece: %s", text)
    if _notice(runtime, text, None):
        return False
    if isinstance(runtime.host, Notifying):
        runtime.host.notify(text)
    return False


def _ask(runtime: Any, text: str, on_update: Callable[[], Any]) -> bool:
    """Offer the update: the notice's button where it shows, else the host's ``ask``."""
    if _notice(runtime, text, on_update):
        return True
    return isinstance(runtime.host, Asking) and bool(runtime.host.ask(
        text + "\nInstall and update them now?", on_update, "Update to published"))


def _notice(runtime: Any, text: str, on_update: Callable[[], Any] | None) -> bool:
    """The notice that does not block the app (setpiece.hosts.ui.notice), where the app's
    UI is Qt; False where it cannot show (headless, Blender, no Qt): the host says it."""
    try:
        from setpiece.hosts.ui.notice import can_show, show_notice
    except ImportError:
        return False
    if not can_show(runtime.host):
        return False
    show_notice(runtime.host, text, action="Update to published" if on_update else "",
                on_action=on_update)
    return True


class EventWatch:
    """New events while the app is open: the bus (``[events] bus``) or the repo logs.

    ``poll()`` reads what arrived since the last call (never blocks) and, when an event
    names an asset of the open scene, runs the published check and says it. A host with
    an ``every(seconds, fn)`` hook (Blender's timers) calls it periodically.
    """

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        ws = runtime.workspace
        self._bus: Any = None
        self._last_sid: str | None = None
        self._logs: list[tuple[Any, Any]] = []
        if ws.config.section("events").get("bus"):
            from setpiece.core.bus import for_workspace

            self._bus = for_workspace(ws, connect_timeout=0.2)
            try:
                last = self._bus.client.xrevrange(self._bus.stream, count=1)
                self._last_sid = last[0][0].decode() if last else "0-0"
            except Exception as exc:  # the bus down: read from the start when it returns
                log.info("setpiece: bus unreachable (%s): events are read when it returns", exc)
                self._last_sid = None
        else:
            from setpiece.core.eventlog import Cursor, read, repo_log

            for repo in ws.repos().values():
                log_ = repo_log(ws, repo)
                cursor = Cursor()
                for ev in read(log_, cursor):  # what exists now is not news
                    cursor.advance(ev)
                self._logs.append((log_, cursor))

    def events(self) -> list[dict[str, Any]]:
        if self._bus is not None:
            return self._bus_events()
        from setpiece.core.eventlog import read

        out = []
        for log_, cursor in self._logs:
            for ev in read(log_, cursor, names=EVENTS):
                cursor.advance(ev)
                out.append(ev.to_dict())
        return out

    def _bus_events(self) -> list[dict[str, Any]]:
        import json

        try:
            start = self._last_sid or "0-0"
            reply = self._bus.client.xread({self._bus.stream: start}, count=1000)
        except Exception as exc:
            log.debug("setpiece: bus unreachable: %s", exc)
            return []
        out = []
        for _stream, messages in reply or []:
            for sid, fields in messages:
                self._last_sid = sid.decode() if isinstance(sid, bytes) else str(sid)
                try:
                    data = json.loads(fields[b"data"])
                except (KeyError, ValueError):
                    continue
                if data.get("event") in EVENTS:
                    out.append(data)
        return out

    def poll(self) -> list[PublishedUpdate]:
        """Read new events; if one names an asset of the scene, check and say it."""
        from setpiece.usd.closure import normalize

        events = self.events()
        if not events:
            return []
        rt = self.runtime
        containers = rt.host.ls()
        names = {normalize(c.asset) for c in containers}
        if not any(normalize(str(e.get("asset") or e.get("name") or "")) in names for e in events):
            return []
        updates = published_updates(rt.workspace, containers)
        policy = str(rt.workspace.config.settings.get("on_open", "report")).lower()
        offer(rt, rt.scene_asset(), updates, "update" if policy == "update" else
              ("ask" if policy == "ask" else "report"))
        return updates


def watch(runtime: Any, seconds: float = 2.0) -> EventWatch | None:
    """Start watching events for the open app (with the host's ``every`` hook)."""
    try:
        w = EventWatch(runtime)
    except SetpieceError as exc:
        log.info("setpiece: not watching events: %s", exc)
        return None
    if isinstance(runtime.host, Timers):
        def tick() -> None:
            try:
                w.poll()
            except Exception:  # never break the app's timer
                log.exception("setpiece: event watch failed")

        runtime.host.every(seconds, tick)
    return w
