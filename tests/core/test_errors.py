"""The error hierarchy (setpiece.core.errors): code tells errors apart by class, and each
class is what the real failure raises (a real folder repo, a real index server address
with nothing listening), while the CLI still prints one ``error:`` line and exits 1."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from setpiece.core.errors import (
    AccessDenied,
    AlreadyPublished,
    BadInput,
    Conflict,
    DiskFull,
    NotFound,
    RemoteUnreachable,
    SetpieceError,
    Unavailable,
)


def test_every_class_is_a_one_line_setpiece_error() -> None:
    for cls in (AccessDenied, AlreadyPublished, BadInput, Conflict, DiskFull, NotFound,
                RemoteUnreachable, Unavailable):
        err = cls("first line\n  second line")
        assert isinstance(err, SetpieceError) and str(err) == "first line second line"
        assert err.exit_code == 1
    assert issubclass(AlreadyPublished, Conflict)
    from setpiece.core.bus import BusDown

    assert issubclass(BusDown, RemoteUnreachable)


def test_publishing_a_version_twice_is_already_published(sample_repo: Path) -> None:
    from setpiece.core.repos.folder import FolderRepo

    repo = FolderRepo("samples", str(sample_repo))
    wheel = next(sample_repo.rglob("chair-1.0.0-*.whl"))
    copy = sample_repo.parent / wheel.name
    copy.write_bytes(wheel.read_bytes())
    with pytest.raises(AlreadyPublished, match=r"(?i)chair 1\.0\.0 is already published in repo "
                                                r"'samples'.*bump first"):
        repo.publish(copy)


def test_an_index_repo_nobody_answers_is_unreachable(tmp_path: Path) -> None:
    from setpiece.core.repos.index import IndexRepo

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo = IndexRepo("studio", f"http://127.0.0.1:{port}/simple/")
    with pytest.raises(RemoteUnreachable, match=r"index repo .studio. at .* is unreachable"):
        repo.check()
    repo.check_login()  # only a refused login raises there


def test_the_cli_still_prints_one_line(sample_ws: Any, run_cli: Any) -> None:
    result = run_cli("-w", sample_ws.root, "promote", "Chair==1.1.0", "--from", "blessed",
                     "--to", "blessed")
    result.user_error("Chair 1.1.0 is already in 'blessed'")
