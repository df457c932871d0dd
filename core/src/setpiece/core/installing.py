"""Install, uninstall, external packages, freeze and sync: the ``inputs/`` venv.

Every resolution goes through ``Workspace.uv_index_args``: the workspace's repos (blessed
first) and ``external_packages/``, never a public index by name.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import NotFound, SetpieceError
from setpiece.core.fsutil import atomic_write_text
from setpiece.core.naming import normalize
from setpiece.core.requirements import parse_requirement, request_name

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

_CHANGE_RE = re.compile(r"^\s*([+-~])\s+(\S+)")


def _changes(uv_stderr: str) -> list[str]:
    return [f"{m.group(1)} {m.group(2)}" for ln in uv_stderr.splitlines() if (m := _CHANGE_RE.match(ln))]


def install(ws: Workspace, reqs: Sequence[str], *, repo: str | None = None, record: bool = True) -> list[str]:
    """Install ``reqs``; with none, what ``setpiece.toml`` records (``[requests] install``,
    as ``uv sync`` installs what the project records)."""
    from setpiece.core import telemetry

    with telemetry.span("install", requirements=list(reqs), repo=repo) as span:
        changes = _install(ws, reqs, repo=repo, record=record)
        span.set(changes=len(changes))
        return changes


def _install(ws: Workspace, reqs: Sequence[str], *, repo: str | None, record: bool) -> list[str]:
    if not reqs:
        reqs = ws.config.requests
        record = False
        if not reqs:
            raise SetpieceError(
                f"nothing to install: {ws.config.path.name} records no requests; give one, "
                "e.g. 'setpiece install \"KitchenSet[build]\"'")
    parsed = [r.strip() for r in reqs]
    for r in parsed:
        request_name(r)  # validated before anything runs
    ws.report(f"Installing {', '.join(parsed)}")
    repairs = _repairs(ws, parsed)
    from setpiece.core import install_noop

    if not repairs and install_noop.known(ws, install_noop.fingerprint(ws, parsed, repo)):
        out = ""  # uv answered this exact request in this exact venv with no change
    else:
        out = _run_uv(ws, parsed, repairs, repo)
        if not _changes(out):
            install_noop.remember(ws, install_noop.fingerprint(ws, parsed, repo))
    changes = _changes(out)
    _refuse_unsafe(ws, changes)
    _prune_files(ws)
    if record:
        _record_requests(ws, parsed)
    ws.emit("installed", requirements=parsed, changes=changes)
    _pull_files(ws, changes, parsed)
    return changes


def _run_uv(ws: Workspace, parsed: list[str], repairs: list[str], repo: str | None) -> str:
    try:
        out = ws.uv_pip("install", [*parsed, *repairs], repo=repo, what="install")
        # uv skips a wheel it cannot read and quietly resolves an older version
        # (astral-sh/uv#1800), saying so only in a warning: then undo exactly what it
        # changed and refuse, naming the wheel. The common path pays nothing for this.
        if "has an invalid package format" in out:
            _undo(ws, _changes(out))
            check_readable(ws, out, repo)
    except SetpieceError as exc:
        from setpiece.core.authoring import explain_resolution_error  # only on failure

        ws.emit("failed", action="install", requirements=parsed, error=str(exc))
        check_readable(ws, exc.output, repo)  # an exact pin on a corrupted wheel fails here
        raise SetpieceError(explain_resolution_error(ws, str(exc), exc.output))
    return out


def _pull_files(ws: Workspace, changes: list[str], requested: Sequence[str] = ()) -> None:
    """Bring the tracked files of what the install added or changed, and of the assets it
    was asked for (an install killed after uv, before its pull, is completed by its re-run;
    a pull of files already in place is stats only), so an updated asset is loaded with its
    files (``[settings] pull_on_install = false`` turns it off). A pull that fails never
    undoes the install: a warning names the files and the command."""
    added = [c[2:].partition("==")[0] for c in changes if c.startswith(("+ ", "~ "))]
    asked = [request_name(r) for r in requested
             if normalize(request_name(r)) not in {normalize(a) for a in added}]
    if not added and not asked:
        return
    installed = ws.installed_assets()
    from setpiece.core.files.pointers import find as find_pointers

    wanted = [installed[normalize(n)] for n in added if normalize(n) in installed]
    wanted = [a for a in wanted if not a.editable and find_pointers(a.package_dir)]
    if asked:
        from setpiece.core.files.pulling import files_in_place

        wanted += [a for n in asked if (a := installed.get(normalize(n))) is not None
                   and not a.editable and find_pointers(a.package_dir)
                   and not files_in_place(ws, a.package_dir)]
    if not wanted:
        return
    if not ws.config.settings.get("pull_on_install", True):
        for a in wanted:
            ws.report(f"warning: {a.name} {a.version}'s tracked files are not pulled "
                      f"(pull_on_install is off): 'setpiece files pull {a.name}'")
        return
    try:
        from setpiece.core.files import pulling
    except ImportError:
        ws.report("warning: the new versions' tracked files were not pulled: install "
                  "'setpiece-core[files]' (dvc), then 'setpiece files pull'")
        return
    for a in wanted:
        try:
            pulling.pull(ws, a.name)
        except SetpieceError as exc:
            ws.report(f"warning: {a.name} {a.version}'s files were not pulled ({exc}); the "
                      f"scene will miss them until 'setpiece files pull {a.name}' succeeds")


def _repairs(ws: Workspace, reqs: list[str]) -> list[str]:
    """Pins that reinstall what a killed install left half-written (not recorded as requests;
    skipped for names the install asks for anyway)."""
    from setpiece.core.half_installed import clear_broken

    if not ws.python.exists():
        return []
    asked = {normalize(request_name(r)) for r in reqs}
    return [f"{b.name}=={b.version}" for b in clear_broken(ws)
            if normalize(b.name) not in asked and b.version]


def _refuse_unsafe(ws: Workspace, changes: list[str]) -> None:
    """Undo an install that put an unsafe file in place (see ``install_checks``)."""
    from setpiece.core.install_checks import check_added

    found = check_added(ws, changes)
    if found is None:
        return
    name, version, why = found
    _undo(ws, changes)
    ws.emit("failed", action="install", asset=name, version=version, error=why)
    raise SetpieceError(
        f"refused {name} {version}: {why}; the install was undone (remove the wheel from its "
        "repo and publish a fixed version)"
    )


_UNREADABLE_RE = re.compile(r"`([A-Za-z0-9_.\-]+)==([^`]+)` has an invalid package format: (.*)$")


def _undo(ws: Workspace, changes: list[str]) -> None:
    """Put the venv back as it was before an install whose changes uv listed."""
    added = [c[2:].partition("==")[0] for c in changes if c.startswith("+ ")]
    removed = [c[2:] for c in changes if c.startswith("- ")]
    if added:
        ws.uv_pip("uninstall", added, what="undoing the install", with_index=False)
    if removed:
        ws.uv_pip("install", ["--no-deps", *removed], what="undoing the install")


def check_readable(ws: Workspace, uv_stderr: str, repo: str | None = None) -> None:
    """Raise if uv reported a wheel it could not read (it would skip it silently)."""
    for line in uv_stderr.splitlines():
        m = _UNREADABLE_RE.search(line)
        if not m:
            continue
        name, version, why = m.group(1), m.group(2), m.group(3).strip()
        where = [n for n, r in ([(repo, ws.repo(repo))] if repo else ws.repos().items())
                 if _has(r, name, version)]
        place = f"repo '{where[0]}'" if where else "the workspace's repos"
        raise SetpieceError(
            f"corrupted wheel {name} {version} in {place} ({why}): remove it from the repo and "
            f"publish a fixed version, or install another version ('{name}!={version}')"
        )


def _has(repo: object, name: str, version: str) -> bool:
    try:
        return bool(repo.has_version(name, version))  # type: ignore[attr-defined]
    except SetpieceError:
        return False


def _record_requests(ws: Workspace, reqs: list[str]) -> None:
    current = [str(r) for r in ws.config.requests]
    keys = {normalize(request_name(r)) for r in reqs}
    replaced = [r for r in current if r not in reqs and normalize(request_name(r)) in keys]
    if set(reqs) <= set(current) and not replaced:
        return  # already recorded: no tomlkit, no rewrite of setpiece.toml (the no-op install)
    import tomlkit

    with ws.config.edit() as doc:
        if "requests" not in doc:
            doc["requests"] = tomlkit.table()
        current = [str(r) for r in doc["requests"].get("install", [])]
        kept = [r for r in current if normalize(request_name(r)) not in keys]
        doc["requests"]["install"] = sorted([*kept, *reqs], key=lambda s: s.lower())


def uninstall(ws: Workspace, names: Sequence[str]) -> list[str]:
    from setpiece.core.half_installed import broken_dists

    asked = {normalize(parse_requirement(n).name) for n in names}
    if any(normalize(b.name) in asked for b in broken_dists(ws.site_packages)):
        # a half-installed one has no RECORD to uninstall by: install it whole first
        pins = _repairs(ws, [])
        if pins:
            ws.uv_pip("install", ["--no-deps", *pins], what="repairing half-installed assets")
    installed = ws.installed_assets()
    _, others = ws.installed()
    other_keys = {normalize(n) for n, _ in others}
    for name in names:
        key = normalize(parse_requirement(name).name)
        if key not in installed and key not in other_keys:
            raise NotFound(f"'{name}' is not installed in {ws.inputs}: see 'setpiece list --installed'")
    keys = {normalize(parse_requirement(n).name) for n in names}
    _warn_dependents(ws, installed, keys)
    out = ws.uv_pip("uninstall", list(names), what="uninstall", with_index=False)
    with ws.config.edit() as doc:
        if "requests" in doc and "install" in doc["requests"]:
            from packaging.requirements import Requirement

            doc["requests"]["install"] = [
                r for r in doc["requests"]["install"] if normalize(Requirement(str(r)).name) not in keys
            ]
    _prune_files(ws)
    ws.emit("uninstalled", assets=list(names))
    return _changes(out)


def _warn_dependents(ws: Workspace, installed: dict[str, Any], keys: set[str]) -> None:
    """Say which installed assets still require what is being uninstalled (uv does not)."""
    for key, asset in sorted(installed.items()):
        if key in keys:
            continue
        for group, reqs in asset.groups().items():
            for req in reqs:
                if normalize(req.name) in keys:
                    where = f" ({group} group)" if group else ""
                    ws.report(
                        f"warning: {asset.name} {asset.version} requires "
                        f"{req.name}{req.specifier}{where}: it will be missing; reinstall it "
                        f"with 'setpiece install \"{req.name}{req.specifier}\"'")


def _prune_files(ws: Workspace) -> None:
    """Remove pulled asset files that no installed version points to any more."""
    if not (ws.state_dir / "files" / "pulled.json").exists():  # = pulling.manifest_path
        return  # nothing was ever pulled: not even the import
    try:
        from setpiece.core.files import pulling
    except ImportError:
        return
    pulling.prune(ws)


def external_add(ws: Workspace, reqs: Sequence[str]) -> list[str]:
    """Download wheels of non-asset packages (and their dependencies) for the workspace's
    Python into ``external_packages/``: the only place assets may take them from."""
    from packaging.requirements import InvalidRequirement, Requirement

    names = []
    for r in reqs:
        try:
            names.append(Requirement(r).name)
        except InvalidRequirement as exc:
            raise SetpieceError(f"invalid requirement '{r}': {exc}")
    asked = ws.external_shadowing(names)
    if asked:
        name, _, repo = asked[0]
        raise SetpieceError(
            f"'{name}' is an asset in repo '{repo}': external_packages/ is only for non-asset "
            f"packages; install the asset with 'setpiece install {name}'"
        )
    ws.external_dir.mkdir(exist_ok=True)
    before = {p.name for p in ws.external_dir.glob("*.whl")}
    ws.report(f"Downloading {', '.join(reqs)} for Python {ws.python_version}")
    cmd = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
        "--only-binary=:all:", "--python-version", ws.python_version,
        "--dest", str(ws.external_dir), *reqs,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip().startswith("ERROR")]
        raise SetpieceError(
            f"could not fetch {', '.join(reqs)} for Python {ws.python_version}: "
            f"{' '.join(lines) or proc.stderr.strip()[-300:]}"
        )
    added = sorted({p.name for p in ws.external_dir.glob("*.whl")} - before)
    from setpiece.core.wheels import parse_wheel_name

    new_names = [wn.project for a in added if (wn := parse_wheel_name(a))]
    clash = ws.external_shadowing(new_names)
    if clash:  # a dependency named like an asset: keep nothing of this fetch
        for a in added:
            (ws.external_dir / a).unlink(missing_ok=True)
        _, key, repo = clash[0]
        raise SetpieceError(
            f"{', '.join(reqs)} depends on '{key}', an asset in repo '{repo}': nothing was added "
            "to external_packages/ (the repos always provide their assets)"
        )
    return added


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wheel_sha256(ws: Workspace, name: str, version: str) -> str:
    """The sha256 of the wheel ``name==version`` from external_packages/ or the repos."""
    from packaging.version import Version

    from setpiece.core.repos.folder import FolderRepo
    from setpiece.core.wheels import parse_wheel_name

    for p in ws.external_dir.glob("*.whl"):
        wn = parse_wheel_name(p.name)
        if wn and wn.project == normalize(name) and Version(wn.version) == Version(version):
            return _sha256(p)
    for repo in ws.repos().values():
        try:
            if not repo.has_version(name, version):
                continue
            if isinstance(repo, FolderRepo):
                return _sha256(repo.find_wheel(name, version))
            with tempfile.TemporaryDirectory() as tmp:
                return _sha256(repo.fetch(name, version, Path(tmp)))
        except SetpieceError:
            continue
    raise SetpieceError(
        f"cannot freeze {name}=={version}: no repo and not external_packages/ holds its wheel; "
        f"publish it or 'setpiece external add {name}=={version}'"
    )


def freeze(ws: Workspace, output: Path | None = None) -> str:
    """The exact installed set, pinned with hashes (editable outputs are listed as notes)."""
    assets, others = ws.installed()
    pins: list[tuple[str, str]] = []
    notes: list[str] = []
    for a in assets.values():
        if a.editable:
            notes.append(f"# editable output, not locked: {a.name} {a.version} ({a.source_dir})")
        else:
            pins.append((a.name, a.version))
    pins.extend(others)
    lines = [
        f"# setpiece lock of {ws.root.name} (Python {ws.python_version})",
        "# recreate with: setpiece sync THIS_FILE",
        *notes,
    ]
    for name, version in sorted(pins, key=lambda p: normalize(p[0])):
        lines.append(f"{normalize(name)}=={version} \\\n    --hash=sha256:{wheel_sha256(ws, name, version)}")
    text = "\n".join(lines) + "\n"
    if output is not None:
        atomic_write_text(Path(output), text)
    return text


def sync(ws: Workspace, lock: Path) -> list[str]:
    """Make ``inputs/`` exactly the locked set (then re-add the editable outputs)."""
    from setpiece.core.uvrun import run_uv

    lock = Path(lock)
    if not lock.is_file():
        raise NotFound(f"lock file {lock} does not exist: write one with 'setpiece freeze -o FILE'")
    if not ws.python.exists():
        run_uv(["venv", "--no-config", "--quiet", "--python", ws.python_version, str(ws.inputs)],
               what="creating the workspace venv")
    ws.report(f"Syncing {ws.inputs} to {lock}")
    from setpiece.core.half_installed import clear_broken

    clear_broken(ws)  # the lock reinstalls them
    out = ws.uv_pip("sync", ["--require-hashes", str(lock)], what=f"sync from {lock.name}")
    outputs = list(ws.output_assets().values())
    if outputs:
        args = ["--no-deps"]
        for o in outputs:
            args += ["-e", str(o.path)]
        ws.uv_pip("install", args, what="reinstalling the editable outputs")
    changes = _changes(out)
    _check_synced(ws, lock, changes)
    _prune_files(ws)
    ws.emit("installed", lock=str(lock), changes=changes)
    return changes


def _check_synced(ws: Workspace, lock: Path, changes: list[str]) -> None:
    """Every locked distribution installed is byte for byte its locked wheel; else remove
    the ones that differ and refuse, naming them (uv trusts its cache and what is installed)."""
    from setpiece.core.install_checks import read_lock, verify_lock

    _refuse_unsafe(ws, changes)
    bad = verify_lock(ws, read_lock(lock.read_text(encoding="utf-8")))
    if not bad:
        return
    names = [f"{p.name}=={p.version}" for p, _ in bad]
    installed = [p.name for p, why in bad if why != "it is not installed"]
    if installed:
        ws.uv_pip("uninstall", installed, what="removing what differs from the lock",
                  with_index=False)
    ws.emit("failed", action="sync", lock=str(lock), differs=names)
    pin, why = bad[0]
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    raise SetpieceError(
        f"{pin.name} {pin.version} does not match {lock.name}: {why}{more}; it was removed. "
        f"If uv's cache was tampered with, clean it ('uv cache clean {pin.name}'), then run "
        f"'setpiece sync {lock}' again"
    )
