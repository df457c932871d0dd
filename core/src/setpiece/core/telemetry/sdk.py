"""The OpenTelemetry SDK set up for one workspace: a TracerProvider and a MeterProvider (never
the global ones, so one process can switch workspaces and a DCC's own OpenTelemetry setup
is left alone), their exporters, the instruments, and a shutdown that exit never waits on
for more than ``shutdown_timeout``. Imported only when telemetry is on.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Link, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from setpiece.core.telemetry.settings import Settings

#: Histogram buckets of action durations, in seconds (a menu click to a long farm chunk).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
           300.0, 600.0, 1800.0, 3600.0)
#: Counters setpiece records: name -> (unit, description).
COUNTERS = {
    "setpiece.action.failures": ("{failure}", "Actions that ended in an error, by action and host"),
    "setpiece.tool.uses": ("{use}", "Commands and menu items run, by tool and host"),
    "setpiece.files.bytes": ("By", "Bytes of asset files moved, by direction (pull, push)"),
    "setpiece.files.count": ("{file}", "Asset files moved, by direction (pull, push)"),
}
_PROPAGATOR = TraceContextTextMapPropagator()


def _version() -> str:
    """setpiece-core's version from its ``.dist-info`` folder's name: importing
    ``importlib.metadata`` would cost a command ~0.1 s (it is not otherwise loaded)."""
    import os
    import sys

    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("setpiece_core-") and name.endswith(".dist-info"):
                return name[len("setpiece_core-"):-len(".dist-info")]
    return "0"


def clean(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """OpenTelemetry attribute values (str, bool, int, float, lists of them); bare names get
    the ``setpiece.`` prefix; None is left out."""
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if "." not in key:
            key = f"setpiece.{key}"
        if isinstance(value, (str, bool, int, float)):
            out[key] = value
        elif isinstance(value, (list, tuple, set, frozenset)):
            out[key] = [v if isinstance(v, (str, bool, int, float)) else str(v) for v in value]
        else:
            out[key] = str(value)
    return out


class Handle:
    """What ``telemetry.span`` yields: set attributes, mark the span failed."""

    def __init__(self, span: trace.Span, name: str, secrets: frozenset[str] = frozenset()) -> None:
        self.span = span
        self.secrets = secrets
        self.name = name
        self.error: str | None = None

    def rename(self, name: str) -> None:
        self.name = name
        self.span.update_name(name)

    def set(self, **attributes: Any) -> None:
        self.span.set_attributes(clean(attributes))

    def fail(self, message: str, kind: str = "error") -> None:
        from setpiece.core.actions import redact_urls

        self.error = kind
        self.span.set_attribute("error.type", kind)
        self.span.set_status(Status(StatusCode.ERROR, redact_urls(message, self.secrets)[:500]))

    @property
    def traceparent(self) -> str | None:
        return _format(self.span.get_span_context())


def _format(sc: trace.SpanContext) -> str | None:
    if not sc.is_valid:
        return None
    # the sampled bit only: W3C level 1 (the SDK also sets level 2's random-trace-id bit)
    return f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{int(sc.trace_flags) & 1:02x}"


class Pipeline:
    def __init__(self, settings: Settings, host: str) -> None:
        self.settings = settings
        self.host = host
        self.failed = threading.Event()  # an OTLP export failed: exit does not wait on it
        version = _version()
        attrs = {"service.name": settings.service_name, "service.version": version,
                 "setpiece.host": host}
        if settings.workspace:
            attrs["setpiece.workspace"] = settings.workspace
        resource = Resource.create(attrs)
        self.secrets = settings.secrets
        self.tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        readers: list[MetricReader] = []
        self.file_reader: MetricReader | None = None
        if settings.files is not None:
            from setpiece.core.telemetry.files import (
                METRICS,
                SPANS,
                JsonLinesMetricReader,
                JsonLinesSpanExporter,
            )

            self.tracer_provider.add_span_processor(
                SimpleSpanProcessor(JsonLinesSpanExporter(settings.files / SPANS)))
            self.file_reader = JsonLinesMetricReader(settings.files / METRICS)
            readers.append(self.file_reader)
        self.otlp = settings.otlp
        if settings.otlp:
            readers.extend(self._otlp())
        self.meter_provider = MeterProvider(resource=resource, metric_readers=readers,
                                            shutdown_on_exit=False)
        self.tracer = self.tracer_provider.get_tracer("setpiece", version)
        meter = self.meter_provider.get_meter("setpiece", version)
        self.duration = meter.create_histogram(
            "setpiece.action.duration", unit="s",
            description="How long actions took, by action, host and outcome",
            explicit_bucket_boundaries_advisory=BUCKETS)
        self.counters = {name: meter.create_counter(name, unit=unit, description=text)
                         for name, (unit, text) in COUNTERS.items()}
        self._shutdown_lock = threading.Lock()
        self._done = False

    def _otlp(self) -> list[MetricReader]:
        from setpiece.core.telemetry.otlp import (
            QuietMetricExporter,
            QuietSpanExporter,
            capture_exporter_logs,
        )

        capture_exporter_logs()
        s = self.settings
        shown = s.endpoint or _env_endpoint()
        millis = s.export_timeout * 1000
        if s.traces_otlp:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            spans = OTLPSpanExporter(endpoint=f"{s.endpoint}/v1/traces" if s.endpoint else None,
                                     timeout=s.export_timeout)
            self.tracer_provider.add_span_processor(BatchSpanProcessor(
                QuietSpanExporter(spans, shown, self.failed), schedule_delay_millis=2000,
                export_timeout_millis=millis))
        if not s.metrics_otlp:
            return []
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        metrics = OTLPMetricExporter(endpoint=f"{s.endpoint}/v1/metrics" if s.endpoint else None,
                                     timeout=s.export_timeout)
        return [PeriodicExportingMetricReader(QuietMetricExporter(metrics, shown, self.failed),
                                              export_interval_millis=60_000,
                                              export_timeout_millis=millis)]

    # -- spans ------------------------------------------------------------------------
    @contextlib.contextmanager
    def span(self, name: str, attributes: Mapping[str, Any],
             parent: str | None) -> Iterator[Handle]:
        current = trace.get_current_span()
        context = None
        links: list[Link] = []
        if parent is None and not current.get_span_context().is_valid:
            from setpiece.core.events import inherited_traceparent

            parent = inherited_traceparent()
        if parent:
            context = _PROPAGATOR.extract({"traceparent": parent})
            here = current.get_span_context()
            if here.is_valid:  # e.g. 'react' handling an event of another trace
                links.append(Link(here))
        start = time.perf_counter()
        attrs = clean(attributes)
        with self.tracer.start_as_current_span(name, context=context, attributes=attrs,
                                               links=links, record_exception=False,
                                               set_status_on_exception=False) as span:
            handle = Handle(span, name, self.secrets)
            try:
                yield handle
            except BaseException as exc:
                if not (isinstance(exc, SystemExit) and exc.code in (0, None)):
                    self._exception(handle, exc)
                raise
            finally:
                outcome = "error" if handle.error else "ok"
                metric = {"action": handle.name, "host": self.host, "outcome": outcome}
                self.duration.record(time.perf_counter() - start, metric)
                if handle.error:
                    self.counters["setpiece.action.failures"].add(
                        1, {"action": handle.name, "host": self.host, "error.type": handle.error})

    def _exception(self, handle: Handle, exc: BaseException) -> None:
        from setpiece.core.actions import redact_urls

        kind = "interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__
        message = " ".join(str(exc).split()) or kind
        handle.fail(message, kind)
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        handle.span.record_exception(exc, attributes={
            "exception.message": redact_urls(message, self.secrets),
            "exception.stacktrace": redact_urls(stack, self.secrets)})

    def past_span(self, name: str, seconds: float, error: str | None,
                  attributes: Mapping[str, Any]) -> None:
        """A span that ended now and lasted ``seconds`` (work timed by someone else, e.g.
        pyblish), a child of the active span."""
        end = time.time_ns()
        span = self.tracer.start_span(name, start_time=end - int(max(seconds, 0.0) * 1e9),
                                      attributes=clean(attributes))
        handle = Handle(span, name, self.secrets)
        if error:
            handle.fail(error, error.split(":", 1)[0])
        span.end(end_time=end)
        metric = {"action": name, "host": self.host, "outcome": "error" if error else "ok"}
        self.duration.record(seconds, metric)
        if error:
            self.counters["setpiece.action.failures"].add(
                1, {"action": name, "host": self.host, "error.type": handle.error or "error"})

    def traceparent(self) -> str | None:
        return _format(trace.get_current_span().get_span_context())

    # -- metrics ------------------------------------------------------------------------
    def add(self, metric: str, amount: float, attributes: Mapping[str, Any]) -> None:
        counter = self.counters.get(metric)
        if counter is None:
            raise ValueError(f"unknown metric {metric!r}: one of {sorted(COUNTERS)}")
        counter.add(amount, {"host": self.host, **clean_metric(attributes)})

    def flush(self) -> None:
        """Write the file metrics now (cheap; the OTLP ones go on their own schedule)."""
        if self.file_reader is not None:
            try:
                self.file_reader.collect()
            except Exception:
                pass

    # -- the end ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Flush and stop; waits at most ``shutdown_timeout`` for a collector (none when it
        already failed), then gives up (the export threads are daemons: exit goes on)."""
        with self._shutdown_lock:
            if self._done:
                return
            self._done = True
        self.flush()  # the file metrics, now (the spans file is written as spans end)
        if not self.otlp:
            self._stop()
            return
        done = threading.Event()

        def stop() -> None:
            try:
                self._stop()
            finally:
                done.set()

        threading.Thread(target=stop, name="setpiece-telemetry-shutdown", daemon=True).start()
        deadline = time.monotonic() + self.settings.shutdown_timeout
        while not done.wait(0.005):
            if self.failed.is_set():  # the collector is down: said once already
                return
            if time.monotonic() >= deadline:
                from setpiece.core.telemetry.otlp import warn_once

                warn_once(self.settings.endpoint or _env_endpoint(),
                          f"no answer within {self.settings.shutdown_timeout:g} s")
                return

    def _stop(self) -> None:
        for provider in (self.tracer_provider, self.meter_provider):
            try:
                provider.shutdown()
            except Exception:
                pass


def clean_metric(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, bool, int, float)) else str(v)
            for k, v in attributes.items() if v is not None}


def _env_endpoint() -> str:
    import os

    from setpiece.core.telemetry.settings import ENDPOINT_VARS

    for var in ENDPOINT_VARS:
        if os.environ.get(var, "").strip():
            return os.environ[var].strip()
    return "http://localhost:4318"
