"""``setpiece repo sync SRC DST [REQ...]``: replicate what a closure needs into another repo.

What moves: the wheels of the closure's versions (``sites.closure``; every version of the
repo with no REQ), the files-remote objects those wheels point to, and the repo's events
about those versions. Only what DST lacks moves; what it holds with the same sha256 is
left alone; the same name and version with other bytes is a conflict: the whole sync is
refused before anything moves, naming both hashes and both sites.

Order, so that nothing is ever half-visible and a killed sync resumes by running again:

1. objects (files before the folder listings that name them), each verified by md5 as it
   arrives and fsynced (``files.objects.copy_local``; a cloud remote goes through the
   workspace's files cache, verified there: ``files.pulling.fetch`` / ``pushing.upload``);
2. wheels, dependencies first, each through ``Repo.publish`` (a hidden temp file hashed as
   it is written, compared with the source index's sha256, then linked; its index row
   after it), so a version becomes visible only once its files are all there;
3. events, with their ids unchanged (a re-run writes none twice; handlers are idempotent
   by id), after the versions they are about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import AlreadyPublished, BadInput, Conflict, SetpieceError
from setpiece.core.fsutil import staging_dir
from setpiece.core.sites.holdings import Held, Holdings

if TYPE_CHECKING:
    from setpiece.core.eventlog import Event, FolderLog
    from setpiece.core.repos.base import Repo
    from setpiece.core.workspace import Workspace


@dataclass
class Plan:
    source: Repo
    dest: Repo
    requests: list[str]
    versions: list[Held] = field(default_factory=list)  # the closure, at the source
    copy: list[Held] = field(default_factory=list)  # the destination lacks them
    repair: list[Held] = field(default_factory=list)  # there, same bytes, not yet indexed
    conflicts: list[tuple[Held, str, str]] = field(default_factory=list)  # held, src, dst sha
    external: list[str] = field(default_factory=list)  # resolved, not published in SRC
    objects: set[str] = field(default_factory=set)  # the destination's files remote lacks
    object_bytes: int = 0
    wheel_bytes: int = 0
    events: list[Event] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    wheels: dict[str, Path] = field(default_factory=dict)  # filename -> source bytes
    digests: dict[str, str] = field(default_factory=dict)  # filename -> sha256 at source

    def summary(self, dry_run: bool) -> dict[str, Any]:
        return {
            "source": self.source.name, "dest": self.dest.name, "requests": self.requests,
            "dry_run": dry_run, "versions": len(self.versions), "wheels": len(self.copy),
            "wheel_bytes": self.wheel_bytes, "objects": len(self.objects),
            "object_bytes": self.object_bytes, "events": len(self.events),
            "repaired": len(self.repair), "external": self.external,
            "copied": [h.label for h in self.copy],
        }


class _Progress:
    """``what: done/total`` on the workspace's progress line (``setpiece.core.progress``: a
    terminal only, never with ``-q``/``--json``); fsspec's Callback protocol too, as
    files.objects.copy_local calls it. Closed when all is done."""

    def __init__(self, ws: Workspace, what: str, total: int) -> None:
        self.task = ws.progress.task(what, total) if total else None
        self.done, self.total = 0, total

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.task is not None:
            self.task.update(self.done, total=self.total)
            if self.done >= self.total:
                self.task.close()
                self.task = None

    def set_size(self, size: int | None) -> None:
        self.total = size or 0

    def relative_update(self, inc: int = 1) -> None:
        self.step(inc)


def plan(ws: Workspace, source: str, dest: str, reqs: Sequence[str], tmp: Path) -> Plan:
    src, dst = ws.repo(source), ws.repo(dest)
    if src.name == dst.name:
        raise BadInput(f"repo sync copies between two repos: '{source}' is both; name "
                            "another destination")
    p = Plan(src, dst, list(reqs))
    have, want = Holdings(src), Holdings(dst)
    if reqs:
        from setpiece.core.sites.closure import resolve

        for project, version in resolve(ws, src.name, reqs):
            held = have.get(project, version)
            if held is None:
                p.external.append(f"{project}=={version}")
            else:
                p.versions.append(held)
    else:
        for project in have.projects():
            p.versions.extend(have.of(project).values())
    from setpiece.core.sites import where

    for held in p.versions:
        theirs = want.get(held.project, held.version)
        if theirs is None:
            p.copy.append(held)
            continue
        mine = have.digest(held, tmp)
        other = want.digest(theirs, tmp / "dest")
        p.digests[held.filename] = mine
        if mine != other:
            p.conflicts.append((held, mine, other))
        elif not theirs.indexed:
            p.repair.append(held)
    if p.conflicts:
        held, mine, other = p.conflicts[0]
        more = f" (and {len(p.conflicts) - 1} more conflict(s))" if len(p.conflicts) > 1 else ""
        raise Conflict(
            f"conflict: {held.label} differs between {where(ws, src.name)} (sha256 {mine}) and "
            f"{where(ws, dst.name)} (sha256 {other}){more}: nothing was synced and neither is "
            f"overwritten; one version is one content everywhere: the owning site publishes "
            f"a new version ('setpiece bump {held.project} micro'), the other yanks its copy")
    _check_owners(ws, p)
    for held in p.copy:
        p.wheels[held.filename] = have.wheel(held, tmp)
        p.digests[held.filename] = have.digest(held, tmp)
        p.wheel_bytes += p.wheels[held.filename].stat().st_size
    _plan_objects(ws, p)
    p.events = _missing_events(ws, p)
    return p


def _check_owners(ws: Workspace, p: Plan) -> None:
    """A version of an owned asset is replicated anywhere once its owner published (or
    promoted) it, as SRC's log says; any other version only where this site may publish
    it (the owner's site, or this site's review repo): a sync is no way around owners."""
    if not ws.config.section("sites"):
        return
    from setpiece.core.sites import check_publish, owner_of

    src_log, _ = _logs(ws, p)
    for held in p.copy:
        owner = owner_of(ws, held.project)
        if owner is None:
            continue
        sites = {_logged_site(src_log, e, held) for e in ("published", "promoted")}
        if owner.name not in sites:
            check_publish(ws, held.project, p.dest.name, "sync")


def _logged_site(log: FolderLog, event: str, held: Held) -> str | None:
    import json

    try:
        data = json.loads(log.key_path(event, held.project, held.version).read_bytes())
    except (OSError, ValueError):
        return None
    return str(data.get("site")) if isinstance(data, dict) else None


def _plan_objects(ws: Workspace, p: Plan) -> None:
    """The files-remote objects the wheels to copy point to that DST's remote lacks."""
    from setpiece.core.files.publishing import wheel_pointers

    ptrs = {h.filename: wheel_pointers(p.wheels[h.filename]) for h in p.copy}
    if not any(ptrs.values()):
        return
    from setpiece.core.files import need_dvc
    from setpiece.core.files.remote import configured_url, open_remote

    src_url, dst_url = configured_url(ws, p.source.name), configured_url(ws, p.dest.name)
    if src_url is not None and src_url == dst_url:
        return  # one files remote for both: nothing to move
    need_dvc()
    from setpiece.core.files.pulling import fetch
    from setpiece.core.files.store import Store

    src, dst = open_remote(ws, p.source.name), open_remote(ws, p.dest.name)
    with Store(ws) as store:
        listings = {x.md5 for ps in ptrs.values() for x in ps if x.is_dir}
        if listings and not src.local:  # a cloud remote's listings come through the cache
            fetch(ws, store, [src], listings, {})
        sizes: dict[str, int] = {}
        for name, ps in ptrs.items():
            label = " ".join(name.split("-")[:2])
            for x in ps:
                p.labels[x.md5] = f"{label}: {x.data_path.as_posix()}"
                sizes[x.md5] = 0 if x.is_dir else x.size
                for rel, md5, size in store.entries(x, [src.odb]):
                    p.labels.setdefault(md5, f"{label}: {x.data_path.as_posix()}/{rel}")
                    sizes.setdefault(md5, size)
        p.objects = dst.missing(set(p.labels))
    for oid in p.objects:
        size = sizes.get(oid, 0)
        if src.local:
            import os

            try:
                size = os.path.getsize(src.odb.oid_to_path(oid))
            except OSError:
                pass
        p.object_bytes += size


def _logs(ws: Workspace, p: Plan) -> tuple[FolderLog, FolderLog]:
    from setpiece.core.eventlog import repo_log

    return repo_log(ws, p.source), repo_log(ws, p.dest)


def _missing_events(ws: Workspace, p: Plan) -> list[Event]:
    """The source log's events about the closure's versions (every event with no REQ) that
    the destination log lacks, by id."""
    from setpiece.core.eventlog import Event
    from setpiece.core.naming import normalize
    from setpiece.core.sites.holdings import canonical

    src_log, dst_log = _logs(ws, p)
    if src_log.root == dst_log.root:
        return []
    present = set(dst_log.ids_since(None))
    keys = {(h.project, h.version) for h in p.versions} if p.requests else None
    out = []
    for event_id in src_log.ids_since(None):
        if event_id in present:
            continue
        try:
            ev = Event.from_bytes(src_log.path_of(event_id).read_bytes())
        except (OSError, ValueError):
            continue
        if keys is not None and (ev.asset is None or ev.version is None or (
                normalize(ev.asset), canonical(ev.version)) not in keys):
            continue
        if not _keyed_elsewhere(dst_log, ev):
            out.append(ev)
    return out


def _keyed_elsewhere(log: FolderLog, ev: Event) -> bool:
    """The destination already logged this once-per-version event under another id."""
    from setpiece.core.eventlog import KEYED

    if ev.name not in KEYED or not ev.asset or not ev.version:
        return False
    import json

    try:
        other = json.loads(log.key_path(ev.name, ev.asset, ev.version).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(other, dict) and other.get("id") != ev.id


#: wheels (and events) written at once: their fsyncs overlap (the disk's queue), as
#: ``files.objects.copy_local`` does for objects
JOBS = 8


def _levels(p: Plan) -> list[list[Held]]:
    """The wheels to copy in levels: each level only requires versions of earlier levels
    (or none being copied), so a version becomes visible only after what it requires
    (what each requires: SRC's reverse-dependency records, no wheel opened). A cycle is
    broken by putting what is left in one level."""
    by_project: dict[str, list[Held]] = {}
    for h in p.copy:
        by_project.setdefault(h.project, []).append(h)
    needs: dict[str, set[str]] = {}
    for h in p.copy:
        try:
            needs[h.filename] = (p.source.requirements(h.project, h.version).targets()
                                 & set(by_project)) - {h.project}
        except (SetpieceError, ValueError):
            needs[h.filename] = set()
    levels: list[list[Held]] = []
    left = sorted(p.copy, key=lambda h: (h.project, h.version))
    placed: set[str] = set()  # projects all of whose copied versions are placed
    while left:
        level = [h for h in left if needs[h.filename] <= placed] or left
        levels.append(level)
        left = [h for h in left if h not in level]
        placed |= {pr for pr, hs in by_project.items() if all(h not in left for h in hs)}
    return levels


def _copy_objects(ws: Workspace, p: Plan) -> None:
    if not p.objects:
        return
    from setpiece.core.files.remote import open_remote

    src, dst = open_remote(ws, p.source.name), open_remote(ws, p.dest.name)
    progress = _Progress(ws, f"Copying files {src.repo} -> {dst.repo}", len(p.objects))
    if src.local and dst.local:
        from setpiece.core.files.objects import copy_local, is_disk_full
        from setpiece.core.files.pushing import _names

        outcome = copy_local(src.odb, dst.odb, p.objects, verify=True, durable=True,
                             callback=progress)
        if outcome.corrupt:
            raise SetpieceError(
                f"refused {_names(outcome.corrupt, p.labels)}: the bytes in the files remote of "
                f"repo '{src.repo}' do not match their md5, so they were not copied and no "
                f"version pointing to them was synced; run 'setpiece files verify' at "
                f"'{src.repo}', then sync again")
        if outcome.errors:
            exc = next(iter(outcome.errors.values()))
            from setpiece.core.files.store import describe_os_error

            reason = "no space left on device" if is_disk_full(exc) else describe_os_error(exc)
            raise SetpieceError(
                f"could not copy {_names(set(outcome.errors), p.labels)} to the files remote of "
                f"repo '{dst.repo}' ({reason}): no version pointing to them was synced; fix it "
                "and sync again (what arrived stays)")
        return
    # a cloud remote on either side: through the workspace's files cache (verified there)
    from setpiece.core.files.pulling import fetch
    from setpiece.core.files.pushing import upload
    from setpiece.core.files.store import Store

    with Store(ws) as store:
        fetch(ws, store, [src], p.objects, p.labels)
        upload(ws, store, dst, f"{len(p.copy)} version(s)", p.objects, p.labels)


def _publish(ws: Workspace, p: Plan) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from setpiece.core.repos.folder import FolderRepo

    levels = _levels(p)
    progress = _Progress(ws, f"Copying wheels {p.source.name} -> {p.dest.name}", len(p.copy))
    batch = isinstance(p.dest, FolderRepo)

    def one(h: Held) -> None:
        sha = p.digests[h.filename]
        try:
            if isinstance(p.dest, FolderRepo):  # the folder fsynced once, at the end
                p.dest.publish(p.wheels[h.filename], sha256=sha, durable=False)
            else:
                p.dest.publish(p.wheels[h.filename], sha256=sha)
        except AlreadyPublished:
            # another sync (or publish) linked it meanwhile: fine if it is the same bytes
            now = Holdings(p.dest)
            again = now.get(h.project, h.version)
            if again is None or now.digest(again, p.wheels[h.filename].parent / "again") != sha:
                raise
            p.dest.ensure_indexed(h.project, h.version)

    jobs = JOBS if batch else 1  # an index server: one upload at a time
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for level in levels:
            for _ in pool.map(one, level):  # raises the first failure
                progress.step()
    for h in p.repair:
        p.dest.ensure_indexed(h.project, h.version)
    if batch and p.copy:
        assert isinstance(p.dest, FolderRepo)
        p.dest.sync_folders([h.project for h in p.copy], [h.filename for h in p.copy])


def _copy_events(ws: Workspace, p: Plan) -> int:
    if not p.events:
        return 0
    from concurrent.futures import ThreadPoolExecutor

    _, dst_log = _logs(ws, p)
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        new = sum(added for _, added in pool.map(
            lambda ev: dst_log.append(ev.data, sync_dirs=False), p.events))
    dst_log.sync_folders(p.events)
    return new


def _forward(ws: Workspace, p: Plan) -> None:
    """With ``[events] bus``: DST's log to this workspace's bus, when DST is at this
    workspace's site (another site's bus is fed there, by its 'setpiece events forward')."""
    if not ws.config.section("events").get("bus"):
        return
    if ws.config.section("sites"):
        from setpiece.core.sites import current, site_of

        here, there = current(ws), site_of(ws, p.dest.name)
        if there is not None and (here is None or here.name != there.name):
            return
    from setpiece.core import bus

    bus.forward_after_emit(ws, p.dest, None)


def sync(ws: Workspace, source: str, dest: str, reqs: Sequence[str] = (), *,
         dry_run: bool = False) -> dict[str, Any]:
    """Replicate into ``dest`` what ``reqs`` (every version, with none) needs from ``source``.
    Returns counts (see :meth:`Plan.summary`)."""
    ws.build_dir.mkdir(exist_ok=True)
    with staging_dir(ws.build_dir, "sync") as tmp:
        p = plan(ws, source, dest, reqs, tmp)
        result = p.summary(dry_run)
        if dry_run:
            return result
        _copy_objects(ws, p)
        _publish(ws, p)
        result["events"] = _copy_events(ws, p)
        if result["events"]:
            _forward(ws, p)
    if p.copy or p.objects or result["events"] or p.repair:
        ws.emit("synced", source=p.source.name, dest=p.dest.name, requests=list(reqs),
                wheels=len(p.copy), objects=len(p.objects), bytes=p.wheel_bytes + p.object_bytes,
                events=result["events"])
    return result
