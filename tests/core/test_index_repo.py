"""Index repos against a real pypiserver on 127.0.0.1 (uploads allowed without auth)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pypiserver")

from setpiece.core import SetpieceError
from setpiece.core.repos.index import IndexRepo


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class Server:
    def __init__(self, url: str, packages: Path) -> None:
        self.url = url
        self.simple = url + "/simple/"
        self.packages = packages

    def clear(self) -> None:
        for p in self.packages.iterdir():
            if p.is_file():
                p.unlink()


def start_pypiserver(packages: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    exe = Path(sys.executable).parent / "pypi-server"
    cmd = [str(exe), "run", "-p", str(port), "-i", "127.0.0.1", "-a", ".", "-P", ".",
           "--backend", "simple-dir", "--log-stream", "none", *options, str(packages)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as resp:
                if resp.status == 200:
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"pypiserver did not start: {err[-2000:]}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr:
        proc.stderr.close()


@pytest.fixture(scope="session")
def pypiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """pypiserver with uploads open (``-a . -P .``), no fallback to PyPI, rescanning its
    folder on every request (so a test can clear it); torn down at the end."""
    packages = tmp_path_factory.mktemp("pypiserver-packages")
    proc, url = start_pypiserver(packages, "--disable-fallback")
    try:
        yield Server(url, packages)
    finally:
        stop(proc)


@pytest.fixture
def index(pypiserver: Server) -> Server:
    """The session's pypiserver, emptied for this test."""
    pypiserver.clear()
    return pypiserver


@pytest.fixture
def index_ws(make_workspace, make_repo, index: Server):
    """blessed = the index server, review = a folder repo (the default publish target)."""
    return make_workspace(repos={"blessed": index.simple, "review": make_repo("review")},
                          blessed="blessed", default="review")


def test_publish_versions_install(index_ws, index: Server, run_cli) -> None:
    ws = index_ws
    ws.create("Chair", description="from the index")
    r = run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed")
    assert r.exit_code == 0, r.err
    assert (index.packages / "chair-0.1.0-py3-none-any.whl").is_file()
    run_cli("-w", ws.root, "bump", "Chair", "micro")
    assert run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").exit_code == 0
    assert run_cli("-w", ws.root, "versions", "Chair", "--repo", "blessed", "--json").json() == {
        "blessed": ["0.1.0", "0.1.1"]}
    assert run_cli("-w", ws.root, "list", "--repo", "blessed", "--json").json() == [
        {"name": "Chair", "versions": ["0.1.0", "0.1.1"]}]
    rows = run_cli("-w", ws.root, "repo", "list", "--json").json()
    assert rows[0] == {"name": "blessed", "kind": "index", "location": index.simple,
                       "blessed": True, "default": False}
    # a second workspace installs it from the index
    other = run_cli("init", ws.root.parent / "other", "--repo", f"lan={index.simple}")
    assert other.exit_code == 0, other.err
    r = run_cli("-w", ws.root.parent / "other", "install", "Chair==0.1.0")
    assert r.exit_code == 0, r.err
    from setpiece.core import Workspace

    installed = Workspace(ws.root.parent / "other").installed_assets()["chair"]
    assert (installed.version, installed.description) == ("0.1.0", "from the index")
    data = run_cli("-w", ws.root.parent / "other", "info", "Chair", "--json").json()
    assert data["published"] == {"lan": ["0.1.0", "0.1.1"]}


def test_publish_twice_to_index_says_bump_first(index_ws, index: Server, run_cli) -> None:
    ws = index_ws
    ws.create("Chair")
    ws.publish("Chair", repo="blessed")
    wheel = index.packages / "chair-0.1.0-py3-none-any.whl"
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (ws.outputs / "Chair" / "src" / "chair" / "more.py").write_text("X = 2\n")
    run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").user_error("bump first")
    # even when the pre-check is skipped, the server's 409 is turned into the same error
    with pytest.raises(SetpieceError, match="bump first"):
        repo = IndexRepo("blessed", index.simple)
        repo.has_version = lambda *a: False  # type: ignore[method-assign]
        repo.publish(ws.build("Chair"))
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == digest


def test_install_blessed_index_plus_folder(index_ws, index: Server, run_cli) -> None:
    """Closure spread over two repos: the set on the index, its props in the folder repo."""
    ws = index_ws
    ws.create("Chair")
    ws.publish("Chair")  # -> review (folder)
    ws.create("Table", version="1.2.3")
    ws.publish("Table", repo="blessed")  # -> index
    ws.create("KitchenSet", kind="set")
    ws.require("KitchenSet", ["Chair", "Table>=1.2,<2"])
    ws.publish("KitchenSet", repo="blessed")
    other = run_cli("init", ws.root.parent / "o", "--repo", f"blessed={index.simple}",
                    "--repo", f"review={ws.root.parent / 'repos' / 'review'}")
    assert other.exit_code == 0, other.err
    r = run_cli("-w", ws.root.parent / "o", "install", "KitchenSet[build]", "--json")
    assert r.exit_code == 0, r.err
    assert sorted(r.json()) == ["+ chair==0.1.0", "+ kitchenset==0.1.0", "+ table==1.2.3"]


def test_promote_folder_to_index(index_ws, index: Server, run_cli, tmp_path: Path) -> None:
    ws = index_ws
    ws.create("Lamp", version="3.2.1")
    ws.publish("Lamp")
    r = run_cli("-w", ws.root, "promote", "Lamp==3.2.1", "--to", "blessed")
    assert r.exit_code == 0, r.err
    name = "lamp-3.2.1-py3-none-any.whl"
    assert (index.packages / name).read_bytes() == (tmp_path / "repos" / "review" / name).read_bytes()
    assert ws.versions("Lamp") == {"blessed": ["3.2.1"], "review": ["3.2.1"]}
    r = run_cli("-w", ws.root, "promote", "Lamp==3.2.1", "--to", "blessed")  # a re-run
    assert r.exit_code == 0 and "already in 'blessed' with the same bytes" in r.err, r.err
    # and back: index -> a new folder repo
    assert run_cli("-w", ws.root, "repo", "add", "archive", tmp_path / "archive",
                   "--create").exit_code == 0
    r = run_cli("-w", ws.root, "promote", "Lamp==3.2.1", "--from", "blessed", "--to", "archive")
    assert r.exit_code == 0, r.err
    assert (tmp_path / "archive" / name).read_bytes() == (index.packages / name).read_bytes()


def test_edit_from_index(index_ws, run_cli) -> None:
    ws = index_ws
    ws.create("Chair", version="1.0.0", kind="prop", description="indexed chair")
    ws.publish("Chair", repo="blessed")
    shutil.rmtree(ws.outputs / "Chair")
    ws.uv_pip("uninstall", ["Chair"], with_index=False)
    r = run_cli("-w", ws.root, "edit", "Chair")
    assert r.exit_code == 0, r.err
    out = ws.output("Chair")
    assert (out.version, out.description) == ("1.0.1", "indexed chair")


def test_index_asset_named_like_public_package(index_ws, run_cli) -> None:
    """pypiserver redirects unknown names to PyPI unless told not to; setpiece's install must
    still never take 'six' from anywhere but the repos."""
    ws = index_ws
    message = run_cli("-w", ws.root, "install", "six").user_error("six")
    assert "blessed" in message
    ws.create("six", version="0.0.1")
    ws.publish("six", repo="blessed")
    shutil.rmtree(ws.outputs / "six")
    ws.uv_pip("uninstall", ["six"], with_index=False)
    assert run_cli("-w", ws.root, "install", "six").exit_code == 0
    assert ws.installed_assets()["six"].version == "0.0.1"


def test_freeze_and_sync_through_index(index_ws, make_workspace, run_cli, index: Server,
                                       tmp_path: Path) -> None:
    ws = index_ws
    ws.create("Chair")
    ws.publish("Chair", repo="blessed")
    shutil.rmtree(ws.outputs / "Chair")
    ws.uv_pip("uninstall", ["Chair"], with_index=False)
    ws.install(["Chair"])
    lock = tmp_path / "lock.txt"
    assert run_cli("-w", ws.root, "freeze", "-o", lock).exit_code == 0
    assert "chair==0.1.0" in lock.read_text()
    other = make_workspace("other", repos={"lan": index.simple}, blessed="lan", default="lan")
    assert run_cli("-w", other.root, "sync", lock).exit_code == 0
    assert other.installed_assets()["chair"].version == "0.1.0"


# -- unreachable index ----------------------------------------------------------------------


def test_unreachable_index(make_workspace, make_repo, run_cli, closed_port: int, snap,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")  # uv retries 3 times over ~9 s otherwise
    url = f"http://127.0.0.1:{closed_port}/simple/"
    ws = make_workspace()
    ws.create("Chair")
    # configured by hand (repo add would refuse it): every command that needs it says so
    with ws.config.edit() as doc:
        doc["repos"]["lan"] = {"location": url}
    before = snap(ws.root, skip=(".setpiece",))
    for args in (["publish", "Chair", "--repo", "lan"], ["versions", "Chair", "--repo", "lan"],
                 ["list", "--repo", "lan"], ["install", "Table"],
                 ["promote", "Chair==0.1.0", "--from", "lan", "--to", "blessed"]):
        message = run_cli("-w", ws.root, *args).user_error("unreachable", "'lan'")
        assert str(closed_port) in message
    assert snap(ws.root, skip=(".setpiece",)) == before
    run_cli("-w", ws.root, "repo", "add", "lan2", url).user_error("unreachable", "lan2")


def test_index_server_errors_are_one_line(index_ws, index: Server, run_cli) -> None:
    ws = index_ws
    ws.create("Chair")
    with ws.config.edit() as doc:
        doc["repos"]["bad"] = {"location": index.url + "/nothing-here/simple/",
                               "upload_url": index.url + "/nothing-here/"}
    run_cli("-w", ws.root, "publish", "Chair", "--repo", "bad").user_error("bad")


def test_index_that_falls_back_to_pypi_is_refused(tmp_path: Path, make_workspace, run_cli) -> None:
    """pypiserver's default sends unknown names to PyPI (a 303): uv would follow it and install
    the public 'six' in place of a missing asset. Adding such an index is refused."""
    packages = tmp_path / "pkgs"
    packages.mkdir()
    proc, url = start_pypiserver(packages)  # fallback on (the default)
    try:
        ws = make_workspace()
        message = run_cli("-w", ws.root, "repo", "add", "lan", url + "/simple/").user_error(
            "redirects", "lan")
        assert "pypi.org" in message and "--disable-fallback" in message
        assert "lan" not in ws.config.repos
        target = tmp_path / "ws2"
        run_cli("init", target, "--repo", f"lan={url}/simple/").user_error("redirects")
        assert not target.exists()
    finally:
        stop(proc)


# -- an index that needs a login ---------------------------------------------------------------


class _AuthServer:
    """A static file server on 127.0.0.1 that wants HTTP basic auth (like a studio's nginx
    in front of a folder repo's static index)."""

    USER, PASSWORD = "artist", "s3cret-pw"

    def __init__(self, root: Path, *, login: bool = True) -> None:
        import base64
        import functools
        import http.server
        import threading

        token = base64.b64encode(f"{self.USER}:{self.PASSWORD}".encode()).decode()

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                if login and self.headers.get("Authorization") != f"Basic {token}":
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="repo"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/simple/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def auth_index(sample_repo: Path) -> Iterator[_AuthServer]:
    server = _AuthServer(sample_repo)
    try:
        yield server
    finally:
        server.close()


def test_index_with_login_installs_with_credentials_from_the_environment(
        make_workspace, run_cli, auth_index: _AuthServer, monkeypatch: pytest.MonkeyPatch,
        snap) -> None:
    """Credentials come from SETPIECE_REPO_<NAME>_USERNAME/_PASSWORD for versions and
    install alike, and are never written to setpiece.toml or shown."""
    monkeypatch.setenv("SETPIECE_REPO_STUDIO_LAN_USERNAME", _AuthServer.USER)
    monkeypatch.setenv("SETPIECE_REPO_STUDIO_LAN_PASSWORD", _AuthServer.PASSWORD)
    ws = make_workspace()
    r = run_cli("-w", ws.root, "repo", "add", "studio-lan", auth_index.url, "--blessed")
    assert r.exit_code == 0, r.err
    assert run_cli("-w", ws.root, "versions", "Chair", "--repo", "studio-lan", "--json").json() == {
        "studio-lan": ["1.0.0", "1.1.0"]}
    r = run_cli("-w", ws.root, "install", "KitchenSet[build]")
    assert r.exit_code == 0, r.err
    assert sorted(ws.installed_assets()) == ["chair", "kitchenset", "lamp", "table"]
    assert _AuthServer.PASSWORD not in (ws.root / "setpiece.toml").read_text()
    assert _AuthServer.PASSWORD not in r.out + r.err
    assert _AuthServer.PASSWORD not in (ws.state_dir / "events.jsonl").read_text()
    # without them: a one-line error that says where credentials come from
    monkeypatch.delenv("SETPIECE_REPO_STUDIO_LAN_PASSWORD")
    before = snap(ws.inputs)
    message = run_cli("-w", ws.root, "versions", "Chair", "--repo", "studio-lan").user_error(
        "401", "studio-lan")
    assert "SETPIECE_REPO_STUDIO_LAN_USERNAME" in message and "setpiece.toml" not in message
    message = run_cli("-w", ws.root, "install", "Apartment[build]").user_error("studio-lan")
    assert "SETPIECE_REPO_STUDIO_LAN_PASSWORD" in message, message
    assert snap(ws.inputs) == before


def test_index_that_proxies_pypi_is_refused(make_workspace, run_cli, sample_repo: Path,
                                            tmp_path: Path) -> None:
    """A proxying index (devpi with bases=root/pypi, an Artifactory virtual repo) serves
    public names itself, with no redirect to catch: the probe for 'pip' refuses it."""
    page = sample_repo / "simple" / "pip" / "index.html"
    page.parent.mkdir()
    page.write_text('<a href="https://files.example/pip-24.0-py3-none-any.whl#sha256=00">'
                    "pip-24.0-py3-none-any.whl</a>\n")
    server = _AuthServer(sample_repo, login=False)
    try:
        ws = make_workspace()
        message = run_cli("-w", ws.root, "repo", "add", "proxy", server.url).user_error(
            "index repo 'proxy'", "serves the public package 'pip'", "proxies PyPI")
        assert server.url in message
        assert "proxy" not in ws.config.repos
        target = tmp_path / "ws2"
        run_cli("init", target, "--repo", f"proxy={server.url}").user_error("proxies PyPI")
        assert not target.exists()
        page.unlink()  # an index of only the studio's packages is fine
        assert run_cli("-w", ws.root, "repo", "add", "proxy", server.url).exit_code == 0
    finally:
        server.close()


def test_affected_over_an_index_repo(make_workspace, index: Server, sample_repo: Path, run_cli,
                                     setpiece_env: Path) -> None:
    """An index server keeps no reverse-dependency index: setpiece reads the metadata it
    serves once per version and caches it under $SETPIECE_HOME/cache/metadata."""
    for wheel in sample_repo.glob("*.whl"):
        shutil.copy(wheel, index.packages / wheel.name)
    ws = make_workspace(repos={"lan": index.simple}, blessed="lan", default="lan")
    r = run_cli("-w", ws.root, "affected", "Table==1.3.0", "--json")
    assert r.exit_code == 0, r.err
    assert [(a["name"], a["kind"], a["via"], a["repos"]) for a in r.json()["affected"]] == [
        ("KitchenSet", "semi-push", [], ["lan"]),
        ("Apartment", "push", ["KitchenSet 1.0.0"], ["lan"])]
    cached = sorted((setpiece_env / "cache" / "metadata").iterdir())
    assert len(cached) == len(list(sample_repo.glob("*.whl"))) == 9
    assert all(p.read_bytes().startswith(b"Metadata-Version") for p in cached)
    assert run_cli("-w", ws.root, "affected", "Lamp==3.3.0", "--json").json()["affected"] == []
    run_cli("-w", ws.root, "affected", "Table==9.0.0").user_error("not published")


def test_index_repo_events_live_where_configured(index_ws, make_workspace, make_repo, index: Server,
                                                 run_cli, tmp_path: Path) -> None:
    """An index server has nowhere to keep events: without ``events = FOLDER`` they stay
    in the publishing workspace; with a shared folder, every workspace sees them."""
    import json

    ws = index_ws
    ws.create("Chair")
    assert run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").exit_code == 0
    local = ws.root / ".setpiece" / "repo-events" / "blessed"
    assert len(list(local.glob("[0-9]*/*/*.json"))) == 1
    r = run_cli("-w", ws.root, "events", "--repo", "blessed", "--json")
    assert [json.loads(x)["event"] for x in r.out.splitlines()] == ["published"]

    shared = tmp_path / "shared-events"
    other = make_workspace("other", repos={"blessed": index.simple, "review": make_repo("review")},
                           blessed="blessed", default="review")
    for w in (ws, other):
        with w.config.edit() as doc:
            doc["repos"]["blessed"]["events"] = str(shared)
    run_cli("-w", ws.root, "bump", "Chair", "micro")
    assert run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").exit_code == 0
    r = run_cli("-w", other.root, "events", "--repo", "blessed", "--json")
    got = [json.loads(x) for x in r.out.splitlines()]
    assert [(e["event"], e["version"], e["workspace"]) for e in got] == [
        ("published", "0.1.1", str(ws.root))]


def test_repo_url_with_credentials_is_refused(make_workspace, run_cli, snap) -> None:
    """``https://user:pass@host`` would put the password in setpiece.toml and in logs (and
    crashed urllib): one line saying where credentials go instead; nothing written."""
    ws = make_workspace()
    before = snap(ws.root)
    msg = run_cli("-w", ws.root, "repo", "add", "lan", "https://bob:s3cret@host/simple/"
                  ).user_error("holds credentials", "https://host/simple/",
                               "SETPIECE_REPO_LAN_PASSWORD")
    assert "s3cret" not in msg
    assert snap(ws.root) == before
