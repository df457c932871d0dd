"""setpiece in SideFX Houdini (20+, Python 3.10/3.11, Solaris).

``HoudiniHost`` is the adapter (the ``houdini`` entry point of ``setpiece.hosts``);
``bootstrap()`` is what ``startup/setpiece/python3.Xlibs/pythonrc.py`` calls;
``menu_items``/``run_menu_item`` feed the ``setpiece`` main menu
(``startup/setpiece/MainMenuCommon.xml``).
"""

from __future__ import annotations

from pathlib import Path

from setpiece.hosts.bootstrap import install_when_idle
from setpiece.hosts.houdini.adapter import MENU, HoudiniHost, menu_items, run_menu_item

__all__ = ["MENU", "HoudiniHost", "bootstrap", "menu_items", "run_menu_item", "startup_dir"]


def startup_dir() -> Path:
    """The folder holding the package file ``setpiece.json``: put it on HOUDINI_PACKAGE_DIR."""
    return Path(__file__).parent / "startup"


def bootstrap() -> None:
    """Install setpiece into this Houdini session (menu commands, scene-open check, resolver).

    In the UI the work is deferred (``hdefereval``) until Houdini is idle, so it adds
    nothing to startup; in hython it runs now. Never raises: a failure is one line on
    stderr and Houdini starts as usual.
    """
    install_when_idle(HoudiniHost(), "Houdini")
