"""Publishing from inside the app, on pyblish-base.

    from setpiece.hosts.publish import publish_scene, run_in_app, repair, resume
    report = publish_scene(host)            # raises PublishFailed(report) when it fails
    report = run_in_app(host)               # what the menu's Publish entry runs

Collect (which output asset, what to publish) -> validate -> extract (to a staging folder
in the workspace) -> integrate (files into the asset, interface layer, version, wheel,
push, publish, ``published`` event). See docs/publish.md.

Nothing here imports pyblish, pxr, bpy or Qt at import time.
"""

from __future__ import annotations

from typing import Any

from setpiece.hosts.protocol import Host, Notifying

__all__ = [
    "PublishFailed",
    "PublishReport",
    "publish",
    "publish_scene",
    "repair",
    "resume",
    "run_in_app",
    "show_report",
]

_LAZY = {
    "PublishFailed": "setpiece.hosts.publish.report",
    "PublishReport": "setpiece.hosts.publish.report",
    "publish_scene": "setpiece.hosts.publish.run",
    "repair": "setpiece.hosts.publish.run",
    "resume": "setpiece.hosts.publish.resume",
    "show_report": "setpiece.hosts.publish.ui",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)


def run_in_app(host: Host, ws: Any = None, *, asset: str | None = None, show: bool = True) -> Any:
    """Publish the open scene and show the report (Qt window, else console and the host's
    notification). Never raises for a failed publish: the artist reads the report."""
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.publish.report import PublishReport
    from setpiece.hosts.publish.run import publish_scene, repair
    from setpiece.hosts.publish.ui import show_report

    try:
        report = publish_scene(host, ws, asset=asset, raise_on_failure=False)
    except SetpieceError as exc:  # no workspace, bad config...: still a report
        report = PublishReport(host=host.name, load_errors=[str(exc)])
    if host.is_headless():
        # no window in a headless session (blender -b, mayapy, hython, nuke -t): creating a
        # QApplication there with no display aborts the app (exit 134); the report goes to
        # the console, once
        if show:
            import sys

            print(report.format_text(), file=sys.stderr)
        return report
    if isinstance(host, Notifying):
        host.notify(("OK: " if report.success else "FAILED: ") + report.summary())
    if show:
        def again() -> None:
            repair(report)
            run_in_app(host, ws, asset=asset, show=show)

        parent = host.main_window()
        show_report(report, parent, on_repair=again if getattr(report, "_context", None) else None)
    return report


def publish(runtime: Any) -> Any:
    """The ``Publish`` entry of the in-app ``setpiece`` menu (gets the Runtime): the
    publisher window (instances to tick, a comment, live progress, Repair); headless or
    without Qt, the publish runs at once and the report goes to the console."""
    from setpiece.hosts.ui.publisher import show

    return show(runtime)
