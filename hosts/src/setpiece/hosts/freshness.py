"""What the in-app runtime finds and does about containers that changed upstream: each
container against what is installed (:class:`Change`, its status decided by
:func:`setpiece.usd.status.container_status`), the containers an update could not move
(:class:`UpdateFailure`), an update's result and the scene-opened check's
(:class:`OpenCheck`). :mod:`setpiece.hosts.runtime` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from setpiece.hosts.protocol import Container
from setpiece.usd.status import Status

# -- results ---------------------------------------------------------------------------


@dataclass
class Change:
    """One container against what is installed."""

    asset: str
    node: str
    scene_version: str
    installed_version: str | None  # None: not installed any more
    status: Status  # decided by setpiece.usd.status.container_status
    requirement: str = ""

    def __post_init__(self) -> None:
        self.status = Status(self.status)  # the word ("outdated") is accepted too

    def line(self) -> str:
        if self.status is Status.NOT_INSTALLED:
            return f"{self.asset} {self.scene_version}: not installed (run 'setpiece install {self.asset}')"
        if self.status is Status.HELD:
            return (
                f"{self.asset} {self.scene_version}: {self.installed_version} is installed but this "
                f"container's requirement '{self.requirement}' refuses it; kept (change the "
                "requirement with 'setpiece require', or install a version it admits)"
            )
        if self.status is Status.OUTDATED:
            return f"{self.asset}: {self.scene_version} in the scene, {self.installed_version} installed"
        return f"{self.asset} {self.scene_version}: up to date"

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "node": self.node,
            "scene_version": self.scene_version,
            "installed_version": self.installed_version,
            "status": self.status.value,
            "requirement": self.requirement,
        }


@dataclass
class UpdateFailure:
    """A container that could not be updated (it keeps its version and content)."""

    asset: str
    node: str
    scene_version: str
    version: str
    error: str

    def line(self) -> str:
        return (
            f"{self.asset} ({self.node}): not updated from {self.scene_version} to "
            f"{self.version}: {self.error}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "node": self.node,
            "scene_version": self.scene_version,
            "version": self.version,
            "error": self.error,
        }


class UpdateResult(tuple):  # type: ignore[type-arg]
    """``(updated, setup report)`` as before, plus ``failed``: the containers that could
    not be updated (each update is guarded: one failing container never stops the others)."""

    updated: list[Container]
    setup: Any
    failed: list[UpdateFailure]

    def __new__(
        cls, updated: list[Container], setup: Any, failed: list[UpdateFailure]
    ) -> UpdateResult:
        self = super().__new__(cls, (updated, setup))
        self.updated, self.setup, self.failed = updated, setup, failed
        return self


@dataclass
class OpenCheck:
    """What the scene-opened check found and did."""

    scene: str | None
    asset: str | None
    policy: str
    changes: list[Change] = field(default_factory=list)
    updated: list[Container] = field(default_factory=list)
    asked: bool = False
    setup: Any = None
    failed: list[UpdateFailure] = field(default_factory=list)
    #: containers whose requirement admits a newer published version (hosts.published)
    published: list[Any] = field(default_factory=list)

    @property
    def outdated(self) -> list[Change]:
        return [c for c in self.changes if c.status.needs_attention]

    def message(self) -> str:
        if self.asset is None:
            return "scene belongs to no output asset of the workspace: nothing checked"
        if self.policy == "off":
            return "on_open = off: nothing checked"
        if not self.outdated:
            return f"{self.asset}: every container is up to date"
        lines = [c.line() for c in self.outdated]
        if self.updated:
            head = f"{self.asset}: updated {len(self.updated)} container(s)"
        else:
            head = f"{self.asset}: {len(self.outdated)} container(s) changed upstream"
        if self.failed:
            head += f"; {len(self.failed)} could not be updated"
            lines.extend(f.line() for f in self.failed)
        return "\n".join([head, *lines])
