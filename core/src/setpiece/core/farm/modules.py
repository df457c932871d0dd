"""Module layers: a class named ``"package.module:Class"``, imported where it runs.

The class is built as ``Class(**layer.args)``; setpiece then sets ``job``, ``layer`` and
``session`` on the instance and calls

- ``setup(session)`` once, on the submitting machine, before the job goes to the backend
  (optional; may store job data with ``session.put(key, value)`` / ``session.put_file``);
- ``execute(frames)`` once per chunk, on the worker, with the chunk's frames (a list of
  ints). An exception, or ``SystemExit`` with a non-zero code, fails the chunk.

Subclassing ``Module`` is optional: any class with ``execute(frames)`` works. Nothing is
pickled: workers import the class from the workspace's installed packages.
"""

from __future__ import annotations

from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.jobdir import Session
from setpiece.core.farm.model import Job, Layer


class Module:
    """Optional base class of a module layer (``job``, ``layer``, ``session`` are set by
    setpiece before ``setup``/``execute`` run)."""

    job: Job
    layer: Layer
    session: Session

    def __init__(self, **args: Any) -> None:
        self.args = args

    def setup(self, session: Session) -> None:
        """Once, before launch (on the submitting machine)."""

    def execute(self, frames: list[int]) -> None:
        """Once per chunk (on the worker)."""
        raise NotImplementedError(f"{type(self).__name__}.execute(frames) is not written")


def load_class(ref: str, where: str = "module") -> type:
    from setpiece.core.targets import load, split

    module_name, attr = split(ref)
    try:
        obj: Any = load(ref)
    except ImportError as exc:
        raise SetpieceError(f"{where} {ref}: cannot import {module_name} ({exc}): install the "
                            "package that holds it in the workspace")
    except AttributeError:
        raise SetpieceError(f"{where} {ref}: {module_name} has no {attr}: check the name")
    if not isinstance(obj, type) or not callable(getattr(obj, "execute", None)):
        raise SetpieceError(f"{where} {ref} is not a class with execute(frames)")
    return obj


def instantiate(job: Job, layer: Layer, session: Session) -> Any:
    """``layer``'s module object, with ``job``, ``layer`` and ``session`` set."""
    assert layer.module is not None
    cls = load_class(layer.module, f"layer {layer.name!r} module")
    try:
        obj = cls(**layer.args)
    except TypeError as exc:
        raise SetpieceError(f"layer {layer.name!r}: {layer.module}({', '.join(layer.args)}) "
                            f"failed ({exc}): fix the layer's args")
    obj.job, obj.layer, obj.session = job, layer, session
    return obj


def run_setups(job: Job, session: Session) -> None:
    """Run ``setup(session)`` of every module layer once (before launch)."""
    for layer in job.layers:
        if layer.module is None:
            continue
        obj = instantiate(job, layer, session)
        setup = getattr(obj, "setup", None)
        if callable(setup):
            setup(session)
