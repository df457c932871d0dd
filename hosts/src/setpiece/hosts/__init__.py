"""setpiece hosts: the host protocol, DCC adapters, the in-app runtime and publishing.

``setpiece.hosts.install(host)`` is what each DCC's startup file calls; ``get_host(name)``
returns a registered adapter. Both are imported lazily (no DCC, pxr or Qt import here).
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_host", "install"]


def __getattr__(name: str) -> Any:
    if name == "install":
        from setpiece.hosts.runtime import install

        return install
    if name == "get_host":
        from setpiece.hosts.registry import get_host

        return get_host
    raise AttributeError(name)
