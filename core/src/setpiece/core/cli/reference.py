"""Write the CLI reference (docs/cli.md) from the commands' own help.

    python -m setpiece.core.cli.reference > docs/cli.md

A test checks the committed page against this output, so the reference never drifts.
"""

from __future__ import annotations

import inspect

import click

from setpiece.core.cli import cli

INTRO = """# CLI reference

Generated from the commands' own `--help` by `python -m setpiece.core.cli.reference`
(a test fails when this page is out of date). Every command accepts the global options
`-w/--workspace PATH` (else `$SETPIECE_WORKSPACE`, else the nearest folder upwards with a
`setpiece.toml`) and `-q/--quiet`, before or after the command. Exit codes: `0` success, `1` a user error (one line
on stderr starting with `error:`), `2` a usage error. Listings take `--json`.

Long work (files pull and push, install, build, publish, scene build) draws one progress
line on stderr, rewritten in place and erased when done, only when stderr is a terminal:
never with `-q`, `--json`, a pipe or `SETPIECE_NO_PROGRESS=1`.
"""


def _walk(cmd: click.Command, path: list[str], ctx: click.Context) -> list[str]:
    out: list[str] = []
    sub_ctx = click.Context(cmd, info_name=path[-1], parent=ctx)
    title = " ".join(path)
    lead = getattr(ctx.command, "lead_argument", None)  # ``batch HOST build``: HOST first
    if lead:
        title = " ".join([*path[:-1], lead, path[-1]])
    out.append(f"## {title}\n")
    if isinstance(cmd, click.Group):
        # cleandoc: Python 3.13 dedents docstrings itself, earlier ones do not
        out.append(inspect.cleandoc(cmd.help or "") + "\n")
    else:
        text = cmd.get_help(sub_ctx)
        if lead:
            text = text.replace(f"{' '.join(path)} [OPTIONS] {lead}", f"{title} [OPTIONS]")
        out.append("```\n" + text + "\n```\n")
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(sub_ctx):
            sub = cmd.get_command(sub_ctx, name)
            if sub is not None and not sub.hidden:
                out.extend(_walk(sub, [*path, name], sub_ctx))
    return out


def render() -> str:
    root_ctx = click.Context(cli, info_name="setpiece", help_option_names=["-h", "--help"])
    parts = [INTRO, "```\n" + cli.get_help(root_ctx) + "\n```\n"]
    for name in cli.list_commands(root_ctx):
        cmd = cli.get_command(root_ctx, name)
        if cmd is not None and not cmd.hidden:
            parts.extend(_walk(cmd, ["setpiece", name], root_ctx))
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(render())
