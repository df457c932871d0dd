"""Steps the Maya, Houdini and Nuke adapter tests take alike (each test keeps its own
assertions: what the artist sees differs per app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Container, MenuCommand


def menu_commands(ran: list[str], tool: str = "Chair tool") -> list[MenuCommand]:
    """The runtime's menu as the adapter gets it: two setpiece commands (they append to
    ``ran``) and a tool asset's command, in group ``tools``, that fails with a
    ``SetpieceError`` ("no workspace here")."""

    def fail() -> None:
        raise SetpieceError("no workspace here")

    return [
        MenuCommand("Build scene", lambda: ran.append("build"), tooltip="Build the scene"),
        MenuCommand("Update all", lambda: ran.append("update")),
        MenuCommand(tool, fail, group="tools"),
    ]


def reopened(host: Any, path: Path, asset: str) -> Container:
    """Save the scene to ``path``, start a new one, open the saved one again: ``asset``'s
    container as ``ls`` reads it back."""
    saved = host.save_scene(str(path))
    host.new_scene()
    host.open_scene(saved)
    return next(c for c in host.ls() if c.asset == asset)
