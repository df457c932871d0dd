"""What the artist chose in the publisher window, as a pyblish plugin of the run.

:func:`skip_instances` makes the collector that turns off the instances the artist
unticked (``instance.data["publish"] = False``: pyblish runs no instance plugin on them,
so they are collected and shown but neither validated nor extracted).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def skip_instances(names: Collection[str]) -> Any:
    """A collector, after every other one, that turns ``names`` off."""
    import pyblish.api

    off = frozenset(names)

    class SkipInstances(pyblish.api.ContextPlugin):
        """The instances the artist turned off in the publisher window."""

        label = "Instances turned off"
        order = pyblish.api.CollectorOrder + 0.49
        hosts = ["*"]

        def process(self, context: Any) -> None:
            from setpiece.core.errors import SetpieceError

            names = {i.name for i in context}
            gone = sorted(off - names)
            for instance in context:
                if instance.name in off:
                    instance.data["publish"] = False
                    self.log.info("%s: turned off, not published", instance.name)
            if gone:
                self.log.warning("not collected any more: %s", ", ".join(gone))
            if len(context) and all(i.data.get("publish") is False for i in context):
                raise SetpieceError(
                    "every instance is turned off: turn on at least one to publish"
                )

    return SkipInstances
