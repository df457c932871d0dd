"""What a reaction runs: the action contract and the built-in actions.

An action is an object with ``run(ctx) -> ActionResult | None`` and, optionally,
``inputs(ctx) -> Mapping`` (what the run depends on besides its parameters and code:
hashed before the run; the same hash as the last successful run means nothing to do)
and ``code() -> Mapping[str, str | None]`` (the source it runs, hashed; default: the
module the action is defined in).

Built-ins: ``notify`` and ``command`` (here), ``pipeline.run`` (``setpiece pipeline run``
when installed), and ``scene.rebuild`` from setpiece-usd, found through the entry point
group ``setpiece.actions`` (core never imports usd).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import append_line
from setpiece.core.reactions.declare import Reaction
from setpiece.core.reactions.hashing import digest_json, event_asset, subject_digest

ACTIONS_GROUP = "setpiece.actions"


class Abandoned(Exception):
    """The service was told to stop while an action ran: nothing recorded, run again later."""


@dataclass
class ActionResult:
    """What a run made. ``outputs``: files whose bytes are the reaction's output (hashed:
    unchanged bytes stop the reactions downstream); ``artifacts``: other files it wrote
    (listed, not hashed, e.g. a ``.blend`` whose bytes differ on every save);
    ``output_digest``: the output's hash when it is not files."""

    outputs: list[Path] = field(default_factory=list)
    artifacts: list[Path] = field(default_factory=list)
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    output_digest: str | None = None


@dataclass
class ReactionContext:
    """Everything a run gets: the workspace, the reaction, the triggering event."""

    workspace: Any
    reaction: Reaction
    event: dict[str, Any]
    upstream: dict[str, str | None] = field(default_factory=dict)  # after-name -> output hash
    report: Callable[[str], None] = lambda _m: None
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def params(self) -> dict[str, Any]:
        return self.reaction.params

    @property
    def cancelled(self) -> bool:
        return self.stop.is_set()

    def path(self, value: str | os.PathLike[str]) -> Path:
        """A parameter path: relative ones are in the workspace."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else Path(self.workspace.root) / p

    def format(self, template: str, *, shell: bool = False) -> str:
        """``template`` with the event's fields (``{asset}``, ``{version}``, ``{repo}``...).
        With ``shell``, each value is quoted for the shell: events come from shared folders
        and the bus, and a field such as a publish comment is free text."""
        fields = {k: v for k, v in self.event.items() if isinstance(v, (str, int, float))}
        fields.setdefault("asset", event_asset(self.event))
        fields.setdefault("name", event_asset(self.event))
        fields["reaction"] = self.reaction.name
        if shell:
            quote = subprocess.list2cmdline if os.name == "nt" else None
            fields = {k: (quote([str(v)]) if quote else shlex.quote(str(v)))
                      for k, v in fields.items()}
        try:
            return template.format_map(_Missing(fields))
        except (ValueError, IndexError) as exc:
            raise SetpieceError(
                f"reaction '{self.reaction.name}': cannot fill {template!r} ({exc}): "
                "use {asset}, {version}, {repo}, {event}, {reaction}"
            )


class _Missing(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


class Action(Protocol):
    def run(self, ctx: ReactionContext) -> ActionResult | None: ...


def default_inputs(ctx: ReactionContext) -> dict[str, Any]:
    """A reaction's inputs unless its action says otherwise: the triggering event's
    subject (asset, version, wheel sha256), or for a reaction run after others, nothing
    more than their outputs."""
    if ctx.reaction.after:
        return {}
    return {"subject": subject_digest(ctx.workspace, ctx.event)}


# -- notify ---------------------------------------------------------------------------


class Notify:
    """``notify``: a message (``with.message``, filled from the event) appended as one
    line to ``with.file`` (a workspace path) and/or passed to ``with.hook``
    (``"module:function"``, called with the message and the context)."""

    def run(self, ctx: ReactionContext) -> ActionResult:
        message = ctx.format(str(ctx.params.get("message", "{reaction}: {asset} {version} {event}")))
        out = ActionResult(message=message, output_digest=digest_json(message))
        target = ctx.params.get("file")
        if target:
            path = ctx.path(str(target))
            line = (message.replace("\n", " ") + "\n").encode("utf-8")
            append_line(path, line, durable=True)  # one write of one line: whole or not at all
            out.artifacts.append(path)
        hook = ctx.params.get("hook")
        if hook:
            _load(str(hook), f"reaction '{ctx.reaction.name}' hook")(message, ctx)
        ctx.report(message)
        return out


def _load(target: str, what: str) -> Callable[..., Any]:
    from setpiece.core.targets import load

    try:
        obj: Any = load(target)
    except (ImportError, AttributeError) as exc:
        raise SetpieceError(f"{what} {target!r} cannot be loaded ({exc}): fix the name")
    if not callable(obj):
        raise SetpieceError(f"{what} {target!r} is not callable")
    return obj  # type: ignore[no-any-return]


# -- command --------------------------------------------------------------------------


class Command:
    """``command``: ``with.run`` (a shell command, filled from the event) run in the
    workspace folder with ``SETPIECE_EVENT`` (the event as JSON), ``SETPIECE_ASSET``,
    ``SETPIECE_VERSION``, ``SETPIECE_WORKSPACE`` and ``SETPIECE_REACTION`` set.
    ``with.outputs``: the files it writes (their bytes are its output; else its stdout
    is); ``with.timeout``: seconds (default 3600). A non-zero exit fails the reaction."""

    def run(self, ctx: ReactionContext) -> ActionResult:
        command = ctx.params.get("run")
        if not isinstance(command, str) or not command.strip():
            raise SetpieceError(
                f"reaction '{ctx.reaction.name}': do = \"command\" needs with.run = \"...\""
            )
        env = {
            **os.environ,
            "SETPIECE_EVENT": json.dumps(ctx.event, sort_keys=True, default=str),
            "SETPIECE_ASSET": event_asset(ctx.event),
            "SETPIECE_VERSION": str(ctx.event.get("version", "")),
            "SETPIECE_WORKSPACE": str(ctx.workspace.root),
            "SETPIECE_REACTION": ctx.reaction.name,
            "TRACEPARENT": _traceparent(),  # setpiece commands it runs join the trace
        }
        timeout = float(ctx.params.get("timeout", 3600))
        proc = subprocess.Popen(
            ctx.format(command, shell=True), shell=True, cwd=ctx.workspace.root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
        stdout, stderr = _wait(proc, ctx, timeout)
        if proc.returncode != 0:
            last = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise SetpieceError(
                f"reaction '{ctx.reaction.name}': command exited {proc.returncode}: {last[0]}"
            )
        outputs = [ctx.path(str(p)) for p in ctx.params.get("outputs", [])]
        missing = [str(p) for p in outputs if not p.is_file()]
        if missing:
            raise SetpieceError(
                f"reaction '{ctx.reaction.name}': the command did not write {', '.join(missing)}"
            )
        text = stdout.decode(errors="replace").strip()
        return ActionResult(
            outputs=outputs,
            message=text.splitlines()[-1] if text else "",
            output_digest=None if outputs else digest_json(text),
        )


def _traceparent() -> str:
    from setpiece.core.events import current_traceparent

    return current_traceparent()


def _wait(proc: subprocess.Popen[bytes], ctx: ReactionContext, timeout: float) -> tuple[bytes, bytes]:
    """Wait for ``proc``; on a stop request or the timeout, end its process group."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return proc.communicate(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
        if ctx.cancelled or time.monotonic() > deadline:
            _end_group(proc)
            if ctx.cancelled:
                raise Abandoned(f"reaction '{ctx.reaction.name}': stopped while its command ran")
            raise SetpieceError(
                f"reaction '{ctx.reaction.name}': command ran over its timeout of {timeout:g} s"
            )


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()


# -- pipeline.run -----------------------------------------------------------------------


class PipelineRun:
    """``pipeline.run``: ``setpiece pipeline run ASSET`` for the event's asset (or
    ``with.asset``), when a package provides that command; else a clear "not yet".
    ``with.update = true``: first install the published version (``install NAME==VER
    --no-record``, which pulls its files), so a stage depending on ``NAME:path`` reads it."""

    def inputs(self, ctx: ReactionContext) -> dict[str, Any]:
        return default_inputs(ctx)

    def run(self, ctx: ReactionContext) -> ActionResult:
        from setpiece.core.cli import COMMANDS, LazyGroup, cli

        group = cli if isinstance(cli, LazyGroup) else None
        available = "pipeline" in COMMANDS or (
            group is not None and "pipeline" in group._plugins()
        )
        if not available:
            raise SetpieceError(
                f"reaction '{ctx.reaction.name}': asset pipelines are not available yet "
                "('setpiece pipeline run' is not installed): install the package that "
                "provides it, or use do = \"command\""
            )
        asset = str(ctx.params.get("asset") or event_asset(ctx.event))
        exe = Path(sys.executable).parent / "setpiece"
        ctx_params = dict(ctx.params)
        base = [str(exe), "-w", str(ctx.workspace.root)]
        steps = [[*base, "pipeline", "run", asset]]
        published, version = event_asset(ctx.event), str(ctx.event.get("version") or "")
        from setpiece.core.naming import normalize

        if (ctx_params.pop("update", False) and published and version
                and normalize(published) != normalize(asset)):
            steps.insert(0, [*base, "install", f"{published}=={version}", "--no-record"])
        ctx_params["run"] = " && ".join(" ".join(shlex.quote(a) for a in s) for s in steps)
        sub = ReactionContext(
            ctx.workspace, Reaction(ctx.reaction.name, "command", params=ctx_params),
            ctx.event, ctx.upstream, ctx.report, ctx.stop,
        )
        return Command().run(sub)


BUILTINS: dict[str, Callable[[], Any]] = {
    "notify": Notify,
    "command": Command,
    "pipeline.run": PipelineRun,
}


def action_for(reaction: Reaction) -> Any:
    """The action object that runs ``reaction``."""
    if reaction.do == "entry-point":
        return reaction.target
    make = BUILTINS.get(reaction.do)
    if make is not None:
        return make()
    from importlib.metadata import entry_points

    for ep in entry_points(group=ACTIONS_GROUP):
        if ep.name == reaction.do:
            try:
                return ep.load()()
            except ImportError as exc:
                raise SetpieceError(
                    f"action '{reaction.do}' is unavailable ({exc}): install {ep.value.split('.')[1]}"
                )
    need = "setpiece-usd" if reaction.do.startswith("scene.") else "the package that provides it"
    raise SetpieceError(
        f"reaction '{reaction.name}': action '{reaction.do}' is not installed: install {need}"
    )


def run_action(action: Any, ctx: ReactionContext) -> ActionResult:
    run = getattr(action, "run", None)
    result = run(ctx) if callable(run) else action(ctx)
    if result is None:
        return ActionResult()
    if not isinstance(result, ActionResult):
        raise SetpieceError(
            f"reaction '{ctx.reaction.name}' returned {type(result).__name__}: return an "
            "ActionResult or None"
        )
    return result


def inputs_of(action: Any, ctx: ReactionContext) -> Mapping[str, Any]:
    fn = getattr(action, "inputs", None)
    return fn(ctx) if callable(fn) else default_inputs(ctx)
