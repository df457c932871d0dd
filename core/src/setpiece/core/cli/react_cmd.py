"""``setpiece react``: run the workspace's reactions on the events of its repos or the bus."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from setpiece.core.cli import State, echo_json, pass_state


@click.command()
@click.option("--once", is_flag=True, help="Process what is pending, then exit (cron, farm jobs).")
@click.option("--source", type=click.Choice(["auto", "log", "bus"]), default="auto",
              show_default=True,
              help="Where events come from: the repo logs, the bus ([events] bus), or "
                   "auto (the bus when one is configured).")
@click.option("--since", metavar="ID|TIME",
              help="Where a new cursor or consumer group starts (default: the beginning).")
@click.option("--poll", type=float, default=0.1, show_default=True,
              help="Seconds between two reads of the repo logs.")
@click.option("--no-asset-code", is_flag=True,
              help="Safe mode: skip the reactions installed assets declare.")
@click.option("--list", "list_", is_flag=True, help="List the reactions and their state, then exit.")
@click.option("--json", "as_json", is_flag=True,
              help="JSON: with --once or --list one document; else one line per outcome.")
@pass_state
def react(state: State, once: bool, source: str, since: str | None, poll: float,
          no_asset_code: bool, list_: bool, as_json: bool) -> int:
    """Run the reactions of setpiece.toml and of installed assets on new events.

    A long-running service (stopped cleanly by SIGTERM or Ctrl-C: the reaction under
    way finishes, state is saved) unless --once. Each reaction re-runs only when the
    hash of its inputs changed; see docs/events.md.
    """
    from setpiece.core.reactions import Engine, load_reactions
    from setpiece.core.reactions.engine import Outcome

    ws = state.workspace()
    reactions = load_reactions(ws, asset_code=not no_asset_code)
    engine = Engine(ws, reactions, report=state.report)
    if list_:
        rows = [{**r.to_json(), "state": engine.store.load(r.name).to_json()}
                for r in engine.reactions]
        if as_json:
            echo_json(rows)
        else:
            for row in rows:
                st = row["state"]
                click.echo(f"{row['name']}: {row['do']} ({st['status']}, {st['runs']} run(s))")
        return 0
    if not reactions:
        from setpiece.core.errors import SetpieceError

        raise SetpieceError(
            f"no reactions in {ws.config.path} or the installed assets: add a [[reactions]] "
            "table (see docs/events.md)"
        )
    bus_url = ws.config.section("events").get("bus")
    use_bus = source == "bus" or (source == "auto" and bool(bus_url))
    since_id = None
    if since:
        from setpiece.core.eventlog import is_id, parse_since

        if use_bus and not is_id(since.strip()):
            from setpiece.core.errors import SetpieceError

            raise SetpieceError(
                f"--since '{since}': with the bus, a consumer group starts after an event id "
                "(from 'setpiece events --json'), not a time; or use --source log"
            )
        since_id = parse_since(since)

    def show(o: Outcome) -> None:
        if as_json and not once:
            click.echo(json.dumps(o.to_json(), sort_keys=True, default=str))
            sys.stdout.flush()
        elif not as_json:
            click.echo(o.line())

    with engine.store.lock():
        if use_bus:
            from setpiece.core.reactions.sources import serve_bus

            state.report(f"reacting to the bus {bus_url} ({len(reactions)} reaction(s))")
            summary = serve_bus(engine, ws, once=once, since=since_id, on_outcome=show)
        else:
            from setpiece.core.reactions.service import serve
            from setpiece.core.reactions.sources import RepoLogSource, needs_workspace_log

            src = RepoLogSource(ws, engine.store.folder, since=since_id,
                                workspace_log=needs_workspace_log(reactions))
            state.report(f"reacting to {len(src.logs)} log(s) ({len(reactions)} reaction(s))")
            summary = serve(engine, src, once=once, poll=poll, on_outcome=show)
    result: dict[str, Any] = summary.to_json()
    if as_json and once:
        echo_json(result)
    else:
        counts = ", ".join(f"{n} {s}" for s, n in result["counts"].items() if n)
        stopped = f"; stopped by {summary.stopped_by}" if summary.stopped_by else ""
        state.report(f"{summary.events} event(s): {counts or 'nothing to do'}{stopped}")
    return 1 if summary.count("failed") and once else 0
