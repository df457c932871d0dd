"""Generated assets: ``setpiece generate NAME`` runs NAME's generator and publishes a new
version only when the result changed.

The generator is asset code in the entry point group ``setpiece.generators``, named after
the asset it fills (usually the asset itself declares it)::

    [project.entry-points."setpiece.generators"]
    TodaysReviews = "todaysreviews.generate:generate"

``generate(ctx)`` gets a :class:`GenerateContext` and returns a dict with ``members``
(casting members: ``Name`` or ``Name==version``; the asset's members become exactly
these) and/or ``files`` (``{path in the package: text}``). The result is hashed (sha256
of the pinned members and the files' bytes) and compared with the hash recorded in the
package (``generated.json``, shipped with every version): the same hash and that version
published means nothing to do; otherwise the files and members are written, the version
bumped (micro) when the current one is already published, and the asset published.

A failing generator reports the generator's asset and version and changes nothing. Safe
mode refuses to run it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core import asset_code
from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text
from setpiece.core.project import OutputAsset

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

GROUP = "setpiece.generators"
STATE_FILE = "generated.json"


@dataclass
class GenerateContext:
    """What a generator's ``generate(ctx)`` gets."""

    workspace: Any
    asset: OutputAsset
    name: str
    version: str

    @property
    def package_dir(self) -> Path:
        return self.asset.package_dir

    def events(self, repo: str | None = None, names: Iterable[str] = ("published",),
               since: str | None = None) -> list[dict[str, Any]]:
        """Events of ``repo`` (default: the workspace's default repo) named ``names``,
        ``since`` a time (``today``, ``2026-12-07``, ``2h``, ...) or an event id."""
        from setpiece.core.eventlog import parse_since, read, repo_log

        ws = self.workspace
        bound = parse_since(time.strftime("%Y-%m-%d", time.gmtime()) if since == "today"
                            else since)
        log = repo_log(ws, ws.repo(repo))
        return [ev.to_dict() for ev in read(log, bound, names=list(names))]


def _digest(members: list[str], files: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"members": members,
                         "files": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}},
                        sort_keys=True).encode())
    return h.hexdigest()


def _result(ref: asset_code.CodeRef, ws: Workspace, raw: Any) -> tuple[list[str] | None,
                                                                       dict[str, bytes]]:
    from setpiece.core.castings import pin
    from setpiece.core.naming import normalize

    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping) or set(raw) - {"members", "files"}:
        raise SetpieceError(f"the generator of {ref.who} returned {type(raw).__name__}: return "
                            "a dict with 'members' (a list) and/or 'files' ({path: text})")
    members = None
    if "members" in raw:
        if not isinstance(raw["members"], (list, tuple)):
            raise SetpieceError(f"the generator of {ref.who}: 'members' must be a list")
        pins = {normalize(p.partition("==")[0]): p for p in (pin(ws, str(m)) for m in raw["members"])}
        members = sorted(pins.values(), key=normalize)
    files: dict[str, bytes] = {}
    for rel, content in dict(raw.get("files") or {}).items():
        p = Path(str(rel))
        if p.is_absolute() or ".." in p.parts or not str(rel):
            raise SetpieceError(f"the generator of {ref.who}: file '{rel}' must be a path inside "
                                "the package")
        files[p.as_posix()] = content.encode() if isinstance(content, str) else bytes(content)
    return members, files


def generate(ws: Workspace, name: str, *, repo: str | None = None) -> dict[str, Any]:
    """Run NAME's generator; publish a new version when the result changed."""
    from setpiece.core.castings import set_members

    asset = ws.output(name)
    refs = asset_code.find(ws, GROUP, asset.name)
    if not refs:
        raise SetpieceError(
            f"{asset.name} has no generator: declare one in its pyproject.toml "
            f'([project.entry-points."{GROUP}"] {asset.name} = "module:function")'
        )
    ref = refs[0]
    fn = asset_code.load(ws, ref, "generator")
    fn = getattr(fn, "generate", fn)
    ctx = GenerateContext(ws, asset, asset.name, asset.version)
    members, files = _result(ref, ws, asset_code.call(ref, "generator", fn, ctx))
    digest = _digest(members or [], files)
    state_path = asset.package_dir / STATE_FILE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        state = {}
    target = ws.repo(repo)
    published = asset.version in ws.available_versions(asset.name)
    if state.get("digest") == digest and published:
        ws.report(f"{asset.name} {asset.version}: unchanged ({digest[:12]}), no new version")
        return {"name": asset.name, "version": asset.version, "changed": False,
                "digest": digest, "members": members, "files": sorted(files)}
    old_pyproject = asset.pyproject.read_text(encoding="utf-8")
    new_version: str | None = None  # the version being published, once it is known
    old_state = state_path.read_text(encoding="utf-8") if state_path.exists() else None
    old_files = {rel: (asset.package_dir / rel).read_bytes()
                 if (asset.package_dir / rel).is_file() else None for rel in files}
    try:
        if state.get("digest") != digest and published:
            from setpiece.core import authoring

            authoring.bump(ws, asset.name, "micro")
        for rel, data in files.items():
            dest = asset.package_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            from setpiece.core.fsutil import atomic_write_bytes

            atomic_write_bytes(dest, data)
        atomic_write_text(state_path, json.dumps(
            {"digest": digest, "generator": ref.target, "members": members,
             "files": sorted(files)}, indent=2) + "\n")
        if members is not None:
            set_members(ws, asset, members)
        new_version = ws.output(asset.name).version
        if target.has_version(asset.name, new_version):
            new_version = None  # someone else's wheel: never taken for ours below
        ws.publish(asset.name, repo=target.name,
                   comment=f"generated by {ref.who} ({digest[:12]})")
    except BaseException:
        try:  # the new version landed and only a later step failed (its index): keep it
            landed = (new_version is not None
                      and ws.output(asset.name).version == new_version
                      and target.has_version(asset.name, new_version))
        except (SetpieceError, OSError):
            landed = False
        if landed:
            raise
        from setpiece.core.fsutil import atomic_write_bytes

        atomic_write_text(asset.pyproject, old_pyproject)
        if old_state is None:
            state_path.unlink(missing_ok=True)
        else:
            atomic_write_text(state_path, old_state)
        for rel, old in old_files.items():
            if old is None:
                (asset.package_dir / rel).unlink(missing_ok=True)
            else:
                atomic_write_bytes(asset.package_dir / rel, old)
        from setpiece.core.authoring import _install_editable

        try:  # the installed metadata back to the restored version
            _install_editable(ws, asset, deps=False)
        except SetpieceError as exc:
            ws.report(f"warning: {asset.name} could not be reinstalled after the failure: {exc}")
        raise
    ws.report(f"{asset.name} {asset.version}: generated ({digest[:12]}), published to "
              f"'{target.name}'")
    return {"name": asset.name, "version": asset.version, "changed": True, "digest": digest,
            "members": members, "files": sorted(files), "repo": target.name}


__all__ = ["GROUP", "GenerateContext", "generate"]
