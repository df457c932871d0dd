"""The ``setpiece`` command line: a thin layer over ``setpiece.core.Workspace``.

Commands are imported only when run (``setpiece --help`` imports no command module);
setpiece-usd and setpiece-hosts add theirs through the ``setpiece.cli`` entry point group.
Exit codes: 0 success, 1 user error (one line on stderr), 2 usage error.
"""

from __future__ import annotations

import sys
from typing import Any

import click

# name -> (module:attribute, one-line help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("setpiece.core.cli.workspace_cmds:init", "Create a workspace."),
    "repo": ("setpiece.core.cli.workspace_cmds:repo", "Add, list or remove repos."),
    "list": ("setpiece.core.cli.workspace_cmds:list_", "List installed, output or published assets."),
    "versions": ("setpiece.core.cli.workspace_cmds:versions", "Published versions of an asset."),
    "info": ("setpiece.core.cli.workspace_cmds:info", "An asset's version, kind and dependencies."),
    "events": ("setpiece.core.cli.events_cmds:events", "Read, replay and forward event logs (workspace, repos)."),
    "affected": ("setpiece.core.cli.affected_cmd:affected", "What a published version reaches: assets and scenes."),
    "react": ("setpiece.core.cli.react_cmd:react", "Run reactions on new events (a service, or --once)."),
    "create": ("setpiece.core.cli.asset_cmds:create", "Create a new editable asset in outputs/."),
    "clone": ("setpiece.core.cli.code_cmds:clone", "Make a new editable asset from an existing one's content."),
    "casting": ("setpiece.core.cli.code_cmds:casting", "Pin assets into a casting (a playlist, a set dressing)."),
    "generate": ("setpiece.core.cli.code_cmds:generate", "Run an asset's generator; publish only when the result changed."),
    "require": ("setpiece.core.cli.asset_cmds:require", "Add dependencies to an output asset."),
    "unrequire": ("setpiece.core.cli.asset_cmds:unrequire", "Remove a dependency from an output asset."),
    "bump": ("setpiece.core.cli.asset_cmds:bump", "Bump an output asset's version."),
    "build": ("setpiece.core.cli.asset_cmds:build", "Build an output asset's wheel into build/."),
    "publish": ("setpiece.core.cli.asset_cmds:publish", "Build and publish an output asset to a repo."),
    "edit": ("setpiece.core.cli.asset_cmds:edit", "Turn a published version into an editable output."),
    "promote": ("setpiece.core.cli.asset_cmds:promote", "Copy a published version to another repo."),
    "yank": ("setpiece.core.cli.asset_cmds:yank", "Mark a published version yanked (installs skip it)."),
    "install": ("setpiece.core.cli.install_cmds:install", "Install assets into inputs/ from the repos."),
    "uninstall": ("setpiece.core.cli.install_cmds:uninstall", "Uninstall assets from inputs/."),
    "external": ("setpiece.core.cli.install_cmds:external", "Manage non-asset wheels in external_packages/."),
    "freeze": ("setpiece.core.cli.install_cmds:freeze", "Write the exact installed set with hashes."),
    "sync": ("setpiece.core.cli.install_cmds:sync", "Recreate inputs/ exactly from a lock file."),
    "files": ("setpiece.core.cli.files_cmds:files", "Track, push and pull an asset's big files (dvc)."),
    "pipeline": ("setpiece.core.cli.pipeline_cmds:pipeline", "An asset's dvc pipeline: stages remade when inputs change."),
    "farm": ("setpiece.core.cli.farm_cmds:farm", "Submit farm jobs and follow them (local, Dask, OpenCue, OpenJD)."),
    "demo": ("setpiece.core.cli.demo_cmd:demo", "Run the demo: a workspace with sample assets."),
    "report": ("setpiece.core.cli.report_cmd:report", "Write one file to attach to a problem report."),
}


def _load(target: str) -> click.Command:
    from setpiece.core.targets import load

    cmd = load(target)
    assert isinstance(cmd, click.Command)
    return cmd


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def _plugins(self) -> dict[str, Any]:
        if not hasattr(self, "_plugin_cache"):
            from importlib.metadata import entry_points

            self._plugin_cache = {ep.name: ep for ep in entry_points(group="setpiece.cli")}
        return self._plugin_cache

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self._plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return accept_global_options(_load(COMMANDS[cmd_name][0]))
        ep = self._plugins().get(cmd_name)
        if ep is None:
            return None
        try:
            cmd = ep.load()
        except ImportError as exc:
            from setpiece.core.errors import SetpieceError

            raise SetpieceError(
                f"command '{cmd_name}' is unavailable ({exc}): reinstall its package ({ep.value})"
            )
        return accept_global_options(cmd) if isinstance(cmd, click.Command) else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in COMMANDS:
                rows.append((name, COMMANDS[name][1]))
            else:
                try:
                    cmd = self.get_command(ctx, name)
                except Exception as exc:  # a broken plugin must not break --help
                    rows.append((name, f"(unavailable: {exc})"))
                    continue
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(60)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class State:
    """Options shared by every command (``-w``, ``-q``)."""

    def __init__(self, workspace: str | None, quiet: bool) -> None:
        self.workspace_path = workspace
        self.quiet = quiet
        self._progress: Any = None

    def report(self, message: str) -> None:
        if not self.quiet:
            if self._progress is not None:
                self._progress.echo(message)
            else:
                click.echo(message, err=True)

    @property
    def progress(self) -> Any:
        """The progress line (``setpiece.core.progress``): on only for a terminal's stderr,
        never with ``-q`` or with the running command's ``--json``."""
        if self._progress is None:
            from setpiece.core.progress import Progress

            ctx = click.get_current_context(silent=True)
            as_json = bool(ctx is not None and ctx.params.get("as_json"))
            self._progress = Progress.for_terminal(quiet=self.quiet, as_json=as_json)
        return self._progress

    def finish(self) -> None:
        """Erase a progress line left shown (before the error line, or at the end)."""
        if self._progress is not None:
            self._progress.close_all()

    def workspace(self) -> Any:
        from setpiece.core.workspace import Workspace

        ws = Workspace.find(self.workspace_path, reporter=self.report)
        ws.progress = self.progress
        return ws


pass_state = click.make_pass_decorator(State)


def _set_workspace(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    state = ctx.find_object(State)
    if value is not None and state is not None:
        state.workspace_path = value


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    state = ctx.find_object(State)
    if value and state is not None:
        state.quiet = True


def accept_global_options(cmd: click.Command) -> click.Command:
    """Let ``-w/--workspace`` and ``-q/--quiet`` come after the command too, as in uv and git
    (``setpiece list -w DIR``). Added once, hidden from each command's help (the top-level
    help documents them); never to a command that passes its arguments on unparsed
    (``batch run SCRIPT ARGS``), whose ``-q`` belongs to the script."""
    if getattr(cmd, "_setpiece_globals", False):
        return cmd
    cmd._setpiece_globals = True  # type: ignore[attr-defined]
    unparsed = any(isinstance(p, click.Argument) and p.type is click.UNPROCESSED
                   for p in cmd.params)
    taken = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
    if not unparsed and not taken & {"-w", "--workspace"}:
        cmd.params.append(click.Option(
            ["-w", "--workspace", "_sp_workspace"], metavar="PATH", hidden=True,
            expose_value=False, is_eager=True, callback=_set_workspace))
    if not unparsed and not taken & {"-q", "--quiet"}:
        cmd.params.append(click.Option(
            ["-q", "--quiet", "_sp_quiet"], is_flag=True, hidden=True, expose_value=False,
            is_eager=True, callback=_set_quiet))
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            accept_global_options(sub)
    return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-w", "--workspace", metavar="PATH", envvar="SETPIECE_WORKSPACE",
              help="Workspace folder (default: $SETPIECE_WORKSPACE, else found from the current folder).")
@click.option("-q", "--quiet", is_flag=True, help="Print only results and errors.")
@click.version_option(package_name="setpiece-core", prog_name="setpiece")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, quiet: bool) -> None:
    """setpiece: versioned assets, built into scenes, in every DCC."""
    ctx.obj = State(workspace, quiet)
    ctx.call_on_close(ctx.obj.finish)  # also on an error: the line is gone before 'error: ...'


def echo_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def main(argv: list[str] | None = None) -> int:
    import time

    from setpiece.core import actions

    args = list(sys.argv[1:] if argv is None else argv)
    started = time.time()
    with _traced(args) as span:
        try:
            code, error = _dispatch(args)
        except BaseException as exc:
            if not isinstance(exc, SystemExit):  # an unexpected error: keep its traceback
                import traceback

                actions.record(args, 1, started, f"{type(exc).__name__}: {exc}",
                               traceback.format_exc())
            raise
        span.set(exit_code=code)
        if code:
            span.fail(error or f"exit {code}", _ERROR_KINDS.get(code, "error"))
    actions.record(args, code, started, error)
    if args in ([], ["-h"], ["--help"]) and code in (0, 2):
        _keep_help()
    return code


def _keep_help() -> None:
    """Keep the top-level help as click renders it, for ``setpiece.core.quickhelp``."""
    try:
        from setpiece.core import quickhelp

        with cli.make_context("setpiece", [], resilient_parsing=True) as ctx:
            text = ctx.get_help()
        files = [__file__]
        for ep in cli._plugins().values():
            module = sys.modules.get(ep.module)
            if module is not None and getattr(module, "__file__", None):
                files.append(str(module.__file__))
        quickhelp.keep_help(text, files)
    except Exception:  # a cache: never fails the help itself
        pass


_ERROR_KINDS = {1: "error", 2: "usage", 130: "interrupted"}


def _words(args: list[str]) -> list[str]:
    """The command and sub-command words of ``args`` (``-w PATH`` and options skipped)."""
    from setpiece.core.actions import command_words

    return command_words(args)


def tool_name(args: list[str]) -> str:
    """``files push`` for ``setpiece -q files push Chair``: the command (and the sub-command
    of a group) that ran, as the ``setpiece.tool.uses`` metric counts it."""
    words = _words(args)
    if not words:
        return ""
    name = words[0]
    if len(words) > 1:
        try:
            cmd = cli.get_command(click.Context(cli), name)
        except Exception:
            cmd = None
        if isinstance(cmd, click.Group) and words[1] in cmd.commands:
            name += f" {words[1]}"
    return name


class _traced:
    """The span around one command (none for ``--help``, ``--version`` or no command: they
    never import OpenTelemetry); counts the tool's use and writes the metrics after it."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        words = _words(args)
        before = args[:args.index(words[0])] if words else args  # 'create --version 1.0'
        self.on = bool(words) and not {"-h", "--help"} & set(args) and "--version" not in before

    def __enter__(self) -> Any:
        if not self.on:
            return self  # set/fail/rename below do nothing: no telemetry import for help
        from setpiece.core import actions, telemetry

        telemetry.start(actions.workspace_arg(self.args), host="cli")
        self.cm = telemetry.span(f"setpiece {_words(self.args)[0]}",
                                 args=[actions.redact_urls(a) for a in self.args])
        self.span = self.cm.__enter__()
        return self.span

    def set(self, **attributes: Any) -> None:
        pass

    def fail(self, message: str, kind: str = "error") -> None:
        pass

    def rename(self, name: str) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        if not self.on:
            return
        from setpiece.core import telemetry

        tool = tool_name(self.args)
        self.span.set(command=tool)
        self.span.rename(f"setpiece {tool}")
        self.cm.__exit__(*exc)
        telemetry.tool_used(tool)
        telemetry.flush()


def _dispatch(args: list[str]) -> tuple[int, str | None]:
    """Run the command; (exit code, the one-line error shown, if any)."""
    from setpiece.core.errors import SetpieceError

    try:
        rv = cli.main(args=args, prog_name="setpiece", standalone_mode=False)
    except SetpieceError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code, f"error: {exc}"
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1, "aborted"
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code, f"{type(exc).__name__}: {exc.format_message()}"
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130, "interrupted"
    except BrokenPipeError:
        return 1, "broken pipe"
    return (rv if isinstance(rv, int) else 0), None


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
