"""The launcher finds apps in their standard install locations, versioned names included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from setpiece.hosts import launching
from setpiece.hosts.protocol import LaunchSpec


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_versioned_executable_names_are_found_newest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _exe(tmp_path / "Nuke15.1v2" / "Nuke15.1")
    newest = _exe(tmp_path / "Nuke16.0v1" / "Nuke16.0")
    _exe(tmp_path / "Nuke16.0v1" / "NukeStudioHelper")  # not a Nuke executable
    spec = LaunchSpec(
        host="nuke", executables=("nuke", "Nuke"), batch_executables=("nuke", "Nuke"),
        install_globs=(str(tmp_path / "Nuke*" / "Nuke*"),),
    )
    monkeypatch.setattr(launching, "spec_for", lambda host: spec)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("SETPIECE_NUKE_EXECUTABLE", raising=False)
    monkeypatch.delenv("SETPIECE_NUKE_BATCH_EXECUTABLE", raising=False)
    assert launching.find_executable("nuke") == newest
    assert launching.find_executable("nuke", batch=True) == newest


def test_houdini_package_dir_keeps_the_studios_folders() -> None:
    studio = {"HOUDINI_PACKAGE_DIR": "/studio/houdini/packages", "OTHER": "kept"}
    merged = launching.merged_environment({"HOUDINI_PACKAGE_DIR": "/sp/startup"}, studio)
    assert merged["HOUDINI_PACKAGE_DIR"] == os.pathsep.join(["/sp/startup", "/studio/houdini/packages"])
    assert merged["OTHER"] == "kept"
