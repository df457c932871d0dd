"""setpiece in Foundry Nuke (15+, Python 3.10/3.11).

``NukeHost`` is the adapter (the ``nuke`` entry point of ``setpiece.hosts``);
``bootstrap()`` is what ``startup/init.py`` (terminal mode) and ``startup/menu.py``
(GUI) call.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
    import importlib

    if _installed:
        return
    host = NukeHost()
    try:
        runtime = importlib.import_module("setpiece.hosts")
        install = getattr(runtime, "install", None)
        if install is None:
            print("setpiece: the in-app runtime (setpiece.hosts.install) is not available", file=sys.stderr)
            return
        install(host)
        _installed.append(host)
    except Exception as exc:  # never break Nuke's startup
        print(f"setpiece: not installed in Nuke: {' '.join(str(exc).split())}", file=sys.stderr)
