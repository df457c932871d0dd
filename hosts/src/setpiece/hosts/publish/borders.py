"""Borders: where a publish stops when something before it failed.

A border is a range of plugin orders. When a plugin whose order is in the range failed,
the run stops before the first plugin past the range. Defaults: after collection (no
validator runs on a half-collected scene), after validation (nothing is extracted from a
scene that failed validation) and after extraction (nothing is integrated from a failed
extract)::

    [publish]
    borders = ["order<0.5", "order>=0.5,<1.5", "order>=1.5,<2.5"]

Spellings: ``"order>=1,<2"``, ``"order<2.5"``, ``"order>1,<=2"``, a stage name
(``"collect"``, ``"validate"``, ``"extract"``, ``"integrate"``) or a number ``N``
(= ``"order<N"``). Every border needs an upper bound. Whatever is configured,
integration never runs after a failure before it (``"order<2.5"`` is always on):
nothing half-made is ever published.

Implemented with pyblish's test hook (``pyblish.api.register_test``), installed for one
run and restored afterwards (:func:`installed_test`).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.publish.orders import (
    EXTRACT_FROM,
    INTEGRATE_FROM,
    INTEGRATE_UNTIL,
    VALIDATE_FROM,
)

STAGE_RANGES = {
    "collect": f"order<{VALIDATE_FROM}",
    "validate": f"order>={VALIDATE_FROM},<{EXTRACT_FROM}",
    "extract": f"order>={EXTRACT_FROM},<{INTEGRATE_FROM}",
    "integrate": f"order>={INTEGRATE_FROM},<{INTEGRATE_UNTIL}",
}
DEFAULT_BORDERS = (STAGE_RANGES["collect"], STAGE_RANGES["validate"], STAGE_RANGES["extract"])
#: always enforced: never integrate after a failure in collect, validate or extract
SAFETY_BORDER = f"order<{INTEGRATE_FROM}"

_BOUND = re.compile(r"^(?:order\s*)?(>=|>|<=|<)\s*(-?\d+(?:\.\d+)?)$")

# pyblish's registries are module globals: one run at a time per process.
_RUN_LOCK = threading.RLock()


@dataclass(frozen=True)
class Border:
    text: str
    low: float | None
    low_inclusive: bool
    high: float
    high_inclusive: bool

    def contains(self, order: float) -> bool:
        if self.low is not None and (order < self.low or (order == self.low and not self.low_inclusive)):
            return False
        return order < self.high or (order == self.high and self.high_inclusive)

    def past(self, order: float) -> bool:
        """True when ``order`` lies after the range (where the run stops)."""
        return order > self.high or (order == self.high and not self.high_inclusive)


def parse_border(text: str) -> Border:
    raw = str(text).strip()
    spec = STAGE_RANGES.get(raw.lower(), raw)
    try:
        return Border(raw, None, True, float(spec), False)
    except ValueError:
        pass
    low: float | None = None
    low_inc = True
    high: float | None = None
    high_inc = False
    for part in spec.split(","):
        m = _BOUND.match(part.strip())
        if not m:
            raise SetpieceError(
                f"publish border {raw!r} in setpiece.toml is not valid: write a range of "
                "plugin orders such as \"order>=1,<2\" (or a stage name: validate, extract)"
            )
        op, value = m.group(1), float(m.group(2))
        if op.startswith(">"):
            low, low_inc = value, op == ">="
        else:
            high, high_inc = value, op == "<="
    if high is None:
        raise SetpieceError(
            f"publish border {raw!r} has no upper bound: the run stops before the first "
            f"plugin past the range, so write one (e.g. \"{spec},<{(low or 0) + 1:g}\")"
        )
    return Border(raw, low, low_inc, high, high_inc)


def borders_from_config(publish_section: dict[str, Any] | None) -> list[Border]:
    """The borders of a workspace (``[publish] borders``) plus the safety border."""
    section = dict(publish_section or {})
    texts = section.get("borders", list(DEFAULT_BORDERS))
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)):
        raise SetpieceError(
            "[publish] borders in setpiece.toml must be a list such as "
            "[\"order>=1,<2\", \"order>=2,<3\"]"
        )
    out = [parse_border(t) for t in texts]
    if SAFETY_BORDER not in [b.text for b in out]:
        out.append(parse_border(SAFETY_BORDER))
    return out


class BorderTest:
    """The callable registered with ``pyblish.api.register_test`` for one run.

    It sees the errors pyblish tracks (``ordersWithError``) and, through the context, the
    collectors' errors too (pyblish leaves those out of its state). The first time it
    stops the run it records where and why, so the report never hides a silent stop.
    """

    def __init__(self, borders: Sequence[Border], context: Any = None) -> None:
        self.borders = list(borders)
        self.context = context
        self.stopped_before: float | None = None
        self.reason = ""

    def _failed(self) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = []
        if self.context is not None:
            for result in self.context.data.get("results", []):
                if result.get("error") is not None and not result.get("action"):
                    plugin = result["plugin"]
                    label = getattr(plugin, "label", None) or plugin.__name__
                    out.append((float(plugin.order), str(label)))
        return out

    def __call__(self, **state: Any) -> str | bool:
        next_order = state.get("nextOrder")
        if next_order is None:
            return False
        failed = self._failed()
        failed.extend((float(o), f"a plugin of order {o:g}") for o in state.get("ordersWithError", ()))
        for border in self.borders:
            hits = [label for order, label in failed if border.contains(order)]
            if hits and border.past(float(next_order)):
                if self.stopped_before is None:
                    self.stopped_before = float(next_order)
                    self.reason = f"{hits[0]} failed (border {border.text})"
                return f"border {border.text}: {hits[0]} failed"
        return False


@contextlib.contextmanager
def installed_test(test: Callable[..., Any]) -> Iterator[None]:
    """Register ``test`` as pyblish's stop test for the duration of one run, then restore
    whatever was registered before (pyblish's registries are process globals)."""
    import pyblish.api
    import pyblish.logic

    with _RUN_LOCK:
        previous = pyblish.logic.registered_test()
        pyblish.api.register_test(test)
        try:
            yield
        finally:
            pyblish.api.register_test(previous)
