"""Asset files on an S3-compatible remote: moto's server on 127.0.0.1, started by the test.

dvc talks to S3 through its ``dvc-s3`` plugin. When the dev venv lacks it, the test
installs it (with uv) into a private folder put first on the ``setpiece`` subprocess's
PYTHONPATH, so the shared venv is never changed; without network it skips.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")
pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
         "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def dvc_s3_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """'' when the venv has dvc-s3, else a folder holding it (installed by uv now)."""
    if importlib.util.find_spec("dvc_s3") is not None:
        return ""
    target = tmp_path_factory.mktemp("dvc-s3")
    uv = Path(sys.executable).parent / "uv"
    proc = subprocess.run(
        [str(uv) if uv.exists() else "uv", "pip", "install", "--no-config", "--quiet",
         "--target", str(target), "--python", sys.executable, "dvc-s3"],
        capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"},
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot install dvc-s3 for the S3 test: {proc.stderr.strip()[-200:]}")
    return str(target)


@pytest.fixture
def moto_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **CREDS},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("moto server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _s3_repo(ws: Any, endpoint: str, bucket: str, **options: Any) -> None:
    with ws.config.edit() as doc:
        doc["repos"]["review"]["files_remote"] = f"s3://{bucket}/review"
        doc["repos"]["review"]["files_remote_options"] = {"endpointurl": endpoint, **options}


@pytest.mark.slow
def test_s3_remote_push_publish_pull(make_workspace: Any, run_setpiece: Any, moto_server: str,
                                     dvc_s3_path: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    env = {"PYTHONPATH": dvc_s3_path} if dvc_s3_path else {}
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="studio-assets")
    author = make_workspace("author")
    consumer = make_workspace("consumer")
    for ws in (author, consumer):
        _s3_repo(ws, moto_server, "studio-assets")
    author.create("Chair")
    pkg = author.output("Chair").package_dir
    for i in range(5):
        (pkg / "frames").mkdir(exist_ok=True)
        (pkg / "frames" / f"f{i}.exr").write_bytes(os.urandom(3000))
    r = run_setpiece("-w", author.root, "files", "add", "Chair", pkg / "frames", env=env)
    assert r.exit_code == 0, r.err
    r = run_setpiece("-w", author.root, "publish", "Chair", env=env)
    assert r.exit_code == 0, r.err
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="studio-assets").get("Contents", [])]
    assert len(keys) == 6 and all(k.startswith("review/files/md5/") for k in keys)
    assert not list((tmp_path / "repos" / "review" / "files").glob("*")), "nothing in the folder"

    assert run_setpiece("-w", consumer.root, "install", "Chair", "--repo", "review").exit_code == 0
    r = run_setpiece("-w", consumer.root, "files", "pull", "--json", env=env)
    assert r.exit_code == 0, r.err
    assert r.json()["files"] == 5, r.out + r.err
    pulled = Path(consumer.site_packages) / "chair" / "frames"
    assert sorted(p.read_bytes() for p in pulled.iterdir()) == sorted(
        p.read_bytes() for p in (pkg / "frames").iterdir())

    # the same remote, not reachable
    port = free_port()
    _s3_repo(author, f"http://127.0.0.1:{port}", "studio-assets", connect_timeout=1)
    r = run_setpiece("-w", author.root, "files", "status", "Chair", env=env)
    assert "unreachable" in r.err
    r = run_setpiece("-w", author.root, "files", "push", "Chair", env=env, timeout=300)
    assert r.exit_code == 1 and "Traceback" not in r.err
    assert r.err.strip().splitlines()[-1].startswith("error: the files remote of repo 'review'")
    assert "unreachable" in r.err
