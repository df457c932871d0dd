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

from packaging.version import InvalidVersion, Version

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.usd.closure import admits, normalize

InstalledVersion = Callable[[str], "str | None"]
AvailableVersions = Callable[[str], Sequence[str]]


def _v(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def newest(versions: Sequence[str], include_pre: bool = False) -> str | None:
    """The newest final release (or the newest at all when there is no final one)."""
    parsed = [(v, s) for s in versions if (v := _v(s)) is not None]
    finals = [p for p in parsed if include_pre or not p[0].is_prerelease]
    pool = finals or parsed
    return max(pool)[1] if pool else None


@dataclass(frozen=True)
class InventoryRow:
    record: ContainerRecord
    installed: str | None
    newest: str | None
    admits_newest: bool | None
    status: str  # up-to-date | update-available | held | rebuild | not-installed

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
            "status": self.status,
        }


def inventory(
    records: Sequence[ContainerRecord],
    installed_version: InstalledVersion,
    available_versions: AvailableVersions,
) -> list[InventoryRow]:
    """One row per container: scene version, installed, newest in repos, admitted or not.

    ``status``: ``rebuild`` (installed differs from the scene: rebuild it),
    ``update-available`` (a newer version is admitted by the requirement), ``held`` (a
    newer version exists but the requirement does not admit it), ``not-installed``,
    ``up-to-date``.
    """
    rows = []
    for rec in records:
        installed = installed_version(rec.asset)
        top = newest(list(available_versions(rec.asset)))
        current = _v(installed or rec.version)
        admitted: bool | None = None
        if top is not None:
            admitted = admits(rec.requirement, top)
        if installed is None:
            status = "not-installed"
        elif installed != rec.version:
            status = "rebuild"
        elif top is not None and current is not None and (_v(top) or current) > current:
            status = "update-available" if admitted else "held"
        else:
            status = "up-to-date"
        rows.append(InventoryRow(rec, installed, top, admitted, status))
    return rows


@dataclass
class UpdateStep:
    record: ContainerRecord
    current: str
    target: str | None
    action: str  # update | unchanged | refused
    reason: str = ""

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
        return [f"{s.record.asset}=={s.target}" for s in self.updates()]


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
            admitted = [v for v in available if admits(rec.requirement, v)]
            target = newest(admitted)
            top = newest(available)
            cur = _v(current)
            if target is None or (cur is not None and _v(target) is not None and _v(target) <= cur):  # type: ignore[operator]
                reason = "up to date"
                if top is not None and cur is not None and (_v(top) or cur) > cur:
                    reason = _why_not(rec, top)
                plan.steps.append(UpdateStep(rec, current, None, "unchanged", reason))
                continue
            plan.steps.append(UpdateStep(rec, current, target, "update"))
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
