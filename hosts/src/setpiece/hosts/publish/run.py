"""Run a publish on pyblish-base, isolated, with borders, and turn it into a report.

pyblish never raises and stops silently; :func:`publish_scene` reads every result, says
where and why it stopped, and raises :class:`PublishFailed` (a ``SetpieceError``
carrying the report) when anything failed, unless ``raise_on_failure=False``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Host
from setpiece.hosts.publish.borders import (
    BorderTest,
    borders_from_config,
    installed_test,
    parse_border,
)
from setpiece.hosts.publish.report import PublishFailed, PublishReport, from_context, result_item
from setpiece.hosts.publish.session import KEY, Session

log = logging.getLogger("setpiece.publish")

Progress = Callable[[Any], None]


def _workspace_for(host: Any, ws: Any) -> Any:
    from setpiece.core.workspace import Workspace

    if ws is None:
        from setpiece.hosts.runtime import _find_workspace

        return _find_workspace(Workspace, host)
    if isinstance(ws, Workspace):
        return ws
    return Workspace(ws)


def support_for(host: Host, ws: Any) -> Any:
    if host.name == "blender":
        from setpiece.hosts.publish.blender import BlenderSupport

        return BlenderSupport(host, ws)
    from setpiece.hosts.publish.support import HostSupport

    return HostSupport(host, ws)


@contextlib.contextmanager
def _isolated(test: BorderTest, progress: Progress | None) -> Iterator[None]:
    """pyblish's globals (stop test, callbacks, its own noisy loggers) for one run only;
    pyblish prints errors to stdout, which belongs to ``--json``: send it to stderr."""
    import pyblish.api

    def on_processed(result: Any) -> None:
        _trace_plugin(result)
        if progress is not None:
            try:
                progress(result_item(result))
            except Exception:  # progress display never breaks a publish
                log.debug("progress callback failed", exc_info=True)

    quiet = [logging.getLogger(n) for n in ("pyblish.plugin", "pyblish.util", "pyblish.logic")]
    levels = [lg.level for lg in quiet]
    with installed_test(test):
        pyblish.api.register_callback("pluginProcessed", on_processed)
        for lg in quiet:
            lg.setLevel(logging.CRITICAL)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                yield
        finally:
            for lg, level in zip(quiet, levels, strict=False):
                lg.setLevel(level)
            pyblish.api.deregister_callback("pluginProcessed", on_processed)


def _trace_plugin(result: Any) -> None:
    """One ``pyblish.plugin`` span per plug-in run (pyblish times it; the span ends now)."""
    from setpiece.core import telemetry

    try:
        plugin = result.get("plugin")
        instance = result.get("instance")
        error = result.get("error")
        telemetry.past_span(
            "pyblish.plugin", float(result.get("duration") or 0.0) / 1000.0,
            error=f"{type(error).__name__}: {error}" if error is not None else None,
            plugin=getattr(plugin, "__name__", str(plugin)),
            order=float(getattr(plugin, "order", 0.0)),
            instance=str(instance) if instance is not None else None)
    except Exception:  # telemetry never breaks a publish
        log.debug("tracing a plug-in failed", exc_info=True)


def run_plugins(
    session: Session,
    plugins: Sequence[Any],
    *,
    sources: dict[Any, str] | None = None,
    borders: Sequence[str] | None = None,
    load_errors: Sequence[str] = (),
    progress: Progress | None = None,
    raise_on_failure: bool = True,
    context: Any = None,
) -> PublishReport:
    """Process ``plugins`` over a fresh context holding ``session``; return the report
    (traced: a ``pyblish.publish`` span, and a ``pyblish.plugin`` span per plug-in run)."""
    from setpiece.core import telemetry

    host = session.host.name if session.host is not None else ""
    with telemetry.span("pyblish.publish", asset=session.asset_name, repo=session.repo_name,
                        app=host or None, plugins=len(plugins)) as span:
        report = _run_plugins(session, plugins, sources=sources, borders=borders,
                              load_errors=load_errors, progress=progress, context=context)
        span.set(asset=report.asset or None, version=report.version or None,
                 published=bool(report.published), failed=len(report.failed),
                 stopped_before=report.stopped_before)
        if not report.success:
            span.fail(report.summary(), "publish")
    if not report.success and raise_on_failure:
        raise PublishFailed(report)
    return report


def _run_plugins(
    session: Session,
    plugins: Sequence[Any],
    *,
    sources: dict[Any, str] | None,
    borders: Sequence[str] | None,
    load_errors: Sequence[str],
    progress: Progress | None,
    context: Any,
) -> PublishReport:
    import pyblish.api

    from setpiece.hosts.publish import batches

    ws = session.ws
    border_list = (
        [parse_border(b) for b in borders] if borders is not None
        else borders_from_config(ws.config.section("publish"))
    )
    if context is None:
        context = pyblish.api.Context()
    context.data[KEY] = session
    if session.staging is not None:
        context.data["staging"] = session.staging
    test = BorderTest(border_list, context)
    internal: list[str] = []
    if not load_errors:
        try:
            with _isolated(test, progress):
                batches.publish(context, list(plugins), concurrent=_headless(session))
        except Exception as exc:  # a bug in pyblish or a plugin's class: still report it
            internal.append(f"the publish run broke: {type(exc).__name__}: {exc}")
            log.debug("%s", traceback.format_exc())
        finally:
            lock = session.extras.pop("lock", None)
            if lock is not None:
                lock.release()
    report = from_context(
        context, list(plugins), sources=sources,
        stopped_before=test.stopped_before, stop_reason=test.reason,
    )
    report.load_errors = [*load_errors, *internal]
    if session.asset_name and not report.asset:
        report.asset = session.asset_name
    report.host = report.host or (session.host.name if session.host is not None else "")
    staging = session.staging
    if staging is not None and report.published:
        staging.remove()  # published: nothing left to resume
        report.staging = None
    elif staging is not None and staging.state in ("extracted", "integrating"):
        report.resume = f"setpiece publish {session.asset_name} --resume"
    report._context = context  # type: ignore[attr-defined]
    report._plugins = list(plugins)  # type: ignore[attr-defined]
    if not report.success:
        _emit_failed(session, report)
    return report


def _headless(session: Session) -> bool:
    """Batches of ``concurrent = True`` plug-ins run together only without the app's UI."""
    if session.in_app:
        return False
    host = session.host
    try:
        return host is None or bool(host.is_headless())
    except Exception:
        return False


def _emit_failed(session: Session, report: PublishReport) -> None:
    """One ``failed`` event (action ``publish``) for an in-app publish that failed, like
    the CLI's; logging never hides the report, so an error here is only logged."""
    try:
        session.ws.emit(
            "failed", action="publish", asset=report.asset, version=report.version,
            repo=report.repo or session.repo_name, error=report.summary(), via="pyblish",
            app=report.host, stopped_before=report.stopped_before,
        )
    except Exception:
        log.warning("could not log the failed publish", exc_info=True)


def publish_scene(
    host: Any,
    ws: Any = None,
    *,
    asset: str | None = None,
    repo: str | None = None,
    extra_plugins: Sequence[Any] = (),
    borders: Sequence[str] | None = None,
    progress: Progress | None = None,
    raise_on_failure: bool = True,
    comment: str | None = None,
    skip: Collection[str] = (),
    in_app: bool = False,
) -> PublishReport:
    """Publish the scene open in ``host``: collect, validate, extract, integrate.

    ``ws``: a Workspace or its path (default: found from the scene or the environment);
    ``asset``: the output asset (default: the scene's ``setpiece_asset`` property, else
    the ``outputs/<Asset>/`` folder it is saved in); ``repo``: the target (default: the
    workspace's default repo); ``extra_plugins``: more pyblish plugins for this run only;
    ``comment``: kept with the version (``versions --long``); ``skip``: instances the
    artist turned off (collected, not published); ``in_app``: from the app's publisher
    window (problems name what to press there, not CLI commands).
    """
    from setpiece.hosts.publish.discovery import discover

    workspace = _workspace_for(host, ws)
    extra = list(extra_plugins)
    if skip:
        from setpiece.hosts.publish.choices import skip_instances

        extra.append(skip_instances(skip))
    found = discover(host, workspace, extra=extra)
    session = Session(workspace, host, support_for(host, workspace), asset_name=asset,
                      repo_name=repo, asset_source="given" if asset else "",
                      comment=comment or "", in_app=in_app)
    return run_plugins(
        session, found.plugins, sources=found.sources, borders=borders,
        load_errors=found.errors, progress=progress, raise_on_failure=raise_on_failure,
    )


def repair(report: PublishReport, only: str | None = None) -> list[str]:
    """Run the Repair action of every failed validator that has one (``only``: of that
    plugin, by class name), in the app, on the open scene. Returns what was repaired;
    publish again afterwards."""
    import pyblish.plugin

    from setpiece.hosts.publish.actions import RepairAction, repairable

    context = getattr(report, "_context", None)
    plugins = getattr(report, "_plugins", [])
    if context is None:
        raise SetpieceError("this report has no publish run attached: publish again first")
    done: list[str] = []
    failed_names = {i.plugin for i in report.failed}
    for plugin in plugins:
        if plugin.__name__ not in failed_names or not repairable(plugin):
            continue
        if only is not None and plugin.__name__ != only:
            continue
        action = next(a for a in plugin.actions if issubclass(a, RepairAction))
        result = pyblish.plugin.process(plugin, context, None, action=action.id)
        if result.get("error") is not None:
            raise SetpieceError(
                f"repairing '{getattr(plugin, 'label', plugin.__name__)}' failed: {result['error']}"
            )
        done.append(str(getattr(plugin, "label", plugin.__name__)))
    return done
