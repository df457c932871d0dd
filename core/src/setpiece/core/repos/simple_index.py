"""A static PEP 503 index (with PEP 658 metadata files) beside a folder repo's wheels.

Written at publish time for the one project published, so any static file server (or
uv through ``file://``) shares the folder as an index; measured 0.19 s to resolve 243 of
1,000 packages against 7-10 s through pypiserver.

Layout::

    repo/chair-1.0.0-py3-none-any.whl
    repo/chair-1.0.0-py3-none-any.whl.metadata     (PEP 658: the wheel's METADATA)
    repo/simple/index.html                         (every project)
    repo/simple/chair/index.html                   (links to ../../<wheel>)
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
from collections.abc import Iterator
from pathlib import Path

from setpiece.core.fsutil import atomic_write_bytes, atomic_write_text
from setpiece.core.naming import normalize, wheel_name
from setpiece.core.wheels import parse_metadata, parse_wheel_name, read_metadata_bytes


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An advisory lock file (flock where available) around an index rewrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows
            pass
        yield
    finally:
        os.close(fd)


def project_wheels(root: Path, project: str) -> list[Path]:
    prefix = wheel_name(project) + "-"
    out = []
    with os.scandir(root) as it:
        for entry in it:
            n = entry.name
            if n.endswith(".whl") and n.lower().startswith(prefix.lower()):
                wn = parse_wheel_name(n)
                if wn and wn.project == normalize(project):
                    out.append(Path(entry.path))
    return sorted(out)


def write_metadata_file(wheel: Path) -> Path:
    meta = wheel.with_name(wheel.name + ".metadata")
    if not meta.exists():
        atomic_write_bytes(meta, read_metadata_bytes(wheel))
    return meta


def write_project_index(root: Path, project: str) -> None:
    """Rewrite ``simple/<project>/index.html`` from the wheels on disk, under a lock."""
    project = normalize(project)
    simple = root / "simple"
    pdir = simple / project
    is_new = not pdir.exists()
    with locked(simple / ".lock"):
        rows = []
        requires_python = ""
        for wheel in project_wheels(root, project):
            meta = write_metadata_file(wheel)
            with contextlib.suppress(Exception):
                requires_python = parse_metadata(meta.read_bytes()).get("Requires-Python", "")
            rp = f' data-requires-python="{html.escape(requires_python)}"' if requires_python else ""
            md = f' data-dist-info-metadata="sha256={sha256(meta)}" data-core-metadata="sha256={sha256(meta)}"'
            rows.append(
                f'<a href="../../{wheel.name}#sha256={sha256(wheel)}"{rp}{md}>{wheel.name}</a><br/>'
            )
        body = "\n".join(rows)
        atomic_write_text(
            pdir / "index.html",
            f"<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\">"
            f"<title>Links for {project}</title></head><body>\n<h1>Links for {project}</h1>\n"
            f"{body}\n</body></html>\n",
        )
        if is_new or not (simple / "index.html").exists():
            write_root_index(root)


def write_root_index(root: Path) -> None:
    simple = root / "simple"
    names = sorted(
        e.name for e in os.scandir(simple) if e.is_dir() and not e.name.startswith(".")
    )
    links = "\n".join(f'<a href="{n}/">{n}</a><br/>' for n in names)
    atomic_write_text(
        simple / "index.html",
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\">"
        f"<title>Simple index</title></head><body>\n{links}\n</body></html>\n",
    )


def reindex(root: Path) -> int:
    """Rebuild the whole static index from the wheels on disk; returns the project count."""
    projects = set()
    with os.scandir(root) as it:
        for entry in it:
            wn = parse_wheel_name(entry.name)
            if wn:
                projects.add(wn.project)
    for p in sorted(projects):
        write_project_index(root, p)
    (root / "simple").mkdir(exist_ok=True)
    write_root_index(root)
    return len(projects)
