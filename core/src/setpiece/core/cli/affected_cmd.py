"""``setpiece affected``: what a published version reaches (asset versions and scenes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from setpiece.core.cli import State, echo_json, pass_state

if TYPE_CHECKING:
    from setpiece.core.affected import Affected


def _line(a: Affected) -> str:
    edge = a.path[0]
    via = f"  via {', '.join(a.via)}" if a.via else ""
    via += "  (yanked)" if a.yanked else ""
    groups = ",".join(a.groups)
    return (f"  {a.name} {a.version}  {a.kind}  [{groups}]  requires "
            f"'{edge.requirement}'{via}")


@click.command()
@click.argument("spec", required=False, metavar="NAME==VER")
@click.option("--repo", "repo_name", metavar="R", help="Only dependents published in repo R (default: every repo).")
@click.option("--group", default="all", show_default=True,
              type=click.Choice(["build", "edit", "export", "all"]),
              help="Only dependents whose closure of this group holds it.")
@click.option("--latest", is_flag=True, help="Only the newest affected version of each asset.")
@click.option("--unpublished", is_flag=True, help="Allow a version not published yet (what its publish would affect).")
@click.option("--installed", is_flag=True, help="For this workspace: which newer published versions would change which installed assets and scenes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def affected(state: State, spec: str | None, repo_name: str | None, group: str, latest: bool,
             unpublished: bool, installed: bool, as_json: bool) -> None:
    """What a publish of NAME==VER reaches: every published asset version whose
    requirements admit it (abstract = push, bounded = semi-push; an == pin never),
    transitively, with the path of requirements, and the scenes of this workspace whose
    build closure would change."""
    from setpiece.core.errors import SetpieceError

    ws = state.workspace()
    if installed:
        if spec:
            raise SetpieceError("give NAME==VER or --installed, not both")
        _installed(ws, repo_name, group, as_json)
        return
    if not spec:
        raise SetpieceError("give the published version: setpiece affected NAME==VER "
                            "(or --installed)")
    from setpiece.core import affected as api

    name, version = api.parse_published(spec)
    repos = [ws.repo(repo_name)] if repo_name else list(ws.repos().values())
    if not unpublished:
        api.check_published(list(ws.repos().values()), name, version)
    _warn_incomplete(repos)
    result = api.affected(repos, name, version, group, latest=latest)
    scenes = api.scenes_affected(ws, name, version)
    if as_json:
        echo_json({"name": name, "version": version, "group": group,
                   "affected": [a.to_json() for a in result],
                   "scenes": [s.to_json() for s in scenes]})
        return
    if result:
        click.echo(f"{name} {version} reaches {len(result)} published version(s):")
        for a in result:
            click.echo(_line(a))
    else:
        click.echo(f"{name} {version} reaches no published version")
    _echo_scenes(scenes)


def _warn_incomplete(repos: list[Any]) -> None:
    for r in repos:
        if not r.dependents_complete():
            click.echo(
                f"warning: repo '{r.name}' holds versions published before setpiece kept its "
                f"reverse-dependency index: run 'setpiece repo reindex {r.name}' once, until "
                "then they are missing here", err=True)


def _echo_scenes(scenes: list[Any]) -> None:
    if scenes:
        click.echo(f"{len(scenes)} scene(s) of this workspace would change:")
        for s in scenes:
            click.echo(f"  {s.describe()}")


def _installed(ws: Any, repo_name: str | None, group: str, as_json: bool) -> None:
    from setpiece.core import affected as api

    updates = api.installed_affected(ws, repo=repo_name, groups=group)
    if as_json:
        echo_json({"updates": [u.to_json() for u in updates]})
        return
    if not updates:
        click.echo("no newer published version would change this workspace")
        return
    for u in updates:
        click.echo(f"{u.name} {u.installed} -> {u.version}:")
        for a in u.assets:
            click.echo(_line(a))
        _echo_scenes(u.scenes)
