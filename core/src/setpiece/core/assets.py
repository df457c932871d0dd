"""Assets as packages: installed ones (read from dist-info) and output ones (pyproject).

An installed distribution is an asset when its ``entry_points.txt`` has a
``[setpiece.asset]`` section (written by every asset setpiece scaffolds); everything else
in the venv is an ordinary Python package and is kept apart in every listing. The kind
and description travel in the wheel metadata (``Keywords: setpiece-kind:<kind>`` and
``Summary``). Discovery reads only small text files: no imports, no importlib scan.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from setpiece.core.naming import import_name, normalize
from setpiece.core.wheels import parse_metadata

ASSET_GROUP = "setpiece.asset"
KIND_PREFIX = "setpiece-kind:"
ASSET_KEYWORD = "setpiece-asset"


def kind_from_keywords(keywords: str) -> str:
    for word in keywords.split(","):
        word = word.strip()
        if word.startswith(KIND_PREFIX):
            return word[len(KIND_PREFIX) :]
    return ""


def requirements_by_group(meta: Message) -> dict[str, list[Requirement]]:
    """Requires-Dist split by extra: ``""`` for the base dependencies."""
    out: dict[str, list[Requirement]] = {}
    for extra in meta.get_all("Provides-Extra") or []:
        out.setdefault(extra, [])
    for text in meta.get_all("Requires-Dist") or []:
        req = Requirement(text)
        group = ""
        if req.marker is not None:
            for extra in meta.get_all("Provides-Extra") or []:
                if req.marker.evaluate({"extra": extra}) and not req.marker.evaluate({"extra": ""}):
                    group = extra
                    break
        req.marker = None
        out.setdefault(group, []).append(req)
    return out


@dataclass
class InstalledAsset:
    """An asset installed in the workspace's ``inputs/`` venv."""

    dist_info: Path
    name: str
    version: str
    site_packages: Path
    entry_points: str = field(default="", repr=False)
    #: METADATA's header fields read by the scan (first value of each), so that listing
    #: 1,000 assets parses no email message; ``_meta`` parses fully when needed.
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @cached_property
    def _meta(self) -> Message:
        return parse_metadata((self.dist_info / "METADATA").read_bytes())

    @property
    def key(self) -> str:
        return normalize(self.name)

    @property
    def import_name(self) -> str:
        for line in self.entry_points.split("[" + ASSET_GROUP + "]", 1)[-1].splitlines()[1:]:
            line = line.strip()
            if line.startswith("["):
                break
            if "=" in line:
                return line.split("=", 1)[1].strip().split(":", 1)[0]
        return import_name(self.name)

    def _header(self, key: str) -> str:
        if self.headers:
            return self.headers.get(key, "")
        return str(self._meta.get(key, "") or "")

    @property
    def kind(self) -> str:
        return kind_from_keywords(self._header("Keywords"))

    @property
    def description(self) -> str:
        return self._header("Summary")

    @cached_property
    def _direct_url(self) -> dict[str, Any]:
        path = self.dist_info / "direct_url.json"
        if not path.exists():
            return {}
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
        except ValueError:
            return {}

    @property
    def editable(self) -> bool:
        return bool(self._direct_url.get("dir_info", {}).get("editable"))

    @property
    def source_dir(self) -> Path | None:
        """For an editable install: the output asset's project folder."""
        url = self._direct_url.get("url", "")
        if self.editable and url.startswith("file:"):
            return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        return None

    @property
    def package_dir(self) -> Path:
        """The folder of the asset's Python package (where ``asset.usda`` lives)."""
        src = self.source_dir
        if src is not None:
            for candidate in (src / "src" / self.import_name, src / self.import_name):
                if candidate.is_dir():
                    return candidate
        return self.site_packages / self.import_name

    def requirements(self, group: str = "") -> list[Requirement]:
        """Dependencies of ``group`` (``build``/``edit``/``export``; ``""`` = base)."""
        return list(requirements_by_group(self._meta).get(group, []))

    def groups(self) -> dict[str, list[Requirement]]:
        return requirements_by_group(self._meta)

    def entry_point_groups(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        current: dict[str, str] | None = None
        for line in self.entry_points.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = out.setdefault(line[1:-1], {})
            elif current is not None and "=" in line:
                k, v = line.split("=", 1)
                current[k.strip()] = v.strip()
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "description": self.description,
            "editable": self.editable,
            "package_dir": str(self.package_dir),
        }


def _dist_name_version(dist_info: Path) -> tuple[str, str]:
    stem = dist_info.name[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return name, version


def scan_site_packages(site_packages: Path) -> tuple[dict[str, InstalledAsset], list[tuple[str, str]]]:
    """(assets by normalised name, other distributions as (name, version))."""
    assets: dict[str, InstalledAsset] = {}
    others: list[tuple[str, str]] = []
    try:
        entries = list(os.scandir(site_packages))
    except FileNotFoundError:
        return assets, others
    marker = "[" + ASSET_GROUP + "]"
    for entry in entries:
        if not entry.name.endswith(".dist-info"):
            continue
        path = Path(entry.path)
        name, version = _dist_name_version(path)
        try:
            eps = (path / "entry_points.txt").read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            eps = ""
        if marker in eps:
            headers = _read_headers(path)
            asset = InstalledAsset(path, name, version, site_packages, eps, headers)
            # The published spelling of the name (``Chair``, not ``chair``).
            if headers.get("Name"):
                asset.name = headers["Name"]
            assets[normalize(name)] = asset
        else:
            others.append((name, version))
    return dict(sorted(assets.items())), sorted(others)


def _read_headers(dist_info: Path) -> dict[str, str]:
    """The header fields of ``METADATA`` (up to the body), first value of each key."""
    out: dict[str, str] = {}
    try:
        with open(dist_info / "METADATA", encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return out
    key = ""
    for line in text.split("\n"):
        if not line.strip():
            break
        if line[0] in " \t":  # a folded continuation line
            if key and key in out:
                out[key] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            key = ""
            continue
        key = key.strip()
        if key in out:
            key = ""  # keep the first value only (Requires-Dist and friends repeat)
            continue
        out[key] = value.strip()
    return out
