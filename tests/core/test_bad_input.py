"""Malformed input, table-driven: each case sets up one bad thing, runs one command, and
expects exit 1 with one line ``error: ...`` naming the thing and the fix, no traceback, and
nothing half-written (the folders the command writes are the same before and after).

Full and read-only disks are real: a tiny tmpfs mounted for the test (this needs root, as
CI runs; elsewhere those cases skip and say so).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@contextlib.contextmanager
def tmpfs(mountpoint: Path, size: str, *, readonly: bool = False) -> Iterator[Path]:
    """A real tiny filesystem at ``mountpoint`` (unmounted afterwards)."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if readonly else "")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mountpoint)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()}): needs root, as in CI")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the filesystem of ``folder`` but ``leave`` bytes."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize - leave
    with open(folder / "filler", "wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * max(0, free))


@dataclass
class Ctx:
    ws: Any
    tmp: Path
    run_cli: Callable[..., Any]
    stack: contextlib.ExitStack
    watch: list[Path] = field(default_factory=list)  # folders that must not change


def _config(ctx: Ctx, edit: Callable[[str], str | bytes]) -> list[str]:
    path = ctx.ws.root / "setpiece.toml"
    new = edit(path.read_text(encoding="utf-8"))
    path.write_bytes(new if isinstance(new, bytes) else new.encode("utf-8"))
    ctx.watch.append(ctx.ws.root)
    return ["-w", ctx.ws.root, "repo", "list"]


def fifo(ctx: Ctx) -> list[str]:
    ctx.ws.create("Chair")
    os.mkfifo(ctx.tmp / "pipe")
    ctx.watch.append(ctx.ws.outputs)
    return ["-w", ctx.ws.root, "files", "add", "Chair", ctx.tmp / "pipe"]


def fifo_in_folder(ctx: Ctx) -> list[str]:
    ctx.ws.create("Chair")
    (ctx.tmp / "render").mkdir()
    (ctx.tmp / "render" / "f1.exr").write_bytes(b"x" * 100)
    os.mkfifo(ctx.tmp / "render" / "live.exr")
    ctx.watch.append(ctx.ws.outputs)
    return ["-w", ctx.ws.root, "files", "add", "Chair", ctx.tmp / "render"]


def init_under_file(ctx: Ctx) -> list[str]:
    (ctx.tmp / "afile").write_text("x")
    ctx.watch.append(ctx.tmp)
    return ["init", ctx.tmp / "afile" / "ws"]


def binary_toml(ctx: Ctx) -> list[str]:
    return _config(ctx, lambda _: bytes(range(256)) * 4)


def utf16_toml(ctx: Ctx) -> list[str]:
    return _config(ctx, lambda t: t.encode("utf-16"))


def repo_not_a_table(ctx: Ctx) -> list[str]:
    return _config(ctx, lambda t: t.replace("[repos.blessed]", "[repos]\nx = 5\n\n[repos.blessed]", 1))


def string_for_list(ctx: Ctx) -> list[str]:
    return _config(ctx, lambda t: t.replace("install = []", 'install = "Chair"'))


def string_for_number(ctx: Ctx) -> list[str]:
    return _config(ctx, lambda t: t.replace("meters_per_unit = 0.01", 'meters_per_unit = "1cm"'))


def section_not_a_table(ctx: Ctx) -> list[str]:
    return _config(ctx, lambda t: "settings = 3\n" + t.replace("[settings]", "[oldsettings]"))


def _repo_on(ctx: Ctx, mount: Path, **kw: Any) -> Path:
    repo = ctx.stack.enter_context(tmpfs(mount, "4m", **kw))
    return repo


def readonly_repo(ctx: Ctx) -> list[str]:
    from setpiece.core.repos.folder import FolderRepo

    src = ctx.tmp / "ro-src"
    FolderRepo("ro", str(src)).create()
    mount = ctx.tmp / "ro"
    repo = ctx.stack.enter_context(tmpfs(mount, "4m"))
    subprocess.run(["cp", "-a", f"{src}/.", str(repo)], check=True)
    subprocess.run(["mount", "-o", "remount,ro", str(repo)], check=True)
    ctx.ws.repo_add("ro", str(repo))
    ctx.ws.create("Chair")
    ctx.watch.append(repo)
    return ["-w", ctx.ws.root, "publish", "Chair", "--repo", "ro"]


def full_repo(ctx: Ctx) -> list[str]:
    repo = ctx.stack.enter_context(tmpfs(ctx.tmp / "full", "1m"))
    ctx.ws.repo_add("full", str(repo), create=True)
    ctx.ws.create("Chair")
    fill(repo)
    ctx.watch.append(repo)
    return ["-w", ctx.ws.root, "publish", "Chair", "--repo", "full"]


def full_cache_files_add(ctx: Ctx) -> list[str]:
    cache = ctx.stack.enter_context(tmpfs(ctx.tmp / "cache", "1m"))
    _config(ctx, lambda t: t + f'\n[files]\ncache = "{cache}"\n')
    ctx.ws.__dict__.pop("config", None)
    ctx.ws.create("Chair")
    (ctx.tmp / "big.abc").write_bytes(os.urandom(3 << 20))
    ctx.watch[:] = [ctx.ws.outputs, cache]
    return ["-w", ctx.ws.root, "files", "add", "Chair", ctx.tmp / "big.abc"]


def broken_usda(ctx: Ctx) -> list[str]:
    pytest.importorskip("pxr")
    asset = ctx.ws.create("Chair")
    layer = asset.package_dir / "asset.usda"
    assert layer.exists()
    layer.write_text(layer.read_text() + "\ndef Xform \"oops\" {{{ not usd\n")
    ctx.watch += [ctx.tmp / "repos" / "review", ctx.ws.outputs]
    return ["-w", ctx.ws.root, "publish", "Chair"]


CASES: list[tuple[Callable[[Ctx], list[str]], tuple[str, ...]]] = [
    (fifo, ("pipe is a named pipe (FIFO), not a file", "copy its content to a file")),
    (fifo_in_folder, ("live.exr is a named pipe (FIFO)",)),
    (init_under_file, ("afile is a file, not a folder", "pick another path")),
    (binary_toml, ("setpiece.toml is not UTF-8 text", "recreate it")),
    (utf16_toml, ("setpiece.toml is UTF-16", "save it as UTF-8")),
    (repo_not_a_table, ("[repos] x must be a table, not an integer", "[repos.x] with location")),
    (string_for_list, ("[requests] install must be a list of strings, not a string",
                       'install = ["Chair"]')),
    (string_for_number, ("[settings] meters_per_unit must be a number", "meters_per_unit = 0.01")),
    (section_not_a_table, ("settings must be a table",)),
    (readonly_repo, ("cannot write to repo 'ro'", "read-only file system", "nothing was published",
                     "write access")),
    (full_repo, ("cannot write to repo 'full'", "no space left on device", "free some space")),
    (full_cache_files_add, ("no space left on device", "big.abc")),
    (broken_usda, ("asset.usda is not a valid USD layer", "nothing was published")),
]


@pytest.mark.parametrize(("case", "fragments"), CASES, ids=[c.__name__ for c, _ in CASES])
def test_bad_input(case: Callable[[Ctx], list[str]], fragments: tuple[str, ...],
                   make_workspace, run_setpiece, snap, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        ctx = Ctx(make_workspace(), tmp_path, run_setpiece, stack)
        args = case(ctx)
        def files(p: Path) -> dict[str, Any]:  # an empty folder is not half-written
            return {k: v for k, v in snap(p).items() if v is not None}

        before = {p: files(p) for p in ctx.watch}
        result = run_setpiece(*args, timeout=60)  # a hang (FIFO) fails instead of blocking
        result.user_error(*fragments)
        for p in ctx.watch:
            assert files(p) == before[p], f"{p} changed"
            assert not [f for f in p.rglob("*.tmp")], f"temp files left in {p}"


def test_full_disk_while_indexing_says_the_version_is_published(make_workspace, run_setpiece,
                                                               tmp_path: Path) -> None:
    """The wheel fits, its metadata and index page do not: the version exists (immutable),
    so the message says so and names the repair."""
    ws = make_workspace()
    with tmpfs(tmp_path / "repo", "1m") as repo:
        ws.repo_add("tight", str(repo), create=True)
        ws.create("Chair")
        assert run_setpiece("-w", ws.root, "publish", "Chair", "--repo", "tight").exit_code == 0
        ws.bump("Chair", "micro")
        wheel = ws.build("Chair")
        fill(repo, leave=4096)  # one page: the wheel (~2 KB), nothing after it
        r = run_setpiece("-w", ws.root, "publish", "Chair", "--repo", "tight")
        r.user_error("chair 0.1.1 was published to repo 'tight'", "no space left on device",
                     "setpiece repo reindex tight")
        assert (repo / wheel.name).read_bytes() == wheel.read_bytes()
        assert not list(repo.rglob("*.tmp"))
        (repo / "filler").unlink()
        assert run_setpiece("-w", ws.root, "repo", "reindex", "tight").exit_code == 0
        assert run_setpiece("-w", ws.root, "versions", "Chair", "--repo", "tight").out.split()[1:] == [
            "0.1.0,", "0.1.1"]
