"""setpiece's own publish plugins (host-independent; they use the host protocol only).

Orders (pyblish: collect 0, validate 1, extract 2, integrate 3):

==========  ==============================================================
-0.4        CollectSession: workspace, output asset, planned version, repo
 0.3        CollectScene: the whole scene as one instance (hosts without their own collector)
 1.0-1.2    ValidateVersion, ValidateStageSettings, ValidateReferences,
            ValidateDependencies
 1.6        ExtractStaging: this run's staging folder
 2.0-2.45   ExtractUSD, ExtractWorkfile, ExtractThumbnail, ExtractCheckUSD,
            ExtractManifest
 2.55-3.2   IntegrateLock, IntegrateFiles, IntegrateVersion, IntegrateInterface,
            IntegrateBuild, IntegratePush, IntegratePublish
==========  ==============================================================

Every message says what is wrong, where, and how to fix it. Integrators are
co-operative: when their input is missing they do nothing and say so. Integrators work
from the session and the staging manifest only (never from the app), so
``setpiece publish NAME --resume`` can run them again outside the app.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pyblish.api

from setpiece.core.errors import AlreadyPublished, SetpieceError
from setpiece.core.naming import normalize
from setpiece.hosts.publish.actions import RepairAction
from setpiece.hosts.publish.orders import INTEGRATE_FROM
from setpiece.hosts.publish.session import (
    MANUAL_POLICIES,
    Session,
    find_asset,
    plan_version,
    policy,
    session,
    stage_settings,
)
from setpiece.hosts.publish.staging import Staging

FAMILY = "setpiece.usd"
def _prim_name(name: str) -> str:
    from setpiece.usd.interface import prim_name

    return prim_name(name)


# -- collect -----------------------------------------------------------------------------


class CollectSession(pyblish.api.ContextPlugin):
    """Which output asset the scene belongs to, the version to make, and the target repo."""

    label = "Output asset and version"
    order = pyblish.api.CollectorOrder - 0.4
    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        if s.host is not None:
            context.data["currentFile"] = s.host.current_scene()
            context.data["hostName"] = s.host.name if s.host is not None else ""
        if not s.asset_name and s.host is not None:
            s.asset_name, s.asset_source = find_asset(s.ws, s.host)
        if not s.asset_name:
            raise SetpieceError(
                "this scene belongs to no output asset of the workspace: save it under "
                "outputs/<Asset>/ (e.g. outputs/Chair/work/chair.blend)"
                + s.fix(", or publish with --asset NAME",
                        ": open or save it with setpiece > Workfiles")
            )
        asset = s.ws.output(s.asset_name)  # a one-line error naming the fix when missing
        s.asset_name = asset.name
        if s.planned_version is None:
            s.planned_version = plan_version(s.ws, asset.name)
        repo = s.ws.repo(s.repo_name)
        s.repo_name = repo.name
        context.data.update(asset=asset.name, version=s.planned_version, repo=repo.name)
        self.log.info(
            "%s %s -> repo %s (%s; version_policy %s)",
            asset.name, s.planned_version, repo.name, s.asset_source or "given", policy(s.ws),
        )


class CollectScene(pyblish.api.ContextPlugin):
    """The whole scene as one instance (for hosts without their own collector)."""

    label = "Whole scene"
    order = pyblish.api.CollectorOrder + 0.3
    hosts = ["*"]

    def process(self, context: Any) -> None:
        if len(context):
            self.log.info("instances already collected: %s", ", ".join(i.name for i in context))
            return
        instance = context.create_instance("model", family=FAMILY, families=[FAMILY])
        instance.data["whole_scene"] = True
        self.log.info("publishing the whole scene as 'model'")


# -- validate ----------------------------------------------------------------------------


class ValidateVersion(pyblish.api.ContextPlugin):
    """The version to publish is not published yet (published versions never change)."""

    label = "Version not yet published"
    order = pyblish.api.ValidatorOrder
    hosts = ["*"]
    actions = [RepairAction]

    def process(self, context: Any) -> None:
        from packaging.version import Version

        s = session(context)
        version = s.planned_version or ""
        where = [
            name for name, versions in s.ws.versions(s.asset_name).items()
            if any(Version(v) == Version(version) for v in versions)
        ] if version else []
        if where:
            raise SetpieceError(
                f"{s.asset_name} {version} is already published in {', '.join(where)}: "
                + s.fix(f"bump it ('setpiece bump {s.asset_name} micro', or the Repair action), "
                        "or set version_policy = \"micro\" in setpiece.toml to bump on every "
                        "publish", "press Repair to bump it")
            )
        self.log.info("%s %s is new", s.asset_name, version)

    @classmethod
    def repair(cls, context: Any) -> None:
        s = session(context)
        pol = policy(s.ws)
        part = "micro" if pol in MANUAL_POLICIES else pol
        from packaging.version import Version

        published = [Version(v) for v in s.ws.available_versions(s.asset_name)]
        new = s.ws.bump(s.asset_name, part)
        while any(v >= Version(new) for v in published):
            new = s.ws.bump(s.asset_name, part)
        s.planned_version = new
        context.data["version"] = new


class ValidateStageSettings(pyblish.api.ContextPlugin):
    """The workspace's units and up axis are valid and the host can export to them."""

    label = "Units and up axis"
    order = pyblish.api.ValidatorOrder
    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        settings = s.ws.settings
        up = str(settings.get("up_axis", "Y")).upper()
        try:
            mpu = float(settings.get("meters_per_unit", 0.01))
        except (TypeError, ValueError):
            mpu = -1.0
        if up not in ("Y", "Z") or mpu <= 0:
            raise SetpieceError(
                f"setpiece.toml [settings] up_axis = {up!r}, meters_per_unit = "
                f"{settings.get('meters_per_unit')!r}: use up_axis \"Y\" or \"Z\" and a positive "
                "meters_per_unit (0.01 = centimetres)"
            )
        if s.support is not None and not s.support.can_convert_units():
            self.log.warning(
                "the %s adapter exports in the app's own units and axis: the extracted USD is "
                "checked against up_axis %s, meters_per_unit %g after extraction",
                s.host_name, up, mpu,
            )
        self.log.info("exporting with up axis %s, %g metres per unit", up, mpu)


def _resolve_container(ws: Any, record: Any, search: list[str]) -> Path | None:
    if record.layer and Path(record.layer).is_file():
        return Path(record.layer)
    ident = str(record.identifier)
    if not ident:
        return None
    if os.path.isabs(ident):
        return Path(ident) if Path(ident).is_file() else None
    for base in search:
        candidate = Path(base) / ident
        if candidate.is_file():
            return candidate
    return None


class ValidateReferences(pyblish.api.ContextPlugin):
    """Every asset loaded in the scene (container) resolves to an installed interface layer."""

    label = "References resolve"
    order = pyblish.api.ValidatorOrder + 0.1
    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        if s.host is None:
            self.log.info("no host: nothing to check")
            return
        from setpiece.hosts.runtime import resolver_search_paths

        search = [*resolver_search_paths(s.ws), str(s.ws.site_packages)]
        missing = []
        for container in s.host.ls():
            if _resolve_container(s.ws, container.record, search) is None:
                missing.append(container)
        for c in missing:
            self.log.error(
                "%s (%s %s): %s does not resolve", c.node, c.asset, c.version,
                c.record.identifier or c.record.layer,
            )
        if missing:
            names = ", ".join(f"{c.asset} {c.version} ({c.node})" for c in missing)
            raise SetpieceError(
                f"{len(missing)} loaded asset(s) do not resolve: {names}: "
                + s.fix("install them ('setpiece install NAME') or remove them from the scene",
                        "install them with setpiece > Loader, or remove them in setpiece > "
                        "Inventory")
            )
        self.log.info("every loaded asset resolves")


def _declared(asset: Any) -> set[str]:
    names: set[str] = set()
    for reqs in asset.groups().values():
        names.update(normalize(r.name) for r in reqs)
    return names


def _requirement_for(name: str, version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        major = Version(version).release[0]
    except (InvalidVersion, IndexError):
        return name
    return f"{name}>={version},<{major + 1}"


class ValidateDependencies(pyblish.api.ContextPlugin):
    """Every asset the scene uses is a declared dependency of the output asset."""

    label = "Used assets are dependencies"
    order = pyblish.api.ValidatorOrder + 0.2
    hosts = ["*"]
    actions = [RepairAction]

    @classmethod
    def undeclared(cls, context: Any) -> list[Any]:
        s = session(context)
        if s.host is None:
            return []
        asset = s.asset
        declared = _declared(asset)
        out = []
        seen: set[str] = set()
        for c in s.host.ls():
            key = normalize(c.asset)
            if key == asset.key or key in declared or key in seen:
                continue
            seen.add(key)
            out.append(c)
        return out

    def process(self, context: Any) -> None:
        s = session(context)
        missing = self.undeclared(context)
        for c in missing:
            self.log.error(
                "%s %s is in the scene (%s) but %s does not require it",
                c.asset, c.version, c.node, s.asset_name,
            )
        if missing:
            reqs = " ".join(f'"{_requirement_for(c.asset, c.version)}"' for c in missing)
            raise SetpieceError(
                f"{s.asset_name} uses {', '.join(c.asset for c in missing)} without declaring "
                f"it: " + s.fix(f"run 'setpiece require {s.asset_name} {reqs}' (or the Repair "
                                "action)", "press Repair to declare it")
            )
        self.log.info("every used asset is declared")

    @classmethod
    def repair(cls, context: Any) -> None:
        s = session(context)
        reqs = [_requirement_for(c.asset, c.version) for c in cls.undeclared(context)]
        if reqs:
            s.ws.require(s.asset_name, reqs, group="build")


# -- extract ------------------------------------------------------------------------------


class ExtractStaging(pyblish.api.ContextPlugin):
    """This run's own staging folder in the workspace (never inside the asset)."""

    label = "Staging folder"
    order = pyblish.api.ExtractorOrder - 0.4
    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        if s.staging is None:
            s.staging = Staging.create(
                s.ws, s.asset_name or "unknown", version=s.planned_version, repo=s.repo_name,
                host=context.data.get("hostName", ""), scene=context.data.get("currentFile"),
                policy=policy(s.ws),
            )
        context.data["staging"] = s.staging
        self.log.info("staging in %s", s.staging.path)


class ExtractUSD(pyblish.api.InstancePlugin):
    """USD of each instance, through the host adapter."""

    label = "USD"
    order = pyblish.api.ExtractorOrder
    hosts = ["*"]
    families = [FAMILY]

    def process(self, instance: Any) -> None:
        s = session(instance.context)
        staging = s.require_staging()
        name = _prim_name(instance.name)
        path = staging.dir("geo") / f"{name}.usdc"
        out = Path(s.support.export(instance, path))
        if not out.is_file():
            raise SetpieceError(f"the {s.host_name} adapter exported nothing to {out}")
        staging.add_file(instance.name, "usd", out, f"geo/{name}.usdc")
        instance.data["usd"] = str(out)
        self.log.info("exported %s (%d bytes)", out.name, out.stat().st_size)


class ExtractWorkfile(pyblish.api.ContextPlugin):
    """A copy of the workfile (the artist's open file is not moved)."""

    label = "Workfile"
    order = pyblish.api.ExtractorOrder + 0.1
    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        staging = s.require_staging()
        suffix = s.support.workfile_suffix() or ""
        name = f"{_prim_name(s.asset_name or 'scene')}{suffix}"
        out = s.support.save_copy(staging.dir("work") / name)
        if not out:
            self.log.warning("the scene was never saved and the host cannot save a copy: no workfile")
            return
        staging.add_file("_context", "workfile", Path(out), f"work/{Path(out).name}")
        current = s.host.current_scene() if s.host is not None else None
        if current:  # the artist's file this version was published from
            context.data["workfile"] = Path(current).name
        self.log.info("saved workfile %s (from %s)", Path(out).name, current or "an unsaved scene")


class ExtractThumbnail(pyblish.api.ContextPlugin):
    """A thumbnail, where the host can make one."""

    label = "Thumbnail"
    order = pyblish.api.ExtractorOrder + 0.2
    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        if not s.ws.config.section("publish").get("thumbnail", True):
            self.log.info("thumbnails are off ([publish] thumbnail = false)")
            return
        staging = s.require_staging()
        instance = context[0] if len(context) else None
        try:
            out = s.support.thumbnail(instance, staging.path / "thumbnail.png")
        except Exception as exc:  # a thumbnail is nice to have: never fail a publish for it
            self.log.warning("no thumbnail: %s", " ".join(str(exc).split())[:200])
            return
        if not out or not Path(out).is_file():
            self.log.info("the %s adapter cannot make a thumbnail here: none", s.host_name)
            return
        staging.add_file("_context", "thumbnail", Path(out), "thumbnail.png")
        self.log.info("thumbnail %s", Path(out).name)


class ExtractCheckUSD(pyblish.api.InstancePlugin):
    """The extracted USD opens, has geometry, and uses the workspace's units and up axis."""

    label = "Check extracted USD"
    order = pyblish.api.ExtractorOrder + 0.3
    hosts = ["*"]
    families = [FAMILY]

    def process(self, instance: Any) -> None:
        path = instance.data.get("usd")
        if not path:
            self.log.info("no USD was extracted for %s: nothing to check", instance.name)
            return
        s = session(instance.context)
        from pxr import Usd, UsdGeom

        stage = Usd.Stage.Open(str(path))
        if not stage.GetDefaultPrim():
            raise SetpieceError(f"{Path(path).name} has no defaultPrim: the export is unusable")
        meshes = [p for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)]
        if not meshes:
            raise SetpieceError(
                f"{instance.name}: the extracted USD holds no mesh: add geometry to {instance.name}"
            )
        up, mpu = stage_settings(s.ws)
        got_up = str(UsdGeom.GetStageUpAxis(stage))
        got_mpu = float(UsdGeom.GetStageMetersPerUnit(stage))
        if got_up != up or abs(got_mpu - mpu) > 1e-9:
            raise SetpieceError(
                f"{Path(path).name} is up axis {got_up}, {got_mpu:g} m/unit; the workspace uses "
                f"{up}, {mpu:g}: the {s.host_name} adapter must convert on export"
            )
        self.log.info("%d mesh(es), up axis %s, %g m/unit", len(meshes), got_up, got_mpu)


class ExtractManifest(pyblish.api.ContextPlugin):
    """Mark the staging folder complete (only when every extractor succeeded)."""

    label = "Staging complete"
    order = pyblish.api.ExtractorOrder + 0.45
    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        if s.staging is None:
            self.log.info("no staging folder: nothing to mark")
            return
        failed = _failed_plugins(context, before=self.order)
        if failed:
            self.log.warning("not marking %s complete: %d step(s) failed", s.staging.path, len(failed))
            return
        s.staging.set_state("extracted", version=s.planned_version)
        self.log.info("%d file(s) staged", len(s.staging.files()))


def _failed_plugins(context: Any, *, before: float, since: float = float("-inf")) -> list[Any]:
    """The plugins of this run that failed, of an order in ``[since, before)``."""
    return [
        r["plugin"] for r in context.data.get("results", [])
        if r.get("error") is not None and since <= r["plugin"].order < before
    ]


# -- integrate ---------------------------------------------------------------------------


def _staging_or_say(plugin: Any, context: Any) -> Any:
    """The staging folder an integrator works from, or None (and the reason, logged) when
    its input is missing: no complete staging, an earlier integration step failed, or the
    publish lock is not held. Co-operative integrators then do nothing."""
    s = session(context)
    if s.staging is None or s.staging.state not in ("extracted", "integrating"):
        plugin.log.info("no complete staging folder: nothing to integrate")
        return None
    failed = _failed_plugins(context, before=plugin.order, since=INTEGRATE_FROM)
    if failed:
        label = getattr(failed[0], "label", None) or failed[0].__name__
        plugin.log.info("%s failed: nothing to %s", label, _verb(plugin))
        return None
    if plugin.order > IntegrateLock.order and "lock" not in s.extras:
        plugin.log.info("the publish lock is not held: nothing to %s", _verb(plugin))
        return None
    return s.staging


def _verb(plugin: Any) -> str:
    return str(getattr(plugin, "verb", "do"))


class _Integrator(pyblish.api.ContextPlugin):
    """An integrator: it works from the session and the staging folder only, and does
    nothing (saying why, :func:`_staging_or_say`) when its input is missing."""

    hosts = ["*"]

    def process(self, context: Any) -> None:
        s = session(context)
        staging = _staging_or_say(self, context)
        if staging is None:
            return
        self.integrate(context, s, staging)

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        raise NotImplementedError


class IntegrateLock(_Integrator):
    """Take the asset's publish lock (one integrate of an asset at a time per workspace)."""

    label = "Publish lock"
    order = pyblish.api.IntegratorOrder - 0.45

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        from setpiece.hosts.publish.staging import IntegrateLock as Lock

        lock = Lock(s.ws, s.asset_name or "", staging.data.get("run", ""))
        lock.acquire()
        s.extras["lock"] = lock
        staging.set_state("integrating")
        self.log.info("locked %s for publishing", s.asset_name)


def track_files(ws: Any, asset: Any, paths: list[Path]) -> str:
    """Track ``paths`` (inside the asset's package) with dvc through ``setpiece.core.files``:
    a file in a sub-folder tracks the whole sub-folder (``geo/``: one tracked folder)."""
    try:
        from setpiece.core.files import tracking
    except ImportError:
        return "setpiece.core.files is not installed: the files travel inside the wheel"
    package = Path(asset.package_dir)
    targets: list[str] = []
    for p in paths:
        rel = Path(p).relative_to(package)
        top = package / rel.parts[0]
        if str(top) not in targets:
            targets.append(str(top))
    tracking.add(ws, asset.name, targets)
    shown = ", ".join(Path(t).name + ("/" if Path(t).is_dir() else "") for t in targets)
    return f"tracked with dvc: {shown}"


def push_files(ws: Any, asset: Any, repo: Any) -> None:
    """Push the asset's tracked files and check the remote has them (before publishing)."""
    from setpiece.core.publishing import before_publish

    before_publish(ws, asset, repo)


class IntegrateFiles(_Integrator):
    """Staged files into the output asset's package, tracked with dvc when available."""

    label = "Files into the asset"
    order = pyblish.api.IntegratorOrder - 0.4
    verb = "copy"

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        asset = s.asset
        package = Path(asset.package_dir)
        copied: list[Path] = []
        for f in staging.files():
            src = staging.path / f["staged"]
            dest = package / f["dest"]
            if not src.is_file():
                raise SetpieceError(
                    f"staged file {src} is gone: publish again from the app (the staging "
                    "folder was changed by hand)"
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.publish-tmp")
            shutil.copy2(src, tmp)
            os.replace(tmp, dest)
            copied.append(dest)
            self.log.info("%s -> %s", f["staged"], dest.relative_to(asset.path))
        if not copied:
            self.log.info("no staged files: nothing to copy")
            return
        big = [p for p in copied if p.name != "thumbnail.png"]
        self.log.info("%s", track_files(s.ws, asset, big))
        staging.step_done("files")


class IntegrateVersion(_Integrator):
    """Set the output asset's version to the planned one (workspace ``version_policy``)."""

    label = "Version"
    order = pyblish.api.IntegratorOrder - 0.3
    verb = "version"

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        set_version(s, s.planned_version or str(s.asset.version))
        staging.set_state("integrating", version=s.planned_version)
        self.log.info("%s is now %s", s.asset_name, s.planned_version)


def set_version(s: Any, version: str) -> None:
    from setpiece.core.authoring import _install_editable

    asset = s.asset
    if str(asset.version) != version:
        asset.set_version(version)
        _install_editable(s.ws, asset, deps=False)
    s.planned_version = version


def write_interface(s: Any, staging: Any) -> tuple[Path, Path]:
    """Write ``geo.usda`` (one child prim per instance referencing its USD) and make sure
    the asset's interface layer ``asset.usda`` payloads it, with the new version."""
    from pxr import Sdf

    from setpiece.usd.interface import stamp_version
    from setpiece.usd.metadata import StageMetadata

    asset = s.asset
    package = Path(asset.package_dir)
    root = _prim_name(asset.name)
    meta = StageMetadata.from_settings(s.ws.settings)
    geo = Sdf.Layer.CreateAnonymous(".usda")
    meta.apply(geo)
    geo.defaultPrim = root
    top = Sdf.CreatePrimInLayer(geo, f"/{root}")
    top.specifier = Sdf.SpecifierDef
    top.typeName = "Xform"
    for f in staging.files():
        if f["kind"] != "usd":
            continue
        child = Sdf.CreatePrimInLayer(geo, f"/{root}/{_prim_name(f['instance'])}")
        child.specifier = Sdf.SpecifierDef
        child.typeName = "Xform"
        child.referenceList.Prepend(Sdf.Reference(f"./{f['dest']}"))
    geo_path = package / "geo.usda"
    from setpiece.usd.fileio import write_if_changed

    write_if_changed(geo_path, str(geo.ExportToString()))

    iface_path = package / "asset.usda"
    version = str(s.planned_version or asset.version)
    if iface_path.is_file():
        layer = Sdf.Layer.OpenAsAnonymous(str(iface_path))
        prim = layer.GetPrimAtPath(f"/{layer.defaultPrim}") if layer.defaultPrim else None
        if prim is None:
            raise SetpieceError(
                f"{iface_path} has no defaultPrim: fix it ('setpiece usd check {asset.name}') "
                "and resume"
            )
        stamp_version(prim, version)
        payloads = [p.assetPath for p in prim.payloadList.GetAddedOrExplicitItems()]
        if "./geo.usda" not in payloads:
            prim.payloadList.Prepend(Sdf.Payload("./geo.usda"))
        write_if_changed(iface_path, str(layer.ExportToString()))
    else:
        from setpiece.usd.interface import identifier_for, write_interface_layer

        write_interface_layer(
            iface_path, asset.name, version, asset.kind or "prop",
            identifier_for(package.name), payload="./geo.usda", metadata=meta,
        )
    return iface_path, geo_path


class IntegrateInterface(_Integrator):
    """The asset's interface layer payloads the published geometry, at the new version."""

    label = "Interface layer"
    order = pyblish.api.IntegratorOrder - 0.2
    verb = "write"

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        if not any(f["kind"] == "usd" for f in staging.files()):
            self.log.info("no USD staged: interface layer unchanged")
            return
        iface, geo = write_interface(s, staging)
        self.log.info("wrote %s and %s", iface.name, geo.name)
        staging.step_done("interface")


class IntegrateBuild(_Integrator):
    """Build the wheel."""

    label = "Wheel"
    order = pyblish.api.IntegratorOrder - 0.1
    verb = "build"

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        wheel = s.ws.build(s.asset_name)
        context.data["wheel"] = str(wheel)
        context.data["wheelName"] = wheel.name
        self.log.info("built %s", wheel.name)


class IntegratePush(_Integrator):
    """Push the asset's files to the repo's files remote (before the package is published)."""

    label = "Push files"
    order = pyblish.api.IntegratorOrder
    verb = "push"

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        if not context.data.get("wheel"):
            self.log.info("no wheel was built: nothing to push")
            return
        push_files(s.ws, s.asset, s.repo())
        staging.step_done("push")
        self.log.info("files pushed for repo %s", s.repo_name)


class IntegratePublish(_Integrator):
    """Publish the wheel to the repo and emit ``published``.

    When another artist published the same version a moment before (the folder repo's
    exclusive publish refuses the second), bump past it, rebuild and publish again: one
    version each, never a mixed one.
    """

    label = "Publish to repo"
    order = pyblish.api.IntegratorOrder + 0.1
    verb = "publish"
    attempts = 3

    def integrate(self, context: Any, s: Session, staging: Staging) -> None:
        if not context.data.get("wheel") or not staging.done("push"):
            self.log.info("no wheel built and pushed: nothing to publish")
            return
        from setpiece.core.publishing import publish_wheel

        repo = s.repo()
        wheel = Path(context.data["wheel"])
        for attempt in range(self.attempts):
            if repo.has_version(s.asset_name, s.planned_version) and _ours(
                repo, s.asset_name or "", s.planned_version or "", staging
            ):  # an earlier try of this run got it there, then died: only finish it
                self.log.info("%s %s already in %s from this run: finishing it",
                              s.asset_name, s.planned_version, repo.name)
                wheel = wheel.with_name(str(staging.data["sent"]["wheel"]))
                break
            if not repo.has_version(s.asset_name, s.planned_version):
                staging.set_state(staging.state, sent={
                    "version": s.planned_version, "wheel": wheel.name, "sha256": _sha256(wheel),
                })
                try:
                    publish_wheel(s.ws, wheel, repo)
                    break
                except AlreadyPublished:  # someone else got this version first: take the next
                    pass
            if attempt == self.attempts - 1:
                raise SetpieceError(
                    f"{s.asset_name}: every version up to {s.planned_version} was published by "
                    "someone else while this publish ran: " + s.fix(
                        f"resume with 'setpiece publish {s.asset_name} --resume'",
                        "press Finish publishing")
                )
            taken = s.planned_version
            set_version(s, plan_version(s.ws, s.asset_name or ""))
            self.log.warning("%s %s was just published by someone else: publishing %s",
                             s.asset_name, taken, s.planned_version)
            write_interface(s, staging)
            wheel = s.ws.build(s.asset_name)
            push_files(s.ws, s.asset, repo)
        context.data.update(version=s.planned_version, wheel=str(wheel), wheelName=wheel.name)
        context.data["published"] = True
        s.ws.emit(
            "published", to_repo=repo, asset=s.asset_name, version=s.planned_version,
            wheel=wheel.name, via="pyblish", app=context.data.get("hostName", ""),
            files=[f["dest"] for f in staging.files()],
            **({"comment": s.comment} if s.comment else {}),
            **({"workfile": context.data["workfile"]} if context.data.get("workfile") else {}),
        )
        staging.set_state("published", version=s.planned_version, wheel=wheel.name)
        self.log.info("published %s %s to %s", s.asset_name, s.planned_version, repo.name)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ours(repo: Any, asset: str, version: str, staging: Staging) -> bool:
    """True when the repo's wheel of ``asset`` ``version`` is the one this run sent (same
    sha256 as recorded in the staging manifest before ``repo.publish``)."""
    import tempfile

    from packaging.version import InvalidVersion, Version

    sent = staging.data.get("sent") or {}
    try:
        if not sent.get("sha256") or Version(str(sent.get("version"))) != Version(version):
            return False
    except InvalidVersion:
        return False
    with tempfile.TemporaryDirectory(prefix="setpiece-check-") as tmp:
        try:
            theirs = repo.fetch(asset, version, Path(tmp))
        except SetpieceError:
            return False
        return bool(_sha256(Path(theirs)) == sent["sha256"])


BUILTIN = [
    CollectSession,
    CollectScene,
    ValidateVersion,
    ValidateStageSettings,
    ValidateReferences,
    ValidateDependencies,
    ExtractStaging,
    ExtractUSD,
    ExtractWorkfile,
    ExtractThumbnail,
    ExtractCheckUSD,
    ExtractManifest,
    IntegrateLock,
    IntegrateFiles,
    IntegrateVersion,
    IntegrateInterface,
    IntegrateBuild,
    IntegratePush,
    IntegratePublish,
]

#: the plugins ``--resume`` runs again (integration works from the staging folder only)
INTEGRATORS = [IntegrateLock, IntegrateFiles, IntegrateVersion, IntegrateInterface,
               IntegrateBuild, IntegratePush, IntegratePublish]
