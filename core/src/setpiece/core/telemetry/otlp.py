"""OTLP (http/protobuf) export to a studio's collector that never slows nor breaks an action.

The SDK's exporters run in background threads (a ``BatchSpanProcessor`` and a
``PeriodicExportingMetricReader``) with a short timeout. These wrappers turn every failure
into ``FAILURE`` (never an exception, never an error log) and print ONE warning on stderr
per process, naming the endpoint and the reason; what could not be sent is dropped. The
OTLP exporters' own log records are captured for that reason instead of being printed.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_lock = threading.Lock()
_warned = False
_LOGGERS = ("opentelemetry.exporter.otlp", "opentelemetry.exporter.http")


class _LastMessage(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.last = record.getMessage()
        except Exception:
            pass


_captured = _LastMessage()


def capture_exporter_logs() -> None:
    """The OTLP exporters log an error per failed export: keep the last one, print none."""
    for name in _LOGGERS:
        lg = logging.getLogger(name)
        if _captured not in lg.handlers:
            lg.addHandler(_captured)
        lg.propagate = False


def warn_once(endpoint: str, reason: str = "") -> None:
    """``warning: telemetry: ...`` on stderr, the first time only (per process)."""
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    from setpiece.core.actions import redact_urls

    why = reason or _captured.last
    if not why or "timeout, max retries" in why:  # the exporter's words for "gave up"
        why = "not reachable, or no answer in time"
    why = " ".join(why.split())[:200]
    try:
        sys.stderr.write(f"warning: telemetry: could not send to the collector at "
                         f"{redact_urls(endpoint)} ({redact_urls(why)}): spans and metrics "
                         "not sent are dropped (said once)\n")
        sys.stderr.flush()
    except Exception:
        pass


class QuietSpanExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, endpoint: str, failed: threading.Event) -> None:
        self.inner, self.endpoint, self.failed = inner, endpoint, failed

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        reason = ""
        try:
            result = self.inner.export(spans)
        except Exception as exc:
            result, reason = SpanExportResult.FAILURE, f"{type(exc).__name__}: {exc}"
        if result is not SpanExportResult.SUCCESS:
            self.failed.set()
            warn_once(self.endpoint, reason)
        return result

    def shutdown(self) -> None:
        try:
            self.inner.shutdown()
        except Exception:
            pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class QuietMetricExporter(MetricExporter):
    def __init__(self, inner: MetricExporter, endpoint: str, failed: threading.Event) -> None:
        super().__init__(preferred_temporality=inner._preferred_temporality,
                         preferred_aggregation=inner._preferred_aggregation)
        self.inner, self.endpoint, self.failed = inner, endpoint, failed

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000,
               **kwargs: Any) -> MetricExportResult:
        reason = ""
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis)
        except Exception as exc:
            result, reason = MetricExportResult.FAILURE, f"{type(exc).__name__}: {exc}"
        if result is not MetricExportResult.SUCCESS:
            self.failed.set()
            warn_once(self.endpoint, reason)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        try:
            self.inner.shutdown(timeout_millis=timeout_millis)
        except Exception:
            pass
