"""The Repair action: runs a failed validator's ``repair(cls, instance)`` classmethod.

pyblish has no built-in repair; the convention is a ``repair`` classmethod on the
validator (``repair(cls, instance)`` for instance plugins, ``repair(cls, context)`` for
context plugins) and an action that calls it for each failed instance.
"""

from __future__ import annotations

from typing import Any

import pyblish.api


class RepairAction(pyblish.api.Action):
    label = "Repair"
    on = "failed"
    icon = "wrench"

    def process(self, context: Any, plugin: Any) -> None:
        failed = [
            r for r in context.data.get("results", [])
            if r.get("plugin") is plugin and r.get("error") is not None and not r.get("action")
        ]
        if not failed:
            self.log.info("%s did not fail: nothing to repair", plugin.__name__)
            return
        if issubclass(plugin, pyblish.api.ContextPlugin):
            plugin.repair(context)
            self.log.info("repaired: %s", getattr(plugin, "label", plugin.__name__))
            return
        seen: set[int] = set()
        for result in failed:
            instance = result.get("instance")
            if instance is None or id(instance) in seen:
                continue
            seen.add(id(instance))
            plugin.repair(instance)
            self.log.info("repaired %s: %s", instance.name, getattr(plugin, "label", ""))


def repairable(plugin: Any) -> bool:
    return callable(getattr(plugin, "repair", None)) and any(
        issubclass(a, RepairAction) for a in getattr(plugin, "actions", []) or []
    )
