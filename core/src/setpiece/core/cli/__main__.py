"""``python -m setpiece.core.cli``: the ``setpiece`` command without its console script
(farm chunks run it this way, so they need no ``setpiece`` on PATH)."""

from setpiece.core.cli import entry

entry()
