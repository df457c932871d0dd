"""``setpiece env / launch / batch / selftest HOST``: the hosts' commands.

Registered through the ``setpiece.cli`` entry point group (hosts/pyproject.toml). Kept
light: no bpy, pxr or Qt import here; the work happens in ``setpiece.hosts.launching``
and, inside the app, in ``setpiece.hosts.runtime``.
"""

from __future__ import annotations

from typing import Any

import click

from setpiece.core.cli import State, echo_json, pass_state


def _workspace(state: State, required: bool = True) -> Any:
    from setpiece.core.errors import SetpieceError

    try:
        return state.workspace()
    except SetpieceError:
        if required:
            raise
        return None


@click.command()
@click.argument("host")
@click.option("--format", "fmt", type=click.Choice(["sh", "cmd", "rez", "json"]), default="sh",
              show_default=True, help="Shell lines, rez commands() lines, or JSON.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--no-setup", is_flag=True, help="Safe mode: the app runs no asset code.")
@pass_state
def env(state: State, host: str, fmt: str, as_json: bool, no_setup: bool) -> None:
    """Print the environment HOST needs (for rez or any launcher).

    Folder lists (PYTHONPATH, NUKE_PATH, HOUDINI_PACKAGE_DIR, ...) are prepended to the
    studio's values, never replace them; the JSON form says which in "prepend"."""
    from setpiece.hosts.host_env import format_env
    from setpiece.hosts.launching import environment

    vars_ = environment(host, _workspace(state), no_setup=no_setup)
    click.echo(format_env(vars_, "json" if as_json else fmt))


@click.command()
@click.argument("host")
@click.argument("scene", required=False)
@click.option("--no-setup", is_flag=True, help="Safe mode: the app runs no asset code.")
@click.option("--dry-run", is_flag=True, help="Print the command instead of starting the app.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print it as JSON.")
@pass_state
def launch(
    state: State, host: str, scene: str | None, no_setup: bool, dry_run: bool, as_json: bool
) -> None:
    """Start HOST (optionally opening SCENE) with the workspace's environment."""
    from setpiece.hosts import launching

    ws = _workspace(state)
    if dry_run:
        plan = launching.launch_plan(host, ws, scene, no_setup=no_setup)
        from setpiece.hosts.host_env import effective_environment

        plan.env = effective_environment(plan.env)  # what the app will get
        if as_json:
            echo_json(plan.__dict__)
        else:
            import shlex

            for k, v in sorted(plan.env.items()):
                click.echo(f"{k}={shlex.quote(v)}")
            click.echo(" ".join(shlex.quote(c) for c in plan.command))
        return
    proc = launching.launch(host, ws, scene, no_setup=no_setup)
    state.report(f"started {host} (pid {proc.pid})")


class HostFirstGroup(click.Group):
    """``setpiece batch HOST ACTION ...``: the host comes first, like the app it runs.

    Click wants the subcommand first, so ``batch blender build ...`` is read as
    ``batch build blender ...`` (that spelling is accepted too).
    """

    lead_argument = "HOST"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if len(args) >= 2 and args[0] not in self.commands and args[1] in self.commands:
            args = [args[1], args[0], *args[2:]]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "HOST ACTION [ARGS]...")


@click.group(cls=HostFirstGroup)
def batch() -> None:
    """Run HOST headless (blender -b / the bpy module, mayapy, hython, nuke -t).

    \b
    setpiece batch HOST build SPEC -o FILE    build a scene from installed assets and save it
    setpiece batch HOST run SCRIPT [ARGS]     run a Python script in the app
    setpiece batch HOST publish SCENE         publish the scene (pyblish), report, exit code
    """


@batch.command("build")
@click.argument("host")
@click.argument("spec")
@click.option("-o", "--output", required=True, help="Scene file to save (.blend, .ma, .usda...).")
@click.option("--no-setup", is_flag=True, help="Safe mode: skip all asset setup code.")
@click.option("--json", "as_json", is_flag=True, help="Print the build summary as JSON on stdout.")
@click.option("--json-file", "json_out", metavar="FILE", default="",
              help="Also write the JSON summary to FILE.")
@pass_state
def batch_build(
    state: State, host: str, spec: str, output: str, no_setup: bool, as_json: bool, json_out: str
) -> int:
    """Build SPEC's scene in HOST from the installed packages, run setup code, save it."""
    import json
    import os
    import tempfile
    from pathlib import Path

    from setpiece.hosts.launching import batch_build as run

    ws = _workspace(state)
    if not as_json:
        return run(host, ws, spec, output, no_setup=no_setup, json_out=json_out)
    # the app writes the summary to a file (its own stdout goes to stderr); print it here
    target = json_out
    if not target:
        fd, target = tempfile.mkstemp(prefix="setpiece-build-", suffix=".json")
        os.close(fd)
    try:
        code = run(host, ws, spec, output, no_setup=no_setup, json_out=target)
        text = Path(target).read_text(encoding="utf-8") if Path(target).is_file() else ""
        if text.strip():
            echo_json(json.loads(text))
    finally:
        if not json_out:
            os.unlink(target)
    return code


@batch.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("script", type=click.Path(dir_okay=False))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--no-setup", is_flag=True, help="Safe mode: skip all asset setup code.")
@pass_state
def batch_run(state: State, host: str, script: str, args: tuple[str, ...], no_setup: bool) -> int:
    """Run SCRIPT (with ARGS) headless in HOST; exits with the script's status."""
    from setpiece.hosts.launching import batch_run as run

    return run(host, _workspace(state, required=False), script, args, no_setup=no_setup)



@batch.command("publish")
@click.argument("host")
@click.argument("scene", type=click.Path(dir_okay=False))
@click.option("--asset", metavar="NAME", help="Output asset to publish (default: found from the scene).")
@click.option("--repo", "repo_name", metavar="R", help="Target repo (default: the workspace's default repo).")
@click.option("--repair", is_flag=True, help="Run the Repair actions of failed validators, save, publish again.")
@click.option("--json", "as_json", is_flag=True, help="Print the publish report as JSON.")
@click.option("--no-setup", is_flag=True, help="Safe mode: skip all asset code.")
@pass_state
def batch_publish(
    state: State, host: str, scene: str, asset: str | None, repo_name: str | None,
    repair: bool, as_json: bool, no_setup: bool,
) -> int:
    """Publish SCENE headless from HOST (pyblish: collect, validate, extract, integrate)."""
    import os

    from setpiece.hosts.publish.cli import batch_publish as run

    if state.quiet or as_json:  # the app's own progress line stays off as well
        os.environ["SETPIECE_NO_PROGRESS"] = "1"
    code, report = run(host, _workspace(state), scene, asset=asset, repo=repo_name,
                       repair=repair, no_setup=no_setup)
    if as_json and report is not None:
        echo_json(report)
    return code

@click.command()
@click.argument("host")
@click.option("--workdir", default=None, help="Where the sample, export and saved scene go.")
@pass_state
def selftest(state: State, host: str, workdir: str | None) -> int:
    """Check setpiece's HOST adapter inside the real app and print a pass/fail report."""
    from setpiece.hosts.launching import selftest as run

    argv = ["--workdir", workdir] if workdir else []
    return run(host, _workspace(state, required=False), argv)
