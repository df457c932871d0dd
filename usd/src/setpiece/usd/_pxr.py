"""Import ``pxr`` lazily, with a one-line fix when it is missing.

Inside a DCC the host's own ``pxr`` is used; standalone it comes from ``usd-core`` (the
``standalone`` extra of setpiece-usd). Nothing here imports ``pxr`` at module import, so
``setpiece --help`` never pays for it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from setpiece.core.errors import Unavailable


def pxr() -> tuple[Any, Any, Any, Any]:
    """``(Sdf, Usd, Ar, Tf)`` or a SetpieceError saying how to get them."""
    try:
        from pxr import Ar, Sdf, Tf, Usd
    except ImportError as exc:
        raise Unavailable(
            f"USD's Python module 'pxr' cannot be imported ({exc}): install "
            "'setpiece-usd[standalone]' (usd-core), or run inside a DCC that ships USD"
        )
    return Sdf, Usd, Ar, Tf


def module(name: str) -> ModuleType:
    import importlib

    pxr()
    return importlib.import_module(f"pxr.{name}")


@contextlib.contextmanager
def captured_diagnostics() -> Iterator[list[str]]:
    """Collect USD warnings/errors instead of letting USD print them on stderr.

    Yields a list that is filled, one line per diagnostic, when the block exits.
    """
    out: list[str] = []
    try:
        from pxr import UsdUtils

        delegate = UsdUtils.CoalescingDiagnosticDelegate()
    except (ImportError, AttributeError):  # very old USD: let it print
        yield out
        return
    try:
        yield out
    finally:
        for diag in delegate.TakeUncoalescedDiagnostics():
            text = " ".join(str(diag.commentary).split())
            if text:
                out.append(text)
        del delegate


def first_line(exc: BaseException) -> str:
    """The useful part of a ``Tf.ErrorException``: USD's own message, without C++ names."""
    text = " ".join(str(exc).split())
    match = re.search(r" in file \S+ : '(.*)'$", text)
    if match:
        text = match.group(1)
    text = re.sub(r"pxrInternal_\w+?__pxrReserved__(::)?_?(pegtl::internal::)?", "", text)
    return text[:300]
