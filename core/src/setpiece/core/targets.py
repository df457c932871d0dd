"""``module:attr`` targets (entry point values, registered commands, config references):
the one loader.

``load("pkg.mod:Class.method")`` imports ``pkg.mod`` and walks the dotted attribute;
``default`` is the attribute when the target names a module only (``"pkg.mod"``).
ImportError and AttributeError propagate: each caller says what the target was for.
"""

from __future__ import annotations

import importlib
from typing import Any


def split(target: str) -> tuple[str, str]:
    """``("pkg.mod", "Class.method")`` of ``"pkg.mod:Class.method"`` (stripped)."""
    module, _, attr = target.partition(":")
    return module.strip(), attr.strip()


def load(target: str, default: str = "") -> Any:
    module, attr = split(target)
    obj: Any = importlib.import_module(module)
    for part in [p for p in (attr or default).split(".") if p]:
        obj = getattr(obj, part)
    return obj
