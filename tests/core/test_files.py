"""Asset files with real dvc (dvc-data) and local folder remotes: add, status, push,
publish, install, pull, prune, import, promote, and every error the user can meet."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")

MB = 1 << 20


def write(path: Path, size: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = (f"{path.name}:{seed}:".encode() * (size // 8 + 64))[:size]
    path.write_bytes(block)
    return path


def frames(folder: Path, n: int, size: int = 4096, seed: int = 0) -> Path:
    for i in range(n):
        write(folder / f"f{i:04d}.exr", size, seed)
    return folder


def objects(remote_root: Path) -> set[str]:
    base = remote_root / "files" / "md5"
    if not base.exists():
        return set()
    return {p.parent.name + p.name for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")}


def site_pkg(ws: Any, module: str) -> Path:
    return Path(ws.site_packages) / module


def pull_on_install(ws: Any, on: bool) -> None:
    with ws.config.edit() as doc:
        doc.setdefault("settings", {})["pull_on_install"] = on


@pytest.fixture
def two_ws(make_workspace: Any) -> tuple[Any, Any]:
    """An authoring workspace and a consumer workspace sharing the same two repos; the
    consumer pulls on demand (``pull_on_install`` off), as these tests are about pulling."""
    author = make_workspace("author")
    consumer = make_workspace("consumer")
    pull_on_install(consumer, False)
    return author, consumer


def test_add_publish_install_pull_uninstall(two_ws: tuple[Any, Any], run_cli: Any,
                                            tmp_path: Path) -> None:
    author, consumer = two_ws
    author.create("Chair")
    render = frames(tmp_path / "render", 12)
    big = write(tmp_path / "chair.abc", 10 * MB)
    r = run_cli("-w", author.root, "files", "add", "Chair", str(render), "--as", "frames", "--json")
    assert r.exit_code == 0, r.err
    assert r.json()[0]["path"] == "frames" and r.json()[0]["files"] == 12
    assert run_cli("-w", author.root, "files", "add", "Chair", str(big), "--as", "geo/chair.abc").exit_code == 0
    pkg = author.output("Chair").package_dir
    assert (pkg / "frames.dvc").is_file() and (pkg / "geo" / "chair.abc.dvc").is_file()
    assert (pkg / "geo" / "chair.abc").read_bytes() == big.read_bytes()
    assert big.stat().st_mode & 0o200, "the source outside the asset is left as it was"

    st = run_cli("-w", author.root, "files", "status", "Chair", "--json").json()
    assert {(p["path"], p["local"], p["remote"]) for p in st["paths"]} == {
        ("frames", "present", "missing"), ("geo/chair.abc", "present", "missing")}

    r = run_cli("-w", author.root, "publish", "Chair")
    assert r.exit_code == 0, r.err
    review = tmp_path / "repos" / "review"
    wheel = review / "chair-0.1.0-py3-none-any.whl"
    assert wheel.stat().st_size < 20_000, "tracked bytes never go into the wheel"
    names = zipfile.ZipFile(wheel).namelist()
    assert "chair/frames.dvc" in names and "chair/geo/chair.abc.dvc" in names
    assert not any(n.startswith("chair/frames/") or n == "chair/geo/chair.abc" for n in names)
    assert len(objects(review)) == 12 + 1 + 1  # frames, the folder listing, the geometry
    st = run_cli("-w", author.root, "files", "status", "Chair", "--json").json()
    assert {p["remote"] for p in st["paths"]} == {"present"}

    # a consumer installs the published (non-editable) version and pulls on demand
    r = run_cli("-w", consumer.root, "install", "Chair", "--repo", "review")
    assert r.exit_code == 0, r.err
    assert ("warning: Chair 0.1.0's tracked files are not pulled (pull_on_install is off): "
            "'setpiece files pull Chair'") in r.err
    installed = site_pkg(consumer, "chair")
    assert (installed / "frames.dvc").exists() and not (installed / "frames").exists()
    dry = run_cli("-w", consumer.root, "files", "pull", "--dry-run", "--json").json()
    assert dry["files"] == 13 and dry["bytes"] == 12 * 4096 + 10 * MB
    assert not (installed / "frames").exists(), "a dry run changes nothing"
    r = run_cli("-w", consumer.root, "files", "pull", "Chair")
    assert r.exit_code == 0, r.err
    assert "fetched 13 file(s)" in r.out
    assert (installed / "geo" / "chair.abc").read_bytes() == big.read_bytes()
    assert sorted(p.name for p in (installed / "frames").iterdir()) == sorted(p.name for p in render.iterdir())
    # links into the cache, never a second copy
    cached = consumer.state_dir / "files" / "cache" / "files" / "md5"
    geo = installed / "geo" / "chair.abc"
    assert geo.is_symlink() or geo.stat().st_nlink > 1
    cache_inodes = {p.stat().st_ino for p in cached.rglob("*") if p.is_file()}
    assert geo.resolve().stat().st_ino in cache_inodes
    again = run_cli("-w", consumer.root, "files", "pull", "--json").json()
    assert again["files"] == 0 and again["bytes"] == 0

    r = run_cli("-w", consumer.root, "uninstall", "Chair")
    assert r.exit_code == 0, r.err
    assert not installed.exists(), "uninstall leaves no pulled file behind"


def test_upgrade_prunes_stale_files_and_keeps_shared_ones(two_ws: tuple[Any, Any], run_cli: Any,
                                                          tmp_path: Path) -> None:
    author, consumer = two_ws
    author.create("Chair")
    pkg = author.output("Chair").package_dir
    write(pkg / "tex" / "wood.png", 5000, seed=1)
    write(pkg / "geo.abc", 3000, seed=1)
    assert run_cli("-w", author.root, "files", "add", "Chair", pkg / "tex", pkg / "geo.abc").exit_code == 0
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0
    os.unlink(pkg / "geo.abc")
    write(pkg / "geo.abc", 3000, seed=2)
    assert run_cli("-w", author.root, "files", "add", "Chair", pkg / "geo.abc").exit_code == 0
    run_cli("-w", author.root, "bump", "Chair", "micro")
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0

    run_cli("-w", consumer.root, "install", "Chair==0.1.0", "--repo", "review")
    assert run_cli("-w", consumer.root, "files", "pull", "Chair==0.1.0").exit_code == 0
    installed = site_pkg(consumer, "chair")
    old_geo = (installed / "geo.abc").read_bytes()
    assert run_cli("-w", consumer.root, "install", "Chair==0.1.1", "--repo", "review").exit_code == 0
    assert not (installed / "geo.abc").exists(), "the changed file of the old version is pruned"
    assert (installed / "tex" / "wood.png").exists(), "an unchanged tracked path stays"
    assert run_cli("-w", consumer.root, "files", "pull").exit_code == 0
    assert (installed / "geo.abc").read_bytes() != old_geo
    r = run_cli("-w", consumer.root, "files", "pull", "Chair==0.1.0")
    assert r.user_error("Chair 0.1.1 is installed, not 0.1.0")


def test_install_and_update_bring_the_files(two_ws: tuple[Any, Any], run_cli: Any) -> None:
    """By default an install or update pulls the new version's files: a scene loaded right
    after has them (an updated Crate with no meshes was the bug)."""
    author, consumer = two_ws
    pull_on_install(consumer, True)  # the default
    author.create("Crate")
    pkg = author.output("Crate").package_dir
    write(pkg / "geo.abc", 3000, seed=1)
    assert run_cli("-w", author.root, "files", "add", "Crate", pkg / "geo.abc").exit_code == 0
    assert run_cli("-w", author.root, "publish", "Crate").exit_code == 0
    first_take = (pkg / "geo.abc").read_bytes()
    os.unlink(pkg / "geo.abc")
    write(pkg / "geo.abc", 3000, seed=2)
    assert run_cli("-w", author.root, "files", "add", "Crate", pkg / "geo.abc").exit_code == 0
    run_cli("-w", author.root, "bump", "Crate", "micro")
    assert run_cli("-w", author.root, "publish", "Crate").exit_code == 0

    installed = site_pkg(consumer, "crate")
    assert run_cli("-w", consumer.root, "install", "Crate==0.1.0").exit_code == 0
    assert (installed / "geo.abc").read_bytes() == first_take
    r = run_cli("-w", consumer.root, "install", "Crate==0.1.1")
    assert r.exit_code == 0, r.err
    assert (installed / "geo.abc").read_bytes() == (pkg / "geo.abc").read_bytes()
    st = run_cli("-w", consumer.root, "files", "status", "Crate", "--json").json()
    assert {p["local"] for p in st["paths"]} == {"present"}
    # the files remote gone: the install still succeeds and says what is missing and how
    import shutil

    shutil.rmtree(author.repo("review").location + "/files")
    author.create("Stool")
    write(author.output("Stool").package_dir / "geo.abc", 100)
    run_cli("-w", author.root, "files", "add", "Stool", author.output("Stool").package_dir / "geo.abc")
    assert run_cli("-w", author.root, "publish", "Stool").exit_code == 0
    shutil.rmtree(author.repo("review").location + "/files")
    r = run_cli("-w", consumer.root, "install", "Stool")
    assert r.exit_code == 0, r.err
    assert "warning: Stool 0.1.0's files were not pulled (" in r.err
    assert "until 'setpiece files pull Stool' succeeds" in r.err


def test_second_pull_checks_links_by_stat_and_repairs_what_changed(two_ws: tuple[Any, Any],
                                                                   run_cli: Any, tmp_path: Path) -> None:
    author, consumer = two_ws
    author.create("Chair")
    render = frames(tmp_path / "render", 4)
    write(render / "sub" / "deep.exr", 2000, seed=3)
    big = write(tmp_path / "chair.abc", 3000)
    run_cli("-w", author.root, "files", "add", "Chair", str(render), "--as", "frames")
    run_cli("-w", author.root, "files", "add", "Chair", str(big), "--as", "geo/chair.abc")
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0
    run_cli("-w", consumer.root, "install", "Chair", "--repo", "review")
    assert run_cli("-w", consumer.root, "files", "pull", "Chair").exit_code == 0

    # everything in place: a second pull is stats only (no dvc import, nothing fetched)
    code = (
        "import sys\n"
        "from setpiece.core.cli import main\n"
        "try:\n"
        f"    main(['-w', {str(consumer.root)!r}, 'files', 'pull', 'Chair'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dvc', 'dvc_data', 'dvc_objects'))\n"
        "print('DVC-MODULES', bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "DVC-MODULES []" in proc.stdout and "fetched 0 file(s)" in proc.stdout, proc.stdout + proc.stderr

    # a replaced file, an extra file or a folder the listing lacks: dvc-data's checkout puts
    # the tracked content back as links (an installed asset is not the user's to edit)
    installed = site_pkg(consumer, "chair")
    for damage in ("replace", "extra", "folder", "geo"):
        if damage == "replace":
            os.unlink(installed / "frames" / "sub" / "deep.exr")
            write(installed / "frames" / "sub" / "deep.exr", 2000, seed=9)
        elif damage == "extra":
            write(installed / "frames" / "stray.exr", 10)
        elif damage == "folder":
            (installed / "frames" / "empty").mkdir()
        else:
            os.unlink(installed / "geo" / "chair.abc")
            write(installed / "geo" / "chair.abc", 3000, seed=9)
        r = run_cli("-w", consumer.root, "files", "pull", "Chair")
        assert r.exit_code == 0, (damage, r.err)
        assert (installed / "frames" / "sub" / "deep.exr").read_bytes() == (render / "sub" / "deep.exr").read_bytes()
        assert (installed / "geo" / "chair.abc").read_bytes() == big.read_bytes()
        assert not (installed / "frames" / "stray.exr").exists()
        cached = consumer.state_dir / "files" / "cache" / "files" / "md5"
        cache_inodes = {p.stat().st_ino for p in cached.rglob("*") if p.is_file()}
        for f in [*(installed / "frames").rglob("*.exr"), installed / "geo" / "chair.abc"]:
            assert f.resolve().stat().st_ino in cache_inodes, (damage, f)


def test_republishing_a_sequence_stores_only_changed_frames(make_workspace: Any, run_cli: Any,
                                                            tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Shot")
    pkg = ws.output("Shot").package_dir
    frames(pkg / "frames", 100, 2048)
    assert run_cli("-w", ws.root, "files", "add", "Shot", pkg / "frames").exit_code == 0
    assert run_cli("-w", ws.root, "publish", "Shot").exit_code == 0
    review = tmp_path / "repos" / "review"
    before = objects(review)
    for i in (3, 50, 97):
        f = pkg / "frames" / f"f{i:04d}.exr"
        f.unlink()  # linked frames are read-only: tools write new files
        write(f, 2048, seed=9)
    assert run_cli("-w", ws.root, "files", "add", "Shot", pkg / "frames").exit_code == 0
    run_cli("-w", ws.root, "bump", "Shot", "micro")
    r = run_cli("-w", ws.root, "files", "push", "Shot", "--json")
    assert r.json()["sent"] == 4 and r.json()["bytes"] == 3 * 2048  # 3 frames + listing
    assert len(objects(review) - before) == 4
    assert run_cli("-w", ws.root, "publish", "Shot").exit_code == 0


def test_import_records_source_and_reports_changes(make_workspace: Any, run_cli: Any,
                                                   tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Chair")
    library = frames(tmp_path / "library" / "wood", 3)
    r = run_cli("-w", ws.root, "files", "import", "Chair", library, "--as", "textures/wood")
    assert r.exit_code == 0, r.err
    row = run_cli("-w", ws.root, "files", "status", "Chair", "--local", "--json").json()["paths"][0]
    assert (row["path"], row["local"], row["source"]) == ("textures/wood", "present", "unchanged")
    write(library / "f0001.exr", 100, seed=5)
    r = run_cli("-w", ws.root, "files", "status", "Chair", "--local")
    assert "changed" in r.out and "re-import" in r.err
    assert run_cli("-w", ws.root, "files", "import", "Chair", library, "--as", "textures/wood").exit_code == 0
    row = run_cli("-w", ws.root, "files", "status", "Chair", "--local", "--json").json()["paths"][0]
    assert row["source"] == "unchanged"
    pkg = ws.output("Chair").package_dir
    assert (pkg / "textures" / "wood" / "f0001.exr").read_bytes() == (library / "f0001.exr").read_bytes()


def test_status_reports_modified_and_missing(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    write(pkg / "a.bin", 1000)
    write(pkg / "b.bin", 1000, seed=1)
    run_cli("-w", ws.root, "files", "add", "Chair", pkg / "a.bin", pkg / "b.bin")
    (pkg / "a.bin").unlink()
    write(pkg / "a.bin", 1000, seed=3)
    (pkg / "b.bin").unlink()
    rows = {p["path"]: p["local"] for p in
            run_cli("-w", ws.root, "files", "status", "Chair", "--json").json()["paths"]}
    assert rows == {"a.bin": "modified", "b.bin": "missing"}
    # push sends what the pointers name (the cache still has both), never the local edit
    assert run_cli("-w", ws.root, "files", "push", "Chair", "--json").json()["sent"] == 2
    r = run_cli("-w", ws.root, "files", "pull", "Chair")
    assert r.user_error("a.bin", "changes that are not tracked")
    # even when the new bytes are already cached (a 'files add' killed before it wrote the
    # pointer), pull never puts the previous take over the artist's file
    from setpiece.core.files.store import Store

    with Store(ws) as store:
        staging, _, obj = store.build(pkg / "a.bin")
        store.commit(staging, obj, in_place=False)
    new = (pkg / "a.bin").read_bytes()
    r = run_cli("-w", ws.root, "files", "pull", "Chair")
    assert r.user_error("a.bin", "changes that are not tracked", "files add Chair")
    assert (pkg / "a.bin").read_bytes() == new
    assert run_cli("-w", ws.root, "files", "add", "Chair", pkg / "a.bin").exit_code == 0
    assert run_cli("-w", ws.root, "files", "pull", "Chair").exit_code == 0
    assert (pkg / "a.bin").read_bytes() == new and (pkg / "b.bin").exists()


def test_promote_copies_files_between_repos(two_ws: tuple[Any, Any], run_cli: Any, tmp_path: Path) -> None:
    author, consumer = two_ws
    author.create("Chair")
    pkg = author.output("Chair").package_dir
    frames(pkg / "frames", 5)
    run_cli("-w", author.root, "files", "add", "Chair", pkg / "frames")
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0
    r = run_cli("-w", author.root, "promote", "Chair==0.1.0", "--to", "blessed")
    assert r.exit_code == 0, r.err
    assert objects(tmp_path / "repos" / "blessed") == objects(tmp_path / "repos" / "review")
    run_cli("-w", consumer.root, "install", "Chair")
    assert run_cli("-w", consumer.root, "files", "pull", "--repo", "blessed").exit_code == 0
    assert len(list((site_pkg(consumer, "chair") / "frames").iterdir())) == 5


# -- errors --------------------------------------------------------------------------------


def test_destination_escaping_the_asset_is_refused(make_workspace: Any, run_cli: Any,
                                                   tmp_path: Path, snap: Any) -> None:
    ws = make_workspace()
    ws.create("Chair")
    src = write(tmp_path / "tex.png", 100)
    before = snap(ws.outputs)
    for dest in ("../../evil.png", "/tmp/evil.png", "../chair2/x.png", ".."):
        r = run_cli("-w", ws.root, "files", "add", "Chair", src, "--as", dest)
        r.user_error("escapes the asset folder")
    assert run_cli("-w", ws.root, "files", "add", "Chair", src, "--as", "__init__.py").exit_code == 1
    assert snap(ws.outputs) == before, "nothing written"


def test_pointer_naming_a_path_outside_its_folder_is_refused(two_ws: tuple[Any, Any], run_cli: Any) -> None:
    author, _ = two_ws
    author.create("Chair")
    pkg = author.output("Chair").package_dir
    (pkg / "evil.dvc").write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  path: ../../x\n")
    run_cli("-w", author.root, "files", "pull", "Chair").user_error("outside its own folder", "refused")


def test_remote_not_configured_and_unreachable(make_workspace: Any, run_cli: Any,
                                               tmp_path: Path, closed_port: int) -> None:
    ws = make_workspace()
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    write(pkg / "a.bin", 1000)
    run_cli("-w", ws.root, "files", "add", "Chair", pkg / "a.bin")
    with ws.config.edit() as doc:
        doc["repos"]["index"] = {"location": f"http://127.0.0.1:{closed_port}/simple/"}
        doc["repos"]["gone"] = {"location": str(tmp_path / "repos" / "review"),
                                "files_remote": str(tmp_path / "unmounted" / "share")}
    run_cli("-w", ws.root, "files", "push", "Chair", "--repo", "index").user_error(
        "repo 'index' has no files remote", "files_remote")
    run_cli("-w", ws.root, "files", "push", "Chair", "--repo", "gone").user_error(
        "unreachable", str(tmp_path / "unmounted" / "share"))
    run_cli("-w", ws.root, "publish", "Chair", "--repo", "gone").user_error("unreachable", "not published")
    assert not list((tmp_path / "repos" / "review").glob("*.whl"))


def test_file_vanished_between_add_and_push(make_workspace: Any, run_cli: Any, tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    frames(pkg / "frames", 4)
    run_cli("-w", ws.root, "files", "add", "Chair", pkg / "frames")
    # the frame is gone from the asset folder and from the cache (a shared cache was cleaned)
    victim = pkg / "frames" / "f0002.exr"
    cache = ws.state_dir / "files" / "cache" / "files" / "md5"
    import hashlib

    digest = hashlib.md5(victim.read_bytes()).hexdigest()
    victim.unlink()
    (cache / digest[:2] / digest[2:]).unlink()
    run_cli("-w", ws.root, "files", "push", "Chair").user_error("vanished", "frames/f0002.exr")
    # publish refuses earlier: the tracked folder is not what its pointer says any more
    run_cli("-w", ws.root, "publish", "Chair").user_error("frames modified since 'files add'",
                                                          "not published")
    assert not list((tmp_path / "repos" / "review").glob("*.whl"))


def test_failed_push_publishes_nothing_and_names_the_files(make_workspace: Any, run_cli: Any,
                                                           tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    write(pkg / "geo.abc", 1000)
    run_cli("-w", ws.root, "files", "add", "Chair", pkg / "geo.abc")
    review = tmp_path / "repos" / "review"
    (review / "files").write_text("not a folder: every object write fails")
    msg = run_cli("-w", ws.root, "publish", "Chair").user_error("failed for 1 file", "geo.abc")
    assert "not published" in msg
    assert not list(review.glob("*.whl"))


def test_pulled_bytes_that_do_not_match_the_pointer_are_refused(two_ws: tuple[Any, Any], run_cli: Any,
                                                                tmp_path: Path) -> None:
    author, consumer = two_ws
    author.create("Chair")
    pkg = author.output("Chair").package_dir
    write(pkg / "geo.abc", 5000)
    run_cli("-w", author.root, "files", "add", "Chair", pkg / "geo.abc")
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0
    obj = next(p for p in (tmp_path / "repos" / "review" / "files" / "md5").rglob("*") if p.is_file())
    obj.chmod(0o644)
    obj.write_bytes(b"corrupted on the remote")
    run_cli("-w", consumer.root, "install", "Chair", "--repo", "review")
    run_cli("-w", consumer.root, "files", "pull", "Chair").user_error("geo.abc", "do not match", "refused")
    assert not (site_pkg(consumer, "chair") / "geo.abc").exists()
    cache = consumer.state_dir / "files" / "cache" / "files" / "md5"
    assert not [p for p in cache.rglob("*") if p.is_file()], "never kept in the cache"


def _tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, check=False)
    return proc.returncode == 0


@pytest.mark.parametrize("disk", ["tmpfs", "simulated"])
def test_disk_full_on_pull_leaves_no_partial_file(two_ws: tuple[Any, Any], run_cli: Any, disk: str,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    author, consumer = two_ws
    author.create("Chair")
    pkg = author.output("Chair").package_dir
    write(pkg / "geo.abc", 3 * MB)
    run_cli("-w", author.root, "files", "add", "Chair", pkg / "geo.abc")
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0
    run_cli("-w", consumer.root, "install", "Chair", "--repo", "review")

    small = tmp_path / "small-disk"
    mounted = disk == "tmpfs" and _tmpfs(small, "1m")
    if disk == "tmpfs" and not mounted:
        pytest.skip("cannot mount a tmpfs here (needs root on Linux)")
    try:
        if mounted:  # a real full disk: the cache lives on a 1 MB tmpfs
            with consumer.config.edit() as doc:
                doc["files"] = {"cache": str(small / "cache")}
        else:  # simulate: every write fails with ENOSPC after the first bytes
            import errno

            import setpiece.core.files.objects as objects_mod

            real_fdopen = os.fdopen

            class Full:
                def __init__(self, fh: Any) -> None:
                    self.fh = fh

                def write(self, data: bytes) -> int:
                    self.fh.write(data[:100])
                    raise OSError(errno.ENOSPC, "No space left on device")

                def __enter__(self) -> Full:
                    return self

                def __exit__(self, *a: object) -> None:
                    self.fh.close()

            monkeypatch.setattr(objects_mod.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
        r = run_cli("-w", consumer.root, "files", "pull", "Chair")
        r.user_error("no space left on device", "geo.abc")
        assert not os.path.lexists(site_pkg(consumer, "chair") / "geo.abc")
        cache = (small / "cache") if mounted else consumer.state_dir / "files" / "cache"
        assert not [p for p in cache.rglob("*") if p.is_file()], "no partial object in the cache"
    finally:
        if mounted:
            subprocess.run(["umount", str(small)], check=False)


def test_missing_dvc_says_how_to_install(make_workspace: Any, run_cli: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    import setpiece.core.files as files_mod

    ws = make_workspace()
    ws.create("Chair")
    write(ws.output("Chair").package_dir / "a.bin", 10)
    real = importlib.util.find_spec
    monkeypatch.setattr(files_mod.importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("dvc") else real(name, *a))
    run_cli("-w", ws.root, "files", "add", "Chair", ws.output("Chair").package_dir / "a.bin").user_error(
        'pip install "setpiece-core[files]"')


def test_help_and_publish_without_files_never_import_dvc(make_workspace: Any) -> None:
    ws = make_workspace()
    ws.create("Chair")
    code = (
        "import sys\n"
        "from setpiece.core.cli import main\n"
        "main(['--help'])\n"
        f"main(['-q', '-w', {str(ws.root)!r}, 'publish', 'Chair'])\n"
        "main(['files', '--help'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dvc', 'dvc_data', 'dvc_objects'))\n"
        "print('DVC-MODULES', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env={**os.environ}).stdout
    assert "DVC-MODULES []" in out, out


def test_publish_refuses_tracked_paths_changed_since_add(make_workspace: Any, run_cli: Any,
                                                          tmp_path: Path) -> None:
    """A tracked file edited after 'files add' would be published as its old bytes."""
    ws = make_workspace()
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    write(pkg / "geo.abc", 1000)
    frames(pkg / "frames", 3)
    run_cli("-w", ws.root, "files", "add", "Chair", pkg / "geo.abc", pkg / "frames")
    review = tmp_path / "repos" / "review"
    write(pkg / "geo.abc", 1000, seed=7)  # the artist re-exported it
    msg = run_cli("-w", ws.root, "publish", "Chair").user_error(
        "geo.abc modified since 'files add'", f"'setpiece files add Chair {pkg / 'geo.abc'}' first",
        "not published")
    assert "frames" not in msg
    assert not list(review.glob("*.whl")) and objects(review) == set()
    # a frame of a tracked folder changed: the folder is named
    run_cli("-w", ws.root, "files", "add", "Chair", pkg / "geo.abc")
    write(pkg / "frames" / "f0001.exr", 4096, seed=9)
    run_cli("-w", ws.root, "publish", "Chair").user_error("frames modified since 'files add'")
    run_cli("-w", ws.root, "files", "add", "Chair", pkg / "frames")
    # a tracked path removed: restore it or stop tracking it
    (pkg / "geo.abc").unlink()
    run_cli("-w", ws.root, "publish", "Chair").user_error(
        "geo.abc missing", "setpiece files pull Chair", "geo.abc.dvc")
    assert not list(review.glob("*.whl"))
    assert run_cli("-w", ws.root, "files", "pull", "Chair").exit_code == 0
    r = run_cli("-w", ws.root, "publish", "Chair")
    assert r.exit_code == 0, r.err
    assert [p.name for p in review.glob("*.whl")] == ["chair-0.1.0-py3-none-any.whl"]


def test_edit_then_publish_needs_the_files_pulled_first(two_ws: tuple[Any, Any], run_cli: Any,
                                                        tmp_path: Path) -> None:
    """``edit`` of a published asset gets its pointers, not its bytes: it says how to get
    them, publishing refuses until they are there, and after a pull it publishes."""
    author, consumer = two_ws
    author.create("Chair")
    write(tmp_path / "chair.abc", 64 * 1024)
    assert run_cli("-w", author.root, "files", "add", "Chair", str(tmp_path / "chair.abc"),
                   "--as", "geo/chair.abc").exit_code == 0
    assert run_cli("-w", author.root, "publish", "Chair").exit_code == 0

    r = run_cli("-w", consumer.root, "edit", "Chair")
    assert r.exit_code == 0, r.err
    assert "'setpiece files pull Chair'" in r.err
    pkg = consumer.output("Chair").package_dir
    assert (pkg / "geo" / "chair.abc.dvc").is_file() and not (pkg / "geo" / "chair.abc").exists()
    run_cli("-w", consumer.root, "publish", "Chair").user_error("missing", "files pull Chair")
    assert run_cli("-w", consumer.root, "versions", "Chair", "--json").json()["review"] == ["0.1.0"]

    assert run_cli("-w", consumer.root, "files", "pull", "Chair").exit_code == 0
    assert (pkg / "geo" / "chair.abc").read_bytes() == (tmp_path / "chair.abc").read_bytes()
    r = run_cli("-w", consumer.root, "publish", "Chair")
    assert r.exit_code == 0, r.err
    assert run_cli("-w", consumer.root, "versions", "Chair", "--json").json()["review"] == [
        "0.1.0", "0.1.1"]
