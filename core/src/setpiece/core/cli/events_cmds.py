"""``setpiece events``: read the workspace's or a repo's log; replay a window; forward to the bus."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from setpiece.core.cli import State, pass_state

_HIDDEN = ("id", "time", "event", "user", "host", "site", "traceparent", "workspace")


def _window(state: State, repo: str | None, since: str | None, until: str | None,
            names: tuple[str, ...], asset: str | None) -> Iterator[Any]:
    from setpiece.core import eventlog

    ws = state.workspace()
    source: eventlog.EventLog = (
        eventlog.repo_log(ws, ws.repo(repo)) if repo else eventlog.WorkspaceLog(ws.root)
    )
    return eventlog.read(
        source, eventlog.parse_since(since), until=eventlog.parse_until(until),
        names=names or None, asset=asset,
    )


def _line(e: Any) -> str:
    import time

    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time))
    rest = {k: v for k, v in e.data.items() if k not in _HIDDEN}
    who = f"{e.get('user', '?')}@{e.get('host', '?')}"
    return f"{when} {e.name:<12} {who}: " + " ".join(f"{k}={v}" for k, v in sorted(rest.items()))


_window_options = [
    click.option("--repo", metavar="R", help="Read repo R's own log (default: the workspace's log)."),
    click.option("--since", metavar="TIME|ID", help="After this event id, or from this time (2026-12-07T10:00 UTC, 2h, 7d)."),
    click.option("--event", "names", multiple=True, metavar="NAME", help="Only these events (published, promoted, ...); repeatable."),
    click.option("--asset", metavar="NAME", help="Only this asset's events."),
]


def window_options(fn: Any) -> Any:
    for option in reversed(_window_options):
        fn = option(fn)
    return fn


@click.group(invoke_without_command=True)
@window_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a line, exactly as logged.")
@click.pass_context
def events(ctx: click.Context, repo: str | None, since: str | None, names: tuple[str, ...],
           asset: str | None, as_json: bool) -> None:
    """Show the workspace's event log, or a repo's (--repo), oldest first.

    Subcommands: 'replay' re-sends a window of events to subscribers; 'forward' sends a
    repo log to the bus.
    """
    if ctx.invoked_subcommand is not None:
        return
    import json

    state = ctx.find_object(State)
    assert state is not None
    for e in _window(state, repo, since, None, names, asset):
        click.echo(json.dumps(e.data, sort_keys=True) if as_json else _line(e))


@events.command("replay")
@window_options
@click.option("--until", metavar="TIME|ID", help="Up to this event id (included) or time (excluded).")
@click.option("--json", "as_json", is_flag=True, help="Print the replay's summary as JSON.")
@pass_state
def replay(state: State, repo: str | None, since: str | None, names: tuple[str, ...],
           asset: str | None, until: str | None, as_json: bool) -> None:
    """Re-send a window of logged events to subscribers (entry points 'setpiece.events', and
    the bus if configured), each marked with this replay's id ('replay' field)."""
    from setpiece.core import eventlog
    from setpiece.core.cli import echo_json
    from setpiece.core.events import notify

    ws = state.workspace()
    replay_id = eventlog.new_id()
    window = list(_window(state, repo, since, until, names, asset))
    for e in window:
        notify(eventlog.Event(e.data, e.raw, replay_id).to_dict())
    sent_to_bus = 0
    if ws.config.section("events").get("bus"):
        from setpiece.core import bus

        sent_to_bus = bus.for_workspace(ws).replay(window, replay_id)
    result = {"replay": replay_id, "events": len(window), "bus": sent_to_bus}
    if as_json:
        echo_json(result)
    else:
        click.echo(f"Replayed {len(window)} event(s) as replay {replay_id}"
                   + (f" (bus: {sent_to_bus})" if sent_to_bus else ""))


@events.command("forward")
@click.option("--repo", "repos", multiple=True, metavar="R", help="Only this repo's log (default: every configured repo's, and the workspace's); repeatable.")
@click.option("--once", is_flag=True, help="Forward what the bus lacks, then exit (else keep forwarding until SIGTERM).")
@click.option("--interval", type=float, default=1.0, show_default=True, metavar="S", help="Seconds between passes.")
@click.option("--json", "as_json", is_flag=True, help="Print each pass's counts as JSON.")
@pass_state
def forward(state: State, repos: tuple[str, ...], once: bool, interval: float, as_json: bool) -> None:
    """Send the logs' events the bus has not got yet, in order, exactly as logged.

    Idempotent: an event already on the bus (sent by any machine) is never added twice.
    """
    import json

    from setpiece.core import bus

    ws = state.workspace()
    b = bus.for_workspace(ws)
    targets = [ws.repo(r) for r in repos] if repos else [*ws.repos().values(), None]

    def one_pass() -> dict[str, int]:
        return {("workspace" if r is None else r.name): b.forward(ws, r) for r in targets}

    if once:
        counts = one_pass()
        if as_json:
            click.echo(json.dumps(counts, sort_keys=True))
        else:
            for name, n in counts.items():
                click.echo(f"{name}: forwarded {n} event(s)")
        return
    with bus.until_terminated() as stopping:
        while not stopping.is_set():
            try:
                counts = one_pass()
            except bus.BusDown as exc:
                state.report(f"bus down ({exc}): retrying")
                counts = {}
            if any(counts.values()):
                click.echo(json.dumps(counts, sort_keys=True) if as_json else
                           " ".join(f"{k}: forwarded {v}" for k, v in counts.items() if v))
            stopping.wait(interval)


@events.command("trim")
@click.option("--older-than", "age", required=True, metavar="AGE", help="e.g. 30d: what the bus keeps (s, m, h, d).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_state
def trim(state: State, age: str, as_json: bool) -> None:
    """Trim the bus: stream entries, event-id records and processed records older than AGE.

    The repo logs are never trimmed (they are the record); 'events replay' re-sends from them.
    """
    from setpiece.core import bus
    from setpiece.core.cli import echo_json
    from setpiece.core.errors import SetpieceError

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if not (age[:-1].isdigit() and age[-1:] in units):
        raise SetpieceError(f"--older-than '{age}' is not an age: use a number and s, m, h or d (30d)")
    seconds = int(age[:-1]) * units[age[-1]]
    if seconds < 3600:
        raise SetpieceError(
            f"--older-than {age} is too short: keep at least 1h so a forwarder that lost its "
            "cursor cannot add an event twice"
        )
    b = bus.for_workspace(state.workspace())
    try:
        counts = b.trim(seconds)
    except bus.BusDown:
        raise
    except Exception as exc:  # a redis error: one line
        raise SetpieceError(f"trimming the bus at {bus.safe_url(b.url)} failed: {exc}")
    if as_json:
        echo_json(counts)
    else:
        click.echo(f"Trimmed {counts['entries']} stream entries, {counts['ids']} event ids, "
                   f"{counts['processed']} processed records")
