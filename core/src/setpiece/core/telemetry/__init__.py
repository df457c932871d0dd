"""OpenTelemetry traces and metrics of setpiece's actions (docs/observability.md).

Cheap to import: nothing of OpenTelemetry is imported until telemetry is on and the first
span or measurement is made (``setpiece --help`` never imports it). Then the SDK is set up
for the workspace (``setpiece.core.telemetry.settings``): spans and metrics to JSON lines in
``.setpiece/telemetry/`` by default, OTLP to a collector by configuration. Without the
``telemetry`` extra installed, every call here does nothing.

    from setpiece.core import telemetry

    with telemetry.span("install", asset="Chair", count=3) as sp:
        ...
        sp.set(changed=2)
    telemetry.add("setpiece.files.bytes", n, direction="pull")

A span joins the trace of the span around it; at the top of a process it joins the event
being handled (``events.joined``) or ``$TRACEPARENT``; ``parent=`` names the traceparent
explicitly (a reaction joins the event it handles). Every span also records its duration in
the ``setpiece.action.duration`` histogram and, when it fails, ``setpiece.action.failures``.
Telemetry never fails an action: a setup error turns it off with one warning.
"""

from __future__ import annotations

import atexit
import contextlib
import threading

TYPE_CHECKING = False  # not typing's: this module is imported on a command's start-up path
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any, Protocol

    class Span(Protocol):
        def set(self, **attributes: Any) -> None: ...

        def fail(self, message: str, kind: str = "error") -> None: ...

        def rename(self, name: str) -> None: ...


class _NoSpan:
    """The span of telemetry that is off: does nothing."""

    traceparent = None

    def set(self, **attributes: Any) -> None:
        pass

    def fail(self, message: str, kind: str = "error") -> None:
        pass

    def rename(self, name: str) -> None:
        pass


NO_SPAN = _NoSpan()
_lock = threading.RLock()
_pipeline: Any = None  # None: not started; False: off; else a sdk.Pipeline
_key: Any = None
_host = "python"
_exit_registered = False


def set_host(name: str) -> None:
    """Name the app this process runs in (``cli``, ``maya``, ``blender``, ``farm`` ...): an
    attribute of every metric and of the resource (set it before the first span)."""
    global _host
    _host = name


def host() -> str:
    return _host


def start(root: Path | str | None = None, *, host: str | None = None) -> bool:
    """Set telemetry up for the workspace at (or above) ``root`` (None: ``$SETPIECE_WORKSPACE``
    or the current folder's); True when on. Again with the same settings: nothing to do;
    with other settings (another workspace), the previous setup is flushed and replaced."""
    global _pipeline, _key
    from setpiece.core.telemetry import settings as _settings

    if host:
        set_host(host)
    found = _settings.find_root(root)
    current = _settings.load(found)
    key = (current, _host)
    with _lock:
        if _pipeline is not None and key == _key:
            return bool(_pipeline)
        previous, _pipeline, _key = _pipeline, False, key
        if previous:
            previous.shutdown()
        if not current.active:
            return False
        try:
            from setpiece.core.telemetry.sdk import Pipeline

            _pipeline = Pipeline(current, _host)
        except ImportError:  # the telemetry extra is not installed: run untraced
            return False
        except Exception as exc:  # never fail the action
            import sys

            print(f"warning: telemetry is off: {type(exc).__name__}: {exc}", file=sys.stderr)
            return False
        _register_exit()
        return True


def _register_exit() -> None:
    global _exit_registered
    if not _exit_registered:
        _exit_registered = True
        atexit.register(shutdown)


def _active() -> Any:
    if _pipeline is None:
        start()
    return _pipeline or None


def enabled() -> bool:
    """Telemetry is on (starting it, as configured, if not started yet)."""
    return _active() is not None


@contextlib.contextmanager
def span(name: str, *, parent: str | None = None, **attributes: Any) -> Iterator[Any]:
    """A span named ``name`` around the block (see the module docstring); yields an object
    with ``set(**attributes)``, ``fail(message, kind)`` and ``rename(name)``."""
    pipeline = _active()
    if pipeline is None:
        yield NO_SPAN
        return
    with pipeline.span(name, attributes, parent) as handle:
        yield handle


def past_span(name: str, seconds: float, *, error: str | None = None, **attributes: Any) -> None:
    """Record a span that ends now and lasted ``seconds`` (work another library timed, e.g.
    a pyblish plug-in), as a child of the active span; ``error``: it failed, saying this."""
    pipeline = _active()
    if pipeline is not None:
        pipeline.past_span(name, seconds, error, attributes)


def add(metric: str, amount: float = 1, **attributes: Any) -> None:
    """Add ``amount`` to counter ``metric`` (``setpiece.files.bytes`` ...) with ``host``."""
    pipeline = _active()
    if pipeline is not None and amount:
        pipeline.add(metric, amount, attributes)


def tool_used(tool: str) -> None:
    """Count one use of a command or menu item (``setpiece.tool.uses``, by tool and host)."""
    add("setpiece.tool.uses", 1, tool=tool)


def traceparent() -> str | None:
    """The W3C traceparent of the active span; None when telemetry is off or not started
    (never imports OpenTelemetry)."""
    if not _pipeline:
        return None
    value: str | None = _pipeline.traceparent()
    return value


def flush() -> None:
    """Write the metrics measured so far to the files (end of a command or menu action)."""
    if _pipeline:
        _pipeline.flush()


def shutdown() -> None:
    """Flush and stop (at exit: bounded by ``shutdown_timeout``). A later span starts again."""
    global _pipeline, _key
    with _lock:
        previous, _pipeline, _key = _pipeline, None, None
    if previous:
        previous.shutdown()
