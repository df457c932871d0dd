"""Objects pushed to a folder files remote are durable before the wheel that points to them
is linked: each object's bytes and the folders holding its name are fsynced first."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")


def test_pushed_objects_are_fsynced_before_the_wheel_is_linked(
        make_workspace: Any, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace()
    ws.create("Chair")
    pkg = ws.output("Chair").package_dir
    (pkg / "take.abc").write_bytes(b"take " * 10000)
    for i in range(3):
        (pkg / "frames").mkdir(exist_ok=True)
        (pkg / "frames" / f"f{i}.exr").write_bytes(f"frame {i} ".encode() * 500)
    assert run_cli("-w", ws.root, "files", "add", "Chair", pkg / "take.abc", pkg / "frames").exit_code == 0

    events: list[tuple[str, Any]] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        events.append(("fsync", (st.st_dev, st.st_ino)))
        real_fsync(fd)

    def link(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        events.append(("link", str(dst)))
        real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    r = run_cli("-w", ws.root, "publish", "Chair")
    assert r.exit_code == 0, r.err

    review = tmp_path / "repos" / "review"
    wheel = review / "chair-0.1.0-py3-none-any.whl"
    linked = [i for i, (kind, what) in enumerate(events) if kind == "link" and what == str(wheel)]
    assert linked, "the wheel is linked into the repo"
    synced = {what for kind, what in events[: linked[0]] if kind == "fsync"}
    md5 = review / "files" / "md5"
    objects = [p for p in md5.rglob("*") if p.is_file()]
    assert len(objects) == 5  # the take, three frames, the folder listing
    for path in [*objects, *{p.parent for p in objects}, md5]:
        st = path.stat()
        assert (st.st_dev, st.st_ino) in synced, f"{path} was not fsynced before the wheel"
