"""What the inventory does to containers, without Qt: update them to the newest version
their requirement admits, switch them to a chosen version, remove them.

Every action goes through the same API as the CLI: versions are installed with
``Workspace.install([...], record=False)`` (what ``setpiece scene update`` does),
containers move through :meth:`Runtime.update` (which runs their setup code) and go away
through the host's ``remove``. An install that fails raises a ``SetpieceError`` before any
container changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize
from setpiece.hosts.protocol import Container
from setpiece.hosts.runtime import Change, Runtime, UpdateFailure
from setpiece.hosts.ui.inventory_model import rows_for
from setpiece.hosts.ui.published_versions import RepoVersions, repo_versions
from setpiece.usd.status import Status

#: ``progress(done, total, what)``: how far an action is (for a progress bar)
Progress = Callable[[int, int, str], None]
#: containers moved per Runtime.update call (each call lists the scene once)
BATCHES = 20


def _say(progress: Progress | None, done: int, total: int, what: str) -> None:
    if progress is not None:
        progress(done, total, what)


@dataclass
class UpdateResult:
    """What :func:`update_containers` did."""

    updated: list[Container]
    report: Any  # the setup report (``run_setups``); None when nothing moved
    installed: list[str]  # ``Name==version`` installed into the workspace first
    skipped: dict[str, str]  # node -> why it was left where it is

    def message(self) -> str:
        """One line for the window's status area."""
        if not self.updated:
            text = "nothing to update"
            if self.skipped:
                reasons = sorted(set(self.skipped.values()))
                text += f": {'; '.join(reasons[:3])}{'; ...' if len(reasons) > 3 else ''}"
            return text
        done = ", ".join(f"{c.asset} {c.version}" for c in self.updated[:5])
        more = f" and {len(self.updated) - 5} more" if len(self.updated) > 5 else ""
        text = f"updated {len(self.updated)} container(s) ({done}{more})"
        if self.installed:
            text += f" after installing {', '.join(self.installed)}"
        if self.report is not None:
            text += f"; {self.report.summary()}"
        if self.skipped:
            text += f"; {len(self.skipped)} left as they are (see their Status)"
        return text


def update_containers(
    runtime: Runtime, containers: Sequence[Container], versions: RepoVersions | None = None,
    progress: Progress | None = None,
) -> UpdateResult:
    """Bring ``containers`` to the newest version their requirements admit.

    The target of each container is what :func:`setpiece.usd.inventory.plan_update` says
    (``--to latest``; the installed version when nothing newer is admitted). Versions not
    installed yet are installed first, all in one ``Workspace.install([...],
    record=False)`` (as ``setpiece scene update`` does); then :meth:`Runtime.update` moves
    the containers and runs their setup code. A SetpieceError (repo unreachable, install
    conflict, corrupted wheel) is raised before any container changes. Containers whose
    requirement refuses the installed and newer versions (held), that are not installed,
    or whose asset is an editable output are left as they are (``skipped``).
    ``progress(done, total, what)`` is called as the work goes (see :func:`move`).
    """
    from setpiece.usd.closure import admits

    ws = runtime.workspace
    versions = versions or repo_versions(ws)
    containers = list(containers)
    versions.fetch(c.asset for c in containers)  # only the assets not looked up yet
    rows = rows_for(containers, runtime.check(containers), versions)
    installed_assets = ws.installed_assets()
    targets: dict[str, str] = {}  # node -> version
    skipped: dict[str, str] = {}
    for row in rows:
        rec = row.container.record
        if row.installed is None:
            skipped[row.node] = f"{rec.asset} is not installed (install it with the Loader)"
            continue
        installed_version = row.installed
        target = row.target or installed_version
        if not admits(rec.requirement, target):
            skipped[row.node] = f"{rec.asset}: '{rec.requirement}' holds it at {rec.version}"
            continue
        if target == rec.version:
            if row.status == "held":
                skipped[row.node] = f"{rec.asset}: '{rec.requirement}' holds it at {rec.version}"
            continue
        asset = installed_assets.get(normalize(rec.asset))
        if target != installed_version and asset is not None and asset.editable:
            skipped[row.node] = (
                f"{rec.asset} is an editable output asset (its version is the one in "
                f"outputs/{rec.asset})"
            )
            continue
        targets[row.node] = target
    # one version per asset in a workspace: the containers to move must agree on it
    by_asset: dict[str, dict[str, list[str]]] = {}  # asset -> version -> nodes
    names: dict[str, str] = {}
    installed_now = {normalize(r.asset): r.installed for r in rows}
    for row in rows:
        if row.node in targets:
            key = names.setdefault(normalize(row.asset), row.asset)
            by_asset.setdefault(key, {}).setdefault(targets[row.node], []).append(row.node)
    for asset, wanted in by_asset.items():
        if len(wanted) > 1:
            detail = ", ".join(f"{v} for {', '.join(nodes[:2])}" for v, nodes in wanted.items())
            raise SetpieceError(
                f"{asset}: these containers' requirements lead to different versions ({detail}) "
                "and a workspace installs one: update them one requirement at a time"
            )
    requirements = [
        f"{asset}=={version}"
        for asset, wanted in by_asset.items()
        for version in wanted
        if version != installed_now.get(normalize(asset))
    ]
    if requirements:
        _say(progress, 0, 1 + len(targets), f"installing {', '.join(requirements)}")
        ws.install(requirements, record=False)  # raises before any container is touched
    changes = []
    for ch in runtime.check([r.container for r in rows if r.node in targets]):
        if ch.status == "outdated" and ch.installed_version == targets[ch.node]:
            changes.append(ch)
        else:
            skipped[ch.node] = f"{ch.asset}: {ch.installed_version} is installed, not {targets[ch.node]}"
    if not changes:
        return UpdateResult([], None, requirements, skipped)
    updated, report, failed = move(runtime, changes, progress, start=1 if requirements else 0)
    for failure in failed:  # not updated: kept at its version
        skipped[failure.node] = failure.line()
    return UpdateResult(updated, report, requirements, skipped)


def move(
    runtime: Runtime, changes: Sequence[Change], progress: Progress | None = None, start: int = 0,
) -> tuple[list[Container], Any, list[UpdateFailure]]:
    """:meth:`Runtime.update` on ``changes`` in up to :data:`BATCHES` steps, saying
    ``progress`` after each: (updated, merged setup report, failures)."""
    from setpiece.hosts.setup_code import SetupReport

    changes = list(changes)
    total = start + len(changes)
    size = max(1, -(-len(changes) // BATCHES))
    updated: list[Container] = []
    failed: list[UpdateFailure] = []
    report = SetupReport()
    for i in range(0, len(changes), size):
        chunk = changes[i : i + size]
        _say(progress, start + i, total, f"updating {', '.join(c.node for c in chunk[:3])}"
             + ("..." if len(chunk) > 3 else ""))
        done = runtime.update(chunk)
        updated.extend(done.updated)
        failed.extend(done.failed)
        report.results.extend(done.setup.results)
        report.safe_mode = report.safe_mode or done.setup.safe_mode
    _say(progress, total, total, "done")
    return updated, report, failed


def version_choices(container: Container, versions: RepoVersions) -> list[tuple[str, bool]]:
    """Every published version of the container's asset, newest first, with whether its
    requirement admits it (what the inventory's version dropdown lists)."""
    from setpiece.usd.closure import admits

    known = versions.known(container.asset) or []
    rec = container.record
    return [(v, admits(rec.requirement, v)) for v in reversed(known)]


def outside_question(containers: Sequence[Container], version: str) -> str | None:
    """What to ask before switching ``containers`` to a ``version`` their requirement does
    not admit; None when every requirement admits it (no question)."""
    from setpiece.usd.closure import admits

    refused = [c for c in containers if not admits(c.record.requirement, version)]
    if not refused:
        return None
    rec = refused[0].record
    by = str(rec.extra.get("requiredBy", "")) if rec.extra else ""
    return (
        f"{rec.asset} {version} is outside '{rec.requirement}' ({rec.kind}"
        f"{', required by ' + by if by else ''}).\n\nTake {version} for "
        f"{len(list(containers))} container(s) anyway? The requirement stays as it is: the "
        "next update may move them back."
    )


def switch_version(
    runtime: Runtime, containers: Sequence[Container], version: str, *,
    outside_requirement: bool = False, progress: Progress | None = None,
) -> UpdateResult:
    """Move ``containers`` (of one asset) to ``version``, newer or older: installed into the
    workspace first when it is not (``record=False``), then :meth:`Runtime.update`.

    A version the containers' requirement does not admit is refused (a ``SetpieceError``
    saying so) unless ``outside_requirement`` (the artist confirmed it). A workspace
    installs one version per asset: the asset's other containers stay where they are and
    read ``outdated`` afterwards.
    """
    from setpiece.usd.closure import admits

    containers = list(containers)
    if not containers:
        raise SetpieceError("no container chosen: select the rows to switch first")
    names = {normalize(c.asset) for c in containers}
    if len(names) > 1:
        raise SetpieceError(
            f"{version} is a version of one asset, and these rows hold "
            f"{', '.join(sorted({c.asset for c in containers}))}: switch one asset at a time"
        )
    asset = containers[0].asset
    refused = [c for c in containers if not admits(c.record.requirement, version)]
    if refused and not outside_requirement:
        rec = refused[0].record
        raise SetpieceError(
            f"{asset} {version} is outside '{rec.requirement}' ({rec.kind}): confirm to take "
            "it anyway, or change the requirement"
        )
    ws = runtime.workspace
    installed = ws.installed_assets().get(normalize(asset))
    if installed is not None and getattr(installed, "editable", False) and str(
        installed.version
    ) != version:
        raise SetpieceError(
            f"{asset} is an editable output asset: its version is the one in outputs/{asset}"
        )
    requirements: list[str] = []
    total = len(containers) + 1
    if installed is None or str(installed.version) != version:
        requirements = [f"{asset}=={version}"]
        _say(progress, 0, total, f"installing {asset} {version}")
        ws.install(requirements, record=False)  # raises before any container is touched
    skipped: dict[str, str] = {}
    changes: list[Change] = []
    for c in containers:
        if c.version == version:
            skipped[c.node] = f"{c.node} is already at {version}"
            continue
        # Runtime.update moves an "outdated" change to the installed version; the artist
        # chose this version, so it moves even where the requirement would hold it
        changes.append(Change(c.asset, c.node, c.version, version, Status.OUTDATED,
                              c.record.requirement))
    if not changes:
        return UpdateResult([], None, requirements, skipped)
    updated, report, failed = move(runtime, changes, progress, start=1)
    for failure in failed:
        skipped[failure.node] = failure.line()
    return UpdateResult(updated, report, requirements, skipped)


def remove_containers(runtime: Runtime, containers: Sequence[Container]) -> list[str]:
    """Remove ``containers`` from the open scene (the host's ``remove``); the installed
    packages stay. Returns the nodes removed; the first failure raises, naming it."""
    removed: list[str] = []
    for c in containers:
        try:
            runtime.host.remove(c)
        except SetpieceError:
            raise
        except Exception as exc:
            raise SetpieceError(
                f"could not remove {c.node} ({c.asset} {c.version}): {type(exc).__name__}: "
                f"{' '.join(str(exc).split())}"
            ) from exc
        removed.append(c.node)
    return removed
