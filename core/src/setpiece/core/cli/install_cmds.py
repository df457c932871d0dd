"""Commands on the inputs/ venv: install, uninstall, external, freeze, sync."""

from __future__ import annotations

from pathlib import Path

import click

from setpiece.core.cli import State, echo_json, pass_state


def _print_changes(changes: list[str], as_json: bool) -> None:
    if as_json:
        echo_json(changes)
    else:
        for c in changes:
            click.echo(c)


@click.command()
@click.argument("reqs", nargs=-1)
@click.option("--repo", "repo_name", metavar="R", help="Only from this repo.")
@click.option("--no-record", is_flag=True, help="Do not record the request in setpiece.toml.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@pass_state
def install(state: State, reqs: tuple[str, ...], repo_name: str | None, no_record: bool, as_json: bool) -> None:
    """Install REQ... ('KitchenSet[build]', 'Chair>=1') with all dependencies, from the repos only.

    With no REQ, install what setpiece.toml records ([requests] install), like 'uv sync'."""
    _print_changes(state.workspace().install(list(reqs), repo=repo_name, record=not no_record), as_json)


@click.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@pass_state
def uninstall(state: State, names: tuple[str, ...], as_json: bool) -> None:
    """Uninstall assets NAME... from inputs/."""
    _print_changes(state.workspace().uninstall(list(names)), as_json)


@click.group()
def external() -> None:
    """Non-asset dependencies (numpy, ...) kept as wheels in external_packages/."""


@external.command("add")
@click.argument("reqs", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def external_add(state: State, reqs: tuple[str, ...], as_json: bool) -> None:
    """Fetch wheels of REQ... (and their dependencies) for the workspace's Python."""
    _print_changes(state.workspace().external_add(list(reqs)), as_json)


@external.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def external_list(state: State, as_json: bool) -> None:
    """List the wheels in external_packages/."""
    names = sorted(p.name for p in state.workspace().external_dir.glob("*.whl"))
    if as_json:
        echo_json(names)
    else:
        for n in names:
            click.echo(n)


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout).")
@pass_state
def freeze(state: State, output: str | None) -> None:
    """Write the exact installed set (assets and external packages, pinned, with hashes)."""
    text = state.workspace().freeze(Path(output) if output else None)
    if not output:
        click.echo(text, nl=False)
    else:
        state.report(f"Wrote {output}")


@click.command()
@click.argument("lock", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@pass_state
def sync(state: State, lock: str, as_json: bool) -> None:
    """Recreate inputs/ exactly from LOCK (written by 'setpiece freeze')."""
    _print_changes(state.workspace().sync(Path(lock)), as_json)
