"""The selftest step that checks tool assets reached the app: each folder the installed
assets contribute to the app's search path (``asset.toml [env]``, composed by
``setpiece env/launch HOST``) is on the path the running app reports.

Each app says where it looks in its own words (Nuke: ``nuke.pluginPath()``; Houdini:
``hou.houdiniPath("HOUDINI_OTLSCAN_PATH")``; Maya reads ``MAYA_PLUG_IN_PATH`` from its
environment); the selftest passes that reader. Without a workspace
(``SETPIECE_WORKSPACE`` unset) or in safe mode there is nothing to check, and the step
says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Step = Callable[[Sequence[Any], Path], str]


def _norm(path: str) -> str:
    return os.path.normcase(os.path.normpath(os.path.abspath(path)))


def tool_folders_step(host: str, var: str, app_paths: Callable[[], Sequence[str]]
                      ) -> tuple[str, Step]:
    """``(label, step)`` for a selftest's ``extra_steps``."""

    def check(loaded: Sequence[Any], work: Path) -> str:
        from setpiece.core.asset_code import safe_mode

        root = os.environ.get("SETPIECE_WORKSPACE")
        if not root:
            return "no workspace (SETPIECE_WORKSPACE unset): nothing to check"
        if safe_mode():
            return "safe mode: tool assets left out"
        from setpiece.core.asset_env import workspace_env
        from setpiece.core.workspace import Workspace

        composed = workspace_env(Workspace(root), host)
        wanted = [*composed.prepend.get(var, []), *composed.append.get(var, [])]
        if not wanted:
            return f"no installed asset adds to {var}"
        seen = {_norm(p) for p in app_paths() if p}
        missing = [p for p in wanted if _norm(p) not in seen]
        assert not missing, (f"{', '.join(missing)} ({', '.join(composed.origins[var])}) not on "
                             f"the app's {var}: start it with 'setpiece launch {host}' or "
                             f"'setpiece env {host}'")
        return f"{len(wanted)} folder(s) of {', '.join(composed.origins[var])} on {var}"

    return (f"tool assets on {var}", check)


__all__ = ["tool_folders_step"]
