"""The ``scene.rebuild`` reaction action: update a scene's closure, rebuild the scene.

``do = "scene.rebuild"`` with ``with``:

* ``asset``: ``KitchenSet[build]`` (default: the reaction's ``when.closure``);
* ``scene``: the scene file (default ``scenes/<Asset>.usda`` in the workspace);
* ``blend``: also build this ``.blend`` with ``setpiece batch blender build`` (optional;
  its bytes differ on every save, so it is an artifact, not part of the output hash);
* ``layout`` / ``arc``: as ``setpiece scene build``.

Inputs (hashed before the run): the closure the scene will be built from once updated:
each asset's name, target version (the newest published version its requirement admits;
a pinned or bounded requirement keeps it inside its range) and the wheel's sha256 (an
editable asset's files instead), the scene path and options, and this code. The run
installs the updated versions (like ``setpiece scene update``), rebuilds the scene (a
``scene.updated`` event names what moved) and, when asked, the ``.blend``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize
from setpiece.core.reactions.actions import ActionResult, ReactionContext
from setpiece.core.reactions.hashing import digest_file, digest_tree, wheel_sha256
from setpiece.core.requirements import request_name


class SceneRebuild:
    """The ``scene.rebuild`` action (entry point group ``setpiece.actions``)."""

    def _spec(self, ctx: ReactionContext) -> tuple[str, str]:
        from setpiece.usd.workspace import parse_spec

        spec = ctx.params.get("asset") or ctx.reaction.when.closure
        if not spec:
            raise SetpieceError(
                f"reaction '{ctx.reaction.name}': scene.rebuild needs with.asset = "
                "\"Asset[build]\" (or when.closure)"
            )
        return parse_spec(str(spec), None)

    def _scene(self, ctx: ReactionContext, name: str) -> Path:
        from setpiece.usd.workspace import default_scene_path

        scene = ctx.params.get("scene")
        return ctx.path(str(scene)) if scene else default_scene_path(ctx.workspace, name)

    def plan(self, ctx: ReactionContext) -> tuple[str, str, Any, dict[str, str]]:
        """(name, group, the update plan, asset -> version once updated)."""
        from setpiece.usd.closure import resolve_closure
        from setpiece.usd.inventory import plan_update

        ws = ctx.workspace
        name, group = self._spec(ctx)
        installed = ws.installed_assets()
        closure = resolve_closure(name, installed, group)
        requests = {normalize(request_name(r)): r for r in ws.config.requests}
        records = []
        for key, entry in sorted(closure.entries.items()):
            requirement = entry.requirement
            if entry.is_root:
                requirement = _root_requirement(requests.get(key, ""), entry.asset.name)
            records.append(ContainerRecord(
                prim_path="", asset=entry.asset.name, version=str(entry.asset.version),
                identifier="", requirement=requirement, kind=entry.dependency_kind,
                extra={"requiredBy": ", ".join(entry.required_by)} if entry.required_by else {},
            ))

        def installed_version(asset: str) -> str | None:
            a = installed.get(normalize(asset))
            return str(a.version) if a is not None else None

        editable = {k for k, e in closure.entries.items() if e.asset.editable}
        plan = plan_update(records, installed_version, ws.available_versions)
        for step in plan.updates():
            if normalize(step.record.asset) in editable:  # its version is the one in outputs/
                step.action, step.reason = "unchanged", "editable in outputs/"
        targets = {normalize(r.asset): r.version for r in records}
        for step in plan.updates():
            targets[normalize(step.record.asset)] = str(step.target)
        self._editable = {k: closure.entries[k].asset for k in editable}
        return name, group, plan, targets

    def inputs(self, ctx: ReactionContext) -> dict[str, Any]:
        name, group, _plan, targets = self.plan(ctx)
        closure = []
        for key, version in sorted(targets.items()):
            asset = self._editable.get(key)
            if asset is not None:
                digest = "files:" + digest_tree(Path(asset.package_dir))
            else:
                digest = wheel_sha256(ctx.workspace, key, version)
            closure.append([key, version, digest])
        scene = self._scene(ctx, name)
        return {
            "asset": f"{name}[{group}]",
            "scene": str(scene),
            "closure": closure,
            "blend": str(ctx.params.get("blend") or ""),
            "layout": ctx.params.get("layout", "flat"),
            "arc": ctx.params.get("arc", "reference"),
            "settings": ctx.workspace.config.settings,
        }

    def code(self) -> dict[str, str | None]:
        import setpiece.usd.closure as closure_mod
        import setpiece.usd.inventory as inventory_mod
        import setpiece.usd.scene as scene_mod
        import setpiece.usd.workspace as workspace_mod

        mods = [sys.modules[__name__], scene_mod, workspace_mod, closure_mod, inventory_mod]
        return {m.__name__: digest_file(Path(str(m.__file__))) for m in mods}

    def run(self, ctx: ReactionContext) -> ActionResult:
        from setpiece.usd.workspace import build_workspace_scene

        ws = ctx.workspace
        name, group, plan, _targets = self.plan(ctx)
        updates = plan.updates()
        if updates:
            ws.install(plan.requirements(), record=False)
        scene = self._scene(ctx, name)
        result = build_workspace_scene(
            ws, f"{name}[{group}]", scene, layout=str(ctx.params.get("layout", "flat")),
            arc=str(ctx.params.get("arc", "reference")),
        )
        moved = [{"asset": s.record.asset, "from": s.current, "to": s.target,
                  "downgrade": s.downgrade} for s in updates]
        if updates:
            ws.emit("scene.updated", scene=str(scene), asset=name, status=result.status,
                    updates=moved, reaction=ctx.reaction.name)
        out = ActionResult(outputs=[result.scene, result.generated])
        blend = ctx.params.get("blend")
        if blend:
            out.artifacts.append(_blend(ctx, f"{name}[{group}]", ctx.path(str(blend))))
        what = ", ".join(f"{m['asset']} {m['from']} -> {m['to']}" for m in moved) or "no update"
        out.message = f"{result.generated.name} {result.status} ({what})"
        out.data = {"updates": moved, "build": result.to_json()}
        return out


def _root_requirement(request: str, name: str) -> str:
    """The workspace's request on the root (``KitchenSet[build]>=1,<2`` -> ``KitchenSet>=1,<2``)."""
    if not request:
        return ""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(request)
    except InvalidRequirement:
        return ""
    return f"{name}{req.specifier}"


def _blend(ctx: ReactionContext, spec: str, blend: Path) -> Path:
    """``setpiece batch blender build SPEC -o BLEND`` in a child process."""
    cmd = [sys.executable, "-m", "setpiece.core.cli", "-w", str(ctx.workspace.root),
           "batch", "blender", "build", spec, "-o", str(blend)]
    import os

    from setpiece.core.events import current_traceparent

    env = {**os.environ, "TRACEPARENT": current_traceparent()}  # the build joins the trace
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise SetpieceError(
            f"reaction '{ctx.reaction.name}': the .blend build failed (exit {proc.returncode}): "
            f"{lines[-1] if lines else 'no output'}"
        )
    return blend
