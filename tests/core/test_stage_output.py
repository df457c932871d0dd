"""A stage's output (``stages.common.atomic_output``) is written like every other file
(``fsutil.atomic_path``): fsynced before its name appears, the folder fsynced after, the
mode the umask gives; a write that the OS refuses is one ``error:`` line, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from setpiece.core.stages.common import atomic_output


def _stage(*args: str, umask: int = 0o022, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = (f"import os, runpy, sys; os.umask({umask}); sys.argv = {['thumbnail', *args]!r}; "
            "runpy.run_module('setpiece.core.stages.thumbnail', run_name='__main__')")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True)


def _image(path: Path) -> Path:
    oiio = pytest.importorskip("OpenImageIO")
    buf = oiio.ImageBuf(oiio.ImageSpec(8, 8, 3, oiio.UINT8))
    oiio.ImageBufAlgo.fill(buf, (0.2, 0.4, 0.6))
    assert buf.write(str(path)), buf.geterror()
    return path


def test_stage_output_is_whole_with_the_umask_mode(tmp_path: Path) -> None:
    src = _image(tmp_path / "in.png")
    r = _stage(str(src), "out/thumb.png", umask=0o027, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out" / "thumb.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert oct(out.stat().st_mode & 0o777) == oct(0o640)  # not a fixed 0644
    assert os.listdir(tmp_path / "out") == ["thumb.png"]  # no temp left


def test_stage_output_the_os_refuses_is_one_error_line(tmp_path: Path) -> None:
    src = _image(tmp_path / "in.png")
    (tmp_path / "notes.txt").write_text("a file, not a folder\n")
    r = _stage(str(src), "notes.txt/thumb.png", cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("error: cannot write ") and "notes.txt" in lines[0], lines[0]
    assert (tmp_path / "notes.txt").read_text() == "a file, not a folder\n"


def test_atomic_output_fsyncs_the_file_before_its_name_then_the_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        events.append(("fsync", (st.st_dev, st.st_ino)))
        real_fsync(fd)

    def replace(src: str, dst: object) -> None:
        events.append(("replace", Path(str(dst))))
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    dest = tmp_path / "movie" / "shot.mp4"
    with atomic_output(str(dest)) as tmp:
        assert tmp.parent == dest.parent and tmp.name.endswith(".mp4") and tmp.name[0] == "."
        tmp.write_bytes(b"frames")
    assert dest.read_bytes() == b"frames"
    renamed = events.index(("replace", dest))
    file_id = (dest.stat().st_dev, dest.stat().st_ino)
    folder_id = (dest.parent.stat().st_dev, dest.parent.stat().st_ino)
    assert ("fsync", file_id) in events[:renamed]
    assert ("fsync", folder_id) in events[renamed:]
