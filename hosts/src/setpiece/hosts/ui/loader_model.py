"""The loader, without Qt: what the workspace's repos hold, each version's who, when, why,
thumbnail and dependencies, and loading a version into the open scene or a new one.

Everything goes through the API the CLI uses: ``Repo.projects()`` (``setpiece list
--repo``), :func:`setpiece.core.listing.versions_long` (``setpiece versions --long``),
``Workspace.install`` (``setpiece install``), :func:`setpiece.core.files.pulling.pull`
(``setpiece files pull``) and :meth:`Runtime.build` (the menu's *Build scene*).
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

log = logging.getLogger("setpiece.hosts.loader")

Progress = Callable[[int, int, str], None]


@dataclass
class CatalogAsset:
    """One asset as the repos hold it."""

    name: str
    kind: str = ""
    description: str = ""
    #: repo name -> versions (oldest first), in the workspace's repo order
    repos: dict[str, list[str]] = field(default_factory=dict)

    @property
    def newest(self) -> str:
        from setpiece.usd.status import newest

        return newest([v for vs in self.repos.values() for v in vs]) or ""

    def matches(self, text: str = "", kind: str = "", repo: str = "") -> bool:
        """The search box (name or description, any case), the kind and the repo filters."""
        text = text.strip().lower()
        if text and text not in self.name.lower() and text not in self.description.lower():
            return False
        if kind and self.kind != kind:
            return False
        return not repo or repo in self.repos


@dataclass
class VersionDetail:
    """One published version, with what ``versions --long`` says about it."""

    version: str
    repo: str
    user: str = ""
    host: str = ""
    time: float | None = None
    comment: str = ""
    promoted: bool = False

    @property
    def author(self) -> str:
        return f"{self.user}@{self.host}" if self.user else ""

    @property
    def date(self) -> str:
        """``2026-12-07 21:40`` (UTC), empty when the repo kept no record."""
        import time

        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(self.time)) if self.time else ""


def repo_roles(ws: Any) -> dict[str, str]:
    """Each repo's role: ``blessed`` (installs come from it), ``default`` (publishes go
    to it), or empty."""
    roles = {}
    for name in ws.repos():
        role = [r for r in ("blessed", "default") if getattr(ws.config, r, None) == name]
        roles[name] = ", ".join(role)
    return roles


#: (repo, name, version) -> (name as published, kind, description)
_KINDS: dict[tuple[str, str, str], tuple[str, str, str]] = {}


def _about(repo: Any, name: str, version: str) -> tuple[str, str, str]:
    """The published name (``projects()`` gives normalised ones), kind and description."""
    key = (repo.location, normalize(name), version)
    if key not in _KINDS:
        from setpiece.core.assets import kind_from_keywords
        from setpiece.core.wheels import parse_metadata

        try:
            meta = parse_metadata(repo.metadata(name, version))
            _KINDS[key] = (str(meta.get("Name", name) or name),
                           kind_from_keywords(meta.get("Keywords", "")),
                           str(meta.get("Summary", "") or ""))
        except SetpieceError as exc:
            log.warning("setpiece loader: %s", exc)
            return name, "", ""
    return _KINDS[key]


def catalog(ws: Any) -> tuple[list[CatalogAsset], list[str]]:
    """Every asset of every repo (blessed first, then the default, then the others), with
    its kind and description from its newest version; and the repos that failed (one
    line each), which are skipped."""
    roles = repo_roles(ws)
    order = sorted(roles, key=lambda n: (roles[n] != "blessed", "default" not in roles[n], n))
    found: dict[str, CatalogAsset] = {}
    errors: list[str] = []
    repos = ws.repos()
    for repo_name in order:
        repo = repos[repo_name]
        try:
            projects = repo.projects()
        except SetpieceError as exc:
            errors.append(str(exc))
            continue
        for name, versions in projects.items():
            if not versions:
                continue
            key = normalize(name)
            if key not in found:
                found[key] = CatalogAsset(*_about(repo, name, versions[-1]))
            found[key].repos[repo_name] = list(versions)
    return sorted(found.values(), key=lambda a: a.name.lower()), errors


def version_details(ws: Any, name: str) -> list[VersionDetail]:
    """Every published version of ``name`` in every repo, newest first, with author, date
    and comment (``setpiece versions NAME --long``)."""
    from packaging.version import InvalidVersion, Version

    from setpiece.core.listing import versions_long

    out = []
    for repo_name, rows in versions_long(ws, name).items():
        for row in rows:
            out.append(VersionDetail(
                str(row["version"]), repo_name, str(row.get("user") or ""),
                str(row.get("host") or ""), row.get("time"), str(row.get("comment") or ""),
                row.get("action") == "promoted",
            ))

    def key(d: VersionDetail) -> Any:
        try:
            return Version(d.version)
        except InvalidVersion:
            return Version("0")

    return sorted(out, key=key, reverse=True)


def dependencies(ws: Any, repo: str, name: str, version: str) -> list[dict[str, str]]:
    """What ``name`` ``version`` requires, per group (``setpiece info``'s dependencies)."""
    from setpiece.core.assets import requirements_by_group
    from setpiece.core.listing import dependencies_json
    from setpiece.core.wheels import parse_metadata

    meta = parse_metadata(ws.repo(repo).metadata(name, version))
    return dependencies_json(requirements_by_group(meta))


def thumbnail(ws: Any, repo: str, name: str, version: str) -> Path | None:
    """The version's ``thumbnail.png`` (what a publish's thumbnail step put in the
    package), read from the installed package when that version is installed, else from
    its wheel once and kept under ``.setpiece/thumbnails/``; None when it has none."""
    installed = ws.installed_assets().get(normalize(name))
    if installed is not None and str(installed.version) == version:
        path = Path(installed.package_dir) / "thumbnail.png"
        return path if path.is_file() else None
    cache = Path(ws.state_dir) / "thumbnails"
    out = cache / f"{normalize(name)}-{version}.png"
    none = out.with_suffix(".none")
    if out.is_file():
        return out
    if none.is_file():
        return None
    import tempfile

    from setpiece.core.fsutil import atomic_write_bytes

    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="setpiece-thumb-") as tmp:
        wheel = ws.repo(repo).fetch(name, version, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            member = next((n for n in zf.namelist() if n.count("/") == 1
                           and n.endswith("/thumbnail.png")), None)
            if member is None:
                atomic_write_bytes(none, b"")
                return None
            atomic_write_bytes(out, zf.read(member))
    return out


# -- loading -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    containers: list[Any]
    setup: Any  # the setup report of the loaded containers
    installed: list[str]  # what was installed first (``Name==version``)
    files: dict[str, Any]  # what ``files pull`` did
    scene: Path | None = None  # the layer loaded

    def message(self) -> str:
        what = ", ".join(f"{c.asset} {c.version}" for c in self.containers[:5])
        more = f" and {len(self.containers) - 5} more" if len(self.containers) > 5 else ""
        text = f"loaded {len(self.containers)} container(s) ({what}{more})"
        if self.installed:
            text += f" after installing {', '.join(self.installed)}"
        pulled = int(self.files.get("files") or 0)
        if pulled:
            text += f"; {pulled} file(s) pulled"
        if self.setup is not None:
            text += f"; {self.setup.summary()}"
        return text


def _install(ws: Any, spec: str, name: str, version: str, repo: str | None,
             progress: Progress | None, total: int) -> list[str]:
    installed = ws.installed_assets().get(normalize(name))
    if installed is not None and getattr(installed, "editable", False):
        raise SetpieceError(
            f"{name} is an editable output asset in this workspace (outputs/{name}): "
            "load another asset, or open its work file"
        )
    if installed is not None and str(installed.version) == version and "[" not in spec:
        return []
    _say(progress, 0, total, f"installing {name} {version}")
    ws.install([spec], repo=repo, record=False)
    return [f"{name}=={version}"]


def _say(progress: Progress | None, done: int, total: int, what: str) -> None:
    if progress is not None:
        progress(done, total, what)


def _pull(ws: Any, names: Iterable[str]) -> dict[str, Any]:
    from setpiece.core.files.pulling import pull

    summary: dict[str, Any] = {"files": 0, "bytes": 0}
    for name in dict.fromkeys(names):
        done = pull(ws, name)
        summary["files"] += int(done.get("files") or 0)
        summary["bytes"] += int(done.get("bytes") or 0)
    return summary


def build_closure(ws: Any, name: str, group: str = "build") -> list[str]:
    """``name`` and every installed asset its ``group`` brings, transitively (the assets
    whose files a new scene of ``name`` needs)."""
    installed = ws.installed_assets()
    out: dict[str, str] = {}
    todo = [(name, (group,))]
    while todo:
        current, groups = todo.pop()
        asset = installed.get(normalize(current))
        if asset is None or normalize(current) in out:
            continue
        out[normalize(current)] = asset.name
        by_group = asset.groups()
        for g in ("", *groups):
            for req in by_group.get(g, ()):
                todo.append((req.name, tuple(req.extras)))
    return list(out.values())


def single_asset_layer(ws: Any, name: str) -> tuple[Path, Any]:
    """A root layer holding one container, ``/World/<Asset>``, referencing the installed
    asset's interface layer (``scenes/loaded/<Asset>.usda``): what a host loads to bring
    one asset into the open scene. Returns (layer, its container record)."""
    from setpiece.core.containers import ContainerRecord
    from setpiece.usd._pxr import pxr
    from setpiece.usd.fileio import write_if_changed
    from setpiece.usd.interface import identifier_for, interface_file, prim_name
    from setpiece.usd.workspace import stage_metadata

    asset = ws.installed_asset(name)
    layer_file = interface_file(asset.package_dir)
    if layer_file is None:
        raise SetpieceError(
            f"{asset.name} {asset.version} has no interface layer (asset.usda): nothing to "
            "load into a scene"
        )
    Sdf = pxr()[0]
    identifier = identifier_for(asset.import_name, Path(layer_file).name)
    record = ContainerRecord(
        f"/World/{prim_name(asset.name)}", asset.name, str(asset.version), identifier,
        asset.name, "push", layer_file,
    )
    layer = Sdf.Layer.CreateAnonymous(".usda")
    stage_metadata(ws).apply(layer)
    layer.defaultPrim = "World"
    world = Sdf.PrimSpec(layer.pseudoRoot, "World", Sdf.SpecifierDef, "Xform")
    spec = Sdf.PrimSpec(world, prim_name(asset.name), Sdf.SpecifierDef, "Xform")
    spec.assetInfo = {"name": record.asset, "version": record.version,
                      "identifier": Sdf.AssetPath(identifier), "requirement": record.requirement,
                      "kind": record.kind}
    spec.referenceList.Prepend(Sdf.Reference(identifier))
    out = Path(ws.root) / "scenes" / "loaded" / f"{prim_name(asset.name)}.usda"
    write_if_changed(out, str(layer.ExportToString()))
    return out, record


def load(runtime: Any, name: str, version: str, *, repo: str | None = None,
         progress: Progress | None = None) -> LoadResult:
    """Install ``name`` ``version`` (and pull its files), then bring it into the open
    scene as a container and run its setup code."""
    from setpiece.hosts.protocol import SceneLoad
    from setpiece.hosts.setup_code import run_setups

    ws = runtime.workspace
    installed = _install(ws, f"{name}=={version}", name, version, repo, progress, 4)
    _say(progress, 1, 4, f"pulling the files of {name}")
    files = _pull(ws, [name])
    _say(progress, 2, 4, f"loading {name} {version}")
    runtime.configure_usd()
    root, record = single_asset_layer(ws, name)
    containers = runtime.host.load(SceneLoad(str(root), (record,)))
    _say(progress, 3, 4, "running setup code")
    report = run_setups(runtime.host, containers, workspace=ws, no_setup=runtime.no_setup,
                        logger=runtime.log)
    _say(progress, 4, 4, "done")
    return LoadResult(list(containers), report, installed, files, root)


def load_new_scene(runtime: Any, name: str, version: str, *, repo: str | None = None,
                   progress: Progress | None = None) -> LoadResult:
    """Install ``name[build]`` ``version`` (its build closure) and pull the files, then
    open a new scene and build ``name``'s set in it (the menu's *Build scene*)."""
    ws = runtime.workspace
    installed = _install(ws, f"{name}[build]=={version}", name, version, repo, progress, 4)
    _say(progress, 1, 4, f"pulling the files of {name}'s set")
    files = _pull(ws, build_closure(ws, name))
    _say(progress, 2, 4, "new scene")
    runtime.host.new_scene()
    _say(progress, 3, 4, f"building {name} {version}")
    containers, report = runtime.build(name)
    _say(progress, 4, 4, "done")
    return LoadResult(list(containers), report, installed, files)
