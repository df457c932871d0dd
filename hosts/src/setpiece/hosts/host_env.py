"""The environment a DCC is started with, as data: which variables are set, which folder
lists are prepended to the studio's value or appended after it, and the app's own default
token (Houdini's ``&``). ``setpiece.hosts.launching.environment`` builds a :class:`HostEnv`
(setpiece's variables plus the installed assets' ``asset.toml [env]``); this module
merges it into a process environment and prints it for launchers (``setpiece env``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from setpiece.core.errors import SetpieceError

# Variables holding a list of folders: setpiece prepends its folder, keeping the studio's.
PATH_LIKE = {
    "PYTHONPATH",
    "HOUDINI_PACKAGE_DIR",
    "HOUDINI_PATH",
    "NUKE_PATH",
    "PATH",
    "BLENDER_SYSTEM_SCRIPTS",
    "SETPIECE_PYTHONPATH",
}


class HostEnv(dict[str, str]):
    """The variables a DCC needs: a ``dict`` of values (set, or prepended for the
    ``PATH_LIKE`` variables and those in ``prepend_vars``), plus folders ``append``-ed
    after the studio's value and, for variables whose empty value would drop the app's own
    default (Houdini's paths), the token standing for that default (``defaults``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepend_vars: set[str] = set()
        self.append: dict[str, str] = {}
        self.defaults: dict[str, str] = {}
        #: variable -> assets contributing to it ("Name version")
        self.origins: dict[str, list[str]] = {}

    def prepended(self, key: str) -> bool:
        return key in PATH_LIKE or key in self.prepend_vars


def app_default(var: str) -> str:
    """What stands for the app's own default in a folder list, or "".

    Houdini: "an ampersand (&) represents the standard Houdini Path contents"
    (sidefx.com/docs/houdini/basics/houdinipath.html), and likewise the default of its other
    path variables; ``HOUDINI_OTLSCAN_PATH`` defaults to ``@/otls``
    (sidefx.com/docs/houdini9.1/assets/install): set without ``&``, Houdini would stop
    scanning its own folders."""
    return "&" if var.startswith("HOUDINI_") and var.endswith("_PATH") else ""


def add_asset_env(env: HostEnv, ws: Any, host: str) -> None:
    from setpiece.core.asset_env import workspace_env

    composed = workspace_env(ws, host, reserved=[k for k in env if not env.prepended(k)]
                             + [k for k in env if k.startswith("SETPIECE_")])
    for key, value in composed.set.items():
        if key in env:  # setpiece prepends to it (PATH_LIKE): an asset may not replace it
            who = ", ".join(composed.origins.get(key, []))
            raise SetpieceError(f"{who} sets {key}, which setpiece prepends to: prepend to it "
                                "instead")
        env[key] = value
    for key, folders in composed.prepend.items():
        ours = [p for p in env.get(key, "").split(os.pathsep) if p]
        env[key] = os.pathsep.join(dict.fromkeys([*ours, *folders]))
        env.prepend_vars.add(key)
    for key, folders in composed.append.items():
        env.append[key] = os.pathsep.join(dict.fromkeys(folders))
    for key in (*composed.prepend, *composed.append):
        if app_default(key) and key not in composed.set:
            env.defaults[key] = app_default(key)
    env.origins = composed.origins


def merged_environment(
    env: Mapping[str, str], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``env`` over ``base`` (default: os.environ); path-like variables are prepended, a
    :class:`HostEnv`'s ``append`` folders appended."""
    out = dict(os.environ if base is None else base)
    prepend_vars: set[str] = getattr(env, "prepend_vars", set())
    defaults: Mapping[str, str] = getattr(env, "defaults", {})
    for key, value in env.items():
        if key in PATH_LIKE or key in prepend_vars:
            rest = out.get(key) or defaults.get(key, "")
            out[key] = value + os.pathsep + rest if rest else value
        else:
            out[key] = value
    for key, value in getattr(env, "append", {}).items():
        if key in env and not (key in PATH_LIKE or key in prepend_vars):
            before = env[key]  # set by an asset: appended to that
        elif key in env:
            before = out[key]
        else:
            before = out.get(key) or defaults.get(key, "")
        out[key] = before + os.pathsep + value if before else value
    return out


ENV_FORMATS = ("sh", "cmd", "rez", "json")


def format_env(env: Mapping[str, str], fmt: str = "sh") -> str:
    """``env`` for a launcher: the list-of-folders variables (``PATH_LIKE``, and those
    assets prepend to) are prepended to what the studio already has, an asset's ``append``
    folders appended, the others set. ``sh``/``cmd`` are shell lines, ``rez`` lines of a rez
    package's ``commands()``, ``json`` ``{"set": {...}, "prepend": {VAR: [folders...]},
    "append": {...}, "default": {VAR: token}, "from_assets": {VAR: ["Asset 1.0.0"]}}``
    (``default``: what stands for the app's own value when the studio has none: Houdini's
    ``&``; ``from_assets``: the installed assets that contributed each variable)."""
    prepend_vars: set[str] = getattr(env, "prepend_vars", set())
    appended: Mapping[str, str] = getattr(env, "append", {})
    defaults: Mapping[str, str] = getattr(env, "defaults", {})

    def is_list(k: str) -> bool:
        return k in PATH_LIKE or k in prepend_vars

    setv = {k: v for k, v in sorted(env.items()) if not is_list(k)}
    prep = {k: [p for p in v.split(os.pathsep) if p] for k, v in sorted(env.items()) if is_list(k)}
    app = {k: [p for p in v.split(os.pathsep) if p] for k, v in sorted(appended.items())}
    if fmt == "json":
        data: dict[str, Any] = {"set": setv, "prepend": prep}
        if app:
            data["append"] = app
        if defaults:
            data["default"] = dict(sorted(defaults.items()))
        origins: Mapping[str, list[str]] = getattr(env, "origins", {})
        if origins:  # which installed assets contributed to each variable
            data["from_assets"] = dict(sorted(origins.items()))
        return json.dumps(data, indent=2, sort_keys=True)
    lines: list[str] = []
    sep = os.pathsep
    if fmt == "sh":
        import shlex

        def rest(k: str, after: bool) -> str:
            if k in defaults:  # a fixed token ("&"): literal inside double quotes
                return f'"${{{k}:-{defaults[k]}}}"'
            return f'"${{{k}:+{sep}${k}}}"' if after else f'"${{{k}:+${k}{sep}}}"'

        lines += [f"export {k}={shlex.quote(v)}" for k, v in setv.items()]
        for k, ps in prep.items():
            tail = (sep + rest(k, True)) if k in defaults else rest(k, True)
            lines.append(f"export {k}={shlex.quote(sep.join(ps))}{tail}")
        for k, ps in app.items():
            head = (rest(k, False) + sep) if k in defaults else rest(k, False)
            lines.append(f"export {k}={head}{shlex.quote(sep.join(ps))}")
    elif fmt == "cmd":
        lines += [f'set "{k}={v}"' for k, v in setv.items()]
        lines += [f'set "{k}={";".join(ps)};%{k}%"' for k, ps in prep.items()]
        lines += [f'set "{k}=%{k}%;{";".join(ps)}"' for k, ps in app.items()]
    elif fmt == "rez":
        lines += [f"env.{k} = {v!r}" for k, v in setv.items()]
        lines += [f"env.{k}.prepend({p!r})" for k, ps in prep.items() for p in reversed(ps)]
        lines += [f"env.{k}.append({p!r})" for k, ps in app.items() for p in ps]
        lines += [f"env.{k}.append({d!r})" for k, d in sorted(defaults.items())]
    else:
        raise SetpieceError(f"unknown format '{fmt}': use one of {', '.join(ENV_FORMATS)}")
    return "\n".join(lines)


def effective_environment(env: Mapping[str, str]) -> dict[str, str]:
    """What the app gets for each of ``env``'s variables (prepended to this process's)."""
    merged = merged_environment(env)
    return {k: merged[k] for k in [*env, *getattr(env, "append", {})]}


__all__ = ["ENV_FORMATS", "PATH_LIKE", "HostEnv", "add_asset_env", "app_default",
           "effective_environment", "format_env", "merged_environment"]
