"""Authoring output assets: create, require/unrequire (with cycle checks), bump."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.requirements import Requirement

from setpiece.core import hooks, naming
from setpiece.core.errors import AccessDenied, SetpieceError
from setpiece.core.fsutil import atomic_write_text, staging_dir
from setpiece.core.naming import normalize, validate_name
from setpiece.core.project import OutputAsset, scaffold
from setpiece.core.requirements import check_group, for_group, parse_dependency, parse_requirement

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

def _install_editable(
    ws: Workspace, asset: OutputAsset, *, deps: bool = True, extras: Sequence[str] = ()
) -> None:
    target = f"{asset.path}[{','.join(extras)}]" if extras else str(asset.path)
    args = ["-e", target, "--reinstall-package", asset.name]
    if not deps:
        args.insert(0, "--no-deps")
    try:
        ws.uv_pip("install", args, what=f"installing {asset.name} (editable)")
    except SetpieceError as exc:
        raise SetpieceError(explain_resolution_error(ws, str(exc), exc.output))


def reindex_hint(ws: Workspace, name: str) -> str:
    """'run setpiece repo reindex R' when a folder repo holds wheels of ``name`` that its
    index lacks (a publish killed between the wheel and its index row); else ''."""
    from setpiece.core.repos.folder import FolderRepo

    for n, r in ws.repos().items():
        if isinstance(r, FolderRepo):
            try:
                lost = r.unindexed(name)
            except (SetpieceError, OSError):
                continue
            if lost:
                return (f"repo '{n}' holds {name} {', '.join(lost)} but its index does not "
                        f"list it (an interrupted publish): run 'setpiece repo reindex {n}'")
    return ""


def _login_refused(ws: Workspace, uv_output: str) -> str | None:
    """uv's hint that an index answered 401/403, as a one-line error naming the repo."""
    import re

    m = re.search(r"index URL \((\S+?)\) could not be queried due to a lack of valid "
                  r"authentication credentials \(([^)]*)\)", uv_output)
    if not m:
        # with several indexes uv may skip one that refused it without a hint: ask each
        # index repo once (only on this failure path) and report a refused login
        if "no versions of" not in uv_output and "not found in the package registry" not in uv_output:
            return None
        for r in ws.repos().values():
            if r.kind == "index":
                try:
                    r.check_login()  # type: ignore[attr-defined]
                except AccessDenied as exc:
                    return str(exc)
        return None
    for n, r in ws.repos().items():
        if r.kind == "index" and r.location.rstrip("/") == m.group(1).rstrip("/"):
            creds = r.credentials()  # type: ignore[attr-defined]
            given = "refused the credentials" if creds else "needs credentials"
            return (f"index repo '{n}' at {r.location} {given} ({m.group(2)}): "
                    f"{r._login_hint()}")  # type: ignore[attr-defined]
    return f"the index {m.group(1)} needs credentials ({m.group(2)})"


def _redirected(ws: Workspace, uv_output: str) -> str | None:
    """An index repo answered with a redirect to another host, which uv could not follow
    (setpiece sends every other host to a dead proxy: see ``workspace._no_redirects_env``)."""
    import re
    from urllib.parse import urlparse

    fetched = re.search(r"Failed to fetch: (\S+)", uv_output)
    sent = re.search(r"error sending request for url \((\S+?)\)", uv_output)
    if not fetched or not sent:
        return None
    src, dst = urlparse(fetched.group(1)), urlparse(sent.group(1))
    if (src.hostname, src.port) == (dst.hostname, dst.port):
        return None
    for n, r in ws.repos().items():
        if r.kind == "index" and fetched.group(1).startswith(r.location.rstrip("/")):
            return (f"index repo '{n}' redirected {fetched.group(1)} to {sent.group(1)}, another "
                    "host: assets never come from anywhere but the workspace's repos, so it was "
                    "not followed; turn the index's fallback off (pypiserver: --disable-fallback)")
    return None


def explain_resolution_error(ws: Workspace, message: str, output: str = "") -> str:
    """Name the repos searched when uv found no version of something."""
    import re

    searched = ", ".join(f"{n} ({r.location})" for n, r in ws.repos().items()) or "no repos"
    searched += f", {ws.external_dir}"
    login = _login_refused(ws, output or message)
    if login:
        return login
    m = re.search(r"Because ([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])? was not found in the package registry", message)
    if m:
        hint = reindex_hint(ws, m.group(1))
        if hint:
            return f"no repo has '{m.group(1)}' in its index (searched: {searched}); {hint}"
        return (
            f"no repo has '{m.group(1)}' (searched: {searched}): publish it, or add the repo "
            "that has it with 'setpiece repo add NAME LOCATION'"
        )
    m = re.search(r"(?:only|no) versions? of ([A-Za-z0-9_.\-]+)", message) or re.search(
        r"Because only ([A-Za-z0-9_.\-]+?)(?:\[[^\]]*\])?(?:[<>=!~]|\s)", message
    )
    if m:
        detail = message.split(":", 1)[-1].strip()
        hint = reindex_hint(ws, m.group(1))
        return (f"no repo has a version of '{m.group(1)}' that satisfies the request ({detail}); "
                f"searched: {searched}" + (f"; {hint}" if hint else ""))
    if "No solution found" in message:
        return f"{message} (searched: {searched})"
    if "Failed to fetch" in message:
        moved = _redirected(ws, output or message)
        if moved:
            return moved
        for n, r in ws.repos().items():
            if r.kind == "index" and r.location.rstrip("/") in message:
                reason = message.rsplit("cause:", 1)[-1].strip()
                return (
                    f"index repo '{n}' at {r.location} is unreachable ({reason}): "
                    "check the URL or start the server"
                )
    return message


def create(ws: Workspace, name: str, *, kind: str | None, version: str, description: str,
           template: str | None = None, params: dict[str, str] | None = None) -> OutputAsset:
    """Create output asset ``name``; with ``template``, a built-in tool layout
    (``setpiece.core.tool_templates``) or an installed creator asset
    (``setpiece.core.creators``) fills it. Everything is written in a staging folder and
    renamed into ``outputs/`` only once complete: a failing template leaves nothing."""
    from setpiece.core import tool_templates

    creator = None
    if template in tool_templates.TEMPLATES:
        if kind not in (None, "tool"):
            raise SetpieceError(f"template '{template}' makes a tool asset: use --kind tool "
                                f"(or leave --kind out), not --kind {kind}")
        if params:
            raise SetpieceError(f"template '{template}' takes no parameters: drop --param")
        kind = "tool"
    elif template:
        from setpiece.core.creators import find_creator

        creator = find_creator(ws, template)
        kind = creator.kind if kind is None else kind
    elif params:
        raise SetpieceError("--param needs --template: parameters are a template's")
    kind = "prop" if kind is None else kind
    validate_name(name)
    naming.validate_version(version)
    if not kind or any(c.isspace() or c == "," for c in kind):
        raise SetpieceError(f"invalid kind '{kind}': one word such as prop, set, shot or tool")
    key = normalize(name)
    if key in ws.output_assets() or (ws.outputs / name).exists():
        raise SetpieceError(f"output asset '{name}' already exists in {ws.outputs}: pick another name")
    values = creator.check_params(params or {}) if creator is not None else {}
    ws.outputs.mkdir(exist_ok=True)
    dest = ws.outputs / name
    with staging_dir(ws.outputs, f"create-{name}") as tmp:
        staged = scaffold(tmp / name, name, version, kind, description)
        hooks.run("setpiece.scaffold", ws=ws, package_dir=staged.package_dir, name=name,
                  version=version, kind=kind)
        if template in tool_templates.TEMPLATES:
            tool_templates.apply(template, tmp / name)
        elif creator is not None:
            creator.run(ws, staged, values)
        os.replace(tmp / name, dest)
    asset = OutputAsset(dest)
    try:
        _install_editable(ws, asset, deps=creator is not None)
    except BaseException:
        import shutil

        shutil.rmtree(dest, ignore_errors=True)
        raise
    extra = {"template": template} if template else {}
    ws.emit("created", asset=name, version=version, kind=kind, **extra)
    how = f" from template {template}" if template else ""
    ws.report(f"Created {name} {version} ({kind}){how} in {dest}")
    return asset


# -- dependency graph (for cycle checks) -------------------------------------------

class _Graph:
    """Dependencies (normalised names, any group) as this workspace knows them: outputs,
    then installed assets, then the newest published version. Each source is read once."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.outputs = ws.output_assets()
        self.installed = ws.installed_assets()
        self.cache: dict[str, list[str]] = {}

    def deps(self, key: str) -> list[str]:
        if key not in self.cache:
            if key in self.outputs:
                groups: dict[str, list[Requirement]] | None = self.outputs[key].groups()
            elif key in self.installed:
                groups = self.installed[key].groups()
            else:
                groups = _published_groups(self.ws, key)
            self.cache[key] = sorted(
                {normalize(r.name) for reqs in (groups or {}).values() for r in reqs}
            )
        return self.cache[key]


def _published_groups(ws: Workspace, key: str) -> dict[str, list[Requirement]] | None:
    from setpiece.core.assets import requirements_by_group
    from setpiece.core.wheels import parse_metadata

    for repo in ws.repos().values():
        try:
            versions = repo.versions(key)
            if versions:
                return requirements_by_group(parse_metadata(repo.metadata(key, versions[-1])))
        except SetpieceError:
            continue
    return None


def find_cycle(ws: Workspace, source: str, target: str) -> list[str] | None:
    """A path target -> ... -> source if adding ``source -> target`` closes a cycle."""
    graph = _Graph(ws)
    src, start = normalize(source), normalize(target)
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == src:
            return path
        if node in seen:
            continue
        seen.add(node)
        for dep in graph.deps(node):
            stack.append((dep, [*path, dep]))
    return None


def require(ws: Workspace, name: str, reqs: Sequence[str], *, group: str | None) -> None:
    asset = ws.output(name)
    group = check_group(group)
    parsed = [parse_dependency(r) for r in reqs]
    if not parsed:
        raise SetpieceError("give at least one requirement, e.g. 'Table>=1.2,<2'")
    for req in parsed:
        if normalize(req.name) == asset.key:
            raise SetpieceError(f"{asset.name} cannot depend on itself")
        cycle = find_cycle(ws, asset.name, req.name)
        if cycle:
            chain = " -> ".join([asset.name, *cycle])
            raise SetpieceError(f"requiring '{req}' would make a dependency cycle: {chain}")
    with asset.locked():  # concurrent requires on one asset: each sees the one before
        current = {normalize(r.name): str(r) for r in asset.requirements(group)}
        for req in parsed:
            current[normalize(req.name)] = str(for_group(req, group))
        old = asset.pyproject.read_text(encoding="utf-8")
        asset.set_requirements(group, list(current.values()))
        try:
            # With the group's extra: its dependencies must resolve from the repos (else refused).
            _install_editable(ws, asset, extras=[group])
        except BaseException:
            atomic_write_text(asset.pyproject, old)
            raise
    ws.report(f"{asset.name} [{group}] now requires {', '.join(str(r) for r in parsed)}")


def unrequire(ws: Workspace, name: str, dep: str, *, group: str | None) -> None:
    asset = ws.output(name)
    groups = [check_group(group)] if group else ["", "build", "edit", "export"]
    key = normalize(parse_requirement(dep).name)
    removed = False
    with asset.locked():
        old = asset.pyproject.read_text(encoding="utf-8")
        for g in groups:
            reqs = asset.requirements(g)
            keep = [str(r) for r in reqs if normalize(r.name) != key]
            if len(keep) != len(reqs):
                asset.set_requirements(g, keep)
                removed = True
        if not removed:
            where = f"group '{group}'" if group else "any group"
            raise SetpieceError(f"{asset.name} does not require '{dep}' in {where}: see 'setpiece info {asset.name}'")
        try:
            _install_editable(ws, asset, deps=False)
        except BaseException:
            atomic_write_text(asset.pyproject, old)
            raise


def bump(ws: Workspace, name: str, part: str) -> str:
    asset = ws.output(name)
    with asset.locked():  # two bumps at once: the second bumps past the first
        new = naming.bump(asset.version, part)
        old_text = asset.pyproject.read_text(encoding="utf-8")
        asset.set_version(new)
        try:
            hooks.run("setpiece.version_changed", ws=ws, package_dir=asset.package_dir,
                      name=asset.name, version=new)
            _install_editable(ws, asset, deps=False)
        except BaseException:
            atomic_write_text(asset.pyproject, old_text)
            raise
    return new  # the caller prints the result, once (the CLI: the version, on stdout)


__all__ = ["bump", "create", "explain_resolution_error", "require", "unrequire"]
