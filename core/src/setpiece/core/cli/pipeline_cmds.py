"""``setpiece pipeline ...``: an output asset's dvc pipeline (stages, repro, status)."""

from __future__ import annotations

from typing import Any

import click

from setpiece.core.cli import State, echo_json, pass_state


def _up_to_date(state: State, name: str, stage: str | None) -> list[dict[str, Any]] | None:
    """Status rows without loading the workspace, when the pipeline's stamp shows nothing
    changed since it was last found up to date (stats only); None: ask dvc."""
    from setpiece.core import pipeline_lock
    from setpiece.core.paths import workspace_root

    root = workspace_root(state.workspace_path)
    stamp = None if root is None else pipeline_lock.fresh(root, name)
    if stamp is None:
        return None
    from setpiece.core.pipelines import fresh_rows

    return fresh_rows(stamp, name, stage)


@click.group()
def pipeline() -> None:
    """An asset's dvc pipeline: stages that remake derived files when their inputs change."""


@pipeline.command()
@click.argument("name")
@click.argument("stage")
@click.option("--cmd", "cmd", metavar="CMD",
              help="The command, run in the asset's package folder.")
@click.option("--template", "template", metavar="T",
              help="A built-in stage instead of --cmd (see 'setpiece pipeline templates').")
@click.option("--dep", "deps", multiple=True, metavar="PATH",
              help="An input (relative to the package folder, or ASSET:PATH of an installed "
                   "asset); repeatable.")
@click.option("--out", "outs", multiple=True, metavar="PATH",
              help="An output inside the package folder; repeatable.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A setting, written to params.yaml under STAGE (a change re-runs the "
                   "stage); repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def add(state: State, name: str, stage: str, cmd: str | None, template: str | None,
        deps: tuple[str, ...], outs: tuple[str, ...], params: tuple[str, ...],
        as_json: bool) -> None:
    """Write (or replace) STAGE in output asset NAME's dvc.yaml."""
    from setpiece.core.pipeline_add import add_stage

    row = add_stage(state.workspace(), name, stage, cmd, list(deps), list(outs),
                    template=template, params=list(params))
    if as_json:
        echo_json(row)
        return
    click.echo(f"{name}: stage '{stage}' written to {row['dvc_yaml']}")


@pipeline.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def templates(state: State, as_json: bool) -> None:
    """Stage templates for 'pipeline add --template': built-in, and those of installed tool
    assets (entry point group setpiece.stages) when run in a workspace."""
    from setpiece.core.errors import SetpieceError
    from setpiece.core.stages import TEMPLATES

    rows: list[dict[str, Any]] = [{"name": t.name, "summary": t.summary, "dep": t.dep, "params": t.defaults,
             "asset": None, "module": f"setpiece.core.stages.{t.module}"}
            for t in TEMPLATES.values()]
    try:
        ws = state.workspace()
    except SetpieceError:
        ws = None
    if ws is not None:
        for a in ws.installed_assets().values():
            for n, module in a.entry_point_groups().get("setpiece.stages", {}).items():
                rows.append({"name": n, "summary": f"{a.name} {a.version}: {module}",
                             "dep": "any", "params": {}, "asset": a.name, "module": module})
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        shown = ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "--param KEY=VALUE"
        click.echo(f"{r['name']}: {r['summary']}; --dep {r['dep']}; params {shown}")


@pipeline.command()
@click.argument("name")
@click.argument("stage", required=False)
@click.option("--farm", "farm", is_flag=True, help="Submit the run as a farm job instead.")
@click.option("--backend", "backend", metavar="B", help="With --farm: the backend (default: [farm] backend).")
@click.option("--wait", "wait", is_flag=True, help="With --farm: wait for the job to end.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def run(state: State, name: str, stage: str | None, farm: bool, backend: str | None,
        wait: bool, as_json: bool) -> None:
    """Run NAME's stages whose inputs changed (dvc repro); STAGE: only it and what it needs."""
    if farm:
        from setpiece.core.cli.farm_cmds import submit_job
        from setpiece.core.pipelines import farm_job

        submit_job(state, farm_job(state.workspace(), name, stage), backend, wait, None, as_json)
        return
    if backend or wait:
        from setpiece.core.errors import SetpieceError

        raise SetpieceError("--backend and --wait go with --farm")
    if _up_to_date(state, name, stage) is not None:
        result: dict[str, Any] = {"asset": name, "ran": []}
    else:
        from setpiece.core.pipelines import run as run_pipeline

        result = run_pipeline(state.workspace(), name, stage)
    if as_json:
        echo_json({"asset": result["asset"], "ran": result["ran"]})
        return
    if result["ran"]:
        click.echo(f"{name}: ran {', '.join(result['ran'])}")
    else:
        click.echo(f"{name}: up to date, nothing ran")


@pipeline.command()
@click.argument("name")
@click.argument("stage", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status(state: State, name: str, stage: str | None, as_json: bool) -> None:
    """Which of NAME's stages are stale, and why (dvc status)."""
    from setpiece.core.pipelines import status as pipeline_status

    rows = _up_to_date(state, name, stage) or pipeline_status(state.workspace(), name, stage)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        if r["stale"]:
            click.echo(f"{r['stage']}: stale ({'; '.join(r['why'])})")
        else:
            click.echo(f"{r['stage']}: up to date")
