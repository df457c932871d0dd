"""``setpiece init``: create a workspace folder and its uv venv."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.config import CONFIG_NAME, DEFAULT_SETTINGS, write_new
from setpiece.core.errors import SetpieceError
from setpiece.core.naming import validate_name
from setpiece.core.paths import default_repos_dir
from setpiece.core.repos.base import is_url

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

FOLDERS = ("outputs", "build", "external_packages")


def parse_repo_option(text: str) -> tuple[str, str]:
    name, sep, location = text.partition("=")
    if not sep or not name or not location:
        raise SetpieceError(f"invalid --repo '{text}': use NAME=LOCATION (a folder or an http(s) URL)")
    return validate_name(name.strip()), location.strip()


def init_workspace(
    cls: type[Workspace],
    path: Path,
    *,
    python: str | None,
    repos: Sequence[tuple[str, str]],
    blessed: str | None,
    default: str | None,
    reporter: Callable[[str], None],
    site: str | None = None,
) -> Workspace:
    from setpiece.core.repos.base import open_repo
    from setpiece.core.repos.folder import FolderRepo
    from setpiece.core.uvrun import run_uv

    root = path.expanduser().resolve()
    for parent in (root, *root.parents):
        if parent.exists():
            if not parent.is_dir():
                raise SetpieceError(
                    f"cannot create a workspace at {root}: {parent} is a file, not a folder; "
                    "pick another path")
            break
    if (root / CONFIG_NAME).exists():
        raise SetpieceError(f"{root} is already a setpiece workspace: use it, or pick another folder")
    python = python or f"{sys.version_info[0]}.{sys.version_info[1]}"

    repo_list = list(repos)
    if not repo_list:
        base = default_repos_dir()
        repo_list = [("blessed", str(base / "blessed")), ("review", str(base / "review"))]
        blessed = blessed or "blessed"
        default = default or "review"
    names = [n for n, _ in repo_list]
    if len(set(names)) != len(names):
        raise SetpieceError(f"repo names must be unique: {', '.join(names)}")
    for role, value in (("--blessed", blessed), ("--default", default)):
        if value is not None and value not in names:
            raise SetpieceError(f"{role} '{value}' is not one of the repos given ({', '.join(names)})")
    blessed = blessed or names[0]
    default = default or (names[1] if len(names) > 1 else names[0])

    resolved: dict[str, Any] = {}
    opened = []
    for name, location in repo_list:
        open_repo(name, location)  # refuses unsupported schemes before the path is resolved
        if not is_url(location):
            location = str(Path(location).expanduser().resolve())
        resolved[name] = {"location": location}
        opened.append(open_repo(name, location))
    for repo in opened:  # validate everything before writing anything
        if not isinstance(repo, FolderRepo):
            repo.check()

    created_root = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SetpieceError(f"cannot create a workspace at {root} ({exc.strerror or exc}): "
                            "pick a folder you can write to")
    try:
        reporter(f"Creating venv {root / 'inputs'} (Python {python})")
        run_uv(
            ["venv", "--no-config", "--quiet", "--python", python, str(root / "inputs")],
            what=f"creating the workspace venv with Python {python}",
        )
        for folder in FOLDERS:
            (root / folder).mkdir(exist_ok=True)
        for repo in opened:
            if isinstance(repo, FolderRepo):
                repo.create()
        data = {
            "workspace": {"python": python, "blessed": blessed, "default": default,
                          **({"site": site} if site else {})},
            "repos": resolved,
            "settings": dict(DEFAULT_SETTINGS),
            "requests": {"install": []},
        }
        write_new(root / CONFIG_NAME, data, header=HEADER_TEXT)
    except BaseException:
        if created_root:
            shutil.rmtree(root, ignore_errors=True)
        else:
            shutil.rmtree(root / "inputs", ignore_errors=True)
        raise
    return cls(root, reporter)


HEADER_TEXT = """setpiece workspace configuration.
[workspace]  python, blessed (install source first), default (publish target)
[repos.NAME] location = a folder or an http(s):// package index URL
[settings]   on_open, version_policy, meters_per_unit, up_axis, time_codes_per_second
[requests]   install = what 'setpiece install' was asked for
"""
