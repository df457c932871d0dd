"""Tampering and supply chain: crafted wheels, sdists beside external packages, tampered
uv caches. Each attack is tried for real (real uv, real folder repos) and must be refused
with a one-line error naming the wheel or package, leaving nothing installed."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from setpiece.core.errors import SetpieceError
from setpiece.core.repos import simple_index
from setpiece.core.repos.folder import FolderRepo


def _wheel(dest: Path, name: str, version: str, extra: dict[str, str], *,
           asset: bool = True) -> Path:
    dist = f"{name}-{version}.dist-info"
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        if f"{name}/__init__.py" not in extra:
            zf.writestr(f"{name}/__init__.py", "VALUE = 1\n")
        for entry, body in extra.items():
            zf.writestr(entry, body)
        zf.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: evil\nRoot-Is-Purelib: true\n"
                    "Tag: py3-none-any\n")
        if asset:
            zf.writestr(f"{dist}/entry_points.txt", f"[setpiece.asset]\n{name} = {name}\n")
        zf.writestr(f"{dist}/RECORD", "")
    return wheel


HOOK = "import pathlib; pathlib.Path('HOOK-RAN').write_text('x')\n"

UNSAFE = {
    "pth at the root": ("evil.pth", HOOK, "start-up hook"),
    "pth through purelib": ("sneaky-1.0.0.data/purelib/evil.pth", HOOK, "start-up hook"),
    "sitecustomize": ("sitecustomize.py", HOOK, "start-up hook"),
    "usercustomize package": ("usercustomize/__init__.py", HOOK, "start-up hook"),
    "data into the venv": ("sneaky-1.0.0.data/data/bin/python3.99", "x", "outside site-packages"),
    "scripts": ("sneaky-1.0.0.data/scripts/evil", "#!/bin/sh\n", "outside site-packages"),
    "another dist-info": ("requests-2.0.dist-info/METADATA", "Name: requests\n", "another distribution"),
    "parent folder": ("../../escaped.py", "x", "escapes its folder"),
}


@pytest.mark.parametrize("case", sorted(UNSAFE))
def test_unsafe_asset_wheel_refused_at_publish_and_reindex(sample_ws, sample_repo: Path, run_cli,
                                                           tmp_path: Path, snap, case: str) -> None:
    entry, body, why = UNSAFE[case]
    outside = tmp_path / "outside"
    outside.mkdir()
    wheel = _wheel(outside, "sneaky", "1.0.0", {entry: body})
    with pytest.raises(SetpieceError, match=why) as info:
        FolderRepo("samples", str(sample_repo)).publish(wheel)
    assert wheel.name in str(info.value) and entry in str(info.value)
    assert not (sample_repo / wheel.name).exists()
    # dropped in by another tool, with a forged .metadata beside it: reindex leaves it out,
    # names it, and still indexes every other asset (a new one copied in as well)
    shutil.copy(wheel, sample_repo / wheel.name)
    (sample_repo / f"{wheel.name}.metadata").write_text("Metadata-Version: 2.1\nName: sneaky\n"
                                                        "Version: 1.0.0\n")
    good = _wheel(outside, "goodie", "1.0.0", {})
    shutil.copy(good, sample_repo / good.name)
    shutil.rmtree(sample_repo / "simple" / "chair")
    message = run_cli("-w", sample_ws.root, "repo", "reindex", "blessed").user_error(
        "sneaky-1.0.0-py3-none-any.whl", why, "the rest is indexed")
    assert entry in message
    root = (sample_repo / "simple" / "index.html").read_text()
    assert "sneaky" not in root and "goodie" in root and "chair" in root
    assert (sample_repo / "simple" / "chair" / "index.html").exists()
    assert not (sample_repo / "simple" / "sneaky").exists()
    run_cli("-w", sample_ws.root, "install", "sneaky").user_error("sneaky")
    assert "sneaky" not in sample_ws.installed_assets()


@pytest.mark.parametrize("case", ["pth at the root", "sitecustomize", "scripts"])
def test_unsafe_asset_installed_from_an_index_is_undone(sample_ws, sample_repo: Path, run_cli,
                                                        tmp_path: Path, snap, case: str) -> None:
    """A wheel that reached a repo's index without the checks (an index server, a forged
    page): uv installs it, setpiece reads what it wrote and undoes the install."""
    entry, body, why = UNSAFE[case]
    ws = sample_ws
    ws.install(["Chair"])
    wheel = _wheel(sample_repo, "sneaky", "1.0.0", {entry: body})
    (sample_repo / f"{wheel.name}.metadata").write_text("Metadata-Version: 2.1\nName: sneaky\n"
                                                        "Version: 1.0.0\n")
    simple_index.write_project_index(sample_repo, "sneaky", [wheel])  # a forged index page
    before = snap(ws.inputs, skip=("lib/python3.11/site-packages/__pycache__",))
    config = (ws.root / "setpiece.toml").read_bytes()
    run_cli("-w", ws.root, "install", "sneaky").user_error("refused sneaky 1.0.0", why, "undone")
    assert snap(ws.inputs, skip=("lib/python3.11/site-packages/__pycache__",)) == before
    assert (ws.root / "setpiece.toml").read_bytes() == config
    assert not list(tmp_path.rglob("HOOK-RAN"))


def test_external_wheel_may_ship_a_pth_but_not_escape(sample_ws, run_cli, tmp_path: Path) -> None:
    ws = sample_ws
    ext = ws.external_dir
    _wheel(ext, "plainpth", "1.0.0", {"plainpth.pth": "\n"}, asset=False)
    assert run_cli("-w", ws.root, "install", "plainpth").exit_code == 0
    (ext / "plainpth-1.0.0-py3-none-any.whl").unlink()
    _wheel(ext, "climber", "1.0.0", {"../../../x.py": "x"}, asset=False)
    run_cli("-w", ws.root, "install", "Chair").user_error("climber-1.0.0-py3-none-any.whl",
                                                          "escapes its folder", "delete it")


@pytest.mark.parametrize("filename", ["chair-9.0.0.tar.gz", "Chair-9.0.0.zip", "chair-9.0.0.tar.bz2",
                                      "kitchenset-9.0.tgz"])
def test_sdist_named_like_an_asset_is_refused(sample_ws, run_cli, snap, filename: str) -> None:
    ws = sample_ws
    ws.external_dir.mkdir(exist_ok=True)
    (ws.external_dir / filename).write_bytes(b"not really an archive")
    before = snap(ws.inputs)
    message = run_cli("-w", ws.root, "install", "Chair").user_error(filename, "delete it")
    assert "asset" in message
    assert snap(ws.inputs) == before
    # an sdist of a non-asset name is not the repos' business
    (ws.external_dir / filename).unlink()
    (ws.external_dir / "somelib-1.0.tar.gz").write_bytes(b"x")
    assert run_cli("-w", ws.root, "install", "Chair").exit_code == 0


def _uv_cache_archive(cache: Path, module: str) -> list[Path]:
    """The unpacked copies of a package in uv's cache (``archive-v0/<id>/<module>``)."""
    return [p for p in cache.glob(f"archive-v*/*/{module}/__init__.py")]


def test_sync_refuses_what_a_tampered_uv_cache_installs(sample_ws, make_workspace, sample_repo: Path,
                                                        tmp_path: Path, run_cli, monkeypatch) -> None:
    ws = sample_ws
    cache = tmp_path / "uv-cache"
    monkeypatch.setenv("UV_CACHE_DIR", str(cache))
    ws.install(["KitchenSet[build]"])
    lock = tmp_path / "lock.txt"
    ws.freeze(lock)
    # the cache is warm; someone edits Table's unpacked copy in it
    copies = _uv_cache_archive(cache, "table")
    assert copies, sorted(str(p) for p in cache.rglob("__init__.py"))[:5]
    for c in copies:
        os.chmod(c, 0o644)
        c.write_text(c.read_text() + "\nEVIL = True\n")
    other = make_workspace("other", repos={"blessed": sample_repo}, blessed="blessed",
                           default="blessed")
    message = run_cli("-w", other.root, "sync", lock).user_error("table 1.3.0", "differs from the locked wheel",
                                                                 "uv cache clean table")
    assert "table/__init__.py" in message
    # nothing tampered is left installed; once the cache is cleaned, sync succeeds
    assert "table" not in other.installed_assets()
    assert "EVIL" not in "".join(p.read_text() for p in other.site_packages.rglob("*.py"))
    shutil.rmtree(cache)
    assert run_cli("-w", other.root, "sync", lock).exit_code == 0
    assert "table" in other.installed_assets()


def test_sync_refuses_an_installed_file_changed_since(sample_ws, tmp_path: Path, run_cli,
                                                     monkeypatch) -> None:
    ws = sample_ws
    cache = tmp_path / "uv-cache"  # uv hardlinks from its cache: the edit reaches it too
    monkeypatch.setenv("UV_CACHE_DIR", str(cache))
    ws.install(["Chair"])
    lock = tmp_path / "lock.txt"
    ws.freeze(lock)
    init = next(ws.site_packages.glob("chair/__init__.py"))
    os.chmod(init, 0o644)
    init.write_text("EVIL = True\n")
    run_cli("-w", ws.root, "sync", lock).user_error("chair 1.1.0", "chair/__init__.py",
                                                    "uv cache clean chair")
    assert "chair" not in ws.installed_assets()
    shutil.rmtree(cache)
    assert run_cli("-w", ws.root, "sync", lock).exit_code == 0
    assert "EVIL" not in next(ws.site_packages.glob("chair/__init__.py")).read_text()


# -- index repos that start redirecting after 'repo add' ------------------------------------


class _Index:
    """A static index server over a folder repo (its ``simple/`` pages and wheels) that a
    test can switch to redirecting: every name (``redirect_all``) or one name only."""

    def __init__(self, root: Path, target: str = "") -> None:
        import http.server
        import threading

        outer = self
        self.redirect_all = False
        self.redirect_names: set[str] = set()
        self.target = target

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(root), **kw)

            def log_message(self, *a) -> None:
                pass

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) == 2 and parts[0] == "simple":
                    name = parts[1]
                    known = (root / "simple" / name / "index.html").exists()
                    if (outer.redirect_all and not known) or name in outer.redirect_names:
                        self.send_response(302)
                        self.send_header("Location", f"{outer.target}/simple/{name}/")
                        self.end_headers()
                        return
                super().do_GET()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def evil_public(tmp_path: Path):
    """A 'public index' on another host name (localhost, not 127.0.0.1) serving a fake
    ``requests`` whose code leaves a marker when it is imported."""
    root = tmp_path / "public"
    root.mkdir()
    wheel = _wheel(root, "requests", "99.0.0",
                   {"requests/__init__.py": HOOK}, asset=False)
    (root / "simple" / "requests").mkdir(parents=True)
    simple_index.write_project_index(root, "requests", [wheel])
    srv = _Index(root)
    srv.url = srv.url.replace("127.0.0.1", "localhost")
    yield srv
    srv.close()


@pytest.mark.slow  # uv retries the refused connection 3 times (~6 s)
def test_index_that_starts_redirecting_after_repo_add_is_refused(
        make_workspace, sample_repo: Path, evil_public, run_cli, snap, tmp_path: Path) -> None:
    lan = _Index(sample_repo, target=evil_public.url)
    try:
        ws = make_workspace(repos={"lan": f"{lan.url}/simple/"}, blessed="lan", default="lan")
        assert run_cli("-w", ws.root, "install", "Chair").exit_code == 0
        before = snap(ws.inputs, skip=("lib/python3.11/site-packages/__pycache__",))
        # every unknown name now goes to the public index: caught on use
        lan.redirect_all = True
        run_cli("-w", ws.root, "install", "requests").user_error("redirects", "lan", evil_public.url)
        # only 'requests' is redirected (the per-use probe sees nothing): uv may not follow
        lan.redirect_all = False
        lan.redirect_names = {"requests"}
        r = run_cli("-w", ws.root, "install", "requests")
        r.user_error("index repo 'lan' redirected", f"{evil_public.url}/simple/requests/",
                     "not followed")
        assert snap(ws.inputs, skip=("lib/python3.11/site-packages/__pycache__",)) == before
        assert "requests" not in {n for n, _ in ws.installed()[1]}
        # setpiece's own reads of the index do not follow it either
        run_cli("-w", ws.root, "versions", "requests", "--repo", "lan").user_error(
            "index repo 'lan' redirected", "not followed")
        assert not list(tmp_path.rglob("HOOK-RAN"))
    finally:
        lan.close()


# -- a killed install ------------------------------------------------------------------


def _dist_info(ws, name: str) -> Path:
    return next(ws.site_packages.glob(f"{name}-*.dist-info"))


@pytest.mark.slow
def test_half_installed_dists_are_reported_and_repaired(sample_ws, run_cli, run_setpiece,
                                                      tmp_path: Path, monkeypatch) -> None:
    """What uv leaves when killed between linking a wheel's files and writing its RECORD
    (simulated: the files removed by hand, as a SIGKILL at that instant leaves them)."""
    ws = sample_ws
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # files are hardlinks into it
    ws.install(["KitchenSet[build]"])
    (_dist_info(ws, "chair") / "RECORD").unlink()
    (_dist_info(ws, "table") / "METADATA").unlink()
    (_dist_info(ws, "lamp") / "METADATA").unlink()
    (_dist_info(ws, "lamp") / "METADATA").write_text("Metadata-Ver")  # cut short
    r = run_setpiece("-w", ws.root, "list")
    assert r.exit_code == 0 and "Traceback" not in r.err, r.err
    assert "table" not in r.out.lower() and "lamp" not in r.out.lower() and "KitchenSet" in r.out
    warnings = [ln for ln in r.err.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 3, r.err
    assert any("table 1.3.0 is half-installed" in w and "setpiece install table==1.3.0" in w
               for w in warnings)
    assert run_setpiece("-w", ws.root, "list", "--json").exit_code == 0
    # the command the warning names repairs every half-installed one; only the asked
    # requirement is recorded as a request
    requests = ws.config.requests
    r = run_cli("-w", ws.root, "install", "table==1.3.0")
    assert r.exit_code == 0, r.err
    assert "Repairing half-installed chair 1.1.0, lamp 3.2.1, table 1.3.0" in r.err
    r = run_setpiece("-w", ws.root, "list")
    assert "warning" not in r.err and "Lamp" in r.out and "Chair" in r.out and "Table" in r.out
    assert (_dist_info(ws, "chair") / "RECORD").is_file()
    from setpiece.core.workspace import Workspace

    assert set(Workspace(ws.root).config.requests) == {*requests, "table==1.3.0"}
    assert run_cli("-w", ws.root, "install", "Apartment").err == "Installing Apartment\n"
    # a half-installed one can be uninstalled (it is made whole first: it has no RECORD)
    (_dist_info(ws, "lamp") / "RECORD").unlink()
    r = run_cli("-w", ws.root, "uninstall", "Lamp")
    assert r.exit_code == 0, r.err
    assert "lamp" not in Workspace(ws.root).installed_assets()
    assert not list(ws.site_packages.glob("lamp*"))


# -- temp files of killed writers ------------------------------------------------------------


def _orphans(repo: Path, age: float) -> list[Path]:
    """Temp files named exactly as setpiece's writers name them, ``age`` seconds old."""
    import time

    from setpiece.core.fsutil import _mkstemp

    made = []
    for folder, name in [(repo, "chair-9.0.0-py3-none-any.whl"), (repo / "simple" / "chair", "index.html"),
                         (repo / "files" / "md5" / "ab", "")]:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = _mkstemp(folder, name) if name else (None, None)
        if fd is not None:
            os.write(fd, b"x" * 1000)
            os.close(fd)
            path = Path(tmp)
        else:  # file objects: '.<random>.tmp' (files/objects.py)
            path = folder / f".{os.urandom(4).hex()}.tmp"
            path.write_bytes(b"y" * 500)
        os.utime(path, (time.time() - age, time.time() - age))
        made.append(path)
    return made


def test_repo_gc_removes_only_old_temps(sample_ws, sample_repo: Path, run_cli, snap) -> None:
    ws = sample_ws
    old = _orphans(sample_repo, age=7200)
    young = _orphans(sample_repo / "young-side", age=0)[0]  # not a writer folder: never looked at
    live = _orphans(sample_repo, age=10)  # a live writer's
    keep = [sample_repo / "simple" / ".lock", sample_repo / ".hidden-note"]
    keep[1].write_text("mine")
    before = snap(sample_repo)
    r = run_cli("-w", ws.root, "repo", "gc", "blessed", "--dry-run")
    assert r.exit_code == 0, r.err
    assert "would remove 3 temp file(s), 2,500 bytes; kept 3 younger than 3600 s" in r.out
    assert snap(sample_repo) == before
    data = run_cli("-w", ws.root, "repo", "gc", "--json").json()
    assert {d["repo"] for d in data} == {"blessed", "review"}
    mine = next(d for d in data if d["repo"] == "blessed")
    assert sorted(mine["removed"]) == sorted(str(p.relative_to(sample_repo)) for p in old)
    assert not any(p.exists() for p in old)
    assert all(p.exists() for p in [*live, young, *keep])
    assert ws.versions("chair")["blessed"] == ["1.0.0", "1.1.0"]


def test_publish_collects_old_temps_at_most_daily(sample_ws, sample_repo: Path) -> None:
    ws = sample_ws
    ws.repo_add("blessed", str(sample_repo), blessed=True, default=True)
    old = _orphans(sample_repo, age=7200)
    stamp = sample_repo / "simple" / ".gc-stamp"
    import time

    os.utime(stamp, (time.time() - 2 * 86400, time.time() - 2 * 86400))  # last gc: 2 days ago
    ws.create("Stool")
    ws.publish("Stool")
    assert not any(p.exists() for p in old)
    assert time.time() - stamp.stat().st_mtime < 60
    again = _orphans(sample_repo, age=7200)
    ws.bump("Stool", "micro")
    ws.publish("Stool")  # gc ran less than a day ago: no folder listing this time
    assert all(p.exists() for p in again)
