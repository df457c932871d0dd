"""Every shell block in README.md and docs/ runs, in order, in a fresh folder.

A page's ``sh``/``bash``/``shell``/``console`` blocks are joined into one bash script
(``set -e``: every command must succeed) and run in an empty folder with the development
venv first on ``PATH``, so the docs cannot drift from the code. Paths under ``/tmp/`` are
moved into the test's own folder. An HTML comment right before a block steers it:

* ``<!-- docs-test: skip REASON -->``: not run (a server that is not here, a DCC that
  cannot be installed, the bootstrap that made this very environment). REASON is required.
* ``<!-- docs-test: setup ... -->``: the commands in the comment run first, unseen by the
  reader (e.g. ``setpiece demo`` before a walkthrough of the demo workspace).

A page whose blocks use ``$REDIS_URL`` gets a real redis-server (the ``redis_server``
fixture) and that variable.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(
    r"(?:<!--\s*docs-test:\s*(?P<directive>skip|setup)\b(?P<arg>.*?)-->[ \t]*\n)?"
    r"^```(?P<lang>sh|bash|shell|console)[ \t]*\n(?P<body>.*?)^```",
    re.S | re.M,
)


@dataclass
class Block:
    page: Path
    line: int
    body: str
    skip: str | None = None
    setup: str = ""


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("body"))
        block = Block(page, line, m.group("body"))
        if m.group("directive") == "skip":
            block.skip = m.group("arg").strip()
        elif m.group("directive") == "setup":
            block.setup = m.group("arg").strip("\n")
        found.append(block)
    return found


def script(page_blocks: list[Block], sandbox: Path) -> str:
    parts = ["set -e -o pipefail"]
    rel = None
    for b in page_blocks:
        if b.skip is not None:
            continue
        rel = b.page.relative_to(ROOT)
        where = shlex.quote(f"{rel}:{b.line}")
        parts.append(f"echo '>>> docs block' {where} >&2")
        if b.setup:
            parts.append(b.setup)
        parts.append(b.body)
    return "\n".join(parts).replace("/tmp/", f"{sandbox}/tmp/")


def doc_env(home: Path) -> dict[str, str]:
    """The environment a reader's shell has: the dev venv first on PATH, a fresh
    ``SETPIECE_HOME``, no inherited workspace or venv."""
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "SETPIECE_HOME": str(home),
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "SETPIECE_DEV_ROOT": str(ROOT),
    }
    env.pop("SETPIECE_WORKSPACE", None)
    env.pop("VIRTUAL_ENV", None)
    return env


RUNNABLE = [p for p in PAGES if any(b.skip is None for b in blocks(p))]


def test_every_skipped_block_says_why() -> None:
    bare = [f"{b.page.relative_to(ROOT)}:{b.line}" for p in PAGES for b in blocks(p)
            if b.skip is not None and not b.skip]
    assert not bare, f"'docs-test: skip' needs a reason: {bare}"


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE, ids=[str(p.relative_to(ROOT)) for p in RUNNABLE])
def test_page_shell_blocks_run(page: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    sandbox = tmp_path / "sandbox"
    (sandbox / "tmp").mkdir(parents=True)
    work = sandbox / "work"
    work.mkdir()
    env = doc_env(sandbox / "home")
    text = script(blocks(page), sandbox)
    if "$REDIS_URL" in text or "${REDIS_URL}" in text:
        env["REDIS_URL"] = request.getfixturevalue("redis_server").url
    proc = subprocess.run(
        ["bash", "-c", text], cwd=work, env=env,
        capture_output=True, text=True, timeout=900,
    )
    if proc.returncode != 0:
        ran = [ln for ln in proc.stderr.splitlines() if ln.startswith(">>> docs block")]
        where = ran[-1].removeprefix(">>> docs block ") if ran else str(page)
        pytest.fail(f"a shell block of {where} failed (exit {proc.returncode}):\n"
                    f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
