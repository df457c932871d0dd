"""Houdini's publish plugins (pyblish), returned by ``HoudiniHost.publish_plugins()``.

What is published:

- every LOP in ``/stage`` flagged for publish: a spare toggle ``setpiece_publish`` that is
  on (add it with :func:`mark_for_publish`, or by hand in Edit Parameter Interface). One
  instance per LOP, named after it: the stage that LOP outputs;
- when no LOP is flagged, the display node of ``/stage`` as one instance ``model``.

What a LOP outputs is composed USD: loaded containers upstream of it are written as
references to their assets' layers (Houdini does not flatten file references), not as
copies of their geometry.

Checks: the LOP cooks without errors (``node.errors()`` of it and its inputs); its stage
has a default prim (Repair appends a Configure Layer LOP setting it); its stage's
``metersPerUnit`` and ``upAxis`` (what the USD ROP writes) are the workspace's.

Extraction goes through the adapter: ``HoudiniHost.publish_export`` selects the LOP and
runs ``export_usd(selection=True)`` (a USD ROP on it); ``HoudiniHost.save_copy`` saves the
.hip (``hou.hipFile.save``) and copies it.

pyblish ships no type information: its plugin base classes are ``Any`` to mypy, hence the
``type: ignore[misc]`` on each class line. ``hou`` is imported inside the functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pyblish.api

from setpiece.core.errors import SetpieceError
from setpiece.hosts.publish.actions import RepairAction
from setpiece.hosts.publish.plugins import FAMILY
from setpiece.hosts.publish.session import session, stage_settings

if TYPE_CHECKING:
    import hou

STAGE = "/stage"
#: spare toggle flagging a LOP for publish
PUBLISH_PARM = "setpiece_publish"


def mark_for_publish(node: hou.OpNode, on: bool = True) -> None:
    """Add the ``setpiece_publish`` spare toggle to ``node`` (once) and set it."""
    import hou

    if node.parm(PUBLISH_PARM) is None:
        group = node.parmTemplateGroup()
        group.append(hou.ToggleParmTemplate(PUBLISH_PARM, "Publish with setpiece", default_value=False))
        node.setParmTemplateGroup(group)
    parm = node.parm(PUBLISH_PARM)
    if parm is None:
        raise SetpieceError(f"houdini: cannot add a {PUBLISH_PARM} toggle to {node.path()}")
    parm.set(1 if on else 0)


def _flagged(node: hou.OpNode) -> bool:
    parm = node.parm(PUBLISH_PARM)
    return parm is not None and bool(parm.eval())


def publish_node(instance: Any) -> hou.LopNode:
    """The LOP an instance publishes; a clear error when it is gone."""
    import hou

    path = str(instance.data.get("node", ""))
    node = hou.node(path) if path else None
    if node is None:
        raise SetpieceError(
            f"houdini: {path or instance.name} is no longer in the scene; publish again"
        )
    return cast("hou.LopNode", node)


def _cooked_stage(node: hou.LopNode) -> Any:
    import hou

    try:
        node.cook(force=True)
        return node.stage()
    except hou.OperationFailed as exc:
        raise SetpieceError(
            f"houdini: {node.path()} does not cook ({' '.join(str(exc).split())}): fix the errors "
            "shown on the node"
        )


# -- collect ------------------------------------------------------------------------------


class CollectHoudiniInstances(pyblish.api.ContextPlugin):
    """LOPs flagged ``setpiece_publish``, else the display node of ``/stage``."""

    label = "Houdini: what to publish"
    order = pyblish.api.CollectorOrder + 0.1
    hosts = ["houdini"]

    def process(self, context: Any) -> None:
        import hou

        stage = hou.node(STAGE)
        if stage is None:
            raise SetpieceError(
                "houdini: there is no /stage LOP network in this scene: build what to publish in "
                "Solaris (/stage)"
            )
        flagged = [cast("hou.OpNode", c) for c in stage.children() if _flagged(cast("hou.OpNode", c))]
        for node in flagged:
            instance = context.create_instance(node.name(), family=FAMILY, families=[FAMILY])
            instance.data.update(node=node.path(), flagged=True)
            self.log.info("LOP %s is flagged for publish", node.path())
        if flagged:
            return
        display = cast("hou.LopNetwork", stage).displayNode()
        if display is None:
            raise SetpieceError(
                "houdini: /stage is empty and no LOP is flagged for publish: build the asset in "
                f"/stage, or turn on a LOP's {PUBLISH_PARM} toggle"
            )
        instance = context.create_instance("model", family=FAMILY, families=[FAMILY])
        instance.data.update(node=display.path(), whole_scene=True)
        self.log.info(
            "no LOP has %s on: publishing the display node %s as 'model'", PUBLISH_PARM,
            display.path(),
        )


# -- validate -----------------------------------------------------------------------------


class ValidateHoudiniCook(pyblish.api.InstancePlugin):
    """The LOP to publish, and every LOP feeding it, cooks without errors."""

    label = "Houdini: LOP cooks without errors"
    order = pyblish.api.ValidatorOrder
    hosts = ["houdini"]
    families = [FAMILY]

    def process(self, instance: Any) -> None:
        import hou

        node = publish_node(instance)
        try:
            node.cook(force=True)
        except hou.OperationFailed as exc:
            self.log.error("%s: %s", node.path(), exc)
        problems = [
            (n.path(), " ".join(e.split()))
            for n in (node, *node.inputAncestors())
            for e in n.errors()
        ]
        for path, error in problems:
            self.log.error("%s: %s", path, error)
        if problems:
            shown = "; ".join(f"{p}: {e}" for p, e in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise SetpieceError(
                f"{instance.name} ({node.path()}) does not cook: {shown}{more}: fix these nodes "
                "(their error badges in the network view say more), or bypass them"
            )
        self.log.info("%s cooks without errors", node.path())


class ValidateHoudiniDefaultPrim(pyblish.api.InstancePlugin):
    """The stage the LOP outputs has a default prim (what a reference to the asset opens)."""

    label = "Houdini: default prim"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["houdini"]
    families = [FAMILY]
    actions = [RepairAction]

    def process(self, instance: Any) -> None:
        node = publish_node(instance)
        stage = _cooked_stage(node)
        prim = stage.GetDefaultPrim()
        if prim:
            self.log.info("default prim %s", prim.GetPath())
            return
        roots = [p.GetName() for p in stage.GetPseudoRoot().GetChildren()]
        fix = (
            f"the Repair action appends a Configure Layer LOP with Default Primitive /{roots[0]}"
            if len(roots) == 1
            else "append a Configure Layer LOP and set its Default Primitive to the asset's "
            f"root prim (one of {', '.join('/' + r for r in roots) or 'none: the stage is empty'})"
        )
        raise SetpieceError(f"the stage of {node.path()} has no default prim: {fix}")

    @classmethod
    def repair(cls, instance: Any) -> None:
        node = publish_node(instance)
        stage = _cooked_stage(node)
        roots = [p.GetName() for p in stage.GetPseudoRoot().GetChildren()]
        if len(roots) != 1:
            raise SetpieceError(
                f"the stage of {node.path()} has {len(roots)} root prims: set its default prim "
                "in a Configure Layer LOP by hand"
            )
        parent = node.parent()
        assert parent is not None
        layer = cast("hou.LopNode", parent.createNode("configurelayer", f"{node.name()}_defaultprim"))
        for downstream in node.outputs():
            for index, source in enumerate(downstream.inputs()):
                if source is not None and source.path() == node.path():
                    downstream.setInput(index, layer)
        layer.setInput(0, node)
        layer.setParms({"setdefaultprim": 1, "defaultprim": "/" + roots[0]})
        layer.moveToGoodPosition()
        if node.isDisplayFlagSet():
            layer.setDisplayFlag(True)
        if _flagged(node):  # the flag moves to the node that now ends the chain
            mark_for_publish(node, False)
            mark_for_publish(layer, True)
        instance.data["node"] = layer.path()


class ValidateHoudiniUnits(pyblish.api.InstancePlugin):
    """The stage's ``metersPerUnit`` and ``upAxis`` are the workspace's (the USD ROP writes
    them; Houdini converts nothing)."""

    label = "Houdini: stage units and up axis"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["houdini"]
    families = [FAMILY]

    def process(self, instance: Any) -> None:
        from pxr import UsdGeom

        up, mpu = stage_settings(session(instance.context).ws)
        node = publish_node(instance)
        stage = _cooked_stage(node)
        got_mpu = float(UsdGeom.GetStageMetersPerUnit(stage))
        got_up = str(UsdGeom.GetStageUpAxis(stage))
        problems = []
        if abs(got_mpu - mpu) > 1e-9 * max(mpu, 1.0):
            problems.append(f"{got_mpu:g} m/unit (the workspace uses {mpu:g})")
        if got_up != up:
            problems.append(f"up axis {got_up} (the workspace uses {up})")
        if problems:
            raise SetpieceError(
                f"the stage of {node.path()} is {' and '.join(problems)}: set Meters Per Unit "
                f"{mpu:g} and Up Axis {up} on a Configure Layer LOP before it, or the defaults in "
                "Edit > Preferences > Solaris (hou.lop.setDefaultMetersPerUnit), and model in "
                "those units"
            )
        self.log.info("%g m/unit, up axis %s", got_mpu, got_up)


PLUGINS = [
    CollectHoudiniInstances,
    ValidateHoudiniCook,
    ValidateHoudiniDefaultPrim,
    ValidateHoudiniUnits,
]
