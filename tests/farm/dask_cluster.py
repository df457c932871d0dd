"""A real Dask cluster on 127.0.0.1 for the farm tests: ``dask scheduler`` and ``dask worker``
subprocesses on free ports, stopped by pid.

Workers run without a nanny (``--no-nanny``) so that the pid the test holds *is* the worker:
killing it is a worker dying mid-chunk, and nothing restarts it behind the test's back. Each
worker offers the resources a studio starts its render workers with (see docs/farm.md).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
DASK = BIN / ("dask.exe" if sys.platform == "win32" else "dask")

#: What each test worker offers: 2 cores, the ``render`` and ``blender`` tags. One thread, so one chunk at a
#: time per worker, as a render node running one frame at a time.
WORKER_RESOURCES = "cores=2 tag:render=1 tag:blender=1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DaskCluster:
    address: str
    dashboard: str
    root: Path
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, name: str, resources: str = WORKER_RESOURCES) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [
                str(DASK), "worker", self.address,
                "--host", "127.0.0.1",
                "--no-nanny",
                "--nthreads", "1",
                "--no-dashboard",
                "--name", name,
                "--resources", resources,
                "--local-directory", str(self.root / name),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        from distributed import Client

        with Client(self.address, timeout=timeout) as client:
            client.wait_for_workers(count, timeout=timeout)

    def alive_workers(self) -> list[subprocess.Popen[bytes]]:
        return [w for w in self.workers if w.poll() is None]

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_cluster(root: Path, workers: int = 2) -> DaskCluster:
    if not DASK.exists():
        pytest.skip("the dask CLI is not installed (uv sync installs it with setpiece-core[farm-dask])")
    root.mkdir(parents=True, exist_ok=True)
    port, dash = free_port(), free_port()
    log = (root / "scheduler.log").open("wb")
    scheduler = subprocess.Popen(
        [
            str(DASK), "scheduler",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--dashboard-address", f"127.0.0.1:{dash}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    cluster = DaskCluster(f"tcp://127.0.0.1:{port}", f"127.0.0.1:{dash}", root, scheduler)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if scheduler.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "dask scheduler did not start:\n" + (root / "scheduler.log").read_text()
                    ) from None
                time.sleep(0.1)
        for i in range(workers):
            cluster.start_worker(f"worker-{i + 1}")
        cluster.wait_for_workers(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A scheduler and two workers on 127.0.0.1, shared by one test module."""
    cluster = start_cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield cluster
    finally:
        cluster.stop()
