"""Launcher of a stage template shipped by an installed tool asset.

``python -m setpiece.core.stages.asset MODULE --params STAGE DEP OUT``: MODULE is the
module a tool asset names in its ``setpiece.stages`` entry point group; it is run as
``python -m MODULE --params STAGE DEP OUT`` (the built-in templates' contract) with the
workspace's installed packages (``SETPIECE_ASSET_PATH``, set by ``pipeline run``) added
*after* setpiece's own, so the tool's code is the version installed in the workspace and
setpiece's own dependencies are never shadowed by the workspace's.
"""

from __future__ import annotations

import os
import runpy
import sys


def main() -> int:
    if len(sys.argv) < 2:
        print("error: give the stage module to run", file=sys.stderr)
        return 2
    module = sys.argv[1]
    extra = os.environ.get("SETPIECE_ASSET_PATH", "")
    for folder in filter(None, extra.split(os.pathsep)):
        if folder not in sys.path:
            sys.path.append(folder)
    sys.argv = [module, *sys.argv[2:]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except ImportError as exc:
        print(f"error: cannot import the stage module {module} ({exc}): install the tool "
              "asset that provides it in this workspace", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
