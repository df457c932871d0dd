"""A request's closure in one repo: the versions ``setpiece install REQ`` would get from it.

Resolved by uv, the resolver installs use, with the same index arguments
(``Workspace.uv_index_args`` for that one repo, plus ``external_packages/``) and the
workspace's Python: what a sync replicates is exactly what an install at the other site
will ask for. Names the repo does not publish (external packages) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import staging_dir

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


def resolve(ws: Workspace, repo: str | None, reqs: Sequence[str]) -> list[tuple[str, str]]:
    """(normalised name, version) of every package uv resolves ``reqs`` to from ``repo``
    (None: the repos installs use)."""
    from setpiece.core.naming import normalize
    from setpiece.core.requirements import parse_requirement
    from setpiece.core.uvrun import run_uv

    for r in reqs:
        parse_requirement(r)  # one-line error for a bad request, before uv runs
    idx, env = ws.uv_index_args(repo)
    ws.build_dir.mkdir(exist_ok=True)
    with staging_dir(ws.build_dir, "closure") as tmp:
        infile = tmp / "requests.in"
        infile.write_text("".join(f"{r}\n" for r in reqs), encoding="utf-8")
        try:
            proc = run_uv(["pip", "compile", str(infile), "--python", str(ws.python),
                           "--no-header", "--no-annotate", "--quiet", *idx], env=env,
                          what=f"resolving {', '.join(reqs)}"
                               + (f" in repo '{repo}'" if repo else ""))
        except SetpieceError as exc:
            raise type(exc)(f"{exc} (nothing was {'synced' if repo else 'pulled'})")
    out = []
    for line in proc.stdout.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            out.append((normalize(name.split("[", 1)[0].strip()), version.strip()))
    return out
