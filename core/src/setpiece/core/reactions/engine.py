"""The reaction engine: an event in, the reactions it concerns run if their inputs changed.

For each reaction an event concerns (``on``, ``when``; see ``setpiece.core.reactions.when``):

1. an event id the reaction has already handled does nothing (``duplicate``);
2. the inputs are hashed: what the action depends on (``inputs(ctx)``: for
   ``scene.rebuild`` the resolved closure, names, versions and wheel sha256), the
   parameters, the code that runs and the outputs of the reactions it runs after. The
   same hash as the last successful run, with its outputs intact on disk, does nothing
   (``unchanged``);
3. else the action runs (``ran``) and its outputs are hashed. A failure is recorded
   (``failed``) and retried on the next trigger.

Then the reactions that run ``after`` one that ran are settled the same way: their
inputs include its output hash, so an output that came out byte-identical does not fire
them, and a failed one blocks them (``blocked``) until it succeeds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.reactions.actions import (
    Abandoned,
    ActionResult,
    ReactionContext,
    action_for,
    inputs_of,
    run_action,
)
from setpiece.core.reactions.declare import Reaction, order
from setpiece.core.reactions.hashing import code_of, digest_file, digest_json, event_asset
from setpiece.core.reactions.state import ReactionState, StateStore, now
from setpiece.core.reactions.when import matches

log = logging.getLogger("setpiece.reactions")


@dataclass
class Outcome:
    """What one reaction did with one event."""

    reaction: str
    event_id: str
    status: str  # ran | unchanged | duplicate | failed | blocked | abandoned
    trigger: str = ""  # "published Table 1.3.0" or "after kitchen-scene"
    inputs_hash: str | None = None
    output_hash: str | None = None
    output_changed: bool = False
    message: str = ""
    error: str = ""
    seconds: float = 0.0
    started: float | None = None  # wall-clock time the action started (ran/failed)
    data: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        head = f"{self.reaction}: {self.status}"
        if self.trigger:
            head += f" ({self.trigger})"
        if self.status == "ran":
            head += "; output changed" if self.output_changed else "; output unchanged"
            if self.message:
                head += f": {self.message}"
        elif self.error:
            head += f": {self.error}"
        elif self.message:
            head += f": {self.message}"
        return head

    def to_json(self) -> dict[str, Any]:
        return {
            "reaction": self.reaction,
            "event": self.event_id,
            "status": self.status,
            "trigger": self.trigger,
            "inputs_hash": self.inputs_hash,
            "output_hash": self.output_hash,
            "output_changed": self.output_changed,
            "message": self.message,
            "error": self.error,
            "seconds": round(self.seconds, 4),
            "started": self.started,
            "data": self.data,
        }


def event_id(event: Mapping[str, Any]) -> str:
    """The event's id; an event without one (an old workspace log line) is named by its
    content's hash, so the same line is the same event. A replayed event (``replay``:
    the replay's id, from ``setpiece events replay``) is ``ID@REPLAY``: it is handled
    once per replay, and its inputs' hash decides whether anything runs again."""
    found = event.get("id")
    base = str(found) if found else "sha256:" + digest_json(dict(event))[:32]
    replay = event.get("replay")
    return f"{base}@{replay}" if replay else base


def describe(event: Mapping[str, Any]) -> str:
    bits = [str(event.get("event", "?")), event_asset(event), str(event.get("version") or "")]
    return " ".join(b for b in bits if b)


class Engine:
    """Runs a workspace's reactions on events, remembering what each did."""

    def __init__(
        self,
        workspace: Any,
        reactions: Sequence[Reaction],
        store: StateStore | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        import threading

        self.workspace = workspace
        self.reactions = order(reactions)
        self.by_name = {r.name: r for r in self.reactions}
        self.store = store or StateStore(Path(workspace.root) / ".setpiece" / "reactions")
        self.report = report or (lambda _m: None)
        self.stop = threading.Event()
        self.on_start: Callable[[Reaction, dict[str, Any]], None] | None = None

    # -- entry points ---------------------------------------------------------------
    def handle(self, event: Mapping[str, Any], only: str | None = None) -> list[Outcome]:
        """Run every reaction ``event`` concerns (or only reaction ``only``), then settle
        the reactions downstream of those that ran or failed."""
        from setpiece.core.events import joined

        event = dict(event)
        with joined(event.get("traceparent")):  # what the reactions log joins its trace
            return self._handle(event, only)

    def _handle(self, event: dict[str, Any], only: str | None) -> list[Outcome]:
        out: list[Outcome] = []
        touched: list[str] = []
        for reaction in self.reactions:
            if only is not None and reaction.name != only:
                continue
            ok, _why = matches(reaction, event, self.workspace)
            if not ok:
                continue
            outcome = self._run(reaction, event, dedupe=True)
            out.append(outcome)
            if outcome.status in ("ran", "failed"):
                touched.append(reaction.name)
        if touched:
            out.extend(self.settle(event, touched))
        return out

    def settle(self, event: Mapping[str, Any] | None = None,
               changed: Iterable[str] | None = None) -> list[Outcome]:
        """Run the reactions downstream of ``changed`` (all when None) whose upstream
        outputs differ from what they last ran on."""
        dirty = set(changed) if changed is not None else None
        out: list[Outcome] = []
        cause = dict(event or {"event": "settle", "id": f"settle:{time.time():.6f}"})
        for reaction in self.reactions:
            if not reaction.after:
                continue
            if dirty is not None and not dirty.intersection(reaction.after):
                continue
            states = {up: self.store.load(up) for up in reaction.after}
            bad = [up for up, st in states.items() if st.status != "ok"]
            trigger = f"after {', '.join(reaction.after)}"
            if bad:
                why = ", ".join(f"'{up}' {states[up].status}" for up in bad)
                if dirty is not None:
                    out.append(Outcome(reaction.name, event_id(cause), "blocked", trigger,
                                       error=f"blocked: upstream {why}"))
                    dirty.add(reaction.name)
                continue
            upstream = {up: st.output_hash for up, st in states.items()}
            synthetic = {**cause, "id": f"{event_id(cause)}>{reaction.name}",
                         "cause": event_id(cause)}
            outcome = self._run(reaction, synthetic, dedupe=False, upstream=upstream,
                                trigger=trigger)
            if outcome.status == "unchanged":
                outcome.message = "what it runs after came out unchanged: not fired"
            if outcome.status != "unchanged" or dirty is not None:
                out.append(outcome)
            if dirty is not None and outcome.status in ("ran", "failed"):
                dirty.add(reaction.name)
        return out

    # -- one reaction ---------------------------------------------------------------
    def _run(
        self,
        reaction: Reaction,
        event: dict[str, Any],
        *,
        dedupe: bool,
        upstream: dict[str, str | None] | None = None,
        trigger: str | None = None,
    ) -> Outcome:
        """Run one reaction in a ``reaction`` span of the event's trace."""
        from setpiece.core import telemetry

        with telemetry.span("reaction", parent=event.get("traceparent"), reaction=reaction.name,
                            action=reaction.do, event=str(event.get("event", "")),
                            event_id=event_id(event), asset=event_asset(event) or None,
                            version=event.get("version")) as span:
            outcome = self._run_one(reaction, event, dedupe=dedupe, upstream=upstream,
                                    trigger=trigger)
            span.set(status=outcome.status, output_changed=outcome.output_changed)
            if outcome.status == "failed":
                span.fail(outcome.error, "reaction")
        telemetry.flush()  # the service runs for days: its metrics reach the files as it goes
        return outcome

    def _run_one(
        self,
        reaction: Reaction,
        event: dict[str, Any],
        *,
        dedupe: bool,
        upstream: dict[str, str | None] | None,
        trigger: str | None,
    ) -> Outcome:
        eid = event_id(event)
        trigger = trigger or describe(event)
        state = self.store.load(reaction.name)
        if dedupe and state.has_seen(eid):
            return Outcome(reaction.name, eid, "duplicate", trigger,
                           message="this event was already handled")
        ctx = ReactionContext(self.workspace, reaction, event, dict(upstream or {}),
                              self.report, self.stop)
        start = time.perf_counter()
        try:
            action = action_for(reaction)
            inputs = inputs_of(action, ctx)
            code = _code(action)
        except SetpieceError as exc:
            return self._failed(state, reaction, eid, trigger, str(exc), start, None)
        record = {
            "action": reaction.do,
            "params": reaction.params,
            "inputs": inputs,
            "code": code,
            "upstream": dict(upstream or {}),
        }
        inputs_hash = digest_json(record)
        if state.status == "ok" and state.inputs_hash == inputs_hash and _intact(state):
            state.remember(eid)
            self.store.save(state)
            return Outcome(reaction.name, eid, "unchanged", trigger, inputs_hash,
                           state.output_hash, message="inputs hash the same: nothing to do",
                           seconds=time.perf_counter() - start)
        previous = state.status
        state.status, state.last_event, state.last_time = "running", eid, now()
        self.store.save(state)
        started = time.time()
        if self.on_start is not None:
            self.on_start(reaction, event)
        self.report(f"{reaction.name}: running ({trigger})")
        try:
            result = run_action(action, ctx)
        except Abandoned as exc:
            state.status = previous  # as if never started: the event is handled again later
            self.store.save(state)
            return Outcome(reaction.name, eid, "abandoned", trigger, inputs_hash, error=str(exc),
                           seconds=time.perf_counter() - start, started=started)
        except SetpieceError as exc:
            return self._failed(state, reaction, eid, trigger, str(exc), start, started,
                                inputs_hash)
        except Exception as exc:  # asset code: report it, keep serving
            log.exception("reaction %s failed", reaction.name)
            error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            return self._failed(state, reaction, eid, trigger, error, start, started, inputs_hash)
        try:  # record the inputs the output was made from (the run applied its plan)
            record["inputs"] = inputs_of(action, ctx)
            inputs_hash = digest_json(record)
        except SetpieceError as exc:
            log.warning("reaction %s: inputs not re-read after the run: %s", reaction.name, exc)
        outputs = _output_digests(result)
        output_hash = result.output_digest or digest_json(outputs)
        if result.output_digest and outputs:
            output_hash = digest_json([result.output_digest, outputs])
        changed = output_hash != state.output_hash
        state.status, state.error = "ok", None
        state.inputs_hash, state.inputs = inputs_hash, record
        state.output_hash, state.outputs = output_hash, outputs
        state.runs += 1
        state.message = result.message
        state.remember(eid)
        self.store.save(state)
        outcome = Outcome(reaction.name, eid, "ran", trigger, inputs_hash, output_hash, changed,
                          message=result.message, seconds=time.perf_counter() - start,
                          started=started, data=dict(result.data))
        outcome.data.setdefault("artifacts", [str(p) for p in result.artifacts])
        self._emit("reaction.ran", reaction=reaction.name, cause=eid, trigger=trigger,
                   output_changed=changed, inputs_hash=inputs_hash, output_hash=output_hash)
        return outcome

    def _failed(self, state: ReactionState, reaction: Reaction, eid: str, trigger: str,
                error: str, start: float, started: float | None,
                inputs_hash: str | None = None) -> Outcome:
        state.status, state.error = "failed", error
        state.failures += 1
        state.last_event, state.last_time = eid, now()
        state.remember(eid)
        self.store.save(state)
        self._emit("failed", action="react", reaction=reaction.name, cause=eid, error=error)
        return Outcome(reaction.name, eid, "failed", trigger, inputs_hash, error=error,
                       seconds=time.perf_counter() - start, started=started)

    def _emit(self, name: str, **data: Any) -> None:
        emit = getattr(self.workspace, "emit", None)
        if callable(emit):
            try:
                emit(name, **data)
            except Exception as exc:  # the record is in the state file; never fatal
                log.warning("could not log %s: %s", name, exc)

    def states(self) -> list[ReactionState]:
        return [self.store.load(r.name) for r in self.reactions]


def _code(action: Any) -> Mapping[str, Any]:
    fn = getattr(action, "code", None)
    if callable(fn):
        return dict(fn())
    return code_of(action)


def _output_digests(result: ActionResult) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in result.outputs:
        digest = digest_file(Path(p))
        if digest is None:
            raise SetpieceError(f"the action reported output {p} but did not write it")
        out[str(p)] = digest
    return out


def _intact(state: ReactionState) -> bool:
    """The last run's output files still hold the bytes it wrote."""
    return all(digest_file(Path(p)) == d for p, d in state.outputs.items())
