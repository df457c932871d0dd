"""``setpiece usd ...`` and ``setpiece scene ...`` (registered via the ``setpiece.cli`` entry point).

Light at import: click and the core CLI helpers only; ``pxr`` loads when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from setpiece.core.cli import State, echo_json, pass_state


@click.group()
def usd() -> None:
    """Check asset interface layers and how identifiers resolve."""


@usd.command("check")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@pass_state
def check(state: State, name: str, as_json: bool) -> None:
    """Validate asset NAME's interface layer (asset.usda)."""
    from setpiece.core.errors import SetpieceError
    from setpiece.usd.workspace import check_asset

    asset, layer, problems = check_asset(state.workspace(), name)
    n_errors = sum(1 for p in problems if p.severity == "error")
    if as_json:
        echo_json({"asset": asset.name, "layer": str(layer), "problems": [p.to_json() for p in problems]})
    else:
        for p in problems:
            click.echo(str(p))
        if not problems:
            click.echo(f"{asset.name} {asset.version}: {layer} is valid")
    if n_errors:
        raise SetpieceError(
            f"{asset.name}'s interface layer has {n_errors} error(s): fix them and run "
            f"'setpiece usd check {asset.name}' again"
        )


@usd.command("stamp")
@click.argument("name")
@pass_state
def stamp(state: State, name: str) -> None:
    """Set assetInfo.version of output asset NAME's interface layer to its version."""
    from setpiece.usd.interface import set_interface_version
    from setpiece.usd.workspace import interface_of

    asset, layer = interface_of(state.workspace(), name)
    changed = set_interface_version(layer, str(asset.version))
    click.echo(f"{layer}: version {asset.version}" + ("" if changed else " (unchanged)"))


@usd.command("resolve")
@click.argument("identifier")
@pass_state
def resolve_cmd(state: State, identifier: str) -> None:
    """Show the file IDENTIFIER (e.g. chair/asset.usda) resolves to in this workspace."""
    from setpiece.core.errors import SetpieceError
    from setpiece.usd.resolver import resolve
    from setpiece.usd.workspace import configure_workspace

    paths = configure_workspace(state.workspace())
    found = resolve(identifier)
    if found is None:
        raise SetpieceError(
            f"'{identifier}' does not resolve (searched {', '.join(paths)}): install the asset "
            "that provides it"
        )
    click.echo(str(found))


@click.group()
def scene() -> None:
    """Build scenes from installed assets; list and update their containers."""


@scene.command("build")
@click.argument("spec")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="The scene file (default: scenes/<NAME>.usda in the workspace).")
@click.option("--group", default=None, help="Dependency group to load (default: build).")
@click.option("--layout", type=click.Choice(["flat", "kind"]), default="flat", show_default=True,
              help="flat: /World/<Asset>; kind: /World/<kind>/<Asset>.")
@click.option("--payload", is_flag=True, help="Payload the interface layers instead of referencing them.")
@click.option("--force", is_flag=True, help="Re-resolve even if nothing changed since the last build.")
@click.option("--check", "check_", type=click.Choice(["editable", "all", "none"]), default="editable",
              show_default=True, help="Which interface layers to validate before writing.")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def build(state: State, spec: str, out: Path | None, group: str | None, layout: str,
          payload: bool, force: bool, check_: str, as_json: bool) -> None:
    """Build the scene of asset SPEC's group closure (user layer + generated sublayer)."""
    from setpiece.usd.workspace import build_workspace_scene

    result = build_workspace_scene(
        state.workspace(), spec, out, group=group, layout=layout,
        arc="payload" if payload else "reference", force=force, check=check_,
    )
    if as_json:
        echo_json(result.to_json())
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(result.summary())


def _records(ws: object, file: Path) -> list[Any]:
    from setpiece.usd.containers import read_containers
    from setpiece.usd.workspace import configure_workspace

    configure_workspace(ws)
    return read_containers(file)


@scene.command("inventory")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_state
def inventory_cmd(state: State, file: Path, as_json: bool) -> None:
    """List FILE's containers: scene, installed and newest versions, and what is admitted."""
    from setpiece.usd.closure import normalize
    from setpiece.usd.inventory import inventory

    ws = state.workspace()
    records = _records(ws, file)
    installed = ws.installed_assets()

    def installed_version(name: str) -> str | None:
        a = installed.get(normalize(name))
        return str(a.version) if a is not None else None

    rows = inventory(records, installed_version, ws.available_versions)
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    table = [("CONTAINER", "ASSET", "SCENE", "INSTALLED", "NEWEST", "REQUIREMENT", "KIND", "STATUS")]
    for r in rows:
        table.append((r.record.prim_path, r.record.asset, r.record.version, r.installed or "-",
                      r.newest or "-", r.record.requirement or "-", r.record.kind,
                      r.status.value))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@scene.command("update")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--asset", default=None, help="Only this asset's containers (default: all).")
@click.option("--to", "to", default="latest", show_default=True,
              help="latest, or a version (needs --asset).")
@click.option("--allow-downgrade", is_flag=True,
              help="Allow --to VER older than the installed version.")
@click.option("--dry-run", is_flag=True, help="Show what would change; install nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def update(state: State, file: Path, asset: str | None, to: str, allow_downgrade: bool,
           dry_run: bool, as_json: bool) -> None:
    """Update FILE's containers within what their requirements admit, then rebuild it."""
    from setpiece.core.errors import SetpieceError
    from setpiece.usd.closure import normalize
    from setpiece.usd.inventory import plan_update
    from setpiece.usd.scene import scene_settings
    from setpiece.usd.workspace import build_workspace_scene

    ws = state.workspace()
    records = _records(ws, file)
    installed = ws.installed_assets()

    def installed_version(name: str) -> str | None:
        a = installed.get(normalize(name))
        return str(a.version) if a is not None else None

    plan = plan_update(records, installed_version, ws.available_versions, asset=asset, to=to,
                       allow_downgrade=allow_downgrade)
    for step in plan.updates():
        a = installed.get(normalize(step.record.asset))
        if a is not None and a.editable and step.needs_install:
            if asset is not None:
                raise SetpieceError(
                    f"{a.name} is an editable output asset: its version is the one in outputs/"
                    f"{a.name}; publish it or 'setpiece uninstall {a.name}' first"
                )
            step.action, step.reason = "unchanged", "editable in outputs/"
    result = None
    if plan.updates() and not dry_run:
        if plan.requirements():
            ws.install(plan.requirements(), record=False)
        settings = scene_settings(file)
        result = build_workspace_scene(
            ws, settings["root"], file, group=settings.get("group"),
            layout=settings.get("layout", "flat"), arc=settings.get("arc", "reference"),
            force=True,
        )
        ws.emit(
            "scene.updated", scene=str(file), asset=settings["root"], status=result.status,
            updates=[{"asset": s.record.asset, "from": s.current, "to": s.target,
                      "downgrade": s.downgrade} for s in plan.updates()],
        )
    if as_json:
        echo_json({"steps": [s.to_json() for s in plan.steps],
                   "build": result.to_json() if result else None, "dry_run": dry_run})
        return
    for s in plan.steps:
        if s.action == "update":
            verb = "downgrade" if s.downgrade else "update"
            verb = f"would {verb}" if dry_run else f"{verb}d"
            click.echo(f"{s.record.asset}: {verb} {s.current} -> {s.target}")
        else:
            click.echo(f"{s.record.asset}: {s.current} ({s.action}: {s.reason})")
    if result is not None:
        click.echo(result.summary())
