"""Installing setpiece at an app's startup: what each host package's ``bootstrap()`` (the
app's startup file) calls. Never raises: the app always starts.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from setpiece.hosts.protocol import Host

# -- installing setpiece at the app's startup (each package's ``bootstrap()``) -----------


def install_now(host: Host, app: str) -> bool:
    """Install setpiece's in-app runtime (``setpiece.hosts.install(host)``) into ``app``.

    Never raises: a failure is one line on stderr and the app starts as usual. True when
    installed.
    """
    try:
        runtime = importlib.import_module("setpiece.hosts")
        install = getattr(runtime, "install", None)
        if install is None:
            print("setpiece: the in-app runtime (setpiece.hosts.install) is not available", file=sys.stderr)
            return False
        install(host)
        return True
    except Exception as exc:  # never break the app's startup
        print(f"setpiece: not installed in {app}: {' '.join(str(exc).split())}", file=sys.stderr)
        return False


def install_when_idle(host: Host, app: str) -> None:
    """:func:`install_now` through ``host.defer`` (once the app is idle; headless: now).

    Never raises, as :func:`install_now`.
    """

    def install() -> None:
        install_now(host, app)

    try:
        host.defer(install)
    except Exception as exc:
        print(f"setpiece: not installed in {app}: {' '.join(str(exc).split())}", file=sys.stderr)
