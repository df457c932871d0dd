"""setpiece core: workspaces, asset packages, repos, files and events (pure Python).

``from setpiece.core import Workspace`` is the Python API; it mirrors the CLI.
Imports are lazy so that ``setpiece --help`` stays fast.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing is ~5 ms of every command's start-up
if TYPE_CHECKING:
    from typing import Any

    from setpiece.core.errors import SetpieceError
    from setpiece.core.workspace import Workspace

__all__ = ["SetpieceError", "Workspace"]


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from setpiece.core.workspace import Workspace

        return Workspace
    if name == "SetpieceError":
        from setpiece.core.errors import SetpieceError

        return SetpieceError
    raise AttributeError(name)
