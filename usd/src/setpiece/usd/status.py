"""A container's status: the one place it is decided.

``setpiece scene inventory``, ``setpiece scene update``, the in-app runtime's
scene-opened check (``Runtime.check``) and the Qt inventory all call
:func:`container_status`, so they say the same word for the same container and what
*Update* does is what the status promised:

==================  ===============================================================
status              meaning, and what Update does
==================  ===============================================================
``not-installed``   the asset is not installed in the workspace: nothing (install it)
``outdated``        the installed version differs from the scene's and the
                    requirement admits it: Update brings the container to it (or to a
                    newer published version the requirement admits, ``target``)
``update-available`` a published version newer than the installed one is admitted by
                    the requirement: Update installs ``target`` and moves to it
``held``            a newer version exists (installed for another container, or
                    published) but the requirement refuses it: Update leaves it
``up-to-date``      nothing newer is admitted: nothing to do
==================  ===============================================================

Pure Python (``packaging`` only, no ``pxr``): hosts use it inside any DCC interpreter.
Admission is :func:`setpiece.usd.closure.admits` (push: every version; semi-push: inside
the bounds; pull: the pinned version only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

from setpiece.core.containers import ContainerRecord
from setpiece.usd.closure import admits

if TYPE_CHECKING:  # packaging is imported when used: the in-app runtime's start stays cheap
    from packaging.version import Version


class Status(str, Enum):
    """A container against what is installed and published (values are the words shown)."""

    NOT_INSTALLED = "not-installed"
    OUTDATED = "outdated"
    UPDATE_AVAILABLE = "update-available"
    HELD = "held"
    UP_TO_DATE = "up-to-date"

    def __str__(self) -> str:  # the same word in f-strings on every Python version
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def needs_attention(self) -> bool:
        return self is not Status.UP_TO_DATE

    @property
    def updatable(self) -> bool:
        """Update moves a container in this status (to :attr:`ContainerState.target`)."""
        return self in (Status.OUTDATED, Status.UPDATE_AVAILABLE)


#: every status, worst first (the order the inventories sort and count them in)
STATUSES: tuple[Status, ...] = tuple(Status)


def parse_version(text: str | None) -> Version | None:
    """``text`` as a PEP 440 version, or None when it is not one."""
    if not text:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def newest(versions: Sequence[str], include_pre: bool = False) -> str | None:
    """The newest final release (or the newest at all when there is no final one)."""
    parsed = [(v, s) for s in versions if (v := parse_version(s)) is not None]
    finals = [p for p in parsed if include_pre or not p[0].is_prerelease]
    pool = finals or parsed
    return max(pool)[1] if pool else None


def newest_admitted(requirement: str, versions: Sequence[str]) -> str | None:
    """The newest version (final first) of ``versions`` that ``requirement`` admits."""
    return _newest_admitted(requirement, tuple(versions))


@lru_cache(maxsize=4096)  # an inventory asks the same few (requirement, versions) per asset
def _newest_admitted(requirement: str, versions: tuple[str, ...]) -> str | None:
    return newest([v for v in versions if parse_version(v) is not None and admits(requirement, v)])


@lru_cache(maxsize=4096)
def _admits(requirement: str, version: str) -> bool:
    return admits(requirement, version)


def _newer(version: str | None, than: str | None) -> bool:
    a, b = parse_version(version), parse_version(than)
    return a is not None and b is not None and a > b


@dataclass(frozen=True)
class ContainerState:
    """What :func:`container_status` found for one container."""

    status: Status
    installed: str | None
    #: the newest published version (None: none, or not looked up)
    newest: str | None
    #: whether the requirement admits ``newest`` (None when there is no newest)
    admits_newest: bool | None
    #: the version Update brings the container to (None when it does not move it)
    target: str | None


def container_status(
    record: ContainerRecord, installed: str | None, available: Sequence[str] | None = None
) -> ContainerState:
    """The status of ``record``'s container, its installed version being ``installed``
    and ``available`` the versions published in the workspace's repos (None: not looked
    up; the status is then decided from the scene and installed versions alone)."""
    published = list(available or ())
    top = newest(published)
    admits_top = _admits(record.requirement, top) if top is not None else None
    if installed is None:
        return ContainerState(Status.NOT_INSTALLED, None, top, admits_top, None)
    # what plan_update('--to latest') installs: the newest admitted, newer than installed
    best = newest_admitted(record.requirement, published)
    published_target = best if _newer(best, installed) else None
    if installed != record.version:
        if _admits(record.requirement, installed):
            target = published_target or installed
            return ContainerState(Status.OUTDATED, installed, top, admits_top, target)
        if published_target is not None:
            return ContainerState(
                Status.UPDATE_AVAILABLE, installed, top, admits_top, published_target
            )
        return ContainerState(Status.HELD, installed, top, admits_top, None)
    if published_target is not None:
        return ContainerState(Status.UPDATE_AVAILABLE, installed, top, admits_top, published_target)
    if _newer(top, installed):
        return ContainerState(Status.HELD, installed, top, admits_top, None)
    return ContainerState(Status.UP_TO_DATE, installed, top, admits_top, None)


__all__ = [
    "STATUSES",
    "ContainerState",
    "Status",
    "container_status",
    "newest",
    "newest_admitted",
    "parse_version",
]
