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
    return data
