"""Yank: mark a published version as one installs should avoid (PEP 592), never delete it.

A yanked version stays in the repo (scenes and locks that pin it still install it); the
static index marks it ``data-yanked`` so uv skips it unless a requirement pins it with
``==``. The ``yanked`` event goes to the repo's own log, once per version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


def yank(ws: Workspace, spec: str, *, repo: str | None = None, reason: str = "") -> dict[str, Any]:
    """Yank ``NAME==VERSION`` in ``repo`` (default: the one configured repo holding it)."""
    from setpiece.core.publishing import parse_spec
    from setpiece.core.repos.folder import FolderRepo

    name, version = parse_spec(spec)
    if version is None:
        raise SetpieceError(f"give an exact version to yank: '{name}==1.2.3'")
    if repo is not None:
        target = ws.repo(repo)
        if not target.has_version(name, version):
            raise SetpieceError(
                f"{name}=={version} is not published in repo '{target.name}': see "
                f"'setpiece versions {name}'"
            )
    else:
        holding = []
        for r in ws.repos().values():
            try:
                if r.has_version(name, version):
                    holding.append(r)
            except SetpieceError:
                continue
        if not holding:
            raise SetpieceError(
                f"{name}=={version} is not published in {', '.join(ws.repos())}: see "
                f"'setpiece versions {name}'"
            )
        if len(holding) > 1:
            raise SetpieceError(
                f"{name}=={version} is in repos {', '.join(r.name for r in holding)}: say which "
                "to yank it from with --repo NAME"
            )
        target = holding[0]
    if not isinstance(target, FolderRepo):
        raise SetpieceError(
            f"repo '{target.name}' is an index server: yank {name} {version} with the server's "
            "own tool (e.g. devpi's web UI); setpiece yanks in folder repos"
        )
    changed = target.yank(name, version, reason)
    event = ws.emit("yanked", to_repo=target, asset=name, version=version, reason=reason)
    if changed:
        ws.report(f"Yanked {name} {version} in {target.name}: installs skip it unless pinned")
    else:
        ws.report(f"{name} {version} was already yanked in {target.name}")
    return {"asset": name, "version": version, "repo": target.name, "reason": reason,
            "changed": changed, "event": event["id"]}


__all__ = ["yank"]
