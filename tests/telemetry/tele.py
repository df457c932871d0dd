"""Reading what the telemetry file exporter wrote (``.setpiece/telemetry/*.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def spans(root: Path) -> list[dict[str, Any]]:
    path = root / ".setpiece" / "telemetry" / "spans.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def named(root: Path, name: str) -> list[dict[str, Any]]:
    return [s for s in spans(root) if s["name"] == name]


def trace_id(span: dict[str, Any]) -> str:
    return str(span["context"]["trace_id"]).removeprefix("0x")


def points(root: Path, metric: str) -> list[dict[str, Any]]:
    """Every data point of ``metric`` in metrics.jsonl (delta: sum them for totals)."""
    path = root / ".setpiece" / "telemetry" / "metrics.jsonl"
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        for rm in json.loads(line)["resource_metrics"]:
            for sm in rm["scope_metrics"]:
                for m in sm["metrics"]:
                    if m["name"] == metric:
                        out.extend(m["data"]["data_points"])
    return out


def total(root: Path, metric: str, **attributes: Any) -> float:
    """The sum of ``metric``'s points whose attributes include ``attributes`` (histograms:
    their counts)."""
    found = 0.0
    for p in points(root, metric):
        if all(p["attributes"].get(k) == v for k, v in attributes.items()):
            found += p["count"] if "count" in p else p["value"]
    return found
