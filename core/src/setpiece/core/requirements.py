"""Dependencies between assets: PEP 508 requirements, their kind, their group.

* abstract ``Table`` -> ``push``: every publish of Table reaches the dependent;
* bounded ``Table>=1.2.3,<2`` -> ``semi-push``;
* concrete ``Table==3.2.1`` -> ``pull``: only an explicit change moves it.

Groups ``build``, ``edit``, ``export`` ship as extras. A requirement written into a group
carries that same extra on the dependency (``Table[build]>=1``) so that installing
``Set[build]`` installs the whole build closure, transitively.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import validate_name

if TYPE_CHECKING:
    from packaging.requirements import Requirement

GROUPS = ("build", "edit", "export")
KINDS = ("push", "semi-push", "pull")


_OP = r"(?:===|==|!=|<=|>=|~=|<|>)\s*[0-9][0-9A-Za-z.*+!_-]*"
_SIMPLE = re.compile(
    r"\s*([A-Za-z][A-Za-z0-9_-]*)\s*"
    r"(?:\[\s*[A-Za-z0-9][A-Za-z0-9_.-]*(?:\s*,\s*[A-Za-z0-9][A-Za-z0-9_.-]*)*\s*\])?\s*"
    rf"(?:{_OP}(?:\s*,\s*{_OP})*)?\s*"
)


def request_name(text: str) -> str:
    """The asset name of an install request (``KitchenSet[build]``, ``Table>=1,<2``),
    validated; simple forms without importing packaging (start-up time), the rest
    through :func:`parse_requirement` (same checks, same errors)."""
    m = _SIMPLE.fullmatch(text)
    if m is None:
        return str(parse_requirement(text).name)
    return validate_name(m.group(1))


def parse_requirement(text: str) -> Requirement:
    """Parse ``Name[extras] specifier`` or raise a one-line error."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise SetpieceError(
            f"invalid requirement '{text}': use Name, Name>=1.2,<2 or Name==1.2.3 ({exc})"
        )
    validate_name(req.name)
    if req.url:
        raise SetpieceError(
            f"requirement '{text}' points to a URL: assets come from the workspace's repos only"
        )
    return req


def parse_dependency(text: str) -> Requirement:
    """A requirement written into an asset: no environment marker (``; python_version...``),
    since dependency groups carry none and it would be dropped silently."""
    req = parse_requirement(text)
    if req.marker is not None:
        raise SetpieceError(
            f"requirement '{text}' has an environment marker ('{req.marker}'): asset "
            f"dependencies take none; write '{display(req)}'"
        )
    return req


def dependency_kind(req: Requirement | str) -> str:
    """``push`` (no specifier), ``pull`` (one exact ``==``/``===`` pin) or ``semi-push``."""
    if isinstance(req, str):
        req = parse_requirement(req)
    specs = list(req.specifier)
    if not specs:
        return "push"
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return "pull"
    return "semi-push"


def check_group(group: str | None) -> str:
    group = group or "build"
    if group not in GROUPS:
        raise SetpieceError(f"unknown dependency group '{group}': use one of {', '.join(GROUPS)}")
    return group


def for_group(req: Requirement, group: str) -> Requirement:
    """The requirement as written into ``group``: the dependency's same group is pulled in."""
    from packaging.requirements import Requirement

    out = Requirement(str(req))
    out.extras = set(req.extras) | {group}
    out.marker = None
    return out


def display(req: Requirement, group: str | None = None) -> str:
    """The requirement as a user wrote it (without the implicit group extra)."""
    from packaging.requirements import Requirement

    out = Requirement(str(req))
    if group:
        out.extras = set(out.extras) - {group}
    out.marker = None
    return str(out)
