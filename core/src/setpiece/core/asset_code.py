"""Running an installed asset's code from the ``setpiece`` command (creators, generators).

Asset code is found through entry points of the assets installed in the workspace (from
its configured repos, or editable outputs), imported from the workspace's
``site-packages`` into setpiece's own Python, and run there. Rules:

- safe mode (``SETPIECE_SAFE_MODE=1``, the same switch the apps read for setup code)
  refuses to run it, saying so;
- the workspace's Python must be setpiece's (same ``major.minor``): its packages are
  imported here;
- an exception from the code is one ``SetpieceError`` naming the asset, its version and
  the error (never a traceback for the user).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize

SAFE_MODE_VAR = "SETPIECE_SAFE_MODE"


def safe_mode() -> bool:
    """True when asset code must not run (``SETPIECE_SAFE_MODE=1``)."""
    return os.environ.get(SAFE_MODE_VAR, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class CodeRef:
    """One entry point of an installed asset."""

    asset: str
    version: str
    name: str  # the entry point's name
    target: str  # "module:attr"

    @property
    def who(self) -> str:
        return f"{self.asset} {self.version}"


def find(ws: Any, group: str, name: str | None = None) -> list[CodeRef]:
    """Entry points of ``group`` among the installed assets (named ``name`` when given,
    compared normalised), sorted by asset then name. An output asset's are read from its
    ``pyproject.toml`` (an entry point added there counts before a reinstall)."""
    out: list[CodeRef] = []
    outputs = ws.output_assets()
    for key, asset in ws.installed_assets().items():
        if key in outputs and asset.editable:
            eps = outputs[key].data()["project"].get("entry-points", {}).get(group, {})
        else:
            eps = asset.entry_point_groups().get(group, {})
        for ep_name, target in sorted(eps.items()):
            if name is None or normalize(ep_name) == normalize(name):
                out.append(CodeRef(asset.name, asset.version, ep_name, target))
    return sorted(out, key=lambda r: (normalize(r.asset), r.name))


def load(ws: Any, ref: CodeRef, what: str) -> Any:
    """Import ``ref``'s target from the workspace (refused in safe mode)."""
    if safe_mode():
        raise SetpieceError(
            f"safe mode ({SAFE_MODE_VAR}=1): the {what} of {ref.who} is asset code and was not "
            f"run: unset {SAFE_MODE_VAR} to run it"
        )
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if str(ws.python_version) != here:
        raise SetpieceError(
            f"the {what} of {ref.who} runs in setpiece's Python {here} but workspace {ws.root} "
            f"uses Python {ws.python_version}: run setpiece from a Python {ws.python_version}"
        )
    _add_site(str(ws.site_packages))
    from setpiece.core.targets import load, split

    _forget(split(ref.target)[0])
    try:
        obj: Any = load(ref.target, default="main")
    except Exception as exc:
        raise SetpieceError(f"the {what} of {ref.who} cannot be loaded ({ref.target}: "
                            f"{type(exc).__name__}: {' '.join(str(exc).split())}): fix or "
                            "reinstall the asset")
    if isinstance(obj, type):
        obj = obj()
    return obj


def call(ref: CodeRef, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args)``, an exception from it becoming one line naming the asset and version."""
    try:
        return fn(*args, **kwargs)
    except SetpieceError as exc:
        raise SetpieceError(f"the {what} of {ref.who} refused: {exc}")
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:  # SystemExit too: asset code never ends setpiece
        raise SetpieceError(f"the {what} of {ref.who} failed: {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())}")


#: workspace site-packages -> the sys.path entries it added (itself and its .pth folders)
_SITES: dict[str, list[str]] = {}


def _add_site(path: str) -> None:
    """The workspace's site-packages (its ``.pth`` files read: editable outputs) first on
    ``sys.path``, another workspace's entries taken off (a process that served one
    workspace before, e.g. tests)."""
    import site

    if path not in _SITES:
        before = set(sys.path)
        site.addsitedir(path)
        _SITES[path] = [p for p in sys.path if p not in before] or [path]
    mine = _SITES[path]
    others = {p for key, entries in _SITES.items() if key != path for p in entries}
    sys.path[:] = [*mine, *(p for p in sys.path if p not in others and p not in mine)]
    importlib.invalidate_caches()


def _forget(module_name: str) -> None:
    """Drop the cached modules of ``module_name``'s package: asset code is imported afresh
    on each load (a newer version, or another workspace's, is the one run)."""
    top = module_name.split(".")[0]
    roots = tuple(os.path.join(os.path.abspath(p), "") for e in _SITES.values() for p in e)
    for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        where = getattr(sys.modules[name], "__file__", None) or ""
        if where and os.path.abspath(where).startswith(roots):  # a workspace's, not ours
            del sys.modules[name]


__all__ = ["SAFE_MODE_VAR", "CodeRef", "call", "find", "load", "safe_mode"]
