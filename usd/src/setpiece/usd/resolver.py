"""How identifiers such as ``chair/asset.usda`` find the installed version of an asset.

Mechanism: USD's default resolver *search paths* (ArDefaultResolver). An identifier is
``<import name>/<file>``; the search path is the workspace's ``inputs/`` site-packages
folder, followed by the source folders of editable assets (``outputs/<Name>/src``). The
installed package folder *is* the version that composes, so a layer composes identically
in any workspace and on any machine, in every USD build (no variable expressions needed).
The search path mirrors Python's import path (site-packages, then ``.pth`` folders), so
the layer that composes belongs to the package Python imports.

USD tries, in order: the folder of the referencing layer, the current working directory,
the bound ``Ar.DefaultResolverContext``, ``Ar.DefaultResolver.SetDefaultSearchPath``, then
``PXR_AR_DEFAULT_SEARCH_PATH`` (read once, when pxr loads). A ``chair/asset.usda`` next to
the referencing layer or under the current folder therefore *shadows* the installed one:
:func:`shadowing` detects it and ``setpiece usd check`` / ``scene build`` report it.

Studios running a custom (compiled) resolver keep it: search paths only configure
ArDefaultResolver, which such resolvers usually wrap; see docs/usd.md.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from setpiece.usd._pxr import pxr

ENV_VAR = "PXR_AR_DEFAULT_SEARCH_PATH"

_current: list[str] = []


def search_paths(site_packages: Path) -> list[str]:
    """A workspace's search paths: its site-packages, then the folders its ``.pth`` add.

    This is exactly where the workspace's Python imports packages from (editable assets
    are installed as a ``.pth`` line naming ``outputs/<Name>/src``), so the interface layer
    that composes is the one of the package Python would import: the installed version.
    Reading the ``.pth`` files costs a few stats, not a scan of the installed assets.
    """
    site_packages = Path(site_packages)
    out = [str(site_packages)]
    try:
        pth_files = sorted(p for p in os.listdir(site_packages) if p.endswith(".pth"))
    except OSError:
        return out
    for name in pth_files:
        try:
            lines = (site_packages / name).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            line = line.strip()
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            folder = Path(line) if Path(line).is_absolute() else site_packages / line
            if folder.is_dir():
                out.append(str(folder))
    return list(dict.fromkeys(out))


def configure_resolver(paths: Sequence[str | os.PathLike[str]], env: bool = True) -> None:
    """Make ``paths`` the default resolver's search path, in this process (and children).

    Standalone, ``setpiece`` calls it once per command; each host adapter calls it at
    startup and when the workspace changes. With ``env`` the same value goes to
    ``PXR_AR_DEFAULT_SEARCH_PATH`` so that tools started from here (usdview, hython,
    mayapy) resolve the same way.
    """
    global _current
    _, _, Ar, _ = pxr()
    values = [str(p) for p in paths]
    Ar.DefaultResolver.SetDefaultSearchPath(values)
    _current = values
    if env:
        os.environ[ENV_VAR] = os.pathsep.join(values)


def current_search_paths() -> list[str]:
    """The search paths last set through :func:`configure_resolver`."""
    return list(_current)


def context(paths: Sequence[str | os.PathLike[str]]) -> Any:
    """An ``Ar.DefaultResolverContext`` for ``Usd.Stage.Open(layer, context, ...)``."""
    _, _, Ar, _ = pxr()
    return Ar.DefaultResolverContext([str(p) for p in paths])


@contextlib.contextmanager
def using_search_paths(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[str]]:
    """Temporarily resolve through ``paths`` (tests, one-off tools); restores on exit."""
    _, _, Ar, _ = pxr()
    previous = list(_current)
    previous_env = os.environ.get(ENV_VAR)
    values = [str(p) for p in paths]
    configure_resolver(values)
    try:
        with Ar.ResolverContextBinder(Ar.DefaultResolverContext(values)):
            yield values
    finally:
        configure_resolver(previous, env=False)
        if previous_env is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous_env


def resolve(identifier: str, anchor: Path | None = None) -> Path | None:
    """Where ``identifier`` resolves now (anchored to the layer file ``anchor``), or None."""
    _, _, Ar, _ = pxr()
    resolver = Ar.GetResolver()
    if anchor is not None:
        ident = resolver.CreateIdentifier(identifier, Ar.ResolvedPath(str(anchor)))
    else:
        ident = resolver.CreateIdentifier(identifier)
    resolved = resolver.Resolve(ident)
    text = str(resolved.GetPathString()) if resolved else ""
    return Path(text) if text else None


def shadowing(identifier: str, expected: Path, anchor: Path | None = None) -> Path | None:
    """The file that shadows ``expected`` for ``identifier``, or None if it resolves there."""
    got = resolve(identifier, anchor)
    if got is None:
        return None
    try:
        same = got.resolve() == Path(expected).resolve()
    except OSError:
        same = False
    return None if same else got
