"""``setpiece report``: write one file to attach to a problem report (nothing is sent)."""

from __future__ import annotations

from pathlib import Path

import click

from setpiece.core.cli import State, echo_json, pass_state


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Where to write the .zip (default: setpiece-report-<time>.zip here).")
@click.option("--json", "as_json", is_flag=True, help="Print the path and manifest as JSON.")
@pass_state
def report(state: State, output: Path | None, as_json: bool) -> None:
    """Write one .zip to attach to a ticket: the last error and its traceback, the recent
    commands, versions, the workspace's setpiece.toml (credentials redacted), installed
    assets, configured hosts and the last workspace events. Nothing is sent anywhere."""
    from setpiece.core.report import write

    path, manifest = write(output, state.workspace_path)
    if as_json:
        echo_json({"path": str(path), "manifest": manifest})
        return
    for note in manifest["missing"]:
        state.report(f"note: {note}")
    click.echo(str(path))
