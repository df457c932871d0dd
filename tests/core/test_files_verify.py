"""Corrupt objects in the files cache and remote (bit rot simulated for real: one byte
flipped, mtime put back so dvc's hash state cannot notice): never linked, never pushed,
reported by ``files status`` and ``files verify``, mended by ``files verify --repair``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")


def write(path: Path, size: int, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((f"{path.name}:{seed}:".encode() * (size // 8 + 64))[:size])
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def cache_object(ws: Any, digest: str) -> Path:
    return ws.state_dir / "files" / "cache" / "files" / "md5" / digest[:2] / digest[2:]


def remote_object(repo: Path, digest: str) -> Path:
    return repo / "files" / "md5" / digest[:2] / digest[2:]


def rot(path: Path) -> None:
    """Flip one byte in place, keeping size, mode and mtime (what bit rot looks like)."""
    st = path.stat()
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    with open(path, "r+b") as fh:
        fh.write(data)
    os.chmod(path, st.st_mode)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture
def published(make_workspace: Any, run_cli: Any, tmp_path: Path) -> dict[str, Any]:
    """Chair 0.1.0 with geo/chair.abc and a 3-frame folder, published to 'review' by an
    author; a consumer workspace installed it and pulled its files."""
    author = make_workspace("author")
    author.create("Chair")
    geo = write(tmp_path / "src" / "chair.abc", 300_000)
    for i in range(3):
        write(tmp_path / "src" / "frames" / f"f{i}.exr", 5000, i)
    assert run_cli("-w", author.root, "files", "add", "Chair", geo, "--as", "geo/chair.abc").exit_code == 0
    assert run_cli("-w", author.root, "files", "add", "Chair", tmp_path / "src" / "frames",
                   "--as", "frames").exit_code == 0
    r = run_cli("-w", author.root, "publish", "Chair")
    assert r.exit_code == 0, r.err
    consumer = make_workspace("consumer")
    assert run_cli("-w", consumer.root, "install", "Chair").exit_code == 0
    assert run_cli("-w", consumer.root, "files", "pull", "Chair").exit_code == 0
    return {"author": author, "consumer": consumer, "geo": geo, "md5": md5(geo),
            "review": tmp_path / "repos" / "review"}


def test_rotted_cache_object_is_reported_and_repaired(published: dict[str, Any], run_cli: Any) -> None:
    ws, digest = published["consumer"], published["md5"]
    linked = ws.site_packages / "chair" / "geo" / "chair.abc"
    rot(cache_object(ws, digest))  # the installed file is a hardlink to it: rotted too
    assert md5(linked) != digest
    os.utime(linked, None)  # any later touch makes dvc's state re-hash it
    st = run_cli("-w", ws.root, "files", "status", "Chair", "--json").json()
    assert {p["path"]: p["local"] for p in st["paths"]}["geo/chair.abc"] == "corrupt"
    r = run_cli("-w", ws.root, "files", "status", "Chair")
    assert "corrupt" in r.out and "files verify Chair --repair" in r.err

    r = run_cli("-w", ws.root, "files", "verify", "Chair")
    r.user_error("1 file object(s) corrupt", "Chair: geo/chair.abc", "--repair")
    assert "geo/chair.abc: cache corrupt; remote blessed missing, review ok" in r.out
    data = run_cli("-w", ws.root, "files", "verify", "Chair", "--json")
    assert data.exit_code == 1
    rows = {o["path"]: o for o in data.json()["assets"][0]["objects"]}
    assert rows["geo/chair.abc"]["cache"] == "corrupt" and rows["frames"]["cache"] == "ok"

    r = run_cli("-w", ws.root, "files", "verify", "Chair", "--repair")
    assert r.exit_code == 0, r.err
    assert "repaired Chair: geo/chair.abc" in r.out
    assert md5(linked) == digest and md5(cache_object(ws, digest)) == digest
    quarantined = list((ws.state_dir / "files" / "cache" / "quarantine").iterdir())
    assert len(quarantined) == 1 and md5(quarantined[0]) != digest  # kept, never deleted
    assert run_cli("-w", ws.root, "files", "verify", "Chair").exit_code == 0
    st = run_cli("-w", ws.root, "files", "status", "Chair", "--json").json()
    assert {p["local"] for p in st["paths"]} == {"present"}


def test_pull_never_links_a_rotted_cache_object(published: dict[str, Any], run_cli: Any) -> None:
    ws, digest = published["consumer"], published["md5"]
    assert run_cli("-w", ws.root, "uninstall", "Chair").exit_code == 0  # files pruned, cache kept
    rot(cache_object(ws, digest))
    frame = next(iter(cache_object(ws, "00").parent.parent.glob("*/*")))  # any other object
    r = run_cli("-w", ws.root, "install", "Chair")  # which pulls its files (pull_on_install)
    assert r.exit_code == 0, r.err
    assert "were corrupt" in r.err
    assert md5(ws.site_packages / "chair" / "geo" / "chair.abc") == digest
    assert frame.exists()


def test_publish_never_pushes_a_rotted_object(published: dict[str, Any], run_cli: Any,
                                              tmp_path: Path, snap: Any) -> None:
    author, review = published["author"], published["review"]
    assert run_cli("-w", author.root, "bump", "Chair", "micro").exit_code == 0
    new = write(tmp_path / "src" / "chair_v2.abc", 200_000, seed=7)
    assert run_cli("-w", author.root, "files", "add", "Chair", new, "--as", "geo/chair.abc").exit_code == 0
    rot(cache_object(author, md5(new)))
    def files(root: Path) -> dict[str, Any]:  # (an empty shard folder may be left: harmless)
        return {k: v for k, v in snap(root).items() if v is not None}

    before = files(review)
    run_cli("-w", author.root, "publish", "Chair").user_error(
        "corrupt copy of geo/chair.abc", "nothing corrupt was sent", "files verify Chair --repair",
        "not published")
    assert files(review) == before
    assert not remote_object(review, md5(new)).exists()


def test_files_push_replaces_a_rotted_remote_object(published: dict[str, Any], run_cli: Any) -> None:
    author, consumer, review, digest = (published["author"], published["consumer"],
                                        published["review"], published["md5"])
    rot(remote_object(review, digest))
    r = run_cli("-w", consumer.root, "files", "verify", "Chair", "--repo", "review")
    r.user_error("Chair: geo/chair.abc")
    assert "remote review corrupt" in r.out
    r = run_cli("-w", author.root, "files", "push", "Chair", "--json")
    assert r.exit_code == 0, r.err
    assert r.json()["sent"] == 1
    assert md5(remote_object(review, digest)) == digest
    # and the other way: the consumer's good cached copy repairs the remote
    rot(remote_object(review, digest))
    r = run_cli("-w", consumer.root, "files", "verify", "--repair", "--json")
    assert r.exit_code == 0, r.err
    assert "Chair: geo/chair.abc" in r.json()["repaired"]
    assert md5(remote_object(review, digest)) == digest


def test_adding_content_whose_cached_copy_rotted_keeps_the_artists_bytes(
        published: dict[str, Any], run_cli: Any, tmp_path: Path) -> None:
    author, digest, geo = published["author"], published["md5"], published["geo"]
    rot(cache_object(author, digest))  # the output's geo/chair.abc links to it
    again = tmp_path / "again.abc"
    again.write_bytes(geo.read_bytes())  # the artist re-exports the same bytes
    assert run_cli("-w", author.root, "files", "add", "Chair", again, "--as", "geo/chair.abc").exit_code == 0
    pkg = author.output("Chair").package_dir
    assert md5(pkg / "geo" / "chair.abc") == digest
    assert md5(cache_object(author, digest)) == digest


def test_pull_keeps_an_output_file_edited_in_place_through_its_link(
        published: dict[str, Any], run_cli: Any) -> None:
    """As root (or after a chmod) an edit through the link changes the cache object too: it
    looks corrupt, but the bytes are the artist's. A pull says so and changes nothing."""
    author = published["author"]
    linked = author.output("Chair").package_dir / "geo" / "chair.abc"
    with author.config.edit() as doc:  # links for output files too (root's default: copies)
        doc.setdefault("files", {})["edit_link"] = ["hardlink", "symlink"]
    assert run_cli("-w", author.root, "files", "add", "Chair", linked).exit_code == 0
    assert linked.stat().st_ino == cache_object(author, published["md5"]).stat().st_ino
    rot(linked)  # the artist's edit, in place, through the link
    edited = linked.read_bytes()
    assert md5(cache_object(author, published["md5"])) != published["md5"]
    r = run_cli("-w", author.root, "files", "pull", "Chair")
    r.user_error("changed in place", "setpiece files add Chair")
    assert linked.read_bytes() == edited
    import shutil

    shutil.rmtree(linked.parent.parent / "frames")  # now the pull has work to do
    r = run_cli("-w", author.root, "files", "pull", "Chair")
    r.user_error("changed in place", "setpiece files add Chair")
    assert linked.read_bytes() == edited
    assert not (author.state_dir / "files" / "cache" / "quarantine").exists()


def test_a_save_during_files_add_is_kept(make_workspace: Any, run_cli: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An autosave between the hash and the link of a big file: the newer bytes stay at the
    path (never replaced by the older cached copy) and the add says to run it again."""
    from setpiece.core.files import store as store_mod

    ws = make_workspace()
    ws.create("Chair")
    geo = write(ws.output("Chair").package_dir / "geo.abc", 200_000, seed=1)
    original = store_mod.Store.link_in_place
    saved: list[bytes] = []

    def save_meanwhile(self: Any, path: Path, md5: str) -> None:
        geo.unlink()
        saved.append(write(geo, 200_000, seed=2).read_bytes())  # the artist's newer save
        original(self, path, md5)

    monkeypatch.setattr(store_mod.Store, "link_in_place", save_meanwhile)
    r = run_cli("-w", ws.root, "files", "add", "Chair", geo)
    r.user_error("changed while it was being added", "files add")
    assert geo.read_bytes() == saved[0]
    monkeypatch.setattr(store_mod.Store, "link_in_place", original)
    assert run_cli("-w", ws.root, "files", "add", "Chair", geo).exit_code == 0
    assert geo.read_bytes() == saved[0]


def test_output_files_are_the_artists_own_bytes_where_links_cannot_protect(
        published: dict[str, Any], run_cli: Any, tmp_path: Path) -> None:
    """Root ignores read-only: by default, root's output files are copies (reflinks where
    the filesystem has them), so an edit in place never reaches the cache; a normal user's
    are read-only links (``[files] edit_link`` sets either way)."""
    author, digest = published["author"], published["md5"]
    path = author.output("Chair").package_dir / "geo" / "chair.abc"
    obj = cache_object(author, digest)
    if os.geteuid() != 0:  # a normal user: read-only links protect, and are the default
        assert path.stat().st_ino == obj.stat().st_ino and not path.stat().st_mode & 0o222
        with author.config.edit() as doc:
            doc.setdefault("files", {})["edit_link"] = ["reflink", "copy"]
        assert run_cli("-w", author.root, "files", "add", "Chair", path).exit_code == 0
    assert path.stat().st_ino != obj.stat().st_ino and path.stat().st_mode & 0o200
    with open(path, "r+b") as fh:  # the artist's app saves in place
        fh.write(b"EDITED")
    assert md5(obj) == digest
    st = run_cli("-w", author.root, "files", "status", "Chair", "--json").json()
    assert {p["path"]: p["local"] for p in st["paths"]}["geo/chair.abc"] == "modified"
    r = run_cli("-w", author.root, "files", "verify", "Chair", "--json")
    assert {o["path"]: o["cache"] for o in r.json()["assets"][0]["objects"]} == {
        "geo/chair.abc": "ok", "frames": "ok", **{f"frames/f{i}.exr": "ok" for i in range(3)}}
    # a file added where it is stays the artist's file (not replaced by the cached copy)
    r = run_cli("-w", author.root, "files", "add", "Chair", path)
    assert r.exit_code == 0, r.err
    assert path.read_bytes().startswith(b"EDITED") and path.stat().st_mode & 0o200
    assert path.stat().st_ino != cache_object(author, md5(path)).stat().st_ino
    r = run_cli("-w", author.root, "files", "add", "Chair", path, "--json")  # unchanged: no-op
    assert r.exit_code == 0 and md5(obj) == digest


def test_an_installed_file_edited_in_place_is_noticed_and_pulled_back(
        published: dict[str, Any], run_cli: Any) -> None:
    """Installed files stay links (nobody edits them); an edit in place anyway (as root, or
    after a chmod) changes the cache object: status says corrupt, a pull puts the published
    bytes back and keeps the edited ones aside."""
    ws, digest = published["consumer"], published["md5"]
    path = ws.site_packages / "chair" / "geo" / "chair.abc"
    assert path.stat().st_ino == cache_object(ws, digest).stat().st_ino
    os.chmod(path, 0o644)
    with open(path, "r+b") as fh:
        fh.write(b"EDITED")
    st = run_cli("-w", ws.root, "files", "status", "Chair", "--json").json()
    assert {p["path"]: p["local"] for p in st["paths"]}["geo/chair.abc"] == "corrupt"
    r = run_cli("-w", ws.root, "files", "pull", "Chair")
    assert r.exit_code == 0, r.err
    assert "1 object(s) in the files cache were corrupt" in r.err
    assert md5(path) == digest and md5(cache_object(ws, digest)) == digest
    quarantined = list((ws.state_dir / "files" / "cache" / "quarantine").iterdir())
    assert [q.read_bytes()[:6] for q in quarantined] == [b"EDITED"]
