"""Atomic writes of USD layers: permissions, no temp files left, the folder fsynced."""

from __future__ import annotations

import os
import stat

import pytest

from setpiece.usd.fileio import write_if_changed


def test_write_if_changed_syncs_the_folder_after_the_rename(tmp_path, monkeypatch):
    synced: list[tuple[str, bool]] = []  # (what, is a folder)
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(("fsync", stat.S_ISDIR(os.fstat(fd).st_mode)))
        real_fsync(fd)

    def replace(src, dst) -> None:
        synced.append(("replace", False))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "shots" / "sh010.setpiece.usda"
    assert write_if_changed(target, "#usda 1.0\n") is True
    # the file's bytes first, then the rename, then the folder holding the new name
    assert synced == [("fsync", False), ("replace", False), ("fsync", True)], synced
    synced.clear()
    assert write_if_changed(target, "#usda 1.0\n") is False and synced == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_written_files_get_normal_permissions_and_no_temp_is_left(tmp_path):
    mask = os.umask(0)
    os.umask(mask)
    target = tmp_path / "a.usda"
    write_if_changed(target, "#usda 1.0\n")
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["a.usda"]
