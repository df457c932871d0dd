"""Before a pipeline runs: every dependency that no stage makes must be there.

A missing dependency that is a tracked path (of this asset, or of the installed asset an
``Asset:path`` dependency names) was not pulled: the error names the ``setpiece files
pull`` to run. Otherwise it names the path to create. Stats and pointer files only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.core.errors import SetpieceError

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


def _tracked_by(path: Path, package_dir: Path) -> bool:
    """A ``.dvc`` pointer (or the ``dvc.lock``) of ``package_dir`` covers ``path``."""
    from setpiece.core.files import pointers

    return any(pointers.is_inside(path, p.data_path) for p in pointers.find(package_dir))


def check_present(ws: Workspace, name: str, pkg: Path) -> None:
    from setpiece.core.pipeline_lock import stage_paths, stages

    every = stages(pkg)
    made = [o for body in every.values() for o in stage_paths(body, "outs")]
    for stage, body in every.items():
        refs = ((body.get("meta") or {}).get("setpiece") or {}).get("assets") or {}
        for dep in stage_paths(body, "deps"):
            full = Path(os.path.normpath(pkg / dep))
            if os.path.lexists(full) or any(
                    dep == o or dep.startswith(o.rstrip("/") + "/") for o in made):
                continue
            ref = refs.get(dep)
            owner, owner_dir = name, pkg
            if ref is not None:
                owner = str(ref).partition(":")[0]
                owner_dir = Path(os.path.abspath(ws.installed_asset(owner).package_dir))
            shown = ref or dep
            if _tracked_by(full, owner_dir):
                raise SetpieceError(
                    f"dependency '{shown}' of stage '{stage}' is not pulled: run "
                    f"'setpiece files pull {owner}', then run the pipeline again"
                )
            raise SetpieceError(
                f"dependency '{shown}' of stage '{stage}' does not exist: create it (or "
                f"'setpiece files add {name} ...' it), or fix the stage's --dep"
            )
