"""Scene inventory and updates: containers against installed and published versions.

Pure logic over :class:`~setpiece.core.containers.ContainerRecord` and two callbacks
(installed version of an asset; versions published in the workspace's repos), so hosts
reuse it on their own container nodes. Admission uses ``packaging.specifiers``:

* push (``Table``): every newer version is admitted;
* semi-push (``Table>=1.2,<2``): versions inside the bounds are;
* pull (``Table==1.2.3``): only the pinned version is; moving it is an explicit change of
  the requirement (``setpiece require``), never an update.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.usd.closure import admits, normalize
from setpiece.usd.status import Status, container_status
from setpiece.usd.status import parse_version as _v

InstalledVersion = Callable[[str], "str | None"]
AvailableVersions = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class InventoryRow:
    record: ContainerRecord
    installed: str | None
    newest: str | None
    admits_newest: bool | None
    status: Status
    #: the version Update brings the container to (None: it stays)
    target: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "prim_path": self.record.prim_path,
            "asset": self.record.asset,
            "scene": self.record.version,
            "installed": self.installed,
            "newest": self.newest,
            "requirement": self.record.requirement,
            "kind": self.record.kind,
            "admits_newest": self.admits_newest,
            "status": self.status.value,
            "target": self.target,
        }


def inventory(
    records: Sequence[ContainerRecord],
    installed_version: InstalledVersion,
    available_versions: AvailableVersions,
) -> list[InventoryRow]:
    """One row per container: scene version, installed, newest in repos, admitted or not,
    and its :class:`~setpiece.usd.status.Status` (decided by
    :func:`~setpiece.usd.status.container_status`, as everywhere else)."""
    rows = []
    for rec in records:
        state = container_status(
            rec, installed_version(rec.asset), list(available_versions(rec.asset))
        )
        rows.append(
            InventoryRow(
                rec, state.installed, state.newest, state.admits_newest, state.status,
                state.target,
            )
        )
    return rows


@dataclass
class UpdateStep:
    record: ContainerRecord
    current: str
    target: str | None
    action: str  # update | unchanged | refused
    reason: str = ""
    #: False when the target is the installed version (the scene is rebuilt, not installed)
    needs_install: bool = True

    @property
    def downgrade(self) -> bool:
        """True when the target is older than the current version."""
        cur, tgt = _v(self.current), _v(self.target or "")
        return cur is not None and tgt is not None and tgt < cur

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.record.asset,
            "prim_path": self.record.prim_path,
            "from": self.current,
            "to": self.target,
            "action": self.action,
            "reason": self.reason,
            "downgrade": self.downgrade,
        }


@dataclass
class UpdatePlan:
    steps: list[UpdateStep] = field(default_factory=list)

    def updates(self) -> list[UpdateStep]:
        return [s for s in self.steps if s.action == "update"]

    def requirements(self) -> list[str]:
        """What to install to carry the plan out (``Name==version``)."""
        return [f"{s.record.asset}=={s.target}" for s in self.updates() if s.needs_install]


def _why_not(rec: ContainerRecord, version: str) -> str:
    by = rec.extra.get("requiredBy", "") if rec.extra else ""
    owner = by or "its dependent"
    if rec.kind == "pull":
        return (
            f"{rec.asset} is pinned to '{rec.requirement}' (pull) by {owner}: change the pin "
            f"with 'setpiece require {owner.split(',')[0]} \"{rec.asset}=={version}\"'"
        )
    return (
        f"{rec.asset} {version} is outside '{rec.requirement}' ({rec.kind}) required by "
        f"{owner}: widen it with 'setpiece require {owner.split(',')[0]} \"{rec.asset}...\"'"
    )


def plan_update(
    records: Sequence[ContainerRecord],
    installed_version: InstalledVersion,
    available_versions: AvailableVersions,
    asset: str | None = None,
    to: str = "latest",
    allow_downgrade: bool = False,
) -> UpdatePlan:
    """Which containers move to which version, within what their requirements allow.

    ``asset``: only that asset's containers (else all). ``to``: ``latest`` (the newest
    version the requirement admits) or an exact version, which needs ``asset`` (a version
    belongs to one asset). Asking for one asset and a version its requirement refuses
    raises SetpieceError explaining why; updating all just reports the refused ones. A
    version older than the installed one is refused unless ``allow_downgrade``.
    """
    if to != "latest" and asset is None:
        raise SetpieceError(
            f"--to {to} needs --asset NAME: a version belongs to one asset "
            "(use --to latest to update every container)"
        )
    selected = list(records)
    if asset is not None:
        selected = [r for r in records if normalize(r.asset) == normalize(asset)]
        if not selected:
            raise SetpieceError(
                f"no container of asset '{asset}' in this scene: see 'setpiece scene inventory'"
            )
    plan = UpdatePlan()
    done: set[str] = set()
    for rec in selected:
        key = normalize(rec.asset)
        current = installed_version(rec.asset) or rec.version
        if key in done:
            continue
        done.add(key)
        available = [v for v in available_versions(rec.asset) if _v(v) is not None]
        if to == "latest":
            # the status decides (as in the inventory): a container whose asset is not
            # installed is compared with the scene's version
            state = container_status(rec, current, available)
            if state.status is Status.OUTDATED and state.target == current != rec.version:
                # the installed version: the scene is rebuilt with it, nothing installed
                plan.steps.append(
                    UpdateStep(rec, rec.version, current, "update", needs_install=False)
                )
                continue
            if state.status.updatable and state.target is not None:
                plan.steps.append(UpdateStep(rec, current, state.target, "update"))
                continue
            reason = "up to date"
            if state.status is Status.HELD:
                held_by = current if rec.version != current else state.newest
                reason = _why_not(rec, held_by or current)
            plan.steps.append(UpdateStep(rec, current, None, "unchanged", reason))
            continue
        wanted = _v(to)
        if wanted is None:
            raise SetpieceError(f"'{to}' is not a version: use --to 1.2.3 or --to latest")
        match = next((v for v in available if _v(v) == wanted), None)
        if match is None:
            step = UpdateStep(
                rec,
                current,
                to,
                "refused",
                f"{rec.asset} {to} is not in the workspace's repos: see "
                f"'setpiece versions {rec.asset}'",
            )
        elif not admits(rec.requirement, match):
            step = UpdateStep(rec, current, match, "refused", _why_not(rec, match))
        elif _v(current) == wanted:
            step = UpdateStep(rec, current, match, "unchanged", "already at that version")
        elif not allow_downgrade and (cur := _v(current)) is not None and wanted < cur:
            step = UpdateStep(
                rec,
                current,
                match,
                "refused",
                f"{rec.asset} {match} is older than the installed {current}: pass "
                "--allow-downgrade to downgrade it",
            )
        else:
            step = UpdateStep(rec, current, match, "update")
        plan.steps.append(step)
    if asset is not None:
        refused = [s for s in plan.steps if s.action == "refused"]
        if refused:
            raise SetpieceError(refused[0].reason)
    return plan
