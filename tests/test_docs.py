"""The docs stay true: the CLI reference matches the commands, every page links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    from setpiece.core.cli.reference import render

    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/cli.md is out of date: run "
        "'.venv/bin/python -m setpiece.core.cli.reference > docs/cli.md'"
    )


def test_every_command_is_in_the_reference() -> None:
    from setpiece.core.cli import COMMANDS

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in [*COMMANDS, "usd", "scene", "env", "launch", "batch", "selftest"]:
        assert f"## setpiece {name}" in text, name


def test_relative_links_in_docs_resolve() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
                 ROOT / "benchmarks" / "README.md"]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


@pytest.mark.bpy
def test_publish_worked_example_runs(tmp_path: Path) -> None:
    """docs/publish.md's headless worked example, as written, in a fresh folder."""
    import importlib.util
    import subprocess

    import pytest

    if importlib.util.find_spec("bpy") is None or importlib.util.find_spec("pyblish") is None:
        pytest.skip("the example publishes from Blender: needs bpy and pyblish-base")
    text = (ROOT / "docs" / "publish.md").read_text(encoding="utf-8")
    section = text[text.index("## Worked example (headless)"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "no sh block in the worked example"
    from test_docs_run import doc_env

    env = doc_env(tmp_path / "home")
    proc = subprocess.run(
        ["bash", "-e", "-c", block.group(1)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert '"version": "0.1.1"' in proc.stdout
    review = tmp_path / "studio" / "review"
    assert sorted(p.name for p in review.glob("chair-*.whl")) == [
        "chair-0.1.0-py3-none-any.whl", "chair-0.1.1-py3-none-any.whl",
    ]
