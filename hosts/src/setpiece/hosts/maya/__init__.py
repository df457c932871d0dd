"""setpiece in Autodesk Maya (2024+, Python 3.10/3.11, with the mayaUsd plug-in).

``MayaHost`` is the adapter (registered as the ``maya`` entry point of
``setpiece.hosts``); ``bootstrap()`` is what ``startup/userSetup.py`` calls;
``initialize_standalone()`` starts Maya inside ``mayapy`` for batch work.
"""

from __future__ import annotations

from pathlib import Path

from setpiece.hosts.bootstrap import install_when_idle
from setpiece.hosts.maya.adapter import MayaHost

__all__ = ["MayaHost", "bootstrap", "initialize_standalone", "startup_dir"]


def startup_dir() -> Path:
    """The folder holding ``userSetup.py``: what the launcher prepends to PYTHONPATH."""
    return Path(__file__).parent / "startup"


def initialize_standalone() -> None:
    """Inside ``mayapy``: start Maya (``maya.standalone.initialize``) unless it runs already.

    Before initialization ``maya.cmds`` has no commands; in the GUI or after a previous
    call this does nothing.
    """
    from maya import cmds

    if hasattr(cmds, "about"):
        return
    import maya.standalone

    maya.standalone.initialize(name="python")


def bootstrap() -> None:
    """Install setpiece into this Maya session (menu, scene-open check, resolver).

    Deferred until Maya is idle, so it adds nothing to Maya's startup time. Never raises:
    a failure is one line in the Script Editor and Maya starts as usual.
    """
    install_when_idle(MayaHost(), "Maya")
