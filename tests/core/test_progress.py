"""Progress of long work, as a user sees it: the real CLI on a pseudo-terminal draws one
line on stderr that it rewrites in place and erases when done; piped, with ``-q`` or with
``--json`` nothing of it is written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dvc_data")

ERASE = "\r\x1b[K"


def frames(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"f{i:04d}.exr").write_bytes(f"frame {i}".encode() * 500)
    return folder


def drawn(raw: str) -> list[str]:
    """Every progress line drawn (the text after each erase, up to the next control)."""
    return [re.split(r"[\r\n]", part)[0] for part in raw.split(ERASE)[1:] if part.strip()]


def test_publish_install_and_pull_draw_progress_on_a_terminal_only(
        make_workspace: Any, run_in_terminal: Any, run_setpiece: Any, tmp_path: Path) -> None:
    author = make_workspace("author")
    author.create("Chair")
    r = run_setpiece("-w", author.root, "files", "add", "Chair", frames(tmp_path / "render", 30),
                     "--as", "frames")
    assert r.exit_code == 0, r.err

    t = run_in_terminal("-w", author.root, "publish", "Chair")
    assert t.exit_code == 0, t.raw
    lines = drawn(t.raw)
    assert any(re.fullmatch(r"Pushing Chair: \d+/31 files \(\d+\.\ds\)", ln) for ln in lines), lines
    assert any(ln.startswith("Building Chair 0.1.0 with uv (") for ln in lines), lines
    assert any(ln.startswith("Publishing chair-0.1.0-py3-none-any.whl to review (")
               for ln in lines), lines
    # once the command ends, the screen holds its messages only: every progress line erased
    assert t.screen == [
        f"Pushing 31 object(s) of Chair to repo 'review' ({tmp_path / 'repos' / 'review'})",
        "Building Chair 0.1.0",
        "Publishing chair-0.1.0-py3-none-any.whl to review",
        "Published chair-0.1.0-py3-none-any.whl",
    ]

    consumer = make_workspace("consumer")
    t = run_in_terminal("-w", consumer.root, "install", "Chair", "--repo", "review")
    assert t.exit_code == 0, t.raw
    lines = drawn(t.raw)
    assert any(ln.startswith("Installing with uv") for ln in lines), lines
    assert any(re.fullmatch(r"Fetching from review: \d+/30 files \(\d+\.\ds\)", ln)
               for ln in lines), lines
    assert any(ln.startswith("Linking frames: ") for ln in lines), lines
    assert t.screen[0] == "Installing Chair"
    assert t.screen[1].startswith("Fetching 30 file(s), ")
    assert t.screen[2:] == ["+ chair==0.1.0"]
    assert (Path(consumer.site_packages) / "chair" / "frames" / "f0029.exr").is_file()

    # the same work piped, quiet or as JSON: not one progress byte
    import shutil

    for extra, runner in ((["files", "pull", "Chair"], run_setpiece),
                          (["-q", "files", "pull", "Chair"], run_in_terminal),
                          (["files", "pull", "Chair", "--json"], run_in_terminal)):
        shutil.rmtree(Path(consumer.site_packages) / "chair" / "frames")
        shutil.rmtree(consumer.state_dir / "files" / "cache")  # fetched again each time
        res = runner("-w", consumer.root, *extra)
        assert res.exit_code == 0
        text = res.raw if hasattr(res, "raw") else res.err + res.out
        assert "\x1b[K" not in text and "\r" not in text.replace("\r\n", ""), (extra, text)
        assert "Fetching from" not in text, (extra, text)
        assert (Path(consumer.site_packages) / "chair" / "frames" / "f0029.exr").is_file()
