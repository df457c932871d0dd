"""Listings and info: installed assets kept apart from ordinary packages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize
from setpiece.core.requirements import dependency_kind, display

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


def dependencies_json(groups: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for group, reqs in sorted(groups.items()):
        for req in reqs:
            out.append(
                {
                    "group": group or "base",
                    "requirement": display(req, group or None),
                    "name": req.name,
                    "kind": dependency_kind(req),
                }
            )
    return out


def info(ws: Workspace, name: str) -> dict[str, Any]:
    key = normalize(name)
    outputs = ws.output_assets()
    installed = ws.installed_assets()
    if key in outputs:
        o = outputs[key]
        data: dict[str, Any] = {
            "name": o.name, "version": o.version, "kind": o.kind, "description": o.description,
            "source": "output", "path": str(o.path), "dependencies": dependencies_json(o.groups()),
        }
    elif key in installed:
        a = installed[key]
        data = {
            "name": a.name, "version": a.version, "kind": a.kind, "description": a.description,
            "source": "installed", "path": str(a.package_dir), "dependencies": dependencies_json(a.groups()),
        }
    else:
        from setpiece.core.assets import kind_from_keywords, requirements_by_group
        from setpiece.core.wheels import parse_metadata

        for repo in ws.repos().values():
            try:
                versions = repo.versions(name)
            except SetpieceError:
                continue
            if versions:
                meta = parse_metadata(repo.metadata(name, versions[-1]))
                data = {
                    "name": meta.get("Name", name), "version": versions[-1],
                    "kind": kind_from_keywords(meta.get("Keywords", "")),
                    "description": meta.get("Summary", "") or "", "source": f"repo {repo.name}",
                    "path": repo.location, "dependencies": dependencies_json(requirements_by_group(meta)),
                }
                break
        else:
            raise SetpieceError(
                f"no asset '{name}' in this workspace or its repos: see 'setpiece list' and "
                "'setpiece list --repo NAME'"
            )
    data["installed"] = installed[key].version if key in installed else None
    data["published"] = {n: v for n, v in ws.versions(data["name"]).items() if v} if ws.repos() else {}
    where = next((r for r, vs in data["published"].items() if data["version"] in vs), None)
    data["provenance"] = provenance(ws, where, data["name"], data["version"]) if where else {}
    return data


def provenance(ws: Workspace, repo_name: str, name: str, version: str) -> dict[str, Any]:
    """Who put ``name==version`` in ``repo_name``, when, from where and with what comment,
    from the repo's own event log (its once-per-version ``published``/``promoted`` record).
    Empty when the log has none (a version published before repos kept events)."""
    from setpiece.core.eventlog import repo_log

    log = repo_log(ws, ws.repo(repo_name))
    for action in ("published", "promoted"):
        event = log.keyed(action, name, version)
        if event is not None:
            out = {"action": action, "user": event.get("user"), "host": event.get("host"),
                   "time": event.time, "comment": event.get("comment") or ""}
            source = event.get("source")
            if action == "promoted" and source and source != repo_name and source in ws.repos():
                out["source"] = source  # the comment is the publish's, carried along
                out["comment"] = out["comment"] or provenance(ws, source, name, version).get(
                    "comment", "")
            return out
    return {}


def versions_long(ws: Workspace, name: str, repo: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """``versions --long``: each version with its provenance."""
    return {r: [{"version": v, **provenance(ws, r, name, v)} for v in vs]
            for r, vs in ws.versions(name, repo).items()}


def provenance_line(p: dict[str, Any]) -> str:
    """``2026-12-07 21:40  alice@host  "comment"`` (times in UTC)."""
    if not p:
        return "(no record)"
    import time

    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(p["time"]))
    how = " (promoted)" if p.get("action") == "promoted" else ""
    comment = f'  "{p["comment"]}"' if p.get("comment") else ""
    return f"{when}  {p.get('user')}@{p.get('host')}{how}{comment}"
