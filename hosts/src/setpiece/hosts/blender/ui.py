"""Blender UI classes: the top-bar ``setpiece`` menu and the operator behind its entries.

One operator (``setpiece.run_command``) runs any registered :class:`MenuCommand` by key,
so the menu can change (tool assets contribute entries) without registering a class per
entry. Classes are built with ``type()`` and explicit ``__annotations__`` because
``bpy.props`` annotations must be real objects, not the strings that
``from __future__ import annotations`` would leave.
"""

from __future__ import annotations

import logging
from collections.abc import MutableSequence
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import MenuCommand

log = logging.getLogger("setpiece.hosts.blender")

MENU_IDNAME = "TOPBAR_MT_setpiece"
OPERATOR_IDNAME = "setpiece.run_command"
_POPUP_KEY = "popup"


def _build_classes(bpy: Any, commands: dict[str, MenuCommand]) -> tuple[Any, Any]:
    def execute(self: Any, context: Any) -> set[str]:
        command = commands.get(self.key)
        if command is None:
            self.report({"ERROR"}, f"setpiece: no command {self.key!r}")
            return {"CANCELLED"}
        try:
            command.callback()
        except SetpieceError as exc:  # the artist can fix it: one line, no traceback
            self.report({"ERROR"}, f"setpiece: {command.label}: {' '.join(str(exc).split())}")
            return {"CANCELLED"}
        except Exception as exc:  # unexpected: the traceback to the console, keep Blender alive
            log.exception("setpiece: %s failed", command.label)
            self.report({"ERROR"}, f"setpiece: {command.label} failed: {exc}")
            return {"CANCELLED"}
        return {"FINISHED"}

    @classmethod  # type: ignore[misc]
    def description(cls: Any, context: Any, properties: Any) -> str:
        command = commands.get(properties.key)
        return (command.tooltip or command.label) if command else ""

    operator = type(
        "SETPIECE_OT_run_command",
        (bpy.types.Operator,),
        {
            "bl_idname": OPERATOR_IDNAME,
            "bl_label": "setpiece command",
            "bl_options": {"REGISTER"},
            "__annotations__": {"key": bpy.props.StringProperty(options={"HIDDEN"})},
            "execute": execute,
            "description": description,
        },
    )

    def draw(self: Any, context: Any) -> None:
        layout = self.layout
        group = None
        for key in sorted(k for k in commands if k != _POPUP_KEY):
            command = commands[key]
            if group is not None and command.group != group:
                layout.separator()
            group = command.group
            layout.operator(OPERATOR_IDNAME, text=command.label).key = key

    menu = type(
        "TOPBAR_MT_setpiece",
        (bpy.types.Menu,),
        {"bl_idname": MENU_IDNAME, "bl_label": "setpiece", "draw": draw},
    )
    return operator, menu


def _draw_topbar(self: Any, context: Any) -> None:
    self.layout.menu(MENU_IDNAME)


def register(bpy: Any, commands: dict[str, MenuCommand], registered: MutableSequence[Any]) -> None:
    """(Re)register the operator and menu, and put the menu in the top bar once."""
    unregister(bpy, registered)
    operator, menu = _build_classes(bpy, commands)
    bpy.utils.register_class(operator)
    bpy.utils.register_class(menu)
    registered.extend([operator, menu])
    bpy.types.TOPBAR_MT_editor_menus.append(_draw_topbar)


def unregister(bpy: Any, registered: MutableSequence[Any]) -> None:
    if registered:
        try:
            bpy.types.TOPBAR_MT_editor_menus.remove(_draw_topbar)
        except (AttributeError, ValueError):
            pass
    while registered:
        cls = registered.pop()
        try:
            bpy.utils.unregister_class(cls)
        except RuntimeError:
            pass


def popup(bpy: Any, message: str, command: MenuCommand | None) -> None:
    """A popup with ``message`` and, when given, one button running ``command``."""
    from setpiece.hosts.blender.host import _MENU_COMMANDS

    if command is not None:
        _MENU_COMMANDS[_POPUP_KEY] = command

    def draw(self: Any, context: Any) -> None:
        for line in message.splitlines() or [message]:
            self.layout.label(text=line)
        if command is not None:
            self.layout.operator(OPERATOR_IDNAME, text=command.label).key = _POPUP_KEY

    def show() -> None:
        try:
            bpy.context.window_manager.popup_menu(draw, title="setpiece", icon="INFO")
        except (AttributeError, RuntimeError):  # no window yet: the log has the message
            log.warning("setpiece: %s", message)
        return None

    # from a load_post handler there may be no window context yet: show it when idle
    bpy.app.timers.register(show, first_interval=0.1)
