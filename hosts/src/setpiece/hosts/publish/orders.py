"""Named pyblish orders: the four stages and where each one ends.

pyblish-base runs plug-ins by ``order`` (``pyblish.api.CollectorOrder`` = 0,
``ValidatorOrder`` = 1, ``ExtractorOrder`` = 2, ``IntegratorOrder`` = 3); a plug-in
belongs to the stage whose order is nearest (pyblish's own rule: ``order < 0.5`` collects,
``< 1.5`` validates, ``< 2.5`` extracts, the rest integrates). setpiece's borders, reports
and ``--resume`` use these names instead of the bare numbers.
"""

from __future__ import annotations

COLLECT = 0.0
VALIDATE = 1.0
EXTRACT = 2.0
INTEGRATE = 3.0

#: the first order of each stage after collect (an order below it is in the stage before)
VALIDATE_FROM = 0.5
EXTRACT_FROM = 1.5
INTEGRATE_FROM = 2.5
INTEGRATE_UNTIL = 3.5

#: (first order of the next stage, stage name), in order
STAGES = ((VALIDATE_FROM, "collect"), (EXTRACT_FROM, "validate"), (INTEGRATE_FROM, "extract"))


def stage_of(order: float) -> str:
    """``collect``, ``validate``, ``extract`` or ``integrate``."""
    for limit, name in STAGES:
        if order < limit:
            return name
    return "integrate"


def is_collector(order: float) -> bool:
    return order < VALIDATE_FROM


def is_integrator(order: float) -> bool:
    return order >= INTEGRATE_FROM
