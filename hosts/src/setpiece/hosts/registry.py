"""Host adapter discovery through the entry point group ``setpiece.hosts``.

A studio adds a host (3ds Max, Katana, ...) by shipping a distribution with::

    [project.entry-points."setpiece.hosts"]
    max = "studio_max.setpiece:MaxHost"

The adapters that ship with setpiece are also known by name here, so that a source
checkout whose entry points were not (re)installed still finds them. An entry point of
the same name wins over the built-in one: a studio can replace an adapter.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from setpiece.core.errors import SetpieceError

GROUP = "setpiece.hosts"

#: adapters shipped with setpiece-hosts (the same targets as its entry points)
BUILTIN: dict[str, str] = {
    "blender": "setpiece.hosts.blender:BlenderHost",
    "maya": "setpiece.hosts.maya:MayaHost",
    "houdini": "setpiece.hosts.houdini:HoudiniHost",
    "nuke": "setpiece.hosts.nuke:NukeHost",
}


@lru_cache(maxsize=1)
def _targets() -> dict[str, str]:
    found = dict(BUILTIN)
    for ep in entry_points(group=GROUP):
        found[ep.name.lower()] = ep.value
    return found


def available() -> list[str]:
    """Names of every known host adapter (sorted)."""
    return sorted(_targets())


def target(name: str) -> str:
    """The ``module:attr`` target of the adapter called ``name``."""
    key = name.strip().lower()
    targets = _targets()
    if key not in targets:
        raise SetpieceError(
            f"unknown host {name!r}: use one of {', '.join(sorted(targets))}, or install a "
            f"package that registers it in the {GROUP!r} entry point group"
        )
    return targets[key]


def load_class(name: str) -> Any:
    """Import and return the adapter class (or factory) registered as ``name``."""
    from setpiece.core.targets import load

    spec = target(name)
    try:
        return load(spec)
    except ImportError as exc:
        raise SetpieceError(
            f"host adapter {name!r} ({spec}) cannot be imported ({exc}): install the package "
            "that provides it"
        )


def get_host(name: str, **kwargs: Any) -> Any:
    """An adapter instance for ``name`` (``get_host("blender")``)."""
    return load_class(name)(**kwargs)


def launch_module(name: str) -> str:
    """The module holding ``launch_spec()`` for host ``name``: ``<adapter package>.launch``."""
    module_name = target(name).partition(":")[0]
    return f"{module_name}.launch"
