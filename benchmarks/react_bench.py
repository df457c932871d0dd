"""Reaction latency (issue 11): publish -> reaction start through ``setpiece react``.

Workspace A publishes new versions of ``Plate`` into a shared folder repo (real
``Workspace.publish``: uv build, repo, event); workspace B runs ``setpiece react --json``
as a service with one ``notify`` reaction on Plate. Latency = the reaction's start (wall
clock, in B's service) minus the event's time (its id's ms, taken when A logged it), for:

* the repo logs, polled every ``--poll`` seconds (the embedded default, no server);
* the bus (Redis Streams on 127.0.0.1: the publish forwards, B's consumer group blocks in
  XREADGROUP);

side by side with the raw mechanism underneath: a new file seen by ``os.listdir`` polled
at the same interval, and ``XADD`` -> a blocked ``XREADGROUP`` in raw redis-py. Goal:
< 0.5 s. Run with ``.venv/bin/python benchmarks/react_bench.py [--runs N] [--poll S]``
(needs ``redis-server``); work files under ``benchmarks/.work/react`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "react"
SETPIECE = Path(sys.executable).parent / "setpiece"
sys.path.insert(0, str(HERE))

from events_bench import start_redis  # noqa: E402

REACTION = """
[[reactions]]
name = "ping"
when = "Plate"
do = "notify"
with = { file = "ping.log", message = "{asset} {version}" }
"""


def stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"median": statistics.median(values), "p90": values[int(0.9 * (len(values) - 1))],
            "max": values[-1], "min": values[0]}


def workspaces(base: Path, bus: str | None) -> tuple[Any, Any]:
    from setpiece.core import Workspace

    repo = base / "repo"
    a = Workspace.init(base / "A", repos=[("shared", str(repo))], blessed="shared",
                       default="shared")
    b = Workspace.init(base / "B", repos=[("shared", str(repo))], blessed="shared",
                       default="shared")
    extra = f'\n[events]\nbus = "{bus}"\nconnect_timeout = 0.5\n' if bus else ""
    for ws, text in ((a, extra), (b, REACTION + extra)):
        with ws.config.path.open("a") as fh:
            fh.write(text)
    a = Workspace(a.root)
    a.create("Plate", kind="prop", version="1.0.0")
    return a, Workspace(b.root)


def measure(base: Path, runs: int, poll: float, bus: str | None) -> list[float]:
    from setpiece.core.eventlog import id_time

    a, b = workspaces(base, bus)
    outcomes: dict[str, float] = {}
    proc = subprocess.Popen([str(SETPIECE), "-w", str(b.root), "react", "--json",
                             "--poll", str(poll)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                o = json.loads(line)
                if o["status"] == "ran" and o.get("started"):
                    outcomes[o["event"]] = float(o["started"])

    threading.Thread(target=read, daemon=True).start()
    time.sleep(2.0)  # the service is up and waiting
    latencies = []
    try:
        for i in range(runs):
            plate = a.output("Plate")
            if i:
                plate.set_version(f"1.0.{i}")
            a.publish("Plate")
            from setpiece.core.eventlog import read as read_log
            from setpiece.core.eventlog import repo_log

            ev = next(e for e in read_log(repo_log(a, a.repo("shared")), names=["published"])
                      if e.version == plate.version)
            deadline = time.monotonic() + 30
            while ev.id not in outcomes and time.monotonic() < deadline:
                time.sleep(0.005)
            if ev.id not in outcomes:
                raise SystemExit(f"no reaction to {ev.id} within 30 s")
            latencies.append(outcomes[ev.id] - id_time(ev.id))
            time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(30)
    return latencies


def raw_listdir(folder: Path, runs: int, poll: float) -> list[float]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(runs):
        seen = set(os.listdir(folder))
        written = threading.Event()
        t0 = [0.0]

        def write(n: int, t0: list[float], written: threading.Event) -> None:
            time.sleep(0.05 + random.uniform(0, poll))  # any phase of the poll
            t0[0] = time.time()
            (folder / f"{n}.json").write_bytes(b"{}")
            written.set()

        threading.Thread(target=write, args=(i, t0, written)).start()
        while True:
            if set(os.listdir(folder)) - seen:
                out.append(time.time() - t0[0])
                break
            time.sleep(poll)
        written.wait()
    return out


def raw_redis(url: str, runs: int) -> list[float]:
    import redis

    r = redis.Redis.from_url(url)
    stream = "bench:raw"
    r.xgroup_create(stream, "g", id="$", mkstream=True)
    out = []
    for _ in range(runs):
        got = threading.Event()
        t1 = [0.0]

        def consume(t1: list[float], got: threading.Event) -> None:
            c = redis.Redis.from_url(url)
            c.xreadgroup("g", "c", {stream: ">"}, count=1, block=5000)
            t1[0] = time.time()
            got.set()

        th = threading.Thread(target=consume, args=(t1, got))
        th.start()
        time.sleep(0.1)
        t0 = time.time()
        r.xadd(stream, {"x": "1"})
        got.wait(5)
        th.join()
        out.append(t1[0] - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--poll", type=float, default=0.1)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["SETPIECE_HOME"] = str(WORK / "home")
    os.environ.pop("SETPIECE_WORKSPACE", None)
    redis_proc, url = start_redis(WORK / "redis")
    rows = []
    try:
        log = measure(WORK / "log", args.runs, args.poll, None)
        rows.append((f"setpiece react, repo logs (poll {args.poll:g} s)", stats(log)))
        rows.append((f"raw: os.listdir polled every {args.poll:g} s", stats(
            raw_listdir(WORK / "raw-dir", args.runs, args.poll))))
        bus = measure(WORK / "bus", args.runs, args.poll, url)
        rows.append(("setpiece react, bus (consumer group)", stats(bus)))
        rows.append(("raw: XADD -> blocked XREADGROUP", stats(raw_redis(url, args.runs))))
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
    lines = [f"runs {args.runs}, load {os.getloadavg()[0]:.1f}", "",
             "| path | median ms | p90 ms | max ms | min ms |", "| --- | --- | --- | --- | --- |"]
    for name, s in rows:
        lines.append(f"| {name} | {s['median'] * 1000:.0f} | {s['p90'] * 1000:.0f} | "
                     f"{s['max'] * 1000:.0f} | {s['min'] * 1000:.0f} |")
    text = "\n".join(lines)
    print(text)
    (WORK / "results.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
