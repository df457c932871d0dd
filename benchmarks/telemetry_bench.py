"""Tracing cost (issue 19): what OpenTelemetry adds to one in-app action and to one command.

1. Per action, in process (what a DCC pays per menu click once setpiece is loaded): a
   ``telemetry.span`` around an empty action, the tool-use count and the metrics flush, as
   the menu runner does, with telemetry off, with the embedded default (JSON lines in the
   workspace), with OTLP to a collector on 127.0.0.1 too, and with OTLP to a collector that
   is down; beside the raw SDK floor (a bare TracerProvider + SimpleSpanProcessor writing
   the same JSON lines, no setpiece). Goal: < 5 ms per action.
2. Per command, fresh processes: ``setpiece list`` with telemetry on (files) and with
   ``OTEL_SDK_DISABLED=true``, alternating; and whether ``setpiece --help`` imports
   OpenTelemetry (it must not).
3. A collector down or hung, fresh processes, in turn with one that is up: the command's
   own span (from the files) and the exit delay (from that span's end to the process
   gone: what exporting at exit costs). Goals: down adds < 0.1 s to either; a collector
   that never answers holds exit at most ``shutdown_timeout`` (0.2 s here) + 0.15 s.
   (``tests/telemetry/test_telemetry_otlp.py`` checks the behaviour: exit code, one
   warning, every span in the files.)

Run with ``.venv/bin/python benchmarks/telemetry_bench.py [--actions N] [--runs N]``; work
files under ``benchmarks/.work/telemetry`` (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "telemetry"
SETPIECE = Path(sys.executable).parent / "setpiece"


class _Sink(BaseHTTPRequestHandler):
    """A collector that takes every OTLP request and answers 200 (no decoding)."""

    def do_POST(self) -> None:  # http.server's name for a POST handler
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _workspace(name: str, telemetry: str = "") -> Path:
    root = WORK / name
    root.mkdir(parents=True)
    (root / "setpiece.toml").write_text(f'[workspace]\npython = "3.11"\n{telemetry}')
    return root


def _ms(samples: list[float]) -> str:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return f"{statistics.median(samples) * 1000:.3f} | {p99 * 1000:.3f}"


def per_action(n: int) -> None:
    from setpiece.core import telemetry

    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = s.getsockname()[1]
    modes = {
        "off ([telemetry] enabled = false)": "[telemetry]\nenabled = false\n",
        "files (the default)": "",
        "files + OTLP, collector up": (
            f'[telemetry]\nendpoint = "http://127.0.0.1:{sink.server_address[1]}"\n'),
        "files + OTLP, collector down": f'[telemetry]\nendpoint = "http://127.0.0.1:{down}"\n',
    }
    print("| mode | median ms | p99 ms |\n| --- | ---: | ---: |")
    for label, text in modes.items():
        root = _workspace(f"mode{len(os.listdir(WORK))}", text)
        telemetry.start(root, host="bench")
        for i in range(n // 10):  # warm: the SDK imported, the files open once
            _action(telemetry, i)
        samples = []
        for i in range(n):
            start = time.perf_counter()
            _action(telemetry, i)
            samples.append(time.perf_counter() - start)
        print(f"| {label} | {_ms(samples)} |")
        telemetry.shutdown()
    print(f"| raw SDK floor: bare TracerProvider + SimpleSpanProcessor, span only | "
          f"{_ms(_raw(n))} |")
    sink.shutdown()


def _action(telemetry: Any, i: int) -> None:
    with telemetry.span("menu Publish", tool="Publish", app="bench", asset="Chair", index=i):
        pass
    telemetry.tool_used("Publish")
    telemetry.flush()


def _raw(n: int) -> list[float]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from setpiece.core.telemetry.files import JsonLinesSpanExporter

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(WORK / "raw.jsonl")))
    tracer = provider.get_tracer("raw")
    samples = []
    for i in range(n):
        start = time.perf_counter()
        with tracer.start_as_current_span("menu Publish", attributes={"index": i}):
            pass
        samples.append(time.perf_counter() - start)
    provider.shutdown()
    return samples


def per_command(runs: int) -> None:
    root = _workspace("cli")
    env_off = {**os.environ, "OTEL_SDK_DISABLED": "true"}
    import resource

    wall: dict[str, list[float]] = {"on": [], "off": []}
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(runs):
        for env, key in ((os.environ, "on"), (env_off, "off")):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([str(SETPIECE), "-w", str(root), "list"], env=env, check=True,
                           capture_output=True)
            wall[key].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[key].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(f"\n`setpiece list`, {runs} fresh processes each, alternating (s):")
    print("| telemetry | wall median | wall min | CPU median |\n| --- | ---: | ---: | ---: |")
    for key, label in (("on", "on (files, the default)"), ("off", "OTEL_SDK_DISABLED=true")):
        print(f"| {label} | {statistics.median(wall[key]):.3f} | {min(wall[key]):.3f} | "
              f"{statistics.median(cpu[key]):.3f} |")
    code = ("import sys\nfrom setpiece.core.cli import main\nmain(['--help'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[-1]
    print(f"`setpiece --help` imports of opentelemetry: {imported}")


def _list_timed(root: Path) -> tuple[float, float]:
    """``setpiece list`` in ``root``: (its command span's seconds, span end to exit)."""
    import json
    from datetime import datetime

    subprocess.run([str(SETPIECE), "-w", str(root), "list"], check=True, capture_output=True)
    gone = time.time()
    path = root / ".setpiece" / "telemetry" / "spans.jsonl"
    span = [json.loads(line) for line in path.read_text().splitlines()
            if line.strip() and json.loads(line)["name"] == "setpiece list"][-1]

    def at(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    return at(span["end_time"]) - at(span["start_time"]), gone - at(span["end_time"])


def collector_down(runs: int) -> None:
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = s.getsockname()[1]
    hung = socket.socket()  # accepts connections (the kernel's backlog), never answers
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    modes = {
        "up": f'[telemetry]\nendpoint = "http://127.0.0.1:{sink.server_address[1]}"\n',
        "down (refused)": f'[telemetry]\nendpoint = "http://127.0.0.1:{refused}"\n',
        "hung (never answers), shutdown_timeout = 0.2": (
            f'[telemetry]\nendpoint = "http://127.0.0.1:{hung.getsockname()[1]}"\n'
            "shutdown_timeout = 0.2\n"),
    }
    roots = {label: _workspace(f"collector{i}", text) for i, (label, text) in enumerate(modes.items())}
    spans: dict[str, list[float]] = {label: [] for label in modes}
    exits: dict[str, list[float]] = {label: [] for label in modes}
    for i in range(runs):  # in turn, each first in its turn: the machine's load hits all alike
        order = list(modes)[i % len(modes):] + list(modes)[:i % len(modes)]
        for label in order:
            span, delay = _list_timed(roots[label])
            spans[label].append(span)
            exits[label].append(delay)
    hung.close()
    sink.shutdown()
    print(f"\n`setpiece list` with OTLP to a collector, {runs} fresh processes each, in turn (s):")
    print("| collector | command span min | median | exit delay min | median |\n"
          "| --- | ---: | ---: | ---: | ---: |")
    for label in modes:
        print(f"| {label} | {min(spans[label]):.3f} | {statistics.median(spans[label]):.3f} | "
              f"{min(exits[label]):.3f} | {statistics.median(exits[label]):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only-collector", action="store_true",
                        help="measure only a collector up / down / hung (part 3)")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    if not args.only_collector:
        per_action(args.actions)
        per_command(args.runs)
    collector_down(args.runs)


if __name__ == "__main__":
    main()
