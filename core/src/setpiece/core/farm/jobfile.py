"""Job files: a ``Job`` as JSON (``.json``) or YAML (``.yaml``/``.yml``, needs PyYAML).

YAML is read with ``yaml.safe_load`` (plain data only: no ``!!python`` tags, nothing runs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from setpiece.core.errors import NotFound, SetpieceError
from setpiece.core.farm.model import Job
from setpiece.core.fsutil import atomic_write_text

YAML_SUFFIXES = (".yaml", ".yml")


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise SetpieceError("YAML job files need PyYAML: run 'pip install pyyaml', or write "
                            "the job as .json")
    return yaml


def dumps(job: Job, fmt: str = "json") -> str:
    """The job as text in ``fmt`` (``json`` or ``yaml``)."""
    data = job.to_dict()
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt == "yaml":
        text: str = _yaml().safe_dump(data, sort_keys=False)
        return text
    raise SetpieceError(f"job format {fmt!r} is unknown: use json or yaml")


def loads(text: str, fmt: str = "json", *, source: str = "job") -> Job:
    """A ``Job`` from JSON or YAML text; ``SetpieceError`` (one line) when it is not one."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SetpieceError(f"{source} is not valid JSON ({exc}): fix the file")
    elif fmt == "yaml":
        yaml = _yaml()
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SetpieceError(f"{source} is not valid YAML ({exc}): fix the file")
    else:
        raise SetpieceError(f"job format {fmt!r} is unknown: use json or yaml")
    try:
        return Job.from_dict(data)
    except SetpieceError as exc:
        raise SetpieceError(f"{source}: {exc}")


def format_for(path: Path) -> str:
    return "yaml" if path.suffix.lower() in YAML_SUFFIXES else "json"


def load_job(path: Path | str) -> Job:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"job file {path} does not exist: check the path")
    except (OSError, UnicodeDecodeError) as exc:
        raise SetpieceError(f"job file {path} cannot be read ({exc})")
    return loads(text, format_for(path), source=str(path))


def save_job(job: Job, path: Path | str) -> Path:
    """Write ``job`` atomically, as YAML when the name ends in .yaml/.yml, else JSON."""
    path = Path(path)
    atomic_write_text(path, dumps(job, format_for(path)))
    return path
