"""The fault-injection suite's independent checker: what must hold after any crash.

Written without setpiece's code paths (only the standard library, PyYAML for dvc's
pointer files and usd-core's parser for ``.usda``), so that a bug in setpiece's own
readers cannot hide a broken state from the check:

* every version a folder repo shows (a row in its static index) is a complete wheel with
  the recorded sha256, and every pointer (``*.dvc``) in every wheel in the folder has all
  its objects in the repo's files remote (``files/md5/xx/...``) with the right md5;
* no half-written file sits at a final path: wheels open as valid zips, ``.json``,
  ``.jsonl``, ``.toml``, ``.dvc`` and ``.metadata`` files parse, ``.usda`` layers parse
  (hidden ``.*.tmp`` files are temp files, never final paths);
* no artist file is lost: its bytes are at its path, or in the place ``files status``
  names for that path (its pointer's md5, in the workspace's files cache);
* files pulled into a workspace's ``inputs/`` are exactly what their pointers say.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import yaml

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

_ROW = re.compile(r'<a href="\.\./\.\./([^"#]+\.whl)#sha256=([0-9a-f]+)"')


def md5_of(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pointer_md5(text: str | bytes) -> str:
    data = yaml.safe_load(text)
    return str(data["outs"][0]["md5"])


def _object(objects: Path, md5: str) -> Path:
    return objects / md5[:2] / md5[2:]


def check_object(objects: Path, md5: str, what: str) -> list[str]:
    """The object and, for a folder listing, every object it names: present, right md5."""
    path = _object(objects, md5)
    if not path.is_file():
        return [f"{what}: object {md5} missing from {objects}"]
    if md5_of(path) != md5.removesuffix(".dir"):
        return [f"{what}: object {md5} in {objects} has other bytes"]
    if not md5.endswith(".dir"):
        return []
    problems = []
    for entry in json.loads(path.read_bytes()):
        problems += check_object(objects, str(entry["md5"]), f"{what}/{entry['relpath']}")
    return problems


def check_repo(repo: Path) -> list[str]:
    """A folder repo: visible versions complete, every wheel's pointers backed by objects."""
    problems: list[str] = []
    objects = repo / "files" / "md5"
    for page in (repo / "simple").glob("*/index.html"):
        for name, digest in _ROW.findall(page.read_text(encoding="utf-8")):
            wheel = repo / name
            if not wheel.is_file():
                problems.append(f"{page}: lists {name}, which is not in the repo")
            elif sha256_of(wheel) != digest:
                problems.append(f"{page}: {name} has another sha256 than its row")
    for wheel in sorted(repo.glob("*.whl")):
        if wheel.name.startswith("."):
            continue
        try:
            with zipfile.ZipFile(wheel) as zf:
                if zf.testzip() is not None:
                    raise zipfile.BadZipFile("a member fails its CRC")
                for name in zf.namelist():
                    if name.endswith(".dvc") and ".dist-info/" not in name:
                        md5 = pointer_md5(zf.read(name))
                        problems += check_object(objects, md5, f"{wheel.name}:{name}")
        except zipfile.BadZipFile as exc:
            problems.append(f"{wheel}: not a valid wheel ({exc})")
    return problems


def _parses(path: Path) -> str | None:
    """None if ``path`` parses as what its name says, else the reason."""
    suffix = path.suffix
    try:
        if suffix in (".whl", ".zip"):
            with zipfile.ZipFile(path) as zf:
                if zf.testzip() is not None:
                    return "a member fails its CRC"
        elif suffix == ".json":
            json.loads(path.read_bytes())
        elif suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    json.loads(line)
        elif suffix == ".toml":
            tomllib.loads(path.read_text(encoding="utf-8"))
        elif suffix == ".dvc":
            pointer_md5(path.read_bytes())
        elif suffix == ".metadata":
            if not path.read_bytes().startswith(b"Metadata-Version:"):
                return "not core metadata"
        elif suffix == ".usda":
            from pxr import Sdf

            if Sdf.Layer.OpenAsAnonymous(str(path)) is None:
                return "does not parse as USD"
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return None


def check_files_parse(root: Path, skip: tuple[str, ...] = ("inputs",)) -> list[str]:
    """Every file at a final path under ``root`` is whole (hidden temp files excepted;
    folders named in ``skip``, the workspaces' venvs written by uv, are not walked)."""
    problems = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        if any(part in skip for part in rel.parts):
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d != "md5"]  # content-addressed objects: check_object
        for f in files:
            if f.startswith(".") and f.endswith(".tmp"):
                continue
            reason = _parses(Path(folder) / f)
            if reason is not None:
                problems.append(f"{Path(folder) / f}: half-written ({reason})")
    return problems


def artist_files(root: Path) -> dict[Path, str]:
    """md5 of every data file under ``root`` (an asset's package folder): not code, not
    pointers, not metadata setpiece writes."""
    out = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.name.startswith(".") and path.suffix not in (
                ".py", ".dvc", ".toml", ".pyc", ".usda") and "__pycache__" not in path.parts:
            out[path] = md5_of(path)
    return out


def check_artist_files(before: dict[Path, str], cache: Path) -> list[str]:
    """Each file's bytes are at its path, or where ``files status`` names them: the md5 in
    the pointer beside the path, an object of the workspace's files cache."""
    problems = []
    for path, md5 in before.items():
        if path.is_file() and md5_of(path) == md5:
            continue
        pointer = path.with_name(path.name + ".dvc")
        named = None
        if pointer.is_file():
            try:
                named = pointer_md5(pointer.read_bytes())
            except Exception:
                named = None
        obj = _object(cache, named) if named else None
        if named == md5 and obj is not None and obj.is_file() and md5_of(obj) == md5:
            continue
        problems.append(f"{path}: the artist's bytes (md5 {md5}) are lost")
    return problems


def check_pulled(site_packages: Path, cache: Path) -> list[str]:
    """Tracked files present in an installed package are what their pointers say (a
    folder's files: what its listing, in the workspace's files cache, says)."""
    problems = []
    for pointer in site_packages.rglob("*.dvc"):
        data = pointer.with_name(pointer.name[:-4])
        if not os.path.lexists(data):
            continue
        md5 = pointer_md5(pointer.read_bytes())
        if md5.endswith(".dir"):
            listing = _object(cache, md5)
            wanted = {e["relpath"]: e["md5"] for e in json.loads(listing.read_bytes())} \
                if listing.is_file() else {}
            for f in data.rglob("*"):
                rel = f.relative_to(data).as_posix()
                if f.is_file() and (rel not in wanted or md5_of(f) != wanted[rel]):
                    problems.append(f"{f}: pulled bytes differ from its folder's listing")
        elif not data.is_file() or md5_of(data) != md5:
            problems.append(f"{data}: pulled bytes differ from its pointer")
    return problems
