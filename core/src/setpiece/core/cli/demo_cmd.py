"""``setpiece demo``: the main job on the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import click

from setpiece.core.cli import State, echo_json, pass_state


@click.command()
@click.argument("path", default="setpiece-demo", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@pass_state
def demo(state: State, path: str, as_json: bool) -> None:
    """Build a demo in PATH: repos, sample assets (published, promoted), an installed set."""
    from setpiece.core.demo import run_demo

    summary = run_demo(Path(path), state.report)
    if as_json:
        echo_json(summary)
        return
    for change in summary["installed"]:
        click.echo(change)
    click.echo(f"\nTry:  cd {summary['workspace']} && setpiece list && setpiece info KitchenSet")
