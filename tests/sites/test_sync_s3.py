"""A site whose files remote is S3 (moto's server on 127.0.0.1, dvc's ``dvc-s3`` plugin):
``[sites.mumbai] files_remote = "s3://..."``, a sync into it from a folder site, and a
pull at mumbai from it. Fixtures as in ``tests/core/test_files_s3.py`` (dvc-s3 installed
with uv into a private folder when the venv lacks it; without network it skips)."""

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

pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")

pytestmark = pytest.mark.slow

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
         "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def dvc_s3_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    if importlib.util.find_spec("dvc_s3") is not None:
        return ""
    target = tmp_path_factory.mktemp("dvc-s3-sites")
    uv = Path(sys.executable).parent / "uv"
    proc = subprocess.run(
        [str(uv) if uv.exists() else "uv", "pip", "install", "--no-config", "--quiet",
         "--target", str(target), "--python", sys.executable, "dvc-s3"],
        capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"})
    if proc.returncode != 0:
        pytest.skip(f"cannot install dvc-s3 for the S3 test: {proc.stderr.strip()[-200:]}")
    return str(target)


@pytest.fixture
def moto_server() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **CREDS})
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


def test_sync_into_a_site_whose_files_remote_is_s3(two_sites: Any, moto_server: str,
                                                   dvc_s3_path: str, run_setpiece: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    env = {"PYTHONPATH": dvc_s3_path} if dvc_s3_path else {}
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="mumbai-assets")
    s = two_sites
    for ws in (s.london, s.mumbai):  # mumbai's repos keep their files in S3
        text = ws.config.path.read_text().replace(
            'review = "mumbai-review"\n',
            'review = "mumbai-review"\nfiles_remote = "s3://mumbai-assets/files"\n'
            f'files_remote_options = {{ endpointurl = "{moto_server}" }}\n')
        ws.config.path.write_text(text)
    r = run_setpiece("-w", s.london.root, "repo", "sync", "london", "mumbai", "KitchenSet[build]",
                     "--json", env=env)
    assert r.exit_code == 0, r.err
    assert (r.json()["wheels"], r.json()["objects"]) == (3, 5)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="mumbai-assets").get("Contents", [])]
    assert len(keys) == 5 and all(k.startswith("files/files/md5/") for k in keys)
    assert not (s.mumbai_repo / "files").exists()  # nothing in mumbai's folder
    again = run_setpiece("-w", s.london.root, "repo", "sync", "london", "mumbai",
                         "KitchenSet[build]", "--json", env=env)
    assert again.exit_code == 0 and again.json()["objects"] == 0
    # mumbai installs and pulls from its S3 remote, london's folder out of reach
    s.london_repo.rename(s.london_repo.with_name("london.away"))
    r = run_setpiece("-w", s.mumbai.root, "install", "KitchenSet[build]", env=env)
    assert r.exit_code == 0, r.err
    assert (s.mumbai.site_packages / "chair" / "geo.abc").read_bytes() == b"chair geometry " * 8000
