"""What uv installed, checked: no unsafe files from an asset, and exactly the locked bytes.

- ``check_added``: after an install, every newly installed distribution's ``RECORD`` is
  read; a file outside the workspace venv, or (for an asset) a start-up hook (``*.pth``,
  ``sitecustomize``, ``usercustomize``) or a file outside site-packages other than its own
  console scripts, undoes the install. Folder repos refuse such wheels at publish and
  reindex already; this covers index servers and wheels that got in another way.
- ``verify_lock``: after ``sync``, every locked distribution is compared, file by file,
  with the wheel whose sha256 the lock names (found in the repos or ``external_packages/``):
  uv trusts its cache, so a tampered cache entry or an installed file changed since would
  otherwise pass.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

#: files uv writes into a dist-info itself (not copied from the wheel)
_GENERATED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"}


def find_dist_info(site: Path, name: str, version: str | None = None) -> Path | None:
    key = normalize(name)
    try:
        entries = list(os.scandir(site))
    except FileNotFoundError:
        return None
    for e in entries:
        if not e.name.endswith(".dist-info"):
            continue
        n, _, v = e.name[: -len(".dist-info")].partition("-")
        if normalize(n) == key and (version is None or _same_version(v, version)):
            return Path(e.path)
    return None


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _record(dist_info: Path) -> list[str]:
    try:
        text = (dist_info / "RECORD").read_text(encoding="utf-8")
    except OSError:
        return []
    return [row[0] for row in csv.reader(io.StringIO(text)) if row]


def _scripts(dist_info: Path) -> set[str]:
    """Console and GUI script names of a distribution (uv writes them into ``bin/``)."""
    try:
        text = (dist_info / "entry_points.txt").read_text(encoding="utf-8")
    except OSError:
        return set()
    out: set[str] = set()
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
        elif "=" in line and section in ("console_scripts", "gui_scripts"):
            out.add(line.split("=", 1)[0].strip())
    return out


def _problem(ws: Workspace, dist_info: Path) -> str | None:
    from setpiece.core.assets import ASSET_GROUP
    from setpiece.core.wheels import _startup_hook

    site = dist_info.parent
    inputs = os.path.realpath(ws.inputs)
    try:
        asset = f"[{ASSET_GROUP}]" in (dist_info / "entry_points.txt").read_text(encoding="utf-8")
    except OSError:
        asset = False
    scripts = _scripts(dist_info)
    bindirs = {os.path.realpath(ws.python.parent)}
    for rel in _record(dist_info):
        full = os.path.realpath(os.path.join(site, rel))
        if not (full == inputs or full.startswith(inputs + os.sep)):
            return f"'{rel}' was written outside the workspace venv"
        if not asset:
            continue
        if _startup_hook(rel.replace("\\", "/")):
            return f"'{rel}' is a start-up hook that would run in every process of the workspace"
        in_site = full.startswith(os.path.realpath(site) + os.sep)
        if not in_site:
            script = os.path.basename(full).removesuffix(".exe")
            if os.path.dirname(full) not in bindirs or script not in scripts:
                return f"'{rel}' installs outside site-packages"
    return None


def check_added(ws: Workspace, changes: list[str]) -> tuple[str, str, str] | None:
    """(name, version, why) of the first newly installed distribution that is unsafe."""
    for change in changes:
        if not change.startswith("+ "):
            continue
        name, _, version = change[2:].partition("==")
        dist = find_dist_info(ws.site_packages, name, version or None)
        if dist is None:
            continue
        why = _problem(ws, dist)
        if why is not None:
            return name, version, why
    return None


# -- the lock -----------------------------------------------------------------------------

_PIN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*\\?\s*$")
_HASH_RE = re.compile(r"--hash=sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    sha256: str


def read_lock(text: str) -> list[Pin]:
    """The pins of a lock written by ``setpiece freeze`` (``name==ver \\ --hash=sha256:H``)."""
    pins: list[Pin] = []
    current: tuple[str, str] | None = None
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = _PIN_RE.match(s)
        if m:
            current = (m.group(1), m.group(2))
            continue
        h = _HASH_RE.search(s)
        if h and current is not None:
            pins.append(Pin(current[0], current[1], h.group(1)))
            current = None
    return pins


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _file_hash(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return _b64(h.digest())


def _installed_path(site: Path, entry: str) -> Path | None:
    """Where uv put a wheel entry, or None for what uv rewrites (scripts) or places
    outside site-packages."""
    parts = entry.split("/")
    if parts[0].endswith(".data"):
        if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
            return site.joinpath(*parts[2:])
        return None
    if parts[0].endswith(".dist-info") and parts[-1] in _GENERATED:
        return None
    return site.joinpath(*parts)


def compare_with_wheel(site: Path, dist_info: Path, wheel: Path) -> str | None:
    """A one-phrase difference between what is installed and the wheel, or None."""
    with zipfile.ZipFile(wheel) as zf:
        expected: dict[str, str] = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            target = _installed_path(site, info.filename)
            if target is None:
                continue
            expected[os.path.normcase(str(target))] = _b64(hashlib.sha256(zf.read(info)).digest())
    for path, digest in sorted(expected.items()):
        got = _file_hash(Path(path))
        rel = os.path.relpath(path, site)
        if got is None:
            return f"{rel} is missing"
        if got != digest:
            return f"{rel} differs from the locked wheel"
    for rel in _record(dist_info):
        full = os.path.normcase(os.path.normpath(os.path.join(site, rel)))
        low = rel.replace("\\", "/")
        if (full in expected or "__pycache__/" in low or low.endswith(".pyc")
                or low.split("/")[-1] in _GENERATED or not full.startswith(os.path.normcase(str(site)))):
            continue
        if os.path.exists(full):
            return f"{rel} is installed but not in the locked wheel"
    return None


def locked_wheel(ws: Workspace, pin: Pin, tmp: Path) -> tuple[Path, str]:
    """(path, where) of the wheel of ``pin`` whose sha256 matches the lock."""
    from setpiece.core.installing import _sha256
    from setpiece.core.repos.folder import FolderRepo
    from setpiece.core.wheels import parse_wheel_name

    seen: list[str] = []
    for p in sorted(ws.external_dir.glob("*.whl")) if ws.external_dir.is_dir() else []:
        wn = parse_wheel_name(p.name)
        if wn and wn.project == normalize(pin.name) and _same_version(wn.version, pin.version):
            if _sha256(p) == pin.sha256:
                return p, "external_packages/"
            seen.append("external_packages/")
    for name, repo in ws.repos().items():
        try:
            if not repo.has_version(pin.name, pin.version):
                continue
            path = (repo.find_wheel(pin.name, pin.version) if isinstance(repo, FolderRepo)
                    else repo.fetch(pin.name, pin.version, tmp / name))
        except SetpieceError:
            continue
        if _sha256(path) == pin.sha256:
            return path, f"repo '{name}'"
        seen.append(f"repo '{name}'")
    if seen:
        raise SetpieceError(
            f"{pin.name} {pin.version} in {seen[0]} is not the wheel the lock names (its sha256 "
            "differs): the published wheel was replaced; restore it, or freeze a new lock"
        )
    raise SetpieceError(
        f"{pin.name} {pin.version} is in no repo and not in external_packages/: the lock "
        "cannot be checked; publish it or 'setpiece external add' it"
    )


def verify_lock(ws: Workspace, pins: list[Pin]) -> list[tuple[Pin, str]]:
    """(pin, difference) for every locked distribution whose installed files are not the
    locked wheel's. Raises when a locked wheel cannot be found with its locked hash."""
    site = ws.site_packages
    bad: list[tuple[Pin, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for pin in pins:
            dist = find_dist_info(site, pin.name, pin.version)
            if dist is None:
                bad.append((pin, "it is not installed"))
                continue
            wheel, _ = locked_wheel(ws, pin, Path(tmp))
            diff = compare_with_wheel(site, dist, wheel)
            if diff is not None:
                bad.append((pin, diff))
    return bad
