"""Keep tracked data out of an asset's wheel (and sdist): the pointers ship, bytes never do.

uv_build takes ``[tool.uv.build-backend] wheel-exclude`` (paths relative to the module
root) and ``source-exclude`` (relative to the project). Every tracked path
of the asset gets one entry in each; entries under the asset's own package folder are
managed here (kept equal to the tracked paths), any others are the user's and are kept.
Portable globs (PEP 639) allow only ``A-Za-z0-9_.-/`` literally: any other character is
matched with ``?``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from setpiece.core.files.pointers import SUFFIX, find_files
from setpiece.core.project import OutputAsset

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/]")


def _glob(rel: str) -> str:
    # uv_build reads "a/b" as "**/a/b"; an anchored "/a/b" did not exclude folders (uv 0.13)
    return _UNSAFE.sub("?", rel)


def tracked_rel_paths(asset: OutputAsset) -> list[Path]:
    """Tracked files (their pointers ship) and pipeline outputs and dvc state (``.dvc``)."""
    from setpiece.core.pipelines import excluded_paths

    tracked = [f.with_name(f.name[: -len(SUFFIX)]) for f in find_files(asset.package_dir)]
    return tracked + excluded_paths(asset.package_dir)


def sync_excludes(asset: OutputAsset) -> bool:
    """Make the build excludes match the tracked paths. True if pyproject.toml changed."""
    import tomlkit

    pkg = asset.package_dir
    module_root = pkg.parent
    paths = tracked_rel_paths(asset)
    wheel_prefix = _glob(pkg.relative_to(module_root).as_posix()) + "/"
    source_prefix = _glob(pkg.relative_to(asset.path).as_posix()) + "/"
    wheel = [_glob(p.relative_to(module_root).as_posix()) for p in paths]
    source = [_glob(p.relative_to(asset.path).as_posix()) for p in paths]

    changed = False
    with asset.editing() as doc:
        found = doc.get("tool", {}).get("uv", {}).get("build-backend", {})
        for key, managed, prefix in (("wheel-exclude", wheel, wheel_prefix),
                                     ("source-exclude", source, source_prefix)):
            current = [str(x) for x in found.get(key, [])]
            kept = [x for x in current if not x.startswith(prefix)]
            new = kept + sorted(set(managed))
            if new == current:
                continue
            changed = True
            tool = doc.setdefault("tool", tomlkit.table())
            uv = tool.setdefault("uv", tomlkit.table())
            backend = found = uv.setdefault("build-backend", tomlkit.table())
            if new:
                arr: Any = tomlkit.array()
                arr.extend(new)
                arr.multiline(len(new) > 1)
                backend[key] = arr
            elif key in backend:
                del backend[key]
    return changed
