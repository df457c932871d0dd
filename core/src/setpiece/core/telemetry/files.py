"""The embedded default export: JSON lines in the workspace, one span or one metrics
collection a line (``.setpiece/telemetry/spans.jsonl``, ``metrics.jsonl``).

Spans are written as each one ends (a span processor that exports synchronously: one small
``O_APPEND`` write, so a crash keeps what ran); metrics are collected with delta temporality
when a command or menu action ends and at exit, so summing the lines gives the totals.
A file past ``MAX_BYTES`` is renamed ``*.1`` (the one before is replaced): the folder stays
bounded. Writing never fails an action: an ``OSError`` drops that line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, MetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from setpiece.core.fsutil import append_line

MAX_BYTES = 16 * 1024 * 1024
SPANS = "spans.jsonl"
METRICS = "metrics.jsonl"


def append(path: Path, data: bytes) -> bool:
    """Append ``data`` in one write; rotate past ``MAX_BYTES``. False if it could not."""
    try:
        size = append_line(path, data)
        if size > MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
        return True
    except OSError:
        return False


class JsonLinesSpanExporter(SpanExporter):
    """Each span as the SDK's own JSON (``ReadableSpan.to_json``) on one line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        data = "".join(s.to_json(indent=None) + "\n" for s in spans).encode("utf-8")
        return SpanExportResult.SUCCESS if append(self.path, data) else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_DELTA: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
    ObservableCounter: AggregationTemporality.DELTA,
    UpDownCounter: AggregationTemporality.CUMULATIVE,
    ObservableUpDownCounter: AggregationTemporality.CUMULATIVE,
    ObservableGauge: AggregationTemporality.CUMULATIVE,
}


class JsonLinesMetricReader(MetricReader):
    """Metrics collected on demand (``collect()``: end of a command, of a menu action, exit),
    written as ``MetricsData.to_json`` on one line when anything was measured."""

    def __init__(self, path: Path) -> None:
        super().__init__(preferred_temporality=_DELTA)
        self.path = path

    def _receive_metrics(self, metrics_data: MetricsData | None, timeout_millis: float = 10_000,
                         **kwargs: Any) -> None:
        if metrics_data is None or not any(
            m.data.data_points
            for rm in metrics_data.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
        ):
            return
        append(self.path, (metrics_data.to_json(indent=None) + "\n").encode("utf-8"))

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        try:
            self.collect(timeout_millis=timeout_millis)
        except Exception:  # never fail exit
            pass
