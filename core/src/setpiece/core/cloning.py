"""``setpiece clone SOURCE NAME``: a new editable asset from an existing one's content.

The clone gets its own name, Python package (``chair`` -> ``chairb``) and version line
(``--version``, default 0.1.0); it keeps the source's kind, description, requirements,
entry points (retargeted to the new package; those named after the source are renamed)
and package files. Tracked big files are not copied: their dvc pointers are (the same
md5), and the bytes are linked from the workspace's files cache by a pull, as for any
asset. ``import``/``from`` lines naming the old package are rewritten. Everything is
built in a staging folder and renamed into ``outputs/`` once complete.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core import hooks
from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text, fsync_dir, fsync_tree, staging_dir
from setpiece.core.naming import import_name, normalize, validate_name, validate_version
from setpiece.core.project import OutputAsset, scaffold

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

_SKIP_DIRS = {"__pycache__", ".dvc"}


def _source(ws: Workspace, name: str) -> tuple[str, str, str, str, dict[str, list[str]],
                                               dict[str, dict[str, str]], Path, set[Path]]:
    """(name, module, kind, description, groups, entry points, package dir, paths to
    leave out) of an output asset, else of an installed one."""
    key = normalize(name)
    out = ws.output_assets().get(key)
    if out is not None:
        from setpiece.core.files.excludes import tracked_rel_paths

        data = out.data()["project"]
        groups = {g: [str(r) for r in reqs] for g, reqs in out.groups().items()}
        skip = {out.package_dir / p for p in tracked_rel_paths(out)}
        return (out.name, out.module, out.kind, str(data.get("description", "")), groups,
                {g: dict(t) for g, t in data.get("entry-points", {}).items()},
                out.package_dir, skip)
    inst = ws.installed_assets().get(key)
    if inst is None:
        raise SetpieceError(f"'{name}' is neither an output asset nor installed here: install "
                            f"it first ('setpiece install {name}')")
    groups = {g: [str(r) for r in reqs] for g, reqs in inst.groups().items()}
    return (inst.name, inst.import_name, inst.kind, inst.description, groups,
            inst.entry_point_groups(), Path(inst.package_dir), set())


def _retarget(eps: dict[str, dict[str, str]], old: str, new: str, old_mod: str,
              new_mod: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for group, table in eps.items():
        if group == "setpiece.asset":
            continue
        out[group] = {}
        for ep_name, target in table.items():
            module, sep, attr = target.partition(":")
            module = module.strip()
            if module == old_mod or module.startswith(old_mod + "."):
                module = new_mod + module[len(old_mod):]
            key = new if normalize(ep_name) == normalize(old) else ep_name
            out[group][key] = f"{module}{sep}{attr.strip()}" if sep else module
    return out


def _copy_tree(src: Path, dest: Path, skip: set[Path]) -> None:
    for folder, dirs, files in os.walk(src):
        here = Path(folder)
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and here / d not in skip]
        rel = here.relative_to(src)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for f in files:
            if here / f in skip or f.endswith((".pyc", ".pyo")):
                continue
            shutil.copy2(here / f, dest / rel / f)


def _rewrite_imports(package_dir: Path, old_mod: str, new_mod: str) -> int:
    """Rewrite ``import old``/``from old`` lines in the package's Python files."""
    pattern = re.compile(rf"^(\s*(?:from|import)\s+){re.escape(old_mod)}\b", re.M)
    changed = 0
    for path in package_dir.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        new = pattern.sub(rf"\g<1>{new_mod}", text)
        if new != text:
            atomic_write_text(path, new)
            changed += 1
    return changed


def clone(ws: Workspace, source: str, name: str, *, version: str = "0.1.0",
          description: str | None = None) -> OutputAsset:
    validate_name(name)
    validate_version(version)
    key = normalize(name)
    if key in ws.output_assets() or (ws.outputs / name).exists():
        raise SetpieceError(f"output asset '{name}' already exists in {ws.outputs}: pick another name")
    if key in ws.installed_assets():
        raise SetpieceError(f"'{name}' is already installed here: pick another name")
    published = [n for n, r in ws.repos().items() if _has(r, name)]
    if published:
        raise SetpieceError(f"'{name}' is already published in repo '{published[0]}': pick "
                            "another name (a clone starts its own version line)")
    src_name, old_mod, kind, desc, groups, eps, src_pkg, skip = _source(ws, source)
    new_mod = import_name(name)
    with staging_dir(ws.outputs, f"clone-{key}") as tmp:
        project = tmp / name
        staged = scaffold(
            project, name, version, kind or "prop", desc if description is None else description,
            groups={g: r for g, r in groups.items() if g},
            dependencies=groups.get("", []),
            entry_points=_retarget(eps, src_name, name, old_mod, new_mod),
        )
        (staged.package_dir / "__init__.py").unlink()
        _copy_tree(src_pkg, staged.package_dir, skip)
        if not (staged.package_dir / "__init__.py").exists():
            from setpiece.core.project import INIT_TEMPLATE

            atomic_write_text(staged.package_dir / "__init__.py",
                              INIT_TEMPLATE.format(name=name, kind=kind))
        _rewrite_imports(staged.package_dir, old_mod, new_mod)
        from setpiece.core.files.pointers import find_files

        if find_files(staged.package_dir):
            from setpiece.core.files.excludes import sync_excludes

            sync_excludes(staged)
        hooks.run("setpiece.renamed", ws=ws, package_dir=staged.package_dir,
                  old_name=src_name, name=name, version=version)
        fsync_tree(project)  # the copied files and every folder, before the name appears
        os.replace(project, ws.outputs / name)
        fsync_dir(ws.outputs)
    asset = OutputAsset(ws.outputs / name)
    from setpiece.core.authoring import _install_editable

    try:
        _install_editable(ws, asset)
    except BaseException:
        shutil.rmtree(asset.path, ignore_errors=True)
        raise
    ws.emit("created", asset=name, version=version, kind=kind, cloned_from=src_name)
    ws.report(f"Cloned {src_name} into {name} {version} in {asset.path}")
    _link_files(ws, asset)
    return asset


def _has(repo: Any, name: str) -> bool:
    try:
        return bool(repo.versions(name))
    except SetpieceError:
        return False


def _link_files(ws: Workspace, asset: OutputAsset) -> None:
    """The clone's tracked files, linked from the cache (never copied); a warning when
    they cannot be (the clone is made either way)."""
    from setpiece.core.files.pointers import find_files

    tracked = find_files(asset.package_dir)
    if not tracked:
        return
    try:
        from setpiece.core.files import pulling

        pulling.pull(ws, asset.name)
    except (ImportError, SetpieceError) as exc:
        ws.report(f"warning: {asset.name}'s {len(tracked)} tracked file path(s) are not in "
                  f"place ({exc}): get them with 'setpiece files pull {asset.name}'")


__all__ = ["clone"]
