"""``setpiece farm ...``: submit jobs and follow them (status, logs, retry, kill).

Other packages add subcommands through the ``setpiece.farm.cli`` entry point group
(setpiece-hosts adds ``render``), loaded only when named.
"""

from __future__ import annotations

import os
from typing import Any

import click

from setpiece.core.cli import State, echo_json, pass_state

FARM_CLI_GROUP = "setpiece.farm.cli"


class FarmGroup(click.Group):
    """The farm group: its own commands plus the ``setpiece.farm.cli`` entry points."""

    def _plugins(self) -> dict[str, Any]:
        if not hasattr(self, "_plugin_cache"):
            from importlib.metadata import entry_points

            self._plugin_cache = {ep.name: ep for ep in entry_points(group=FARM_CLI_GROUP)}
        return self._plugin_cache

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            return cmd
        ep = self._plugins().get(cmd_name)
        if ep is None:
            return None
        try:
            loaded = ep.load()
        except ImportError as exc:
            from setpiece.core.errors import SetpieceError

            raise SetpieceError(f"'farm {cmd_name}' is unavailable ({exc}): reinstall {ep.value}")
        return loaded if isinstance(loaded, click.Command) else None


def farm_config(state: State, backend_options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """(FarmConfig, workspace or None): a workspace is optional when SETPIECE_FARM_DIR is set."""
    from setpiece.core.errors import SetpieceError
    from setpiece.core.farm.submitting import FarmConfig

    try:
        ws = state.workspace()
    except SetpieceError:
        if not os.environ.get("SETPIECE_FARM_DIR") or state.workspace_path:
            raise
        ws = None
    config = FarmConfig.load(ws)
    for name, options in (backend_options or {}).items():
        config.backends.setdefault(name, {}).update(options)
    return config, ws


class Progress:
    """A job's progress on the progress line (``setpiece.core.progress``: a terminal's
    stderr only, never with ``-q``, ``--json`` or a pipe): ``render 3/4 (1 running), check
    0/10`` and the time the job has run."""

    def __init__(self, state: State) -> None:
        self.line = state.progress
        self.task: Any = None

    def __call__(self, status: Any) -> None:
        if not self.line.enabled:
            return
        parts = []
        for layer, counts in status.layers.items():
            total = sum(counts.values())
            part = f"{layer} {counts.get('done', 0)}/{total}"
            if counts.get("running"):
                part += f" ({counts['running']} running)"
            if counts.get("dead"):
                part += f" ({counts['dead']} dead)"
            parts.append(part)
        if self.task is None:
            self.task = self.line.task(f"Job {status.job_id}")
        self.task.update(note=", ".join(parts))

    def close(self) -> None:
        if self.task is not None:
            self.task.close()
            self.task = None


def finish(status: Any, as_json: bool, handle: Any = None) -> None:
    """Print the end of a job; a non-zero exit naming what died when it did not finish."""
    from setpiece.core.errors import SetpieceError

    if as_json:
        data = status.to_dict()
        if handle is not None:
            data["handle"] = handle.to_dict()
        echo_json(data)
    else:
        for chunk in status.dead:
            click.echo(f"dead: layer {chunk.layer} frames {chunk.frames} (exit {chunk.exit_code}, "
                       f"{chunk.attempts} attempts): log {chunk.log}", err=True)
        click.echo(status.summary())
    if status.state != "done":
        raise SetpieceError(f"{status.summary()}: see 'setpiece farm logs {status.job_id}', fix, "
                            f"then 'setpiece farm retry {status.job_id}'")


@click.group(cls=FarmGroup)
def farm() -> None:
    """Farm jobs: layers of frames run in chunks, on this machine or a farm engine."""


@farm.command()
@click.argument("jobfile", type=click.Path(dir_okay=False))
@click.option("--backend", "-b", metavar="B", help="Backend (default: [farm] backend, else local).")
@click.option("--wait", is_flag=True, help="Wait for the job to end, showing progress.")
@click.option("--workers", type=click.IntRange(min=1), help="local: chunks at once (default: cores).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def submit(state: State, jobfile: str, backend: str | None, wait: bool, workers: int | None,
           as_json: bool) -> None:
    """Submit JOBFILE (.json or .yaml) to a backend."""
    from setpiece.core.farm.jobfile import load_job

    submit_job(state, load_job(jobfile), backend, wait, workers, as_json)


def submit_job(state: State, job: Any, backend: str | None, wait: bool, workers: int | None,
               as_json: bool) -> None:
    """Submit ``job`` and report (shared by ``submit`` and commands that build a job)."""
    from setpiece.core.farm.submitting import submit as submit_

    config, ws = farm_config(state, {"local": {"workers": workers}} if workers else None)
    progress = Progress(state)
    try:
        handle = submit_(job, backend=backend, ws=ws, wait=wait, progress=progress,
                         config=config)
        engine = config.backend_for(handle.backend)
        status = engine.wait(handle) if wait else None
    finally:
        progress.close()
    if status is not None:
        finish(status, as_json, handle)
        return
    if as_json:
        echo_json(handle.to_dict())
    else:
        click.echo(handle.job_id)
        state.report(f"submitted to {handle.backend}: follow it with 'setpiece farm status "
                     f"{handle.job_id}'")


@farm.command()
@click.argument("job", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status(state: State, job: str | None, as_json: bool) -> None:
    """Status of JOB (an id, a folder or a job name: its newest), or one line per job."""
    from setpiece.core.farm.submitting import backend_of, find_job, list_jobs

    config, _ = farm_config(state)
    if job is None:
        rows = []
        for jd in list_jobs(config):
            try:
                engine, handle = backend_of(jd, config)
                rows.append(engine.status(handle))
            except Exception as exc:  # one damaged job must not hide the others
                state.report(f"{jd.job_id}: {exc}")
        if as_json:
            echo_json([r.to_dict() for r in rows])
        else:
            for r in rows:
                click.echo(r.summary())
        return
    engine, handle = backend_of(find_job(job, config), config)
    result = engine.status(handle)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(result.summary())
    for layer, counts in result.layers.items():
        shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        click.echo(f"  {layer}: {shown}")
    for chunk in result.dead:
        click.echo(f"  dead: layer {chunk.layer} frames {chunk.frames} (exit {chunk.exit_code}): "
                   f"log {chunk.log}")


@farm.command()
@click.argument("job")
@click.argument("layer", required=False)
@click.argument("frame", required=False, type=int)
@pass_state
def logs(state: State, job: str, layer: str | None, frame: int | None) -> None:
    """Print the logs of JOB, of one LAYER, or of the chunk holding FRAME."""
    from setpiece.core.farm.submitting import backend_of, find_job

    config, _ = farm_config(state)
    engine, handle = backend_of(find_job(job, config), config)
    text = engine.logs(handle, layer, frame)
    if text:
        click.echo(text.rstrip("\n"))


@farm.command()
@click.argument("job")
@click.argument("layer", required=False)
@click.option("--wait", is_flag=True, help="Wait for the job to end, showing progress.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def retry(state: State, job: str, layer: str | None, wait: bool, as_json: bool) -> None:
    """Run JOB again: its dead chunks (of LAYER only, if given) and whatever a kill stopped.

    Finished chunks are not run again.
    """
    from setpiece.core.farm.submitting import backend_of, find_job

    config, _ = farm_config(state)
    jd = find_job(job, config)
    if layer is not None:
        jd.job().layer(layer)
    engine, handle = backend_of(jd, config)
    progress = Progress(state)
    try:
        handle = engine.retry(handle, layer, wait=wait, progress=progress)
        status = engine.wait(handle) if wait else None
    finally:
        progress.close()
    if status is not None:
        finish(status, as_json, handle)
    elif as_json:
        echo_json(handle.to_dict())
    else:
        click.echo(handle.job_id)


@farm.command()
@click.argument("job")
@click.option("--json", "as_json", is_flag=True, help="Print the job's status as JSON.")
@pass_state
def kill(state: State, job: str, as_json: bool) -> None:
    """Stop JOB: running chunks are killed, nothing more starts ('retry' resumes it)."""
    from setpiece.core.farm.submitting import backend_of, find_job

    config, _ = farm_config(state)
    engine, handle = backend_of(find_job(job, config), config)
    engine.kill(handle)
    result = engine.status(handle)
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(result.summary())
