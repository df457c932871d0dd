"""Environment contributions of installed assets (``setpiece env HOST`` and ``launch``).

An asset declares the variables it contributes in ``asset.toml`` at the top of its Python
package (``src/<module>/asset.toml``: it ships inside the wheel, where ``pyproject.toml``
does not)::

    [env]
    HOUDINI_OTLSCAN_PATH = { prepend = ["otls"] }      # folders of the package
    NUKE_PATH = { append = ["gizmos"] }
    OCIO = { set = "ocio/config.ocio" }                # one path of the package
    STUDIO_TOOL_MODE = { value = "asset" }             # a literal value
    MAYA_PLUG_IN_PATH = { prepend = ["maya/plug-ins"], hosts = ["maya"] }  # one app only

Paths are relative to the package folder (never absolute, never outside it). The
contributions of every installed asset are composed in dependency order (an asset's
dependencies before it, then by name): each ``prepend`` goes in front of what is there
(so a dependent's folders come before its dependencies'), each ``append`` after.

Conflicts: two assets that ``set`` (or ``value``) one variable is an error naming both
(which one should win is the studio's call, not an accident of install order); so is
``set`` on a variable setpiece itself sets (prepend to it instead). Prepends and appends
from many assets compose.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ASSET_TOML = "asset.toml"
OPS = ("set", "value", "prepend", "append")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Contribution:
    """One asset's change to one variable."""

    asset: str
    version: str
    var: str
    op: str  # set | value | prepend | append
    values: list[str]
    #: the apps it is for (empty: every app)
    hosts: tuple[str, ...] = ()

    @property
    def who(self) -> str:
        return f"{self.asset} {self.version}"


@dataclass
class ComposedEnv:
    """The composed contributions: variables set, folders to prepend and to append."""

    set: dict[str, str] = field(default_factory=dict)
    prepend: dict[str, list[str]] = field(default_factory=dict)
    append: dict[str, list[str]] = field(default_factory=dict)
    #: variable -> the assets contributing to it ("Name version"), in composition order
    origins: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"set": self.set, "prepend": self.prepend, "append": self.append,
                "origins": self.origins}


def read_asset_toml(package_dir: Path) -> dict[str, Any]:
    """``asset.toml`` of a package folder ({} when it has none)."""
    path = Path(package_dir) / ASSET_TOML
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SetpieceError(f"{path} is not valid TOML ({exc}): fix it")


def contributions(name: str, version: str, package_dir: Path) -> list[Contribution]:
    """The ``[env]`` contributions of one asset, checked, with absolute paths."""
    table = read_asset_toml(package_dir).get("env", {})
    where = f"{name} {version} ({Path(package_dir) / ASSET_TOML})"
    if not isinstance(table, Mapping):
        raise SetpieceError(f"{where}: [env] must be a table of VAR = {{ prepend = [...] }}")
    out: list[Contribution] = []
    for var, spec in table.items():
        if not _VAR.match(var):
            raise SetpieceError(f"{where}: '{var}' is not a variable name (letters, digits, _)")
        ops = [k for k in spec if k in OPS] if isinstance(spec, Mapping) else []
        if len(ops) != 1 or set(spec) - {*OPS, "hosts"}:
            raise SetpieceError(
                f"{where}: {var} must be one of {{ prepend = [\"dir\"] }}, {{ append = [\"dir\"] }}, "
                f"{{ set = \"path\" }} or {{ value = \"text\" }} (optionally with hosts = [...])"
            )
        op, raw = ops[0], spec[ops[0]]
        hosts = spec.get("hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise SetpieceError(f"{where}: {var}.hosts must be a list of app names (\"maya\")")
        only = tuple(h.lower() for h in hosts)
        if op == "value":
            if not isinstance(raw, str):
                raise SetpieceError(f"{where}: {var}.value must be a string")
            out.append(Contribution(name, version, var, op, [raw], only))
            continue
        items = [raw] if op == "set" else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items) or (
            op == "set" and not isinstance(raw, str)
        ):
            shape = "one path (a string)" if op == "set" else "a list of folders"
            raise SetpieceError(f"{where}: {var}.{op} must be {shape}")
        out.append(Contribution(name, version, var, op,
                                [_inside(package_dir, p, f"{where}: {var}") for p in items], only))
    return out


def _inside(package_dir: Path, rel: str, what: str) -> str:
    path = Path(rel)
    if not rel or path.is_absolute() or rel.startswith(("/", "\\")) or ".." in path.parts:
        raise SetpieceError(
            f"{what}: '{rel}' must be a path inside the asset's package (relative, no '..')"
        )
    return str((Path(package_dir) / path).resolve())


def dependency_order(assets: Mapping[str, Any]) -> list[Any]:
    """Installed assets, each after the installed assets it depends on (any group), ties
    by name; a cycle keeps name order."""
    state: dict[str, int] = {}
    order: list[Any] = []

    def deps(asset: Any) -> list[str]:
        try:
            groups = asset.groups()
        except Exception:  # unreadable metadata: no ordering constraint
            return []
        return sorted({normalize(r.name) for reqs in groups.values() for r in reqs})

    def visit(key: str) -> None:
        if state.get(key):
            return
        state[key] = 1
        for dep in deps(assets[key]):
            if dep in assets:
                visit(dep)
        state[key] = 2
        order.append(assets[key])

    for key in sorted(assets):
        visit(key)
    return order


def compose(items: Iterable[Contribution], reserved: Iterable[str] = ()) -> ComposedEnv:
    """Compose contributions given in dependency order. ``reserved``: variables setpiece
    sets itself (an asset may prepend or append to them, never set them)."""
    env = ComposedEnv()
    setters: dict[str, Contribution] = {}
    reserved = set(reserved)
    for c in items:
        env.origins.setdefault(c.var, [])
        if c.who not in env.origins[c.var]:
            env.origins[c.var].append(c.who)
        if c.op in ("set", "value"):
            if c.var in reserved:
                raise SetpieceError(
                    f"{c.who} sets {c.var}, which setpiece sets itself: prepend or append to it "
                    f"in its {ASSET_TOML} instead"
                )
            first = setters.get(c.var)
            if first is not None and first.asset != c.asset:
                raise SetpieceError(
                    f"{c.var} is set by both {first.who} and {c.who}: keep one of them (prepend or "
                    "append composes), or uninstall one"
                )
            setters[c.var] = c
            env.set[c.var] = c.values[0]
        elif c.op == "prepend":
            env.prepend[c.var] = [*c.values, *env.prepend.get(c.var, [])]
        else:
            env.append[c.var] = [*env.append.get(c.var, []), *c.values]
    return env


def workspace_env(ws: Any, host: str | None = None, reserved: Iterable[str] = ()) -> ComposedEnv:
    """The composed contributions of every asset installed in ``ws`` (for app ``host``:
    those without ``hosts``, and those naming it)."""
    items: list[Contribution] = []
    for asset in dependency_order(ws.installed_assets()):
        items.extend(c for c in contributions(asset.name, asset.version, asset.package_dir)
                     if host is None or not c.hosts or host.lower() in c.hosts)
    return compose(items, reserved)


__all__ = ["ASSET_TOML", "ComposedEnv", "Contribution", "compose", "contributions",
           "dependency_order", "read_asset_toml", "workspace_env"]
