"""How a validator reports what it found wrong: every problem in its log, the first (and
how many more) in the one-line error the artist reads."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from setpiece.core.errors import SetpieceError


def raise_problems(log: logging.Logger, problems: Sequence[str], ok: str) -> None:
    """Log each problem and raise the first (``(and N more)``); with none, log ``ok``."""
    for line in problems:
        log.error("%s", line)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SetpieceError(problems[0] + more)
    log.info("%s", ok)
