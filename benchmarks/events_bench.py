"""Events and bus benchmarks (issue 11), side by side with raw redis-py in one run.

1. 1,000 events through one consumer group: setpiece's forward (repo log -> bus, one Lua
   add per event) and ``Bus.consume`` (XREADGROUP, handler, processed record, XACK) against
   raw redis-py ``XADD`` x 1,000 and ``XREADGROUP`` + ``XACK``.
2. Emit latency (``events.emit`` of a repo event: repo log file + workspace log line +
   forward): no bus, bus up, bus down (connection refused), bus hung (accepts and never
   answers: the command timeout), the raw file write as the floor.
3. Emit -> handler latency: a consumer blocked in XREADGROUP, events emitted one by one.

Run with ``.venv/bin/python benchmarks/events_bench.py`` (needs ``redis-server``). Work
files go under ``benchmarks/.work/events`` (git-ignored); results are printed and saved to
``benchmarks/.work/events/results.md``.
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
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "events"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server is not installed: apt-get install -y redis-server")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
         "--appendfsync", "always", "--dir", str(folder), "--logfile", str(folder / "log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    return proc, f"redis://127.0.0.1:{port}/0"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def summary(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"median": statistics.median(s), "p95": s[int(len(s) * 0.95) - 1], "max": s[-1]}


def workspace(root: Path, bus_url: str | None) -> Any:
    from setpiece.core.repos.folder import FolderRepo
    from setpiece.core.workspace import Workspace

    if root.exists():
        shutil.rmtree(root)
    repo = root / "repo"
    FolderRepo("shared", str(repo)).create()
    ws = Workspace.init(root / "ws", repos=[("shared", str(repo))], blessed="shared",
                        default="shared")
    if bus_url:
        with ws.config.edit() as doc:
            doc["events"] = {"bus": bus_url}
    return ws


def bench_group(url: str, n: int) -> list[tuple[str, float, float]]:
    """(what, setpiece seconds, raw seconds) for n events through one consumer group."""
    import redis

    from setpiece.core import eventlog
    from setpiece.core.bus import Bus
    from setpiece.core.events import emit

    ws = workspace(WORK / "group", None)  # no bus: the log is written first, then forwarded
    repo = ws.repo("shared")
    t0 = time.perf_counter()
    for i in range(n):
        emit(ws, "note", to_repo=repo, n=i)
    t_log = time.perf_counter() - t0
    b = Bus(url, stream="bench:setpiece", state_dir=WORK / "state", connect_timeout=1.0)
    t0 = time.perf_counter()
    added = b.forward(ws, repo)
    t_forward = time.perf_counter() - t0
    assert added == n, added
    handled: list[str] = []
    t0 = time.perf_counter()
    b.consume("g", "c", lambda e: handled.append(e.id), once=True)
    t_consume = time.perf_counter() - t0
    assert len(handled) == n

    raw = redis.Redis.from_url(url)
    events = list(eventlog.read(eventlog.repo_log(ws, repo)))
    t0 = time.perf_counter()
    for ev in events:
        raw.xadd("bench:raw", {"id": ev.id, "event": ev.name, "data": ev.raw})
    t_xadd = time.perf_counter() - t0
    raw.xgroup_create("bench:raw", "g", id="0")
    got = 0
    t0 = time.perf_counter()
    while True:
        resp = raw.xreadgroup("g", "c", {"bench:raw": ">"}, count=100)
        if not resp:
            break
        for sid, _fields in resp[0][1]:
            got += 1
            raw.xack("bench:raw", "g", sid)
    t_read = time.perf_counter() - t0
    assert got == n
    return [
        (f"write {n} events to the repo log (emit, no bus)", t_log, float("nan")),
        (f"{n} events onto the stream (forward vs XADD)", t_forward, t_xadd),
        (f"{n} events through one group (consume vs XREADGROUP+XACK)", t_consume, t_read),
    ]


def hung_server() -> str:
    """A port that accepts connections and never answers (a hung server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            conn, _ = sock.accept()
            held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def bench_emit(url: str, n: int) -> list[tuple[str, dict[str, float]]]:
    from setpiece.core import bus as busmod
    from setpiece.core.events import emit
    from setpiece.core.fsutil import publish_file_exclusive

    rows = []
    floor_dir = WORK / "floor"
    shutil.rmtree(floor_dir, ignore_errors=True)
    floor_dir.mkdir(parents=True)
    src = floor_dir / "src.json"
    src.write_bytes(b"{}" * 200)
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        publish_file_exclusive(src, floor_dir / f"{i}.json")
        samples.append(time.perf_counter() - t0)
    rows.append(("raw: one fsynced file, linked (the floor)", summary(samples)))
    closed = f"redis://127.0.0.1:{free_port()}/0"
    hung = hung_server()
    for label, bus_url in (("no bus", None), ("bus up", url), ("bus down (refused)", closed),
                           ("bus hung (accepts, never answers)", hung)):
        ws = workspace(WORK / "emit", bus_url)
        repo = ws.repo("shared")
        busmod._down_until.clear()
        samples = []
        for i in range(n):
            t0 = time.perf_counter()
            emit(ws, "published", to_repo=repo, asset=f"A{i}", version="1.0.0")
            samples.append(time.perf_counter() - t0)
        stats = summary(samples)
        stats["first"] = samples[0]
        rows.append((f"emit, {label}", stats))
    return rows


def bench_latency(url: str, n: int) -> dict[str, float]:
    from setpiece.core.bus import Bus
    from setpiece.core.events import emit

    ws = workspace(WORK / "latency", url)
    repo = ws.repo("shared")
    b = Bus(url, state_dir=WORK / "state-latency", connect_timeout=1.0)
    b.ensure_group("latency", "$")
    lat: list[float] = []
    stop = threading.Event()

    def handler(event: Any) -> None:  # the event's time is taken when emit starts
        lat.append(time.time() - event.time)

    th = threading.Thread(target=b.consume, args=("latency", "c", handler),
                          kwargs={"stop": stop, "block_ms": 100, "start": "$"})
    th.start()
    time.sleep(0.3)
    for i in range(n):
        emit(ws, "published", to_repo=repo, asset=f"L{i}", version="1.0.0")
        time.sleep(0.02)
    deadline = time.monotonic() + 10
    while len(lat) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    th.join(5)
    return summary(lat)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--emits", type=int, default=200)
    args = ap.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["SETPIECE_HOME"] = str(WORK / "home")
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"
    proc, url = start_redis(WORK / "redis")
    try:
        group = bench_group(url, args.events)
        emits = bench_emit(url, args.emits)
        latency = bench_latency(url, 50)
    finally:
        proc.terminate()
        proc.wait(10)
    out = [f"load average: {os.getloadavg()[0]:.1f}", "",
           "| what | setpiece (s) | raw redis-py (s) | per event setpiece / raw (ms) |",
           "| --- | ---: | ---: | ---: |"]
    for what, ours, raw in group:
        n = args.events
        per_raw = "" if raw != raw else f"{raw / n * 1000:.3f}"
        raw_s = "-" if raw != raw else f"{raw:.3f}"
        out.append(f"| {what} | {ours:.3f} | {raw_s} | {ours / n * 1000:.3f} / {per_raw or '-'} |")
    out += ["", "| emit of one repo event | median (ms) | p95 (ms) | max (ms) | first (ms) |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for what, st in emits:
        first = ms(st["first"]) if "first" in st else "-"
        out.append(f"| {what} | {ms(st['median'])} | {ms(st['p95'])} | {ms(st['max'])} | {first} |")
    out += ["", "| emit -> handler start (bus up, consumer blocked in XREADGROUP) | median (ms) "
            "| p95 (ms) | max (ms) |", "| --- | ---: | ---: | ---: |",
            f"| 50 events, 20 ms apart | {ms(latency['median'])} | {ms(latency['p95'])} "
            f"| {ms(latency['max'])} |"]
    text = "\n".join(out)
    print(text)
    (WORK / "results.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
