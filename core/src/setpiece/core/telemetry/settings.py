"""What telemetry does, from ``[telemetry]`` in ``setpiece.toml`` and the standard ``OTEL_*``
variables. Pure Python, no OpenTelemetry import: deciding costs well under a millisecond.

```toml
[telemetry]
enabled = true                        # false: no spans, no metrics (so does OTEL_SDK_DISABLED=true)
files = true                          # JSON lines in .setpiece/telemetry/ (spans.jsonl, metrics.jsonl)
endpoint = "http://collector:4318"    # OTLP http/protobuf (else $OTEL_EXPORTER_OTLP_ENDPOINT)
service_name = "setpiece"             # else $OTEL_SERVICE_NAME, else "setpiece"
export_timeout = 0.5                  # seconds one export may take (in the background; no retry)
shutdown_timeout = 0.5                # seconds exit waits for the last export, at most
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_NAME = "setpiece.toml"
#: Variables that name an OTLP endpoint (the SDK reads them itself when no endpoint is given).
ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")


@dataclass(frozen=True)
class Settings:
    enabled: bool = False
    files: Path | None = None  # the folder of spans.jsonl / metrics.jsonl
    endpoint: str | None = None  # the configured base URL ("" = from the OTEL_* variables)
    traces_otlp: bool = False
    metrics_otlp: bool = False
    service_name: str = "setpiece"
    export_timeout: float = 0.5
    shutdown_timeout: float = 0.5
    workspace: str | None = None
    #: passwords and tokens in setpiece.toml: an error quoting one never puts it in a span
    secrets: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        return self.enabled and (self.files is not None or self.traces_otlp or self.metrics_otlp)

    @property
    def otlp(self) -> bool:
        return self.traces_otlp or self.metrics_otlp


def find_root(start: Path | str | None = None) -> Path | None:
    """The workspace folder: ``start`` if given (or its nearest parent with a
    ``setpiece.toml``), else ``$SETPIECE_WORKSPACE``, else the current folder's."""
    given = start or os.environ.get("SETPIECE_WORKSPACE")
    try:
        base = Path(given) if given else Path.cwd()
        for folder in (base, *base.resolve().parents):
            if (folder / CONFIG_NAME).is_file():
                return folder.resolve()
    except OSError:
        return None
    return None


def _section(root: Path | None) -> tuple[dict[str, Any], frozenset[str]]:
    """``[telemetry]`` of ``root``'s setpiece.toml, and the secrets the file holds."""
    if root is None:
        return {}, frozenset()
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    from setpiece.core.actions import secrets_in

    try:
        text = (root / CONFIG_NAME).read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except (OSError, ValueError):  # the command itself says what is wrong with the file
        return {}, frozenset()
    section = data.get("telemetry", {})
    return (section if isinstance(section, dict) else {}), frozenset(secrets_in(text))


def _flag(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return default


def load(root: Path | None) -> Settings:
    """The settings for workspace ``root`` (None: outside a workspace, files in
    ``$SETPIECE_HOME/telemetry``)."""
    cfg, secrets = _section(root)
    env = os.environ
    enabled = cfg.get("enabled", True) is not False and _flag(env.get("OTEL_SDK_DISABLED")) is not True
    files: Path | None = None
    if cfg.get("files", True) is not False:
        if root is not None:
            files = root / ".setpiece" / "telemetry"
        else:
            from setpiece.core.paths import setpiece_home

            files = setpiece_home() / "telemetry"
    endpoint = cfg.get("endpoint")
    endpoint = endpoint.rstrip("/") if isinstance(endpoint, str) and endpoint.strip() else None
    from_env = any(env.get(v, "").strip() for v in ENDPOINT_VARS)
    traces_exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    metrics_exporter = env.get("OTEL_METRICS_EXPORTER", "").strip().lower()
    wanted = endpoint is not None or from_env
    name = cfg.get("service_name") or env.get("OTEL_SERVICE_NAME") or "setpiece"
    return Settings(
        enabled=enabled,
        files=files,
        endpoint=endpoint if endpoint is not None else ("" if from_env else None),
        traces_otlp=(wanted and traces_exporter != "none") or traces_exporter == "otlp",
        metrics_otlp=(wanted and metrics_exporter != "none") or metrics_exporter == "otlp",
        service_name=str(name),
        export_timeout=_seconds(cfg.get("export_timeout"), 0.5),
        shutdown_timeout=_seconds(cfg.get("shutdown_timeout"), 0.5),
        workspace=str(root) if root is not None else None,
        secrets=secrets,
    )
