"""Fixtures: installed assets shaped like ``setpiece.core`` InstalledAsset, in a temp site-packages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytest.importorskip("pxr")

from setpiece.usd.closure import normalize
from setpiece.usd.interface import scaffold_interface
from setpiece.usd.resolver import using_search_paths


@dataclass
class FakeAsset:
    name: str
    version: str
    package_dir: Path
    kind: str = "prop"
    editable: bool = False
    groups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def import_name(self) -> str:
        return normalize(self.name).replace("-", "_")

    def requirements(self, group: str = "") -> list[Requirement]:
        return [Requirement(r) for r in self.groups.get(group, [])]


class Site:
    """A fake ``inputs/`` site-packages folder holding assets with interface layers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.site_packages = root / "site-packages"
        self.site_packages.mkdir(parents=True)
        self.assets: dict[str, FakeAsset] = {}

    def add(
        self,
        name: str,
        version: str = "1.0.0",
        kind: str = "prop",
        build: list[str] | None = None,
        base: list[str] | None = None,
        interface: bool = True,
    ) -> FakeAsset:
        import_name = normalize(name).replace("-", "_")
        package_dir = self.site_packages / import_name
        package_dir.mkdir(parents=True, exist_ok=True)
        groups = {"": list(base or []), "build": list(build or [])}
        asset = FakeAsset(name, version, package_dir, kind, groups=groups)
        if interface and not (package_dir / "asset.usda").exists():
            scaffold_interface(package_dir, name, version, kind)
        self.assets[normalize(name)] = asset
        return asset

    @property
    def installed(self) -> dict[str, FakeAsset]:
        return dict(self.assets)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path / "inputs")
    with using_search_paths([s.site_packages]):
        yield s
