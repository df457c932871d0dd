"""``setpiece pipeline ...``: an output asset's dvc pipeline (stages, repro, status)."""

from __future__ import annotations

import click

from setpiece.core.cli import State, echo_json, pass_state


@click.group()
def pipeline() -> None:
    """An asset's dvc pipeline: stages that remake derived files when their inputs change."""


@pipeline.command()
@click.argument("name")
@click.argument("stage")
@click.option("--cmd", "cmd", required=True, metavar="CMD",
              help="The command, run in the asset's package folder.")
@click.option("--dep", "deps", multiple=True, metavar="PATH",
              help="An input (relative to the package folder); repeatable.")
@click.option("--out", "outs", multiple=True, metavar="PATH",
              help="An output inside the package folder; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def add(state: State, name: str, stage: str, cmd: str, deps: tuple[str, ...],
        outs: tuple[str, ...], as_json: bool) -> None:
    """Write (or replace) STAGE in output asset NAME's dvc.yaml."""
    from setpiece.core.pipelines import add_stage

    row = add_stage(state.workspace(), name, stage, cmd, list(deps), list(outs))
    if as_json:
        echo_json(row)
        return
    click.echo(f"{name}: stage '{stage}' written to {row['dvc_yaml']}")


@pipeline.command()
@click.argument("name")
@click.argument("stage", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def run(state: State, name: str, stage: str | None, as_json: bool) -> None:
    """Run NAME's stages whose inputs changed (dvc repro); STAGE: only it and what it needs."""
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

    rows = pipeline_status(state.workspace(), name, stage)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        if r["stale"]:
            click.echo(f"{r['stage']}: stale ({'; '.join(r['why'])})")
        else:
            click.echo(f"{r['stage']}: up to date")
