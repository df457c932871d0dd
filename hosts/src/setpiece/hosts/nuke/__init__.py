"""setpiece in Foundry Nuke (15+, Python 3.10/3.11).

``NukeHost`` is the adapter (the ``nuke`` entry point of ``setpiece.hosts``);
``bootstrap()`` is what ``startup/init.py`` (terminal mode) and ``startup/menu.py``
(GUI) call.
"""

from __future__ import annotations

from pathlib import Path

from setpiece.hosts.bootstrap import install_now
from setpiece.hosts.nuke.adapter import NukeHost

__all__ = ["NukeHost", "bootstrap", "startup_dir"]

_installed: list[NukeHost] = []


def startup_dir() -> Path:
    """The folder holding ``init.py``/``menu.py``: what the launcher puts on NUKE_PATH."""
    return Path(__file__).parent / "startup"


def bootstrap() -> None:
    """Install setpiece into this Nuke session (menu, scene-open check, resolver), once.

    Never raises: a failure is one line on stderr and Nuke starts as usual.
    """
    if _installed:
        return
    host = NukeHost()
    if install_now(host, "Nuke"):
        _installed.append(host)
