"""Commands on one asset: create, require, unrequire, bump, build, publish, edit, promote."""

from __future__ import annotations

import click

from setpiece.core.cli import State, echo_json, pass_state
from setpiece.core.naming import BUMP_PARTS
from setpiece.core.requirements import GROUPS


@click.command()
@click.argument("name")
@click.option("--kind", default=None, help="prop, set, shot, tool, ... (free text; default: prop, "
              "or what the template makes).")
@click.option("--version", "version", default="0.1.0", show_default=True, help="First version.")
@click.option("--description", default="", help="One line saying what the asset is.")
@click.option("--template", metavar="T", default=None,
              help="houdini-hda, nuke-gizmo, maya-plugin, blender-addon, or an installed creator "
              "asset.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A parameter of the template (repeat for more).")
@click.option("--form", is_flag=True, help="Edit the template's parameters in a Qt form "
              "(needs setpiece-hosts[ui]).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def create(state: State, name: str, kind: str | None, version: str, description: str,
           template: str | None, params: tuple[str, ...], form: bool, as_json: bool) -> None:
    """Create asset NAME in outputs/NAME, installed editable into inputs/.

    With --template, a tool layout for a DCC (see docs/assets-as-code.md) or a creator
    asset's layout fills it."""
    from setpiece.core.errors import SetpieceError

    values: dict[str, str] = {}
    for p in params:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise SetpieceError(f"--param '{p}' is not KEY=VALUE: e.g. --param frames=1-100")
        values[key.strip()] = value
    ws = state.workspace()
    if form:
        values = _form_values(ws, name, template, values)
    asset = ws.create(name, kind=kind, version=version, description=description,
                      template=template, params=values)
    if as_json:
        echo_json({"name": asset.name, "version": asset.version, "kind": asset.kind,
                   "path": str(asset.path)})


def _form_values(ws: object, name: str, template: str | None,
                 given: dict[str, str]) -> dict[str, str]:
    """The parameters as edited in the Qt form of the creator ``template``."""
    from setpiece.core.errors import SetpieceError
    from setpiece.core.tool_templates import TEMPLATES

    if not template:
        raise SetpieceError("--form needs --template: the form edits a template's parameters")
    if template in TEMPLATES:
        raise SetpieceError(f"template '{template}' takes no parameters: drop --form")
    from setpiece.core import hooks
    from setpiece.core.creators import find_creator
    from setpiece.core.errors import Unavailable

    creator = find_creator(ws, template)
    ask_params = hooks.provider("setpiece.template_form")
    if ask_params is None:
        raise Unavailable("--form needs setpiece-hosts: pip install 'setpiece-hosts[ui]', "
                          "or give the parameters with --param")
    values: dict[str, str] = ask_params(creator=creator, name=name, given=given)
    return values


@click.command()
@click.argument("name")
@click.argument("reqs", nargs=-1, required=True)
@click.option("--group", type=click.Choice(GROUPS), default="build", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def require(state: State, name: str, reqs: tuple[str, ...], group: str, as_json: bool) -> None:
    """Add dependencies REQ... (Table, 'Table>=1.2,<2', Table==3.2.1) to output asset NAME."""
    ws = state.workspace()
    ws.require(name, list(reqs), group=group)
    if as_json:
        _echo_requirements(ws, name)


@click.command()
@click.argument("name")
@click.argument("dep")
@click.option("--group", type=click.Choice(GROUPS), default=None, help="Only this group (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def unrequire(state: State, name: str, dep: str, group: str | None, as_json: bool) -> None:
    """Remove dependency DEP from output asset NAME."""
    ws = state.workspace()
    ws.unrequire(name, dep, group=group)
    if as_json:
        _echo_requirements(ws, name)


def _echo_requirements(ws: object, name: str) -> None:
    """The output asset's dependencies after the change (as ``info --json`` lists them)."""
    from setpiece.core.listing import dependencies_json

    asset = ws.output(name)  # type: ignore[attr-defined]
    echo_json({"name": asset.name, "version": asset.version,
               "dependencies": dependencies_json(asset.groups())})


@click.command()
@click.argument("name")
@click.argument("part", type=click.Choice(BUMP_PARTS))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def bump(state: State, name: str, part: str, as_json: bool) -> None:
    """Bump output asset NAME's version (major|minor|micro|pre|post|dev)."""
    ws = state.workspace()
    before = ws.output(name).version
    after = ws.bump(name, part)
    if as_json:
        echo_json({"name": ws.output(name).name, "previous": before, "version": after})
    else:
        click.echo(after)


@click.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def build(state: State, name: str, as_json: bool) -> None:
    """Build output asset NAME's wheel into build/."""
    ws = state.workspace()
    wheel = ws.build(name)
    if as_json:
        asset = ws.output(name)
        echo_json({"name": asset.name, "version": asset.version, "wheel": str(wheel)})
    else:
        click.echo(str(wheel))


@click.command()
@click.argument("name")
@click.option("--repo", "repo_name", metavar="R", help="Target repo (default: the workspace's default repo).")
@click.option("--resume", is_flag=True, help="Finish an interrupted in-app publish from its staging folder.")
@click.option("-m", "--message", metavar="TEXT", help="A comment kept with the version (shown by 'versions --long').")
@click.option("--repro", is_flag=True, help="Remake stale pipeline outputs first (else they are refused).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def publish(state: State, name: str, repo_name: str | None, resume: bool, message: str | None,
            repro: bool, as_json: bool) -> None:
    """Build (if needed) and publish output asset NAME. A published version never changes."""
    ws = state.workspace()
    if resume:
        from setpiece.core import hooks
        from setpiece.core.errors import Unavailable

        resume_publish = hooks.provider("setpiece.publish_resume")
        if resume_publish is None:
            raise Unavailable("--resume needs setpiece-hosts: pip install setpiece-hosts")
        resume_publish(ws=ws, name=name, repo=repo_name)
        return
    wheel = ws.publish(name, repo=repo_name, comment=message, repro=repro)
    state.report(f"Published {wheel.name}")
    if as_json:
        asset = ws.output(name)
        echo_json({"name": asset.name, "version": asset.version, "wheel": wheel.name,
                   "repo": ws.repo(repo_name).name, "comment": message or ""})


@click.command()
@click.argument("spec", metavar="NAME[==VER]")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def edit(state: State, spec: str, as_json: bool) -> None:
    """Make an editable output of a published version, continuing its line (1.3.0 -> 1.3.1)."""
    asset = state.workspace().edit(spec)
    if as_json:
        echo_json({"name": asset.name, "version": asset.version, "path": str(asset.path)})
    else:
        click.echo(f"{asset.name} {asset.version} {asset.path}")


@click.command()
@click.argument("spec", metavar="NAME==VER")
@click.option("--to", "to", required=True, metavar="REPO", help="Destination repo (e.g. blessed).")
@click.option("--from", "from_", metavar="REPO", help="Source repo (default: the first that has it).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def promote(state: State, spec: str, to: str, from_: str | None, as_json: bool) -> None:
    """Copy a published version between repos unchanged (review -> blessed)."""
    ws = state.workspace()
    version = ws.promote(spec, to=to, from_=from_)
    if as_json:
        name = ws.repo(to).display_name(spec.partition("==")[0].strip(), version)
        echo_json({"name": name, "version": version, "to": to, "from": from_})


@click.command()
@click.argument("spec", metavar="NAME==VER")
@click.option("--repo", "repo_name", metavar="R", help="The repo to yank it in (default: the one that has it).")
@click.option("--reason", default="", help="Why (shown by installers, PEP 592).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def yank(state: State, spec: str, repo_name: str | None, reason: str, as_json: bool) -> None:
    """Mark a published version yanked: it stays, but installs skip it unless pinned (==)."""
    from setpiece.core.yanking import yank as do_yank

    result = do_yank(state.workspace(), spec, repo=repo_name, reason=reason)
    if as_json:
        from setpiece.core.cli import echo_json

        echo_json(result)
