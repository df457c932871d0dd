"""Publishing to folder repos: immutability, promote, edit, bad wheels, concurrency, crashes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from setpiece.core import SetpieceError
from setpiece.core.repos.folder import FolderRepo


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def visible(repo: Path) -> list[str]:
    """What a user of the repo folder sees: its non-hidden entries."""
    return sorted(p.name for p in repo.iterdir() if not p.name.startswith("."))


def test_publish_and_versions(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Chair", description="v1")
    r = run_cli("-w", ws.root, "publish", "Chair")
    assert r.exit_code == 0, r.err
    review = tmp_path / "repos" / "review"
    assert visible(review) == ["chair-0.1.0-py3-none-any.whl",
                               "chair-0.1.0-py3-none-any.whl.metadata", "deps", "simple"]
    assert (review / "simple" / "chair" / "index.html").is_file()
    assert "chair/" in (review / "simple" / "index.html").read_text()
    run_cli("-w", ws.root, "bump", "Chair", "minor")
    assert run_cli("-w", ws.root, "publish", "Chair").exit_code == 0
    assert run_cli("-w", ws.root, "versions", "Chair", "--json").json() == {
        "blessed": [], "review": ["0.1.0", "0.2.0"]}
    assert run_cli("-w", ws.root, "versions", "chair", "--repo", "review", "--json").json() == {
        "review": ["0.1.0", "0.2.0"]}
    text = run_cli("-w", ws.root, "versions", "Chair").out
    assert "review" in text and "0.1.0, 0.2.0" in text
    listing = run_cli("-w", ws.root, "list", "--repo", "review", "--json").json()
    assert listing == [{"name": "Chair", "versions": ["0.1.0", "0.2.0"]}]
    events = [e for e in (ws.state_dir / "events.jsonl").read_text().splitlines() if '"published"' in e]
    assert len(events) == 2


def test_publish_to_named_repo(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Chair")
    assert run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").exit_code == 0
    assert ws.versions("Chair") == {"blessed": ["0.1.0"], "review": []}


def test_published_files_are_readable_by_others(make_workspace, tmp_path: Path) -> None:
    """A shared folder repo is read by other users: files follow the umask, not 0600."""
    ws = make_workspace()
    ws.create("Chair")
    ws.publish("Chair")
    umask = os.umask(0)
    os.umask(umask)
    review = tmp_path / "repos" / "review"
    for path in [*review.glob("chair-*"), review / "simple" / "index.html",
                 review / "simple" / "chair" / "index.html"]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o666 & ~umask, f"{path.name}: {oct(mode)}"


def test_publish_twice_says_bump_first(make_workspace, run_cli, tmp_path: Path, snap) -> None:
    ws = make_workspace()
    ws.create("Chair", description="first")
    ws.publish("Chair")
    review = tmp_path / "repos" / "review"
    before = snap(review)
    # change the asset without bumping: the published version must not change
    (ws.outputs / "Chair" / "src" / "chair" / "extra.py").write_text("X = 1\n")
    message = run_cli("-w", ws.root, "publish", "Chair").user_error("already published", "bump first")
    assert "Chair" in message and "0.1.0" in message
    assert snap(review) == before
    # the same through the repo API (a wheel built elsewhere)
    wheel = ws.build("Chair")
    with pytest.raises(SetpieceError, match="bump first"):
        FolderRepo("review", str(review)).publish(wheel)
    assert snap(review) == before


def test_publish_refuses_a_version_another_repo_has(make_workspace, run_cli, tmp_path: Path,
                                                    snap) -> None:
    """One name==version is one content in every repo: publishing it to a second repo is
    refused, with 'promote' when the bytes are the same and 'bump' when they differ."""
    ws = make_workspace()
    ws.create("Chair", description="first")
    ws.publish("Chair")  # review
    blessed = tmp_path / "repos" / "blessed"
    before = snap(blessed)
    message = run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").user_error(
        "already published in repo 'review'", "same content", "promote it instead")
    assert "setpiece promote Chair==0.1.0 --from review --to blessed" in message
    (ws.outputs / "Chair" / "src" / "chair" / "extra.py").write_text("X = 1\n")
    run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").user_error(
        "already published in repo 'review'", "other content", "bump first")
    assert snap(blessed) == before
    events = [e["event"] for e in (json.loads(x) for x in
              run_cli("-w", ws.root, "events", "--json").out.splitlines())]
    assert events.count("published") == 1
    # the way that works: bump (a new version) or promote (the same bytes)
    assert run_cli("-w", ws.root, "promote", "Chair==0.1.0", "--to", "blessed").exit_code == 0
    run_cli("-w", ws.root, "bump", "Chair", "micro")
    assert run_cli("-w", ws.root, "publish", "Chair", "--repo", "blessed").exit_code == 0
    assert run_cli("-w", ws.root, "versions", "Chair", "--json").json() == {
        "blessed": ["0.1.0", "0.1.1"], "review": ["0.1.0"]}


def test_publish_unknown_output(make_workspace, run_cli) -> None:
    ws = make_workspace()
    run_cli("-w", ws.root, "publish", "Ghost").user_error("not an output asset")


# -- promote --------------------------------------------------------------------------------


def test_promote_copies_unchanged(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Chair")
    ws.publish("Chair")
    review, blessed = tmp_path / "repos" / "review", tmp_path / "repos" / "blessed"
    r = run_cli("-w", ws.root, "promote", "Chair==0.1.0", "--to", "blessed", "--from", "review")
    assert r.exit_code == 0, r.err
    name = "chair-0.1.0-py3-none-any.whl"
    assert sha(blessed / name) == sha(review / name)
    assert ws.versions("Chair") == {"blessed": ["0.1.0"], "review": ["0.1.0"]}
    # again (a script re-run): succeeds, nothing changed
    before = sha(blessed / name)
    r = run_cli("-w", ws.root, "promote", "Chair==0.1.0", "--to", "blessed")
    assert r.exit_code == 0 and "already in 'blessed' with the same bytes" in r.err, r.err
    assert sha(blessed / name) == before
    # other bytes under the same version in the destination: refused
    import zipfile

    os.chmod(blessed / name, 0o644)
    with zipfile.ZipFile(blessed / name, "a") as zf:
        zf.writestr("chair/extra.txt", "x")
    run_cli("-w", ws.root, "promote", "Chair==0.1.0", "--to", "blessed").user_error(
        "already published in repo 'blessed' with other content", "bump first")


@pytest.mark.parametrize(
    ("spec", "args", "fragment"),
    [
        ("Chair", [], "exact version"),
        ("Chair==9.9.9", [], "not published"),
        ("Chair==0.1.0", ["--from", "blessed"], "not published in blessed"),
        ("Chair==0.1.0", ["--from", "review", "--to", "review"], "already"),
    ],
)
def test_promote_errors(make_workspace, run_cli, tmp_path: Path, snap, spec, args, fragment) -> None:
    ws = make_workspace()
    ws.create("Chair")
    ws.publish("Chair")
    before = snap(tmp_path / "repos")
    if "--to" not in args:
        args = [*args, "--to", "blessed"]
    run_cli("-w", ws.root, "promote", spec, *args).user_error(fragment)
    assert snap(tmp_path / "repos") == before


def test_promote_needs_to(make_workspace, run_cli) -> None:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "promote", "Chair==0.1.0").exit_code == 2


# -- edit -----------------------------------------------------------------------------------


def test_edit_continues_the_versions_line(sample_ws, run_cli) -> None:
    ws = sample_ws
    # Table has 1.2.3, 1.3.0, 2.0.0 published: editing 1.2.3 continues the 1.2 line (a
    # bounded dependent 'Table<2' can get the fix) without colliding with any of them
    r = run_cli("-w", ws.root, "edit", "Table==1.2.3")
    assert r.exit_code == 0, r.err
    out = ws.output("Table")
    assert (r.out, r.err) == (f"Table 1.2.4 {out.path}\n", "")  # the result, once
    assert out.version == "1.2.4"
    assert out.kind == "prop" and out.description == "A kitchen table"
    assert (out.package_dir / "__init__.py").read_text().count("Table") >= 1
    inst = ws.installed_assets()["table"]
    assert inst.editable and inst.version == "1.2.4"
    # its dependencies and groups come back as they were published
    ws2 = ws
    assert run_cli("-w", ws2.root, "edit", "KitchenSet").exit_code == 0
    ks = ws.output("KitchenSet")
    assert ks.version == "1.0.1"
    assert sorted(str(r) for r in ks.requirements("build")) == [
        "chair[build]", "lamp[build]==3.2.1", "table[build]<2,>=1.2.3"]
    # publishing the edited asset works straight away (no version clash)
    assert run_cli("-w", ws.root, "publish", "Table").exit_code == 0
    assert "1.2.4" in ws.versions("Table")["review"]
    # the next edit of that line goes past it: 1.2.5; the newest version's line is past all
    shutil.rmtree(out.path)
    ws.uv_pip("uninstall", ["Table"], what="cleanup", with_index=False)
    assert run_cli("-w", ws.root, "edit", "Table==1.2.3").exit_code == 0
    assert ws.output("Table").version == "1.2.5"
    shutil.rmtree(ws.output("Table").path)
    ws.uv_pip("uninstall", ["Table"], what="cleanup", with_index=False)
    assert run_cli("-w", ws.root, "edit", "Table").exit_code == 0
    assert ws.output("Table").version == "2.0.1"


def test_edit_of_installed_version(sample_ws, run_cli) -> None:
    ws = sample_ws
    ws.install(["Lamp==3.2.1"])
    assert run_cli("-w", ws.root, "edit", "Lamp").exit_code == 0
    assert ws.output("Lamp").version == "3.2.2"  # a fix on the installed version's line


def test_edit_errors(sample_ws, run_cli, snap) -> None:
    ws = sample_ws
    before = snap(ws.outputs)
    run_cli("-w", ws.root, "edit", "Sofa").user_error("Sofa")
    run_cli("-w", ws.root, "edit", "Chair==9.0.0").user_error("not published")
    assert snap(ws.outputs) == before
    ws.create("Shelf")
    run_cli("-w", ws.root, "edit", "Shelf").user_error("already an output")


# -- bad wheels in a repo -------------------------------------------------------------------


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 3
    data[mid : mid + 40] = b"\x00" * 40
    path.write_bytes(bytes(data))


def _break(wheel: Path, how: str) -> None:
    if how == "garbage":
        wheel.write_bytes(b"this is not a zip file")
    elif how == "truncated":
        wheel.write_bytes(wheel.read_bytes()[:300])
    else:
        _corrupt(wheel)


@pytest.mark.parametrize("how", ["garbage", "truncated", "flipped"])
def test_corrupted_wheel_in_a_repo(sample_ws, run_cli, sample_repo: Path, snap, how: str) -> None:
    ws = sample_ws
    _break(sample_repo / "lamp-3.3.0-py3-none-any.whl", how)
    before_inputs = snap(ws.site_packages)
    message = run_cli("-w", ws.root, "install", "Lamp==3.3.0").user_error()
    assert "lamp" in message.lower()
    assert snap(ws.site_packages) == before_inputs
    assert "lamp" not in ws.installed_assets()
    before_repos = snap(sample_repo.parent)
    run_cli("-w", ws.root, "promote", "Lamp==3.3.0", "--to", "review").user_error("corrupted wheel", "lamp-3.3.0")
    run_cli("-w", ws.root, "edit", "Lamp==3.3.0").user_error("corrupted wheel")
    assert snap(sample_repo.parent) == before_repos
    assert not (ws.outputs / "Lamp").exists()
    # the good version still installs
    assert run_cli("-w", ws.root, "install", "Lamp==3.2.1").exit_code == 0


def test_corrupted_newest_wheel_is_not_silently_skipped(sample_ws, run_cli, sample_repo: Path) -> None:
    _break(sample_repo / "lamp-3.3.0-py3-none-any.whl", "garbage")
    before = dict(sample_ws.installed_assets())
    message = run_cli("-w", sample_ws.root, "install", "Lamp").user_error("corrupted wheel")
    assert "3.3.0" in message and "'blessed'" in message and "Lamp!=3.3.0".lower() in message.lower()
    assert sample_ws.installed_assets().keys() == before.keys()  # nothing installed
    # asked for exactly that version: the same message, not uv's resolver explanation
    exact = run_cli("-w", sample_ws.root, "install", "Lamp==3.3.0").user_error("corrupted wheel")
    assert "3.3.0" in exact and "unsatisfiable" not in exact


def test_corrupted_wheel_is_refused_by_sync(sample_ws, make_workspace, run_cli, sample_repo: Path,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = sample_ws
    ws.install(["Lamp"])
    lock = tmp_path / "lock.txt"
    ws.freeze(lock)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "other-machine-cache"))
    _break(sample_repo / "lamp-3.3.0-py3-none-any.whl", "flipped")
    other = make_workspace("other", repos={"blessed": sample_repo}, blessed="blessed",
                           default="blessed")
    run_cli("-w", other.root, "sync", lock).user_error("lamp")
    assert other.installed_assets() == {}


def _evil_wheel(dest: Path, name: str = "sneaky", version: str = "1.0.0",
                entry: str = "../../escaped.py") -> Path:
    dist = f"{name}-{version}.dist-info"
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "")
        zf.writestr(entry, "print('escaped')\n")
        zf.writestr(f"{dist}/METADATA",
                    f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\nGenerator: evil\nRoot-Is-Purelib: true\n"
                    "Tag: py3-none-any\n")
        zf.writestr(f"{dist}/entry_points.txt", f"[setpiece.asset]\n{name} = {name}\n")
        zf.writestr(f"{dist}/RECORD", "")
    return wheel


@pytest.mark.parametrize("entry", ["../../escaped.py", "/tmp/setpiece-escaped.py",
                                   "sneaky/../../escaped.py", "C:/escaped.py"])
def test_wheel_escaping_its_folder(sample_ws, run_cli, sample_repo: Path, tmp_path: Path, snap,
                                   entry: str) -> None:
    ws = sample_ws
    outside = tmp_path / "outside"
    outside.mkdir()
    wheel = _evil_wheel(outside, entry=entry)
    # a repo refuses to publish it
    with pytest.raises(SetpieceError, match="escapes its folder"):
        FolderRepo("samples", str(sample_repo)).publish(wheel)
    assert not (sample_repo / wheel.name).exists()
    # dropped into a folder repo by another tool: indexing it refuses it (so uv never sees
    # it), and so do promote and edit, which read the folder directly
    os.replace(wheel, sample_repo / wheel.name)
    before = snap(sample_repo / "simple")
    run_cli("-w", ws.root, "repo", "reindex", "blessed").user_error("escapes its folder")
    assert "sneaky" not in (sample_repo / "simple" / "index.html").read_text()
    assert not (sample_repo / "simple" / "sneaky").exists()
    assert snap(sample_repo / "simple") == before
    run_cli("-w", ws.root, "promote", "sneaky==1.0.0", "--to", "review").user_error("escapes its folder")
    run_cli("-w", ws.root, "edit", "sneaky==1.0.0").user_error("escapes its folder")
    assert ws.versions("sneaky")["review"] == []
    assert not (ws.outputs / "sneaky").exists()
    run_cli("-w", ws.root, "install", "sneaky").user_error("no repo has", "sneaky")
    assert not list(tmp_path.rglob("escaped.py"))
    assert not Path("/tmp/setpiece-escaped.py").exists()
    assert "sneaky" not in ws.installed_assets()


# -- several publishers at once ----------------------------------------------------------------

RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from setpiece.core import SetpieceError
    from setpiece.core.repos.folder import FolderRepo

    repo, wheel, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.001)
    try:
        FolderRepo("shared", repo).publish(wheel)
    except SetpieceError as exc:
        print("error:", exc, file=sys.stderr)
        sys.exit(1)
    print("won")
    """
)


def test_concurrent_publish_exactly_one_wins(make_workspace, tmp_path: Path) -> None:
    """Eight machines publish Chair 1.0.0 (each a different build) into one shared folder."""
    n = 8
    shared = tmp_path / "shared"
    FolderRepo("shared", str(shared)).create()
    ws = make_workspace()
    ws.create("Chair", version="1.0.0")
    wheels = []
    for i in range(n):
        (ws.outputs / "Chair" / "src" / "chair" / "who.py").write_text(f"WHO = {i}\n")
        built = ws.build("Chair")
        mine = tmp_path / f"builder{i}" / built.name
        mine.parent.mkdir()
        os.replace(built, mine)
        wheels.append(mine)
    assert len({sha(w) for w in wheels}) == n
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(script), str(shared), str(w), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in wheels]
    time.sleep(1.0)  # let every racer start and wait at the line
    go.touch()
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    winners = [i for i, (code, out, _) in enumerate(results) if code == 0 and "won" in out]
    assert len(winners) == 1, results
    for i, (code, _, err) in enumerate(results):
        if i != winners[0]:
            assert code == 1
            assert err.count("\n") == 1 and "Traceback" not in err
            assert "bump first" in err and "1.0.0" in err
    published = shared / "chair-1.0.0-py3-none-any.whl"
    assert sha(published) == sha(wheels[winners[0]])
    # nothing partial or temporary is left, hidden or not
    assert sorted(p.name for p in shared.iterdir()) == [
        "chair-1.0.0-py3-none-any.whl", "chair-1.0.0-py3-none-any.whl.metadata", "deps", "simple"]
    assert sorted(p.relative_to(shared).as_posix() for p in (shared / "deps").rglob("*") if p.is_file()) \
        == ["deps/COMPLETE", "deps/versions/chair/1.0.0.json"]  # the record, written once
    assert FolderRepo("shared", str(shared)).versions("Chair") == ["1.0.0"]
    assert (shared / "simple" / "chair" / "index.html").read_text().count(".whl#sha256=") == 1


def test_concurrent_cli_publish(make_workspace, run_setpiece, tmp_path: Path) -> None:
    """Several workspaces run 'setpiece publish' of the same version at once."""
    n = 4
    shared = tmp_path / "repos" / "review"
    spaces = []
    for i in range(n):
        ws = make_workspace(f"ws{i}")
        ws.create("Chair", version="1.0.0", description=f"by {i}")
        spaces.append(ws)
    procs = [subprocess.Popen([str(Path(sys.executable).parent / "setpiece"), "-w", str(ws.root),
                               "publish", "Chair"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for ws in spaces]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [1] * (n - 1), results
    for code, _, err in results:
        if code == 1:
            assert err.strip().splitlines()[-1].startswith("error:")
            assert "bump first" in err
    assert visible(shared) == ["chair-1.0.0-py3-none-any.whl",
                               "chair-1.0.0-py3-none-any.whl.metadata", "deps", "simple"]
    assert not [p for p in shared.iterdir() if p.name.endswith(".tmp")]


# -- a publish killed midway ------------------------------------------------------------------

SLOW_PUBLISH = textwrap.dedent(
    """
    import shutil, sys, time
    from pathlib import Path
    from setpiece.core.repos.folder import FolderRepo

    real = shutil.copyfileobj

    def slow(src, dst, length=0):
        dst.write(src.read(4096))   # some bytes reach the temp file...
        dst.flush()
        print("copying", flush=True)
        time.sleep(60)              # ...then the machine dies (SIGKILL) mid-copy
        real(src, dst, length)

    shutil.copyfileobj = slow
    FolderRepo("review", sys.argv[1]).publish(Path(sys.argv[2]))
    """
)


def test_publish_killed_midway_leaves_nothing_visible(make_workspace, run_cli, tmp_path: Path) -> None:
    ws = make_workspace()
    ws.create("Chair", version="1.0.0")
    big = ws.outputs / "Chair" / "src" / "chair" / "big.bin"
    big.write_bytes(os.urandom(2 * 1024 * 1024))  # incompressible: a wheel of ~2 MiB
    wheel = ws.build("Chair")
    review = tmp_path / "repos" / "review"
    before = visible(review)
    script = tmp_path / "slow.py"
    script.write_text(SLOW_PUBLISH)
    proc = subprocess.Popen([sys.executable, str(script), str(review), str(wheel)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "copying"
    temps = [p for p in review.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].name.startswith(".")  # hidden, partial
    assert 0 < temps[0].stat().st_size < wheel.stat().st_size
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    # nothing of it is visible: not as a file, not to versions/list/install
    assert visible(review) == before
    run_cli("-w", ws.root, "versions", "Chair", "--json").user_error("no repo has 'Chair'")
    assert run_cli("-w", ws.root, "list", "--repo", "review", "--json").json() == []
    ws2 = make_workspace("other")
    run_cli("-w", ws2.root, "install", "Chair").user_error("no repo has", "chair")
    # the leftover temp file does not block a real publish of the same version
    assert run_cli("-w", ws.root, "publish", "Chair").exit_code == 0
    assert run_cli("-w", ws2.root, "install", "Chair").exit_code == 0
    assert ws2.installed_assets()["chair"].version == "1.0.0"


def test_publish_killed_before_the_index_row_is_repaired(make_workspace, run_cli,
                                                         tmp_path: Path) -> None:
    """Killed after the wheel was linked into place but before its index row was written:
    versions and install say how to fix it, and publishing again (a re-run) repairs the
    index and succeeds: the version is there with the same content."""
    ws = make_workspace()
    ws.create("Chair", version="1.0.0")
    wheel = ws.build("Chair")
    review = tmp_path / "repos" / "review"
    os.link(wheel, review / wheel.name)  # the wheel is there, simple/ does not list it
    r = run_cli("-w", ws.root, "versions", "Chair", "--json")
    assert r.exit_code == 0 and r.json() == {"blessed": [], "review": ["1.0.0"]}
    assert "setpiece repo reindex review" in r.err
    ws2 = make_workspace("other")
    run_cli("-w", ws2.root, "install", "Chair").user_error(
        "chair", "1.0.0", "setpiece repo reindex review")
    # publishing again finishes the interrupted publish: the index row and the one
    # published event (the wheel there has this asset's content); a third run changes nothing
    r = run_cli("-w", ws.root, "publish", "Chair")
    assert r.exit_code == 0 and "an earlier publish was interrupted" in r.err, r.err
    assert wheel.name in (review / "simple" / "chair" / "index.html").read_text()
    r = run_cli("-w", ws.root, "publish", "Chair")  # a script re-run: nothing to change
    assert r.exit_code == 0 and "with the same content: nothing to change" in r.err, r.err
    logged = run_cli("-w", ws.root, "events", "--repo", "review", "--json").out.splitlines()
    assert [json.loads(x)["event"] for x in logged] == ["published"]
    r = run_cli("-w", ws2.root, "install", "Chair")
    assert r.exit_code == 0, r.err
    assert ws2.installed_assets()["chair"].version == "1.0.0"
    assert "reindex" not in run_cli("-w", ws.root, "versions", "Chair").err


def test_leftover_temp_files_are_ignored(sample_ws, run_cli, sample_repo: Path) -> None:
    """Simulated crash: a hidden partial temp file beside the wheels."""
    partial = sample_repo / ".sofa-1.0.0-py3-none-any.whl.abc123.tmp"
    partial.write_bytes(b"PK\x03\x04 partial")
    (sample_repo / ".chair-9.0.0-py3-none-any.whl.x.tmp").write_bytes(b"PK")
    FolderRepo("samples", str(sample_repo)).reindex()
    assert "sofa" not in run_cli("-w", sample_ws.root, "list", "--repo", "blessed").out
    assert sample_ws.versions("Chair")["blessed"] == ["1.0.0", "1.1.0"]
    run_cli("-w", sample_ws.root, "install", "Sofa").user_error("Sofa")
    assert run_cli("-w", sample_ws.root, "install", "Chair").exit_code == 0
    assert sample_ws.installed_assets()["chair"].version == "1.1.0"




def test_failed_build_and_publish_are_events(make_workspace, run_cli) -> None:
    """A failed publish or build is a 'failed' event with the asset, version and error
    (once, also when the build fails inside a publish)."""
    ws = make_workspace()
    ws.create("Chair")
    ws.publish("Chair")

    def failures() -> list[dict]:
        lines = run_cli("-w", ws.root, "events", "--event", "failed", "--json").out.splitlines()
        return [json.loads(x) for x in lines]

    (ws.outputs / "Chair" / "src" / "chair" / "extra.py").write_text("X = 1\n")
    message = run_cli("-w", ws.root, "publish", "Chair").user_error("bump first")
    [event] = failures()
    assert {k: event[k] for k in ("action", "asset", "version", "repo")} == {
        "action": "publish", "asset": "Chair", "version": "0.1.0", "repo": "review"}
    assert event["error"] == message.removeprefix("error: ")
    # a broken project: the build fails, alone and inside a publish
    run_cli("-w", ws.root, "bump", "Chair", "micro")
    pyproject = ws.outputs / "Chair" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('build-backend = "uv_build"',
                                                       'build-backend = "no_such_backend"'))
    run_cli("-w", ws.root, "build", "Chair").user_error("Chair")
    run_cli("-w", ws.root, "publish", "Chair").user_error("Chair")
    events = failures()
    assert [(e["action"], e["version"]) for e in events] == [
        ("publish", "0.1.0"), ("build", "0.1.1"), ("build", "0.1.1")]
    assert all(e["asset"] == "Chair" and e["error"] for e in events)


def test_corrupted_wheel_skipped_during_an_upgrade_leaves_the_venv_as_it_was(
    sample_ws, run_cli, sample_repo: Path
) -> None:
    ws = sample_ws
    assert run_cli("-w", ws.root, "install", "Table==1.2.3").exit_code == 0
    _break(sample_repo / "table-2.0.0-py3-none-any.whl", "garbage")
    # uv would skip 2.0.0 and quietly upgrade to 1.3.0: setpiece undoes it and refuses
    message = run_cli("-w", ws.root, "install", "Table>=1.3").user_error("corrupted wheel")
    assert "table 2.0.0" in message.lower()
    assert ws.installed_assets()["table"].version == "1.2.3"


def test_versions_carry_who_when_and_a_comment(make_workspace, run_cli) -> None:
    ws = make_workspace()
    ws.create("Chair", kind="prop")
    assert run_cli("-w", ws.root, "publish", "Chair", "-m", "first cut").exit_code == 0
    assert run_cli("-w", ws.root, "promote", "Chair==0.1.0", "--to", "blessed").exit_code == 0
    r = run_cli("-w", ws.root, "versions", "Chair", "--long", "--json")
    assert r.exit_code == 0, r.err
    data = r.json()
    review, = data["review"]
    assert (review["version"], review["action"], review["comment"]) == ("0.1.0", "published",
                                                                       "first cut")
    assert review["user"] and review["host"] and review["time"] > 0
    blessed, = data["blessed"]
    assert (blessed["action"], blessed["source"]) == ("promoted", "review")
    text = run_cli("-w", ws.root, "versions", "Chair", "-l").out.splitlines()
    assert text[1].startswith("review       0.1.0") and text[1].endswith('"first cut"')
    assert "(promoted)" in text[0]
    info = run_cli("-w", ws.root, "info", "Chair").out
    assert '0.1.0: ' in info and '"first cut"' in info


def test_names_read_as_the_asset_spells_them_in_list_list_repo_and_promote(
        sample_ws, run_cli) -> None:
    """File names and index pages are normalised (``kitchenset``); what the user reads is
    the asset's own name (``KitchenSet``), whatever casing was typed."""
    ws = sample_ws
    r = run_cli("-w", ws.root, "list", "--repo", "blessed")
    assert r.exit_code == 0, r.err
    assert [ln.split()[0] for ln in r.out.splitlines()] == [
        "Apartment", "Chair", "KitchenSet", "Lamp", "Table"]
    assert [row["name"] for row in run_cli("-w", ws.root, "list", "--repo", "blessed",
                                           "--json").json()] == [
        "Apartment", "Chair", "KitchenSet", "Lamp", "Table"]
    r = run_cli("-w", ws.root, "promote", "kitchenset==1.0.0", "--to", "review")
    assert r.exit_code == 0, r.err
    assert r.err == "Promoted KitchenSet 1.0.0: blessed -> review\n"
    r = run_cli("-w", ws.root, "promote", "KITCHENSET==1.0.0", "--to", "review", "--json")
    assert r.json() == {"name": "KitchenSet", "version": "1.0.0", "to": "review", "from": None}
    assert r.err == "KitchenSet 1.0.0 is already in 'review' with the same bytes: nothing to do\n"
    assert run_cli("-w", ws.root, "list", "--repo", "review").out == "KitchenSet               1.0.0\n"
    assert run_cli("-w", ws.root, "install", "kitchenset[build]").exit_code == 0
    assert [ln.split()[0] for ln in run_cli("-w", ws.root, "list").out.splitlines()] == [
        "Chair", "KitchenSet", "Lamp", "Table"]
