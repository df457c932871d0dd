"""Build, publish, promote and edit: moving asset versions between outputs and repos.

Rules: a published version is never overwritten or changed ("bump first"); a wheel is
checked before any repo accepts it; an asset's files are pushed before the package that
points to them is published (see ``setpiece.core.files``).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import Version

from setpiece.core.errors import AlreadyPublished, SetpieceError
from setpiece.core.fsutil import staging_dir
from setpiece.core.naming import next_in_line, normalize, validate_name, validate_version
from setpiece.core.project import OutputAsset
from setpiece.core.uvrun import run_uv

if TYPE_CHECKING:
    from setpiece.core.repos.base import Repo
    from setpiece.core.workspace import Workspace


def _failed(ws: Workspace, exc: SetpieceError, **data: object) -> None:
    """Emit one ``failed`` event for ``exc`` (a build inside a publish is reported once)."""
    if getattr(exc, "_setpiece_event", False):
        return
    exc._setpiece_event = True  # type: ignore[attr-defined]
    ws.emit("failed", **data, error=str(exc))


def build(ws: Workspace, name: str) -> Path:
    """Build the output asset's wheel into ``build/`` (atomic: a temp folder, then rename)."""
    asset = ws.output(name)
    version = asset.version
    try:
        return _build(ws, asset)
    except SetpieceError as exc:
        _failed(ws, exc, action="build", asset=asset.name, version=version)
        raise


def _build(ws: Workspace, asset: OutputAsset) -> Path:
    validate_version(asset.version)
    ws.build_dir.mkdir(exist_ok=True)
    ws.report(f"Building {asset.name} {asset.version}")
    with staging_dir(ws.build_dir, f"build-{asset.key}") as tmp, \
            ws.progress.task(f"Building {asset.name} {asset.version} with uv") as task:
        run_uv(
            ["build", "--no-config", "--wheel", "--quiet", "--out-dir", str(tmp), str(asset.path)],
            what=f"building {asset.name}", progress=task,
        )
        wheels = list(tmp.glob("*.whl"))
        if len(wheels) != 1:
            raise SetpieceError(f"building {asset.name} made {len(wheels)} wheels, expected one")
        dest = ws.build_dir / wheels[0].name
        os.replace(wheels[0], dest)
    ws.emit("built", asset=asset.name, version=asset.version, wheel=dest.name)
    return dest


def publish(ws: Workspace, name: str, *, repo: str | None = None,
            comment: str | None = None, repro: bool = False) -> Path:
    """Build and publish output asset ``name``; ``comment`` (``publish -m``) travels in the
    ``published`` event with who, where and when, and is shown by ``versions --long``.
    Stale pipeline outputs are refused, or remade first with ``repro``."""
    from setpiece.core import telemetry

    asset = ws.output(name)
    target = ws.repo(repo)
    version = asset.version
    with telemetry.span("publish", asset=asset.name, version=version, repo=target.name) as span:
        try:
            _pipeline_outputs_current(ws, asset, repro)
            wheel = _publish(ws, asset, target, comment)
        except SetpieceError as exc:
            _failed(ws, exc, action="publish", asset=asset.name, version=version,
                    repo=target.name)
            raise
        span.set(wheel=wheel.name, bytes=wheel.stat().st_size)
        return wheel


def _pipeline_outputs_current(ws: Workspace, asset: OutputAsset, repro: bool) -> None:
    """An asset with a pipeline publishes only outputs made from its current inputs."""
    if not (asset.package_dir / "dvc.yaml").exists():
        return
    from setpiece.core import pipelines

    stale = pipelines.stale_outputs(ws, asset.name)
    if not stale:
        return
    if not repro:
        raise SetpieceError(
            f"{asset.name}: stale pipeline outputs {', '.join(stale)}: remake them with "
            f"'setpiece pipeline run {asset.name}', or publish with --repro"
        )
    result = pipelines.run(ws, asset.name)
    ws.report(f"{asset.name}: ran {', '.join(result['ran']) or 'nothing'} before publishing")


def _publish(ws: Workspace, asset: OutputAsset, target: Repo, comment: str | None) -> Path:
    version = asset.version
    said = {"comment": comment} if comment else {}
    _check_owner(ws, asset.name, target.name)
    if target.has_version(asset.name, version):
        target.ensure_indexed(asset.name, version)  # a publish killed before its index row
        finished = _finish_interrupted(ws, asset, target, said)
        if finished is not None:
            return finished
        raise AlreadyPublished(
            f"{asset.name} {version} is already published in repo '{target.name}': "
            f"published versions never change; bump first ('setpiece bump {asset.name} micro')"
        )
    elsewhere = _published_elsewhere(ws, asset.name, version, target.name)
    if elsewhere is not None:
        wheel = build(ws, asset.name)
        _refuse_elsewhere(ws, asset.name, version, elsewhere, wheel, target.name)
    from setpiece.core import hooks

    hooks.run("setpiece.before_publish", ws=ws, package_dir=asset.package_dir, name=asset.name,
              version=version)
    pushed = before_publish(ws, asset, target)
    wheel = build(ws, asset.name)
    ws.report(f"Publishing {wheel.name} to {target.name}")
    with ws.progress.task(f"Publishing {wheel.name} to {target.name}"):
        publish_wheel(ws, wheel, target, pushed=pushed)
    ws.emit("published", to_repo=target, asset=asset.name, version=version, wheel=wheel.name,
            **said)
    return wheel


def _check_owner(ws: Workspace, name: str, repo: str, action: str = "publish") -> None:
    """At a site: an asset another site owns is published only to this site's review repo."""
    if "sites" in ws.config.data:
        from setpiece.core.sites import check_publish

        check_publish(ws, name, repo, action)


def _finish_interrupted(ws: Workspace, asset: OutputAsset, target: Repo,
                        said: dict[str, str]) -> Path | None:
    """The version is already in ``target``. When the repo's wheel has the content this
    asset builds to, this is a re-run (a script, or a publish killed after its wheel
    landed): log the ``published`` event if it is missing and return the wheel (the re-run
    succeeds). None when the content differs (the caller refuses: bump first)."""
    from setpiece.core.eventlog import repo_log

    logged = repo_log(ws, target).keyed("published", asset.name, asset.version) is not None
    wheel = build(ws, asset.name)
    with staging_dir(ws.build_dir, "compare") as tmp:
        try:
            theirs = _wheel_content(target.fetch(asset.name, asset.version, tmp))
        except (SetpieceError, OSError, zipfile.BadZipFile):
            return None
    if theirs != _wheel_content(wheel):
        return None
    if logged:
        ws.report(f"{asset.name} {asset.version} is already published in repo '{target.name}' "
                  "with the same content: nothing to change")
        return wheel
    ws.report(f"{asset.name} {asset.version} was already in {target.name} (an earlier publish "
              "was interrupted): logging its published event")
    ws.emit("published", to_repo=target, asset=asset.name, version=asset.version,
            wheel=wheel.name, recovered=True, **said)
    return wheel


def _published_elsewhere(ws: Workspace, name: str, version: str, target: str) -> Repo | None:
    """Another configured repo that has ``name==version`` (one name==version is one content
    everywhere); an unreachable repo is skipped, it cannot say."""
    for n, r in ws.repos().items():
        if n == target:
            continue
        try:
            if r.has_version(name, version):
                return r
        except SetpieceError:
            continue
    return None


def _wheel_content(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def _refuse_elsewhere(ws: Workspace, name: str, version: str, other: Repo, wheel: Path,
                      target: str) -> None:
    with staging_dir(ws.build_dir, "compare") as tmp:
        try:
            theirs = _wheel_content(other.fetch(name, version, tmp))
        except (SetpieceError, OSError, zipfile.BadZipFile):
            theirs = None
    if theirs is not None and theirs == _wheel_content(wheel):
        raise AlreadyPublished(
            f"{name} {version} is already published in repo '{other.name}' with the same "
            f"content: promote it instead ('setpiece promote {name}=={version} "
            f"--from {other.name} --to {target}')"
        )
    raise AlreadyPublished(
        f"{name} {version} is already published in repo '{other.name}' with other content: "
        f"one version is the same bytes in every repo; bump first ('setpiece bump {name} micro')"
    )


def before_publish(ws: Workspace, asset: OutputAsset, repo: Repo) -> dict[str, str] | None:
    """Push the asset's tracked files and check the remote holds them all (files issue);
    returns the snapshot pushed (pointer path in the wheel -> md5)."""
    try:
        from setpiece.core.files import publishing as files_publishing
    except ImportError:
        return None
    return files_publishing.before_publish(ws, asset, repo)


def publish_wheel(ws: Workspace, wheel: Path, target: Repo, *,
                  pushed: dict[str, str] | None = None) -> None:
    """The one way a built wheel reaches a repo.

    It is published from a private hard link (a build running meanwhile replaces the file
    in ``build/``, never this one), after checking that its pointers are the snapshot that
    was pushed and that the target's files remote holds every object they name.
    """
    with staging_dir(ws.build_dir, "publish") as tmp:
        private = tmp / wheel.name
        try:
            os.link(wheel, private)
        except OSError:
            shutil.copyfile(wheel, private)
        try:
            from setpiece.core.files import publishing as files_publishing
        except ImportError:
            files_publishing = None  # type: ignore[assignment]
        if files_publishing is not None:
            files_publishing.check_wheel_files(ws, private, target, pushed)
        target.publish(private)


def parse_spec(spec: str) -> tuple[str, str | None]:
    name, sep, version = spec.partition("==")
    validate_name(name.strip())
    if sep:
        return name.strip(), validate_version(version.strip())
    return name.strip(), None


def _repo_with(ws: Workspace, name: str, version: str, preferred: str | None = None,
               exclude: str | None = None) -> Repo:
    repos = [ws.repo(preferred)] if preferred else [
        r for r in ws.repos().values() if r.name != exclude]
    for r in repos:
        try:
            if r.has_version(name, version):
                return r
        except SetpieceError:
            if preferred:  # the one repo asked for is unreachable: say so, not "not published"
                raise
            continue
    where = preferred or ", ".join(ws.repos())
    raise SetpieceError(
        f"{name}=={version} is not published in {where}: see 'setpiece versions {name}'"
    )


def promote(ws: Workspace, spec: str, *, to: str, from_: str | None = None) -> str:
    name, version = parse_spec(spec)
    if version is None:
        raise SetpieceError(f"give an exact version to promote: '{name}==1.2.3'")
    dest = ws.repo(to)
    _check_owner(ws, name, dest.name, "promote")
    source = _repo_with(ws, name, version, from_, exclude=dest.name)
    name = source.display_name(name, version)  # as the asset spells it, whatever was typed
    if source.name == dest.name:
        raise AlreadyPublished(f"{name} {version} is already in '{dest.name}': pick another --to repo")
    if dest.has_version(name, version):
        _promote_again(ws, name, version, source, dest)
        return version
    with staging_dir(ws.build_dir, "promote") as tmp:
        wheel = source.fetch(name, version, tmp)
        try:
            from setpiece.core.files import publishing as files_publishing
        except ImportError:
            files_publishing = None  # type: ignore[assignment]
        if files_publishing is not None:
            files_publishing.before_promote(ws, wheel, source, dest)
        dest.publish(wheel)
    ws.emit("promoted", to_repo=dest, asset=name, version=version, source=source.name)
    ws.report(f"Promoted {name} {version}: {source.name} -> {dest.name}")
    return version


def _promote_again(ws: Workspace, name: str, version: str, source: Repo, dest: Repo) -> None:
    """``dest`` already has ``name==version``: a re-run (a script), or a promote killed after
    the wheel landed. With the source's very bytes it succeeds: the version is made visible
    (its index row), its files are completed in ``dest``'s files remote, and a promote killed
    before its ``promoted`` event logs it now. Other bytes: refused."""
    from setpiece.core.eventlog import repo_log
    from setpiece.core.repos.simple_index import sha256

    with staging_dir(ws.build_dir, "promote-check") as tmp:
        try:
            theirs = dest.fetch(name, version, tmp / "dest")
            same = sha256(source.fetch(name, version, tmp / "source")) == sha256(theirs)
        except (SetpieceError, OSError):
            same = False
        if not same:
            raise AlreadyPublished(
                f"{name} {version} is already published in repo '{dest.name}' with other "
                f"content than in '{source.name}': one version is the same bytes in every "
                f"repo; bump first ('setpiece bump {name} micro')"
            )
        dest.ensure_indexed(name, version)
        try:
            from setpiece.core.files import publishing as files_publishing
        except ImportError:
            files_publishing = None  # type: ignore[assignment]
        if files_publishing is not None:
            files_publishing.before_promote(ws, theirs, source, dest)
    if repo_log(ws, dest).keyed("promoted", name, version) is None:
        ws.emit("promoted", to_repo=dest, asset=name, version=version, source=source.name,
                recovered=True)
        ws.report(f"Promoted {name} {version}: {source.name} -> {dest.name} (finishing an "
                  "interrupted promote)")
    else:
        ws.report(f"{name} {version} is already in '{dest.name}' with the same bytes: "
                  "nothing to do")


def edit(ws: Workspace, spec: str) -> OutputAsset:
    """Make an editable output of a published version (``NAME==VER``, else the installed,
    else the newest one) that continues its maintenance line: 1.3.0 -> 1.3.1, or past the
    newest 1.3.x (the newest version's line is past every published one)."""
    from setpiece.core.assets import kind_from_keywords, requirements_by_group
    from setpiece.core.authoring import _install_editable
    from setpiece.core.project import scaffold
    from setpiece.core.wheels import parse_metadata

    name, version = parse_spec(spec)
    key = normalize(name)
    if key in ws.output_assets():
        raise SetpieceError(f"'{name}' is already an output asset in {ws.outputs}: edit it there")
    available = ws.available_versions(name)
    if version is None:
        installed = ws.installed_assets().get(key)
        if installed is not None and not installed.editable:
            version = installed.version
        elif available:
            version = available[-1]
        else:
            raise SetpieceError(f"no repo has '{name}': see 'setpiece list --repo NAME'")
    source = _repo_with(ws, name, version)
    with staging_dir(ws.outputs, f"edit-{key}") as tmp:
        wheel = source.fetch(name, version, tmp / "wheel")
        meta = parse_metadata(source.metadata(name, version))
        real_name = meta.get("Name", name)
        groups = requirements_by_group(meta)
        eps = _wheel_entry_points(wheel)
        module = next(iter(eps.get("setpiece.asset", {}).values()), None)
        new_version = next_in_line(available, version)
        project = tmp / real_name
        scaffold(
            project,
            real_name,
            new_version,
            kind_from_keywords(meta.get("Keywords", "")) or "prop",
            meta.get("Summary", "") or "",
            groups={g: [str(r) for r in reqs] for g, reqs in groups.items() if g},
            dependencies=[str(r) for r in groups.get("", [])],
            entry_points=eps,
        )
        if module:
            _extract_package(wheel, module, project / "src")
            from setpiece.core import hooks

            hooks.run("setpiece.version_changed", ws=ws, package_dir=project / "src" / module,
                      name=real_name, version=new_version)
        dest = ws.outputs / real_name
        os.replace(project, dest)
    asset = OutputAsset(dest)
    try:
        _install_editable(ws, asset)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    # the result ("Table 1.2.4 PATH") is the caller's to print, once (the CLI: on stdout)
    from setpiece.core.files.pointers import find_files, pipeline_outputs

    tracked = [*find_files(asset.package_dir), *pipeline_outputs(asset.package_dir)]
    if tracked:
        ws.report(
            f"{real_name} tracks {len(tracked)} file path(s) with dvc: get them with "
            f"'setpiece files pull {real_name}' (publishing needs them)"
        )
    return asset


def _wheel_entry_points(wheel: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for n in zf.namelist():
            if n.endswith(".dist-info/entry_points.txt") and n.count("/") == 1:
                current: dict[str, str] | None = None
                for line in zf.read(n).decode().splitlines():
                    line = line.strip()
                    if line.startswith("["):
                        current = out.setdefault(line.strip("[]"), {})
                    elif "=" in line and current is not None:
                        k, v = line.split("=", 1)
                        current[k.strip()] = v.strip()
    return out


def _extract_package(wheel: Path, module: str, dest: Path) -> None:
    """Extract the asset's own package folder (checked entries only) into ``dest``."""
    top = module.split(".")[0] + "/"
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.filename.startswith(top) and not info.is_dir():
                target = dest / info.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))


def newest(versions: list[str]) -> str | None:
    return str(max(Version(v) for v in versions)) if versions else None


__all__ = ["build", "edit", "parse_spec", "promote", "publish", "publish_wheel"]
