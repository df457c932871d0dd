"""Output assets: editable asset projects in ``outputs/<Name>``, each a uv_build project.

An asset project is a plain ``pyproject.toml`` plus a Python package in ``src/<import>/``.
uv builds it with its own build backend (``uv_build``) without an isolated environment:
about 10 ms a wheel, against 0.7 s with hatchling. The ``uv_build`` requirement has no
upper bound so that whichever uv runs setpiece takes that fast path.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text, locked
from setpiece.core.naming import import_name, normalize, validate_name, validate_version
from setpiece.core.requirements import GROUPS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BUILD_SYSTEM = {"requires": ["uv_build>=0.8"], "build-backend": "uv_build"}

INIT_TEMPLATE = '''"""{name}: a setpiece asset ({kind}).

Asset code lives here: setup code (entry point ``setpiece.setup``), tools, publish
plugins. Big files are tracked with ``setpiece files add`` and never go into the wheel.
"""

ASSET = "{name}"
'''


def pyproject_data(
    name: str,
    version: str,
    kind: str,
    description: str = "",
    groups: dict[str, list[str]] | None = None,
    dependencies: list[str] | None = None,
    entry_points: dict[str, dict[str, str]] | None = None,
    module: str | None = None,
) -> dict[str, Any]:
    module = module or import_name(name)
    eps: dict[str, dict[str, str]] = {"setpiece.asset": {name: module}}
    for group, table in (entry_points or {}).items():
        if group != "setpiece.asset":
            eps[group] = dict(table)
    return {
        "project": {
            "name": name,
            "version": version,
            "description": description,
            "keywords": ["setpiece-asset", f"setpiece-kind:{kind}"],
            "requires-python": ">=3.10",
            "dependencies": list(dependencies or []),
            "optional-dependencies": {g: list((groups or {}).get(g, [])) for g in GROUPS},
            "entry-points": eps,
        },
        "build-system": dict(BUILD_SYSTEM),
        "tool": {"uv": {"build-backend": {"module-name": module}}},
    }


@dataclass
class OutputAsset:
    """One editable asset project in ``outputs/``."""

    path: Path

    @property
    def pyproject(self) -> Path:
        return self.path / "pyproject.toml"

    def data(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.pyproject.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SetpieceError(
                f"{self.path} has no pyproject.toml: it is not an asset project; "
                "create one with 'setpiece create NAME'"
            )
        except tomllib.TOMLDecodeError as exc:
            raise SetpieceError(f"{self.pyproject} is not valid TOML ({exc}): fix it by hand")

    @property
    def name(self) -> str:
        return str(self.data()["project"]["name"])

    @property
    def key(self) -> str:
        return normalize(self.name)

    @property
    def version(self) -> str:
        return str(self.data()["project"]["version"])

    @property
    def kind(self) -> str:
        from setpiece.core.assets import kind_from_keywords

        return kind_from_keywords(",".join(self.data()["project"].get("keywords", [])))

    @property
    def description(self) -> str:
        return str(self.data()["project"].get("description", ""))

    @property
    def module(self) -> str:
        tool = self.data().get("tool", {}).get("uv", {}).get("build-backend", {})
        return str(tool.get("module-name") or import_name(self.name))

    @property
    def package_dir(self) -> Path:
        return self.path / "src" / self.module

    def requirements(self, group: str = "") -> list[Requirement]:
        project = self.data()["project"]
        texts = project.get("dependencies", []) if not group else project.get(
            "optional-dependencies", {}
        ).get(group, [])
        return [Requirement(t) for t in texts]

    def groups(self) -> dict[str, list[Requirement]]:
        out = {"": self.requirements("")}
        for g in self.data()["project"].get("optional-dependencies", {}):
            out[g] = self.requirements(g)
        return out

    # -- editing (tomlkit keeps comments; writes are atomic, under the asset's lock) ----
    def locked(self) -> contextlib.AbstractContextManager[None]:
        """The asset's lock: held by every change to its ``pyproject.toml``, and by
        ``require``/``bump`` across their edit, install and undo. The lock file lives in the
        workspace's ``.setpiece/locks/`` (outside the asset: never in a build or a listing),
        else, for a project outside a workspace, in the temp folder."""
        ws_root = self.path.parent.parent
        if (ws_root / "setpiece.toml").is_file():
            folder = ws_root / ".setpiece" / "locks"
        else:
            import hashlib
            import tempfile

            digest = hashlib.sha1(str(self.path.resolve()).encode(), usedforsecurity=False)
            folder = Path(tempfile.gettempdir()) / "setpiece-locks" / digest.hexdigest()[:16]
        return locked(folder / f"asset-{self.path.name}.lock")

    @contextlib.contextmanager
    def editing(self) -> Iterator[Any]:
        """``with asset.editing() as doc:``: parsed under the lock, saved (if changed) on
        success before the lock is released."""
        import tomlkit

        with self.locked():
            text = self.pyproject.read_text(encoding="utf-8")
            doc = tomlkit.parse(text)
            yield doc
            new = tomlkit.dumps(doc)
            if new != text:
                atomic_write_text(self.pyproject, new)

    def add_entry_point(self, group: str, name: str, target: str) -> None:
        """Register asset code: ``add_entry_point("setpiece.setup", "Lamp", "lamp.setup:setup")``."""
        import tomlkit

        with self.editing() as doc:
            eps = doc["project"].setdefault("entry-points", tomlkit.table(is_super_table=True))
            if group not in eps:
                eps[group] = tomlkit.table()
            eps[group][name] = target

    def set_version(self, version: str) -> None:
        validate_version(version)
        with self.editing() as doc:
            doc["project"]["version"] = version

    def set_requirements(self, group: str, reqs: list[str]) -> None:
        import tomlkit

        arr = tomlkit.array()
        arr.extend(sorted(reqs, key=lambda r: normalize(Requirement(r).name)))
        if arr:
            arr.multiline(True)
        with self.editing() as doc:
            if not group:
                doc["project"]["dependencies"] = arr
            else:
                if "optional-dependencies" not in doc["project"]:
                    doc["project"]["optional-dependencies"] = tomlkit.table()
                doc["project"]["optional-dependencies"][group] = arr


def scaffold(
    path: Path,
    name: str,
    version: str,
    kind: str,
    description: str = "",
    groups: dict[str, list[str]] | None = None,
    dependencies: list[str] | None = None,
    entry_points: dict[str, dict[str, str]] | None = None,
) -> OutputAsset:
    """Write a new asset project at ``path`` (which must not exist)."""
    import tomlkit

    validate_name(name)
    validate_version(version)
    module = import_name(name)
    data = pyproject_data(name, version, kind, description, groups, dependencies, entry_points)
    pkg = path / "src" / module
    pkg.mkdir(parents=True)
    atomic_write_text(path / "pyproject.toml", tomlkit.dumps(data))
    init = pkg / "__init__.py"
    if not init.exists():
        atomic_write_text(init, INIT_TEMPLATE.format(name=name, kind=kind))
    return OutputAsset(path)
