"""``setpiece repo sync``: replicate a closure between repos (sites), now or as a farm job."""

from __future__ import annotations

import click

from setpiece.core.cli import State, echo_json, pass_state


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


@click.command("sync")
@click.argument("source")
@click.argument("dest")
@click.argument("reqs", nargs=-1, metavar="[REQ]...")
@click.option("--dry-run", is_flag=True, help="Say what would move (counts and bytes); move nothing.")
@click.option("--farm", "on_farm", is_flag=True, help="Submit the sync as a farm job instead of running it.")
@click.option("--priority", type=click.IntRange(min=0), default=None,
              help="With --farm: the job's priority (higher first on backends that order jobs).")
@click.option("--backend", "-b", metavar="B", help="With --farm: the farm backend (default: [farm] backend).")
@click.option("--wait", is_flag=True, help="With --farm: wait for the job to end, showing progress.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def repo_sync(state: State, source: str, dest: str, reqs: tuple[str, ...], dry_run: bool,
              on_farm: bool, priority: int | None, backend: str | None, wait: bool,
              as_json: bool) -> None:
    """Copy into repo DEST what REQ's closure needs from repo SOURCE (every version with no REQ).

    Wheels, the files their pointers name (into DEST's files remote) and the repo's events
    about them; only what DEST lacks moves, each byte checked by hash on arrival. The same
    version with other bytes in both is refused (nothing moves). Run it again after an
    interruption: it finishes the job.
    """
    from setpiece.core.errors import BadInput

    ws = state.workspace()
    if not on_farm and (priority is not None or backend or wait):
        raise BadInput("--priority, --backend and --wait are for a farm job: add --farm")
    if on_farm:
        if dry_run:
            raise BadInput("--dry-run runs here, not on the farm: drop --farm to see what "
                                "would move")
        _submit(state, ws, source, dest, reqs, priority, backend, wait, as_json)
        return
    from setpiece.core.sites.sync import sync

    result = sync(ws, source, dest, reqs, dry_run=dry_run)
    if as_json:
        echo_json(result)
        return
    verb = "would copy" if dry_run else "copied"
    what = " ".join(reqs) or "every version"
    click.echo(
        f"{source} -> {dest} ({what}): {result['versions']} version(s) in the closure; {verb} "
        f"{result['wheels']} wheel(s) ({_human(result['wheel_bytes'])}), {result['objects']} "
        f"file(s) ({_human(result['object_bytes'])}), {result['events']} event(s)")
    if result["external"]:
        state.report(f"not in repo '{source}' (external packages, not synced): "
                     f"{', '.join(result['external'])}")


def _submit(state: State, ws: object, source: str, dest: str, reqs: tuple[str, ...],
            priority: int | None, backend: str | None, wait: bool, as_json: bool) -> None:
    import sys

    from setpiece.core.cli.farm_cmds import submit_job
    from setpiece.core.farm.model import Job, Layer

    root = str(ws.root)  # type: ignore[attr-defined]
    name = f"sync-{source}-{dest}"
    command = [sys.executable, "-m", "setpiece.core.cli", "-w", root, "repo", "sync", source,
               dest, *reqs]
    job = Job(name=name, layers=[Layer("sync", command=command, frames="1", kind="single",
                                       retries=2)],
              priority=100 if priority is None else priority)
    submit_job(state, job, backend, wait, None, as_json)
