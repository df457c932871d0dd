"""Creator assets: ``setpiece create NAME --template T`` where T is an installed asset's code.

A creator asset registers its creator in the entry point group ``setpiece.creators``::

    [project.entry-points."setpiece.creators"]
    ShotTemplate = "shottemplate.creator:ShotTemplate"

The target is a class (instantiated without arguments) or an object with:

- ``kind`` (optional, default ``prop``): the kind of the assets it makes;
- ``parameters`` (optional): ``{name: {"default": ..., "type": "str"|"int"|"float"|"bool",
  "choices": [...], "help": "..."}}``; a parameter without a default is required;
- ``validate(params)`` (optional): raise ``ValueError("...")`` to refuse a combination;
- ``create(ctx)``: fills the new asset; ``ctx`` is a :class:`CreateContext`.

The creator runs on a staged copy of the new project: it appears in ``outputs/`` only
once the creator returned, so a failing creator leaves nothing (its error names the
creator asset and version). Safe mode refuses to run creators.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core import asset_code
from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text
from setpiece.core.project import OutputAsset

GROUP = "setpiece.creators"
TYPES = ("str", "int", "float", "bool")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass
class CreateContext:
    """What a creator's ``create(ctx)`` gets."""

    workspace: Any
    name: str
    version: str
    kind: str
    #: the staged project folder (``pyproject.toml``, ``src/<module>/``)
    project_dir: Path
    #: the asset's Python package folder, where its files go
    package_dir: Path
    params: dict[str, Any]
    asset: OutputAsset
    requirements: list[tuple[str, str]] = field(default_factory=list)

    def write(self, rel: str, text: str) -> Path:
        """Write a text file inside the package (folders made as needed)."""
        path = (self.package_dir / rel).resolve()
        if self.package_dir.resolve() not in path.parents:
            raise SetpieceError(f"'{rel}' is outside the asset's package: give a relative path")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        return path

    def require(self, *reqs: str, group: str = "build") -> None:
        """Dependencies of the new asset (resolved from the repos when it is installed)."""
        self.requirements.extend((group, r) for r in reqs)


@dataclass
class Creator:
    ref: asset_code.CodeRef
    obj: Any

    @property
    def kind(self) -> str:
        return str(getattr(self.obj, "kind", "") or "prop")

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        params = getattr(self.obj, "parameters", None) or {}
        if not isinstance(params, Mapping):
            raise SetpieceError(f"the creator of {self.ref.who}: 'parameters' must be a dict")
        return {str(k): dict(v or {}) for k, v in params.items()}

    def check_params(self, given: Mapping[str, str]) -> dict[str, Any]:
        """Given values converted and checked against ``parameters``; defaults filled in."""
        declared = self.parameters
        who = f"template {self.ref.name} ({self.ref.who})"
        unknown = sorted(set(given) - set(declared))
        if unknown:
            known = ", ".join(sorted(declared)) or "none"
            raise SetpieceError(f"{who} has no parameter '{unknown[0]}' (its parameters: {known})")
        out: dict[str, Any] = {}
        for key, spec in declared.items():
            kind = str(spec.get("type", "str"))
            if kind not in TYPES:
                raise SetpieceError(f"{who}: parameter '{key}' has type '{kind}': use one of "
                                    f"{', '.join(TYPES)}")
            if key in given:
                out[key] = _convert(who, key, kind, given[key])
            elif "default" in spec:
                out[key] = spec["default"]
            else:
                raise SetpieceError(f"{who} needs --param {key}=VALUE"
                                    + (f" ({spec['help']})" if spec.get("help") else ""))
            choices = spec.get("choices")
            if choices and out[key] not in choices:
                raise SetpieceError(f"{who}: parameter '{key}' is {out[key]!r}, not one of "
                                    f"{', '.join(map(str, choices))}")
        check = getattr(self.obj, "validate", None)
        if callable(check):
            try:
                check(dict(out))
            except ValueError as exc:
                raise SetpieceError(f"{who} refused the parameters: {exc}")
            except Exception as exc:
                asset_code.call(self.ref, "creator", _raise, exc)
        return out

    def run(self, ws: Any, staged: OutputAsset, params: dict[str, Any]) -> None:
        """Run ``create(ctx)`` on the staged project, then write its requirements."""
        ctx = CreateContext(ws, staged.name, staged.version, staged.kind, staged.path,
                            staged.package_dir, dict(params), staged)
        fn = getattr(self.obj, "create", None)
        if not callable(fn):
            raise SetpieceError(f"the creator of {self.ref.who} has no create(ctx): fix the asset")
        asset_code.call(self.ref, "creator", fn, ctx)
        if ctx.requirements:
            from setpiece.core.requirements import check_group, for_group, parse_dependency

            by_group: dict[str, list[str]] = {}
            for group, text in ctx.requirements:
                g = check_group(group) if group else ""
                req = parse_dependency(text)
                by_group.setdefault(g, []).append(str(for_group(req, g) if g else req))
            for g, reqs in by_group.items():
                staged.set_requirements(g, [*map(str, staged.requirements(g)), *reqs])


def _raise(exc: BaseException) -> None:
    raise exc


def _convert(who: str, key: str, kind: str, text: str) -> Any:
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            if text.strip().lower() in _TRUE:
                return True
            if text.strip().lower() in _FALSE:
                return False
            raise ValueError
    except ValueError:
        raise SetpieceError(f"{who}: parameter '{key}' must be {'an' if kind == 'int' else 'a'} "
                            f"{kind} (got {text!r})")
    return text


def find_creator(ws: Any, template: str) -> Creator:
    """The installed creator named ``template`` (loaded; refused in safe mode)."""
    from setpiece.core.tool_templates import TEMPLATES

    refs = asset_code.find(ws, GROUP, template)
    if not refs:
        others = [r.name for r in asset_code.find(ws, GROUP)]
        known = ", ".join([*TEMPLATES, *others])
        raise SetpieceError(f"no template '{template}': the built-in ones and the installed "
                            f"creator assets are {known}; install a creator asset that "
                            "provides it")
    if len(refs) > 1:
        raise SetpieceError(f"template '{template}' is provided by both {refs[0].who} and "
                            f"{refs[1].who}: uninstall one")
    return Creator(refs[0], asset_code.load(ws, refs[0], "creator"))


__all__ = ["GROUP", "CreateContext", "Creator", "find_creator"]
