"""The scene inventory's rows, without Qt: every container of the open scene against what
is installed in the workspace and what is published in its repos.

:meth:`Runtime.check` compares each container with the installed version;
:func:`setpiece.usd.inventory.inventory` adds the newest published version and whether
the container's requirement (push / semi-push / pull) admits it. The window
(:mod:`setpiece.hosts.ui.inventory`) and the console fallback show these rows; the
actions on them (update, switch version, remove) are in
:mod:`setpiece.hosts.ui.inventory_actions`.

Cost, whatever the number of containers: one ``host.ls()`` and one read of the installed
packages' metadata per refresh; published versions are looked up once per *distinct
asset* (:class:`~setpiece.hosts.ui.published_versions.RepoVersions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from setpiece.core.naming import normalize
from setpiece.hosts.protocol import Container
from setpiece.hosts.runtime import Change, Runtime
from setpiece.hosts.ui.published_versions import RepoVersions, repo_versions

HEADERS = (
    "Container",
    "Asset",
    "Scene",
    "Installed",
    "Newest",
    "Kind",
    "Requirement",
    "Admits newest",
    "Status",
)
#: every status, worst first
STATUSES = ("not-installed", "outdated", "update-available", "held", "up-to-date")
#: row background per status (with dark text, so rows read on the DCCs' dark themes)
COLORS = {
    "not-installed": "#ef9a9a",
    "outdated": "#ffcc80",
    "update-available": "#fff59d",
    "held": "#cfd8dc",
}
PENDING = "..."  # newest version not looked up yet
#: columns holding versions: they sort as versions, not text
VERSION_COLUMNS = ("Scene", "Installed", "Newest")


def sort_key(column: int, text: str) -> tuple[bool, Any]:
    """How a cell sorts: (unknown, key). The version columns (Scene, Installed, Newest)
    sort as versions (1.9.0 before 1.10.0), ``-``, ``...`` and invalid versions after
    every version; the other columns as case-insensitive text."""
    if HEADERS[column] not in VERSION_COLUMNS:
        return (False, text.lower())
    from packaging.version import InvalidVersion, Version

    try:
        return (False, Version(text))
    except InvalidVersion:
        return (True, text)


# -- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One container in the inventory."""

    container: Container
    change: Change  # what Runtime.check said (and what Runtime.update takes)
    installed: str | None
    newest: str | None
    admits_newest: bool | None
    status: str  # one of STATUSES
    looked_up: bool  # published versions known (False while the repos are being asked)
    target: str | None = None  # a newer published version the requirement admits (the newest)

    @property
    def node(self) -> str:
        return self.container.node

    @property
    def asset(self) -> str:
        return self.container.asset

    @property
    def outdated(self) -> bool:
        return self.status != "up-to-date"

    def cells(self) -> tuple[str, ...]:
        rec = self.container.record
        if self.looked_up:
            newest = self.newest or "-"
            admits = "-" if self.admits_newest is None else ("yes" if self.admits_newest else "no")
        else:
            newest = admits = PENDING
        return (
            self.node,
            rec.asset,
            rec.version,
            self.installed or "-",
            newest,
            rec.kind or "-",
            rec.requirement or "-",
            admits,
            self.status,
        )

    def hint(self) -> str:
        """What the status means and what to do about it."""
        rec = self.container.record
        if self.status == "not-installed":
            return (f"{rec.asset} is not installed in the workspace: install it with "
                    "setpiece > Loader (Load)")
        requirement = rec.requirement or rec.asset
        if self.status == "outdated":
            if self.target:
                return (
                    f"{rec.asset} {self.installed} is installed, {rec.version} is in the scene "
                    f"and {self.target} is published: Update installs {self.target} (the newest "
                    f"'{requirement}' admits), brings the container to it and runs its setup code"
                )
            return (
                f"{rec.asset} {self.installed} is installed, {rec.version} is in the scene: "
                "Update brings the container to it and runs its setup code"
            )
        if self.status == "update-available":
            target = self.target or self.newest
            refused = (
                f" ({self.newest} is published too, but '{requirement}' does not admit it)"
                if self.newest and self.newest != target else ""
            )
            return (
                f"{rec.asset} {target} is published and '{requirement}' admits it{refused}: "
                "Update installs it in the workspace, brings the container to it and runs its "
                "setup code"
            )
        if self.status == "held":
            by = str(rec.extra.get("requiredBy", "")) if rec.extra else ""
            owner = f" ({rec.kind}{', required by ' + by if by else ''})"
            change = ("click its Scene version to take another one anyway, or have the "
                      "requirement changed ('setpiece require') to take it for good")
            if by:
                change = (
                    "click its Scene version to take another one anyway, or have the "
                    f"requirement changed ('setpiece require {by.split(',')[0]} "
                    f"\"{rec.asset}...\"') to take it for good"
                )
            if self.installed and self.installed != rec.version:
                return (
                    f"{rec.asset} {self.installed} is installed but '{rec.requirement}'{owner} "
                    f"does not admit it: Update leaves the container at {rec.version}; {change}"
                )
            return (
                f"{rec.asset} {self.newest} is published but '{rec.requirement}'{owner} does "
                f"not admit it: Update leaves the container at {rec.version}; {change}"
            )
        if not self.looked_up:
            return "up to date with the installed version; the repos are being asked"
        return "up to date"

    def to_json(self) -> dict[str, Any]:
        rec = self.container.record
        return {
            "node": self.node,
            "asset": rec.asset,
            "scene": rec.version,
            "installed": self.installed,
            "newest": self.newest,
            "kind": rec.kind,
            "requirement": rec.requirement,
            "admits_newest": self.admits_newest,
            "status": self.status,
        }


def rows_for(
    containers: Sequence[Container], changes: Sequence[Change], versions: RepoVersions
) -> list[Row]:
    """Rows from containers, their ``Runtime.check`` changes and the cached repo versions
    (no host, installed or repo call).

    The status and Update's target are :func:`setpiece.usd.status.container_status`'s
    (through :func:`setpiece.usd.inventory.inventory`), as in ``setpiece scene inventory``
    and ``Runtime.check``.
    """
    from setpiece.usd.inventory import inventory

    installed = {normalize(ch.asset): ch.installed_version for ch in changes}
    inv = inventory(
        [c.record for c in containers],
        lambda name: installed.get(normalize(name)),
        lambda name: versions.known(name) or [],
    )
    out = []
    for c, ch, r in zip(containers, changes, inv, strict=True):
        target = r.target if r.target != r.installed else None
        out.append(
            Row(c, ch, r.installed, r.newest, r.admits_newest, r.status,
                versions.known(c.asset) is not None, target)
        )
    return out


def collect(runtime: Runtime, versions: RepoVersions | None = None, *, fetch: bool = True) -> list[Row]:
    """Every container of the open scene: one ``host.ls()``, one read of the installed
    metadata and (``fetch``) the repo lookups still missing, one per distinct asset."""
    containers = list(runtime.host.ls())
    changes = runtime.check(containers)
    versions = versions or repo_versions(runtime.workspace)
    if fetch:
        versions.fetch(c.asset for c in containers)
    return rows_for(containers, changes, versions)


def summary(rows: Sequence[Row]) -> str:
    if not rows:
        return "no containers in this scene"
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = [f"{n} {s.replace('-', ' ')}" for s, n in counts.items() if n]
    return f"{len(rows)} container(s): " + ", ".join(parts)


def format_table(rows: Sequence[Row]) -> str:
    """The inventory as a text table (what the console fallback prints)."""
    table = [HEADERS, *(r.cells() for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    return "\n".join([*lines, summary(rows)])
