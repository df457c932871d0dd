"""``files status``: for each tracked path, local state, remote state, import source state.

local:  present (the tracked content is there) | modified (something else is there) |
        corrupt (a link to a cached copy whose bytes rotted: 'files verify --repair') |
        missing (not pulled, or removed)
remote: present | missing (the remote lacks some of its objects) | unknown (no listing
        to check, or no remote: see ``note``)
source: for an import, unchanged | changed (re-import is due) | missing
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.files import pointers

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


def status(ws: Workspace, spec: str, *, repo: str | None = None,
           check_remote: bool = True) -> dict[str, Any]:
    from setpiece.core.files.pulling import targets
    from setpiece.core.files.remote import open_remote, remotes_for_pull
    from setpiece.core.files.store import Store
    from setpiece.core.files.verify import corrupt_link

    target = targets(ws, spec)[0]
    ptrs = pointers.find(target.package_dir)
    result: dict[str, Any] = {"asset": target.name, "version": target.version,
                              "package_dir": str(target.package_dir), "paths": []}
    if not ptrs:
        return result
    with Store(ws) as store:
        remotes = []
        note = ""
        if check_remote:
            try:
                if repo is None and not target.installed:
                    remotes = [open_remote(ws, ws.repo(None).name)]
                else:
                    remotes = remotes_for_pull(ws, repo)
            except SetpieceError as exc:
                note = str(exc)
        odbs = [r.odb for r in remotes]
        for p in ptrs:
            row: dict[str, Any] = {
                "path": p.rel(target.package_dir), "kind": "folder" if p.is_dir else "file",
                "size": p.size, "files": p.files, "md5": p.md5,
            }
            current = store.current_md5(p.data_path)
            row["local"] = "missing" if current is None else (
                "present" if current == p.md5 else "modified")
            if row["local"] == "modified" and corrupt_link(store, p):
                row["local"] = "corrupt"  # the cached copy it links to rotted
            if remotes:
                entries = store.entries(p, odbs)
                if not entries:
                    row["remote"] = "missing" if p.is_dir and all(
                        r.missing({p.md5}) for r in remotes) else "unknown"
                else:
                    oids = {p.md5} | {md5 for _, md5, _ in entries}
                    lacking = oids
                    for r in remotes:
                        lacking = lacking & r.missing(oids)
                    row["remote"] = "present" if not lacking else "missing"
                    if lacking:
                        row["remote_missing"] = len(lacking)
            else:
                row["remote"] = "unknown"
            if p.source is not None:
                src = Path(p.source.path)
                row["source_path"] = p.source.path
                if not os.path.lexists(src):
                    row["source"] = "missing"
                else:
                    row["source"] = "unchanged" if store.current_md5(src) == p.source.md5 else "changed"
            result["paths"].append(row)
        if note:
            result["note"] = note
        if remotes:
            result["repos"] = [r.repo for r in remotes]
    return result
