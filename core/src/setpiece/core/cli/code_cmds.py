"""Assets as code: clone, casting add/remove/list, generate."""

from __future__ import annotations

import click

from setpiece.core.cli import State, echo_json, pass_state


@click.command()
@click.argument("source")
@click.argument("name")
@click.option("--version", "version", default="0.1.0", show_default=True,
              help="First version of the clone's own line.")
@click.option("--description", default=None, help="Its description (default: the source's).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def clone(state: State, source: str, name: str, version: str, description: str | None,
          as_json: bool) -> None:
    """Make NAME, a new editable asset, from SOURCE's content (an output or installed asset).

    NAME gets its own Python package and version line; tracked files keep their dvc
    pointers and are linked from the cache, never copied."""
    from setpiece.core.cloning import clone as run

    asset = run(state.workspace(), source, name, version=version, description=description)
    if as_json:
        echo_json({"name": asset.name, "version": asset.version, "kind": asset.kind,
                   "module": asset.module, "path": str(asset.path), "cloned_from": source})


@click.group()
def casting() -> None:
    """An asset whose content is other assets at exact versions (a playlist, a set dressing).

    \b
    setpiece casting add NAME MEMBER...      Chair (installed or newest) or Chair==1.1.0
    setpiece casting remove NAME MEMBER...
    setpiece casting list NAME
    """


def _echo_members(name: str, members: list[str], as_json: bool) -> None:
    if as_json:
        echo_json({"name": name, "members": members})
    else:
        for m in members:
            click.echo(m)


@casting.command("add")
@click.argument("name")
@click.argument("members", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the members as JSON.")
@pass_state
def casting_add(state: State, name: str, members: tuple[str, ...], as_json: bool) -> None:
    """Pin MEMBERS into casting NAME (installs them)."""
    from setpiece.core.castings import add

    _echo_members(name, add(state.workspace(), name, list(members)), as_json)


@casting.command("remove")
@click.argument("name")
@click.argument("members", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the members as JSON.")
@pass_state
def casting_remove(state: State, name: str, members: tuple[str, ...], as_json: bool) -> None:
    """Drop MEMBERS from casting NAME."""
    from setpiece.core.castings import remove

    _echo_members(name, remove(state.workspace(), name, list(members)), as_json)


@casting.command("list")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the members as JSON.")
@pass_state
def casting_list(state: State, name: str, as_json: bool) -> None:
    """The members of casting NAME (one pin a line)."""
    from setpiece.core.castings import members

    _echo_members(name, members(state.workspace().output(name)), as_json)


@click.command()
@click.argument("name")
@click.option("--repo", "repo_name", metavar="R", help="Publish to R (default: the default repo).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def generate(state: State, name: str, repo_name: str | None, as_json: bool) -> None:
    """Run output asset NAME's generator; publish a new version only if the result changed."""
    from setpiece.core.generating import generate as run

    result = run(state.workspace(), name, repo=repo_name)
    if as_json:
        echo_json(result)
    else:
        click.echo(f"{result['name']} {result['version']} "
                   f"{'published' if result['changed'] else 'unchanged'}")
