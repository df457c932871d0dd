"""Sites: places with their own repos and files remote (a studio's cities, a vendor).

Configured in ``setpiece.toml``::

    [workspace]
    site = "london"                     # where this workspace is ($SETPIECE_SITE wins)

    [sites.london]
    repos = ["london", "london-review"] # names of [repos.X] entries, this site's
    files_remote = "/mnt/london/files"  # optional: the files remote of its repos that
                                        # name none of their own (any dvc remote URL)
    owns = ["Chair", "Kitchen*"]        # assets only this site publishes (fnmatch patterns)
    review = "london-review"            # where it publishes assets other sites own

    [sites.mumbai]
    repos = ["mumbai"]

What changes when sites are configured and the workspace knows its site:

* installs resolve from this site's repos (and repos in no site) only;
* pulls fetch from this site's files remote first, then the other sites' in the order of
  ``setpiece.toml`` (only for what the local one lacks);
* ``publish`` of an asset another site owns is refused, except to this site's review repo;
* ``setpiece repo sync SRC DST`` copies a closure between two repos (``sites.sync``).

The shape is checked when ``setpiece.toml`` is read (``check``): a one-line error names
the key and the fix.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import BadInput, Conflict, SetpieceError

if TYPE_CHECKING:
    from setpiece.core.repos.base import Repo
    from setpiece.core.workspace import Workspace

SITE_KEYS = ("repos", "files_remote", "files_remote_options", "owns", "review")


@dataclass(frozen=True)
class Site:
    name: str
    repos: tuple[str, ...]
    files_remote: str | None = None
    files_remote_options: Mapping[str, Any] = field(default_factory=dict)
    owns: tuple[str, ...] = ()
    review: str | None = None

    def owns_asset(self, asset: str) -> bool:
        from setpiece.core.naming import normalize

        key = normalize(asset)
        return any(fnmatch.fnmatchcase(key, normalize(p) if not _is_glob(p) else p.lower())
                   for p in self.owns)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _fail(path: Path, where: str, message: str) -> SetpieceError:
    return BadInput(f"{path}: {where} {message}")


def check(path: Path, data: Mapping[str, Any]) -> None:
    """Refuse a ``[sites]`` section setpiece cannot use (called from ``config_schema``)."""
    sites = data.get("sites")
    if sites is None:
        return
    if not isinstance(sites, Mapping):
        raise _fail(path, "sites", 'must be a table: write [sites.NAME] with repos = ["REPO"]')
    repos = data.get("repos", {}) if isinstance(data.get("repos", {}), Mapping) else {}
    seen: dict[str, str] = {}
    for name, entry in sites.items():
        where = f"[sites.{name}]"
        if not isinstance(entry, Mapping):
            raise _fail(path, f"[sites] {name}", f'must be a table: write {where} with repos = ["REPO"]')
        unknown = sorted(set(entry) - set(SITE_KEYS))
        if unknown:
            raise _fail(path, where, f"has unknown key '{unknown[0]}': use {', '.join(SITE_KEYS)}")
        names = entry.get("repos", [])
        if not isinstance(names, list) or not all(isinstance(r, str) for r in names):
            raise _fail(path, f"{where} repos", f'must be a list of repo names: repos = ["{name}"]')
        for r in names:
            if r not in repos:
                raise _fail(path, f"{where} repos", f"names repo '{r}', which is not configured: "
                            f"add [repos.{r}] (setpiece repo add {r} LOCATION) or remove it")
            if r in seen:
                raise _fail(path, f"{where} repos", f"names repo '{r}', which is already a repo "
                            f"of site '{seen[r]}': a repo is at one site")
            seen[r] = str(name)
        for key in ("files_remote", "review"):
            if key in entry and not isinstance(entry[key], str):
                raise _fail(path, f"{where} {key}", f'must be a string: {key} = "..."')
        if "files_remote_options" in entry and not isinstance(entry["files_remote_options"], Mapping):
            raise _fail(path, f"{where} files_remote_options",
                        'must be a table: files_remote_options = { endpointurl = "http://..." }')
        owns = entry.get("owns", [])
        if not isinstance(owns, list) or not all(isinstance(o, str) for o in owns):
            raise _fail(path, f"{where} owns", 'must be a list of asset names or patterns: '
                        'owns = ["Chair", "Kitchen*"]')
        review = entry.get("review")
        if review is not None and review not in names:
            raise _fail(path, f"{where} review", f"names '{review}', which is not one of the "
                        f"site's repos: add it to repos, or name one of {', '.join(names) or 'them'}")
    site = data.get("workspace", {}).get("site") if isinstance(data.get("workspace"), Mapping) else None
    if site is not None and not isinstance(site, str):
        raise _fail(path, "[workspace] site", f'must be a string: site = "{next(iter(sites), "london")}"')
    if site is not None and site not in sites:
        raise _fail(path, "[workspace] site", f"is '{site}', which is not configured: use one of "
                    f"{', '.join(sites) or 'none'} or add [sites.{site}]")


def configured(ws: Workspace) -> dict[str, Site]:
    """The sites of ``setpiece.toml``, in its order."""
    out = {}
    for name, entry in ws.config.section("sites").items():
        out[name] = Site(
            name, tuple(entry.get("repos", ())), entry.get("files_remote"),
            dict(entry.get("files_remote_options", {}) or {}), tuple(entry.get("owns", ())),
            entry.get("review"))
    return out


def current_name(ws: Workspace | None) -> str | None:
    """This workspace's site: ``$SETPIECE_SITE``, else ``[workspace] site``, else ``[events]
    site`` (older name), else None."""
    env = os.environ.get("SETPIECE_SITE")
    if env:
        return env
    if ws is None:
        return None
    for section in ("workspace", "events"):
        value = ws.config.section(section).get("site")
        if value:
            return str(value)
    return None


def current(ws: Workspace) -> Site | None:
    """The configured site this workspace is at, or None (no sites, or no site named).
    A site name that is not configured, with sites configured, is a one-line error."""
    sites = configured(ws)
    if not sites:
        return None
    name = current_name(ws)
    if name is None:
        return None
    if name not in sites:
        source = "$SETPIECE_SITE" if os.environ.get("SETPIECE_SITE") else "setpiece.toml"
        raise BadInput(
            f"site '{name}' (from {source}) is not configured: use one of "
            f"{', '.join(sites)}, or add [sites.{name}] to setpiece.toml")
    return sites[name]


def site_of(ws: Workspace, repo: str) -> Site | None:
    """The site that has ``repo`` among its repos, or None."""
    for site in configured(ws).values():
        if repo in site.repos:
            return site
    return None


def where(ws: Workspace, repo: str) -> str:
    """``site 'london' (repo 'london')`` or ``repo 'x'``: for messages."""
    site = site_of(ws, repo)
    return f"site '{site.name}' (repo '{repo}')" if site else f"repo '{repo}'"


def pull_order(ws: Workspace, names: list[str]) -> list[str]:
    """``names`` (repos, blessed first) reordered for fetching files: this site's repos
    first, then each other site's in the order of ``setpiece.toml``, then repos in no site."""
    sites = configured(ws)
    if not sites:
        return names
    here = current(ws)
    order: list[str] = []
    ranked = ([here] if here else []) + [s for s in sites.values() if here is None or s.name != here.name]
    for site in ranked:
        order += [r for r in names if r in site.repos and r not in order]
    return order + [r for r in names if r not in order]


def install_repos(ws: Workspace) -> list[Repo]:
    """The repos installs resolve from: at a site, its own repos and those in no site (the
    other sites' repos are for ``repo sync``); else every repo, blessed first."""
    repos = ws.repos()
    here = current(ws)
    if here is None:
        return list(repos.values())
    elsewhere = {r for s in configured(ws).values() if s.name != here.name for r in s.repos}
    return [r for n, r in repos.items() if n not in elsewhere]


def owner_of(ws: Workspace, asset: str) -> Site | None:
    """The site that owns ``asset`` (the first whose ``owns`` matches), or None."""
    for site in configured(ws).values():
        if site.owns_asset(asset):
            return site
    return None


def check_publish(ws: Workspace, asset: str, repo: str, action: str = "publish") -> None:
    """Refuse publishing ``asset`` to ``repo`` from a site that does not own it, unless
    ``repo`` is this site's review repo (the owner promotes from there)."""
    owner = owner_of(ws, asset)
    if owner is None:
        return
    here = current(ws)
    if here is None:
        raise BadInput(
            f"{asset} is owned by site '{owner.name}', and this workspace does not say which "
            f"site it is at: set site = \"NAME\" under [workspace] in setpiece.toml (or "
            f"$SETPIECE_SITE), then {action} again")
    if here.name == owner.name:
        return
    if here.review and repo == here.review:
        return
    if action == "sync":
        fix = (f"sync it into your review repo ('{here.review}') instead" if here.review else
               f"add a review repo to site '{here.name}' (review = \"REPO\" under "
               f"[sites.{here.name}]) and sync it there")
        then = f"site '{owner.name}' syncs or promotes it from there"
    else:
        verb = "promote" if action == "promote" else "publish"
        fix = (f"{verb} it to your review repo instead (setpiece {verb} "
               f"{asset}{'==VERSION' if verb == 'promote' else ''} --{'to' if verb == 'promote' else 'repo'} "
               f"{here.review})" if here.review else
               f"{verb} it to a review repo of site '{here.name}' instead (add review = \"REPO\" "
               f"under [sites.{here.name}])")
        then = f"site '{owner.name}' promotes it"
    raise Conflict(
        f"{asset} is owned by site '{owner.name}': site '{here.name}' does not {action} its "
        f"versions to repo '{repo}'; {fix}, and {then}")
