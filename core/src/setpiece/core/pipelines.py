"""Asset pipelines on dvc's own machinery: stages in a ``dvc.yaml`` inside an output asset's
package folder, run with ``dvc repro`` (re-runs only stages whose inputs changed).

The package folder is a dvc repo without git (``no_scm``); its cache is the workspace's
files cache (``[files] cache``), so stage outputs are stored next to the asset's other
files. A stage command that fails leaves its output as it was before the run (restored
from the cache by dvc checkout), or absent if it never succeeded: nothing half-written.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.pipeline_add import add_stage, load_yaml

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

__all__ = ["add_stage", "excluded_paths", "package_dir", "run", "status"]

DVC_YAML = "dvc.yaml"
_EXITED = re.compile(r"exited with (-?\d+)")


def package_dir(ws: Workspace, name: str) -> Path:
    """The package folder of output asset ``name`` (where its ``dvc.yaml`` lives)."""
    from setpiece.core.files import need_dvc
    from setpiece.core.files.tracking import output_for_files

    need_dvc()
    return Path(os.path.abspath(output_for_files(ws, name).package_dir))


def excluded_paths(pkg: Path) -> list[Path]:
    """What the pipeline keeps out of the wheel: every stage output and the ``.dvc`` folder
    (machine-local dvc state); ``dvc.yaml`` and ``dvc.lock`` ship."""
    path = pkg / DVC_YAML
    if not path.exists():
        return []
    try:
        stages = load_yaml(path).get("stages", {})
    except SetpieceError:
        return [pkg / ".dvc"]
    outs = {
        str(o) for body in stages.values() if isinstance(body, dict)
        for o in body.get("outs", []) if isinstance(o, str)
    }
    return [pkg / ".dvc", *(pkg / o for o in sorted(outs))]


# -- the dvc repo ------------------------------------------------------------------------


@contextlib.contextmanager
def _cwd(folder: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def _captured() -> Iterator[list[str]]:
    """Stage commands inherit file descriptors 1 and 2: capture them (and dvc's own
    messages) in a temporary file; the lines are in the yielded list afterwards."""
    import sys

    lines: list[str] = []
    with tempfile.TemporaryFile() as tmp:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())


@contextlib.contextmanager
def _stage_env(ws: Workspace) -> Iterator[None]:
    """Stage commands say ``python`` (portable): make it the interpreter running setpiece,
    which has setpiece's stage entries and the tools' packages; ``SETPIECE_ASSET_PATH``:
    the workspace's installed packages, for templates of tool assets (``stages.asset``)."""
    import sys

    saved = {k: os.environ.get(k) for k in ("PATH", "SETPIECE_ASSET_PATH")}
    old = saved["PATH"]
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), *([old] if old else [])])
    os.environ["SETPIECE_ASSET_PATH"] = str(ws.site_packages)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _no_pipeline(pkg: Path) -> SetpieceError:
    return SetpieceError(
        f"{pkg.name} has no pipeline ({pkg / DVC_YAML} is missing): add a stage with "
        "'setpiece pipeline add NAME STAGE --cmd ... --out ...' (or --template)"
    )


@contextlib.contextmanager
def _repo(ws: Workspace, pkg: Path) -> Iterator[Any]:
    from setpiece.core.files.store import (
        DEFAULT_LINKS,
        ROOT_EDIT_LINKS,
        _is_root,
        _link_types,
        _quiet_dvc_logging,
        cache_root,
    )
    from setpiece.core.pipeline_add import check_cycle, refresh_asset_deps
    from setpiece.core.pipeline_lock import stages

    if not (pkg / DVC_YAML).exists():
        raise _no_pipeline(pkg)
    check_cycle(stages(pkg))  # a dvc.yaml written by hand: one line naming the loop
    refresh_asset_deps(ws, pkg)
    os.environ.setdefault("DVC_SITE_CACHE_DIR", str(ws.state_dir / "files" / "dvc-site"))
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    _quiet_dvc_logging()
    from dvc.repo import Repo

    # outputs are files of an output asset: linked as its tracked files are ([files]
    # edit_link; for root a reflink or a copy, since read-only links protect nothing there)
    cfg = ws.config.section("files")
    links = ",".join(_link_types(cfg, "edit_link", ROOT_EDIT_LINKS if _is_root()
                                 else _link_types(cfg, "link", DEFAULT_LINKS)))
    with _cwd(pkg):
        if not (pkg / ".dvc").is_dir():
            with _captured():
                Repo.init(str(pkg), no_scm=True)
        cache = str(cache_root(ws))
        repo = Repo(str(pkg))
        try:
            conf = repo.config.get("cache", {})
            if conf.get("dir") != cache or conf.get("type") != links:
                with repo.config.edit("local") as edit:
                    edit["cache"]["dir"] = cache
                    edit["cache"]["type"] = links  # outputs linked like tracked files
                repo.close()
                repo = Repo(str(pkg))
            yield repo
        finally:
            repo.close()


def _stage_names(repo: Any) -> list[str]:
    """The stages of the asset's ``dvc.yaml`` (not the ``.dvc`` pointers of 'files add')."""
    from dvc.stage import PipelineStage

    return [str(s.addressing) for s in repo.index.stages if isinstance(s, PipelineStage)]


def _targets(repo: Any, stage: str | None, name: str) -> list[str]:
    names = _stage_names(repo)
    if stage is None:
        return names
    if stage not in names:
        raise SetpieceError(
            f"asset '{name}' has no stage '{stage}': its stages are {', '.join(names) or 'none'}"
        )
    return [stage]


def _index_error(name: str, exc: Exception) -> SetpieceError:
    text = " ".join(str(exc).split())
    if "cycle" in text.lower():
        return SetpieceError(f"the pipeline of '{name}' has a cycle ({text}): change a dep or "
                             "out in dvc.yaml so that no stage needs its own output")
    return SetpieceError(f"pipeline of '{name}' cannot run: {text}")


def fresh_rows(stamp: dict[str, Any], name: str, stage: str | None) -> list[dict[str, Any]]:
    """Status rows of a pipeline its stamp says is up to date (no YAML, no dvc)."""
    names = [str(s) for s in stamp.get("stages", [])]
    if stage is not None and stage not in names:
        raise SetpieceError(
            f"asset '{name}' has no stage '{stage}': its stages are {', '.join(names) or 'none'}"
        )
    return [{"asset": name, "stage": s, "stale": False, "why": []}
            for s in ([stage] if stage else names)]


def _known_stage(pkg: Path, stage: str | None, name: str) -> None:
    from setpiece.core.pipeline_lock import stages

    names = list(stages(pkg))
    if stage is not None and stage not in names:
        raise SetpieceError(
            f"asset '{name}' has no stage '{stage}': its stages are {', '.join(names) or 'none'}"
        )


def status(ws: Workspace, name: str, stage: str | None = None) -> list[dict[str, Any]]:
    """Every stage of ``name``: stale or not, and why (dvc status; stats only when nothing
    changed since the pipeline was last found up to date)."""
    from setpiece.core import pipeline_lock as lock

    pkg = package_dir(ws, name)
    if not (pkg / DVC_YAML).exists():
        raise _no_pipeline(pkg)
    stamp = lock.fresh(ws.root, name, pkg)
    if stamp is not None:
        return fresh_rows(stamp, name, stage)
    from dvc.exceptions import DvcException

    snap = lock.snapshot(pkg)
    try:
        with _repo(ws, pkg) as repo, _captured():
            targets = _targets(repo, stage, name)
            raw = repo.status(targets=targets)
            every = stage is None
    except DvcException as exc:
        raise _index_error(name, exc)
    rows = []
    for s in targets:
        why: list[str] = []
        for entry in raw.get(s, []):
            if isinstance(entry, str):
                why.append(entry)
                continue
            for kind, changes in entry.items():
                what = {"changed deps": "dependency", "changed outs": "output"}.get(kind, "param")
                for path, state in changes.items():
                    if isinstance(state, dict):  # params: {file: {key: state}}
                        why += [f"param {k} {v}" for k, v in state.items()]
                    else:
                        why.append(f"{what} {path} {state}")
        rows.append({"asset": name, "stage": s, "stale": bool(why), "why": why})
    if every and not any(r["stale"] for r in rows):
        lock.write_stamp(ws.root, name, snap)
    return rows


def stale_outputs(ws: Workspace, name: str) -> list[str]:
    """The outputs of ``name``'s stale stages (``[]``: up to date, or no pipeline)."""
    from setpiece.core import pipeline_lock as lock

    pkg = package_dir(ws, name)
    if not (pkg / DVC_YAML).exists() or lock.fresh(ws.root, name, pkg) is not None:
        return []
    body = lock.stages(pkg)
    return [o for r in status(ws, name) if r["stale"]
            for o in lock.stage_paths(body.get(r["stage"], {}), "outs")]


def _restore_outputs(repo: Any, stage_name: str) -> None:
    """After a failed command: drop what it half-wrote, put back the last good outputs."""
    from dvc.exceptions import DvcException

    for st in repo.index.stages:
        if st.addressing != stage_name:
            continue
        for out in st.outs:
            p = Path(str(out.fs_path))
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            elif p.exists() or p.is_symlink():
                p.unlink()
    with contextlib.suppress(DvcException):
        repo.checkout(targets=[stage_name], force=True)


def run(ws: Workspace, name: str, stage: str | None = None) -> dict[str, Any]:
    """``dvc repro`` for asset ``name`` (or one stage and what it needs); nothing is
    imported or hashed when nothing changed since the last run (``pipeline_lock``)."""
    from setpiece.core import pipeline_lock as lock

    pkg = package_dir(ws, name)
    if not (pkg / DVC_YAML).exists():
        raise _no_pipeline(pkg)
    stamp = lock.fresh(ws.root, name, pkg)
    if stamp is not None:
        fresh_rows(stamp, name, stage)
        return {"asset": name, "ran": [], "output": []}
    from setpiece.core.pipeline_deps import check_present

    check_present(ws, name, pkg)
    from dvc.exceptions import DvcException, ReproductionError

    lock.clear_stamp(ws.root, name)
    before = lock.snapshot(pkg)
    failure: tuple[str, int | None] | None = None
    error: DvcException | None = None
    try:
        with _repo(ws, pkg) as repo:
            targets = _targets(repo, stage, name)
            with _captured() as lines, _stage_env(ws):
                try:
                    ran = repo.reproduce(targets=targets)
                except ReproductionError as exc:
                    failed = re.search(r"'([^']+)'", str(exc))
                    cause = str(exc.__cause__ or "")
                    code = _EXITED.search(cause)
                    failure = (failed.group(1) if failed else "?",
                               int(code.group(1)) if code else None)
                    _restore_outputs(repo, failure[0])
                except DvcException as exc:
                    error = exc
            if failure is None and error is None and stage is None:
                snap = lock.snapshot_after_run(pkg, before)
                if snap is not None:
                    lock.write_stamp(ws.root, name, snap)
    except DvcException as exc:
        raise _index_error(name, exc)
    if error is not None:
        raise _index_error(name, error)
    if failure is not None:
        shown = [ln for ln in lines if ln.strip() and not ln.startswith(("Running stage", "> "))]
        tail = " | ".join(ln.strip().removeprefix("error: ") for ln in shown[-3:]) or "no output"
        exit_note = "" if failure[1] is None else f" (exit {failure[1]})"
        raise SetpieceError(
            f"stage '{failure[0]}' of '{name}' failed{exit_note}: {tail[:300]}; its outputs are "
            "left as before the run: fix the command and run again"
        )
    return {"asset": name, "ran": [str(s.addressing) for s in ran], "output": lines}


def farm_job(ws: Workspace, name: str, stage: str | None = None) -> Any:
    """``pipeline run NAME [STAGE]`` as a one-chunk farm job (``farm.layers.pipeline_layer``)."""
    from setpiece.core.farm.layers import pipeline_layer
    from setpiece.core.farm.model import Job

    pkg = package_dir(ws, name)
    if not (pkg / DVC_YAML).exists():
        raise _no_pipeline(pkg)
    _known_stage(pkg, stage, name)
    label = f"pipeline-{name}" + (f"-{stage}" if stage else "")
    return Job(label, [pipeline_layer(name, stage, workspace=ws.root)])
