"""Asset pipelines on dvc's own machinery: stages in a ``dvc.yaml`` inside an output asset's
package folder, run with ``dvc repro`` (re-runs only stages whose inputs changed).

The package folder is a dvc repo without git (``no_scm``); its cache is the workspace's
files cache (``[files] cache``), so stage outputs are stored next to the asset's other
files. A stage command that fails leaves its output as it was before the run (restored
from the cache by dvc checkout), or absent if it never succeeded: nothing half-written.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

DVC_YAML = "dvc.yaml"
_STAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_EXITED = re.compile(r"exited with (-?\d+)")


def package_dir(ws: Workspace, name: str) -> Path:
    """The package folder of output asset ``name`` (where its ``dvc.yaml`` lives)."""
    from setpiece.core.files import need_dvc
    from setpiece.core.files.tracking import output_for_files

    need_dvc()
    return Path(os.path.abspath(output_for_files(ws, name).package_dir))


def _inside(pkg: Path, raw: str, what: str, name: str) -> str:
    """``raw`` (relative to the package folder, or absolute) as a posix path relative to it."""
    from setpiece.core.files.pointers import is_inside

    p = Path(raw)
    full = Path(os.path.normpath(p if p.is_absolute() else pkg / p))
    if not is_inside(full, pkg) or full == pkg:
        if what == "output":
            raise SetpieceError(
                f"output '{raw}' is outside asset '{name}' ({pkg}): a stage writes only inside "
                "its asset's package folder; give a path such as 'movie/shot.mp4'"
            )
        raise SetpieceError(
            f"dependency '{raw}' is outside asset '{name}' ({pkg}): dependencies on other "
            "assets' files are not yet supported; copy or 'files add' them into the asset"
        )
    return full.relative_to(pkg).as_posix()


def _load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    if not path.exists():
        return {}
    try:
        data = YAML().load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel's errors have no common public base
        raise SetpieceError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix or remove it")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SetpieceError(f"{path} is not a dvc.yaml mapping: fix or remove it")
    return data


def excluded_paths(pkg: Path) -> list[Path]:
    """What the pipeline keeps out of the wheel: every stage output and the ``.dvc`` folder
    (machine-local dvc state); ``dvc.yaml`` and ``dvc.lock`` ship."""
    path = pkg / DVC_YAML
    if not path.exists():
        return []
    try:
        stages = _load_yaml(path).get("stages", {})
    except SetpieceError:
        return [pkg / ".dvc"]
    outs = {
        str(o) for body in stages.values() if isinstance(body, dict)
        for o in body.get("outs", []) if isinstance(o, str)
    }
    return [pkg / ".dvc", *(pkg / o for o in sorted(outs))]


def add_stage(ws: Workspace, name: str, stage: str, cmd: str, deps: Sequence[str],
              outs: Sequence[str]) -> dict[str, Any]:
    """Write (or replace) ``stage`` in asset ``name``'s ``dvc.yaml``, atomically."""
    from ruamel.yaml import YAML

    from setpiece.core.fsutil import atomic_write_text

    pkg = package_dir(ws, name)
    if not _STAGE_NAME.match(stage):
        raise SetpieceError(
            f"stage name '{stage}' is not valid: use letters, digits, '_' and '-', "
            "starting with a letter"
        )
    if not cmd.strip():
        raise SetpieceError(f"stage '{stage}' has an empty --cmd: give the command to run")
    if not outs:
        raise SetpieceError(f"stage '{stage}' has no --out: name the file or folder it writes")
    dep_rel = [_inside(pkg, d, "dependency", name) for d in deps]
    out_rel = [_inside(pkg, o, "output", name) for o in outs]
    clash = sorted(set(dep_rel) & set(out_rel))
    if clash:
        raise SetpieceError(f"'{clash[0]}' is both a dependency and an output of stage '{stage}'")
    path = pkg / DVC_YAML
    data = _load_yaml(path)
    stages = data.setdefault("stages", {})
    for other, existing in stages.items():
        if other != stage and isinstance(existing, dict):
            taken = set(out_rel) & {str(o) for o in existing.get("outs", []) if isinstance(o, str)}
            if taken:
                raise SetpieceError(
                    f"'{sorted(taken)[0]}' is already an output of stage '{other}': "
                    "one output, one stage"
                )
    body: dict[str, Any] = {"cmd": cmd}
    if dep_rel:
        body["deps"] = dep_rel
    body["outs"] = out_rel
    stages[stage] = body
    buf = io.StringIO()
    YAML().dump(data, buf)
    atomic_write_text(path, buf.getvalue())
    from setpiece.core.files.excludes import sync_excludes

    sync_excludes(ws.output(name))
    return {"asset": name, "stage": stage, "dvc_yaml": str(path), **body}


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
def _repo(ws: Workspace, pkg: Path) -> Iterator[Any]:
    from setpiece.core.files.store import _quiet_dvc_logging, cache_root

    if not (pkg / DVC_YAML).exists():
        raise SetpieceError(
            f"{pkg.name} has no pipeline ({pkg / DVC_YAML} is missing): add a stage with "
            "'setpiece pipeline add NAME STAGE --cmd ... --out ...'"
        )
    os.environ.setdefault("DVC_SITE_CACHE_DIR", str(ws.state_dir / "files" / "dvc-site"))
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    _quiet_dvc_logging()
    from dvc.repo import Repo

    with _cwd(pkg):
        if not (pkg / ".dvc").is_dir():
            with _captured():
                Repo.init(str(pkg), no_scm=True)
        cache = str(cache_root(ws))
        with Repo(str(pkg)) as repo:
            if repo.config.get("cache", {}).get("dir") != cache:
                with repo.config.edit("local") as conf:
                    conf["cache"]["dir"] = cache
        with Repo(str(pkg)) as repo:
            yield repo


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


def status(ws: Workspace, name: str, stage: str | None = None) -> list[dict[str, Any]]:
    """Every stage of ``name``: stale or not, and why (dvc status)."""
    pkg = package_dir(ws, name)
    with _repo(ws, pkg) as repo, _captured():
        targets = _targets(repo, stage, name)
        raw = repo.status(targets=targets)
        names = targets
    rows = []
    for s in names:
        why: list[str] = []
        for entry in raw.get(s, []):
            if isinstance(entry, str):
                why.append(entry)
                continue
            for kind, changes in entry.items():
                what = "dependency" if kind == "changed deps" else "output"
                for path, state in changes.items():
                    why.append(f"{what} {path} {state}")
        rows.append({"asset": name, "stage": s, "stale": bool(why), "why": why})
    return rows


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
    """``dvc repro`` for asset ``name`` (or one stage and what it needs)."""
    from dvc.exceptions import DvcException, ReproductionError

    pkg = package_dir(ws, name)
    with _repo(ws, pkg) as repo:
        targets = _targets(repo, stage, name)
        failure: tuple[str, int | None] | None = None
        error: DvcException | None = None
        with _captured() as lines:
            try:
                ran = repo.reproduce(targets=targets)
            except ReproductionError as exc:
                failed = re.search(r"'([^']+)'", str(exc))
                cause = str(exc.__cause__ or "")
                code = _EXITED.search(cause)
                failure = (failed.group(1) if failed else "?", int(code.group(1)) if code else None)
                _restore_outputs(repo, failure[0])
            except DvcException as exc:
                error = exc
    if error is not None:
        raise SetpieceError(f"pipeline of '{name}' cannot run: {' '.join(str(error).split())}")
    if failure is not None:
        shown = [ln for ln in lines if ln.strip() and not ln.startswith(("Running stage", "> "))]
        tail = " | ".join(ln.strip() for ln in shown[-3:]) or "no output"
        exit_note = "" if failure[1] is None else f" (exit {failure[1]})"
        raise SetpieceError(
            f"stage '{failure[0]}' of '{name}' failed{exit_note}: {tail[:300]}; its outputs are "
            "left as before the run: fix the command and run again"
        )
    return {"asset": name, "ran": [str(s.addressing) for s in ran], "output": lines}
