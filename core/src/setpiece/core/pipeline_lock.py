"""An asset pipeline's ``dvc.yaml`` and ``dvc.lock`` read without importing dvc.

Two uses: the stage outputs recorded in ``dvc.lock`` are tracked files like those of
``files add`` (pushed at publish, pulled on install: ``outputs``), and a no-op
``pipeline run`` / ``status`` / publish check answers from file stats alone when nothing
changed since dvc last found every stage up to date (``fresh``): the workspace's stamp
(``.setpiece/pipelines/<asset>.json``) holds the inode, size and mtime of ``dvc.yaml``,
``dvc.lock``, ``params.yaml`` and of every file under every dependency and output, taken
*before* dvc checked them; any difference (or no stamp) means dvc decides. Like dvc's own
state database, it trusts that a file whose inode, size and mtime (ns) are unchanged has
unchanged bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from setpiece.core.naming import normalize

DVC_YAML = "dvc.yaml"
DVC_LOCK = "dvc.lock"
PARAMS = "params.yaml"


def _yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=False).load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except Exception:  # ruamel's errors have no common base: dvc reports what is wrong
        return None


def stages(pkg: Path) -> dict[str, dict[str, Any]]:
    """The stages of ``dvc.yaml`` (cmd, deps, outs, params, meta), ``{}`` if none."""
    data = _yaml(pkg / DVC_YAML)
    found = data.get("stages") if isinstance(data, dict) else None
    return {str(k): v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def _entry_path(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1:  # "- movie.mp4: {cache: false}"
        return str(next(iter(entry)))
    return None


def stage_paths(body: dict[str, Any], key: str) -> list[str]:
    """The ``deps`` or ``outs`` paths of one ``dvc.yaml`` stage, as written."""
    return [p for e in body.get(key) or [] if (p := _entry_path(e)) is not None]


def locked_outputs(pkg: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """(stage, output path, its lock entry) for every output of a stage still in
    ``dvc.yaml`` whose last good run ``dvc.lock`` records with an md5."""
    lock = _yaml(pkg / DVC_LOCK)
    current = stages(pkg)
    out: list[tuple[str, str, dict[str, Any]]] = []
    if not isinstance(lock, dict) or not isinstance(lock.get("stages"), dict):
        return out
    for name, body in lock["stages"].items():
        if name not in current or not isinstance(body, dict):
            continue
        for o in body.get("outs") or []:
            if isinstance(o, dict) and isinstance(o.get("path"), str) and o.get("md5"):
                out.append((str(name), o["path"], o))
    return out


# -- the stats stamp of a pipeline found up to date --------------------------------------


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _tree(path: Path) -> list[Any]:
    """Stats of ``path`` and, for a folder, of every file under it (sorted)."""
    top = _stat(str(path))
    if top is None or not path.is_dir():
        return [top]
    rows: list[Any] = []
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for f in sorted(files):
            full = os.path.join(folder, f)
            rows.append([os.path.relpath(full, path), _stat(full)])
    return rows


def _files(pkg: Path) -> dict[str, Any]:
    return {f: _stat(str(pkg / f)) for f in (DVC_YAML, DVC_LOCK, PARAMS)}


def snapshot(pkg: Path) -> dict[str, Any]:
    """What the stamp compares: the package folder, the stats of its pipeline files and of
    every file of every dependency and output (their list kept: the fast check reads no
    YAML; it is valid while ``dvc.yaml`` keeps its stats)."""
    paths = sorted({p for body in stages(pkg).values()
                    for key in ("deps", "outs") for p in stage_paths(body, key)})
    return {"pkg": str(pkg), "stages": list(stages(pkg)), "files": _files(pkg),
            "paths": {p: _tree(pkg / p) for p in paths}}


def snapshot_after_run(pkg: Path, before: dict[str, Any]) -> dict[str, Any] | None:
    """The stamp of a run that just succeeded, without asking dvc again: what the pipeline
    wrote (outputs, ``dvc.lock``) as it is now, hashed by dvc after its command; what it
    only reads (dependencies no stage makes, ``dvc.yaml``, ``params.yaml``) as it was
    *before* the run, so an edit made during the run is seen by the next check. None when
    a stage always runs (dvc's ``always_changed``) or is ``frozen``."""
    every = stages(pkg)
    if any(body.get("always_changed") or body.get("frozen") for body in every.values()):
        return None
    made = [o for body in every.values() for o in stage_paths(body, "outs")]
    after = snapshot(pkg)
    for f in (DVC_YAML, PARAMS):
        after["files"][f] = before["files"].get(f)
    for p in after["paths"]:
        if not any(p == o or p.startswith(o.rstrip("/") + "/") for o in made):
            if p not in before["paths"]:
                return None
            after["paths"][p] = before["paths"][p]
    return after


def stamp_path(root: Path, name: str) -> Path:
    """``.setpiece/pipelines/<name>.json`` in the workspace (name normalised as PEP 503)."""
    key = normalize(name)
    return Path(root) / ".setpiece" / "pipelines" / f"{key}.json"


def write_stamp(root: Path, name: str, snap: dict[str, Any]) -> None:
    """Record ``snap`` (taken before dvc found every stage up to date)."""
    from setpiece.core.fsutil import atomic_write_bytes

    with contextlib.suppress(OSError):
        atomic_write_bytes(stamp_path(root, name), json.dumps(snap).encode(), durable=False)


def clear_stamp(root: Path, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(stamp_path(root, name))


def fresh(root: Path, name: str, pkg: Path | None = None) -> dict[str, Any] | None:
    """The stamp, only if nothing the pipeline of ``name`` reads or writes changed since it
    was found up to date (stats only: no YAML, no hashing, no dvc); None means: ask dvc."""
    try:
        recorded = json.loads(stamp_path(root, name).read_text(encoding="utf-8"))
        where = Path(recorded["pkg"])
        paths = dict(recorded["paths"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pkg is not None and where != pkg:
        return None
    if recorded.get("files") != _files(where):
        return None
    for p, tree in paths.items():
        if _tree(where / p) != tree:
            return None
    return dict(recorded)
