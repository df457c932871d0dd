"""setpiece's own layers: ``setpiece`` commands as farm layers.

Each builder returns a command ``Layer`` running ``python -m setpiece.core.cli [-w WS] ...``
with the Python that builds the job (so a chunk needs no ``setpiece`` on PATH), and takes
the usual layer settings as keywords (``frames``, ``chunk``, ``depends``, ``tags``,
``cores``, ``memory_mb``, ``env``, ``retries``, ``timeout``).

App-specific layers (a Blender render, mayapy / hython / nuke batch commands) are built in
setpiece-hosts: ``setpiece.hosts.farm``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from setpiece.core.farm.model import Layer


def setpiece_command(*args: str, workspace: Path | str | None = None) -> list[str]:
    """``python -m setpiece.core.cli [-w WORKSPACE] ARGS...`` (arguments may hold tokens)."""
    argv = [sys.executable, "-m", "setpiece.core.cli"]
    if workspace is not None:
        argv += ["-w", str(Path(workspace).resolve())]
    return [*argv, *args]


def setpiece_layer(name: str, args: Sequence[str], *, workspace: Path | str | None = None,
                   **layer: Any) -> Layer:
    """A layer running ``setpiece ARGS...``."""
    return Layer(name, command=setpiece_command(*args, workspace=workspace), **layer)


def scene_build_layer(spec: str, output: Path | str, *, host: str = "blender",
                      workspace: Path | str | None = None, no_setup: bool = False,
                      name: str = "build", **layer: Any) -> Layer:
    """``setpiece batch HOST build SPEC -o OUTPUT``: one chunk (a ``pre`` layer unless told)."""
    args = ["batch", host, "build", spec, "-o", str(Path(output).resolve())]
    if no_setup:
        args.append("--no-setup")
    layer.setdefault("kind", "pre")
    return setpiece_layer(name, args, workspace=workspace, **layer)


def publish_layer(scene: Path | str, *, host: str = "blender", asset: str | None = None,
                  repo: str | None = None, workspace: Path | str | None = None,
                  name: str = "publish", **layer: Any) -> Layer:
    """``setpiece batch HOST publish SCENE [--asset A] [--repo R]``: one chunk (``post``)."""
    args = ["batch", host, "publish", str(Path(scene).resolve())]
    if asset:
        args += ["--asset", asset]
    if repo:
        args += ["--repo", repo]
    layer.setdefault("kind", "post")
    return setpiece_layer(name, args, workspace=workspace, **layer)


def run_layer(script: Path | str, args: Sequence[str] = (), *, host: str = "blender",
              workspace: Path | str | None = None, name: str = "run", **layer: Any) -> Layer:
    """``setpiece batch HOST run SCRIPT ARGS...`` per chunk; ARGS may hold tokens
    (``{frames}``, ``{first}``, ...: see ``model.TOKENS``)."""
    return setpiece_layer(name, ["batch", host, "run", str(Path(script).resolve()), *args],
                          workspace=workspace, **layer)


def files_add_layer(asset: str, paths: Sequence[Path | str], *, dest: str | None = None,
                    workspace: Path | str | None = None, name: str = "track",
                    **layer: Any) -> Layer:
    """``setpiece files add ASSET PATHS... [--as DEST]``: track outputs (rendered frames) as
    the asset's files (dvc); one chunk, a ``post`` layer unless told."""
    args = ["files", "add", asset, *(str(Path(p).resolve()) for p in paths)]
    if dest:
        args += ["--as", dest]
    layer.setdefault("kind", "post")
    return setpiece_layer(name, args, workspace=workspace, **layer)


def reaction_layer(*args: str, workspace: Path | str | None = None, name: str = "react",
                   **layer: Any) -> Layer:
    """``setpiece react --once ARGS...``: one pass of the workspace's reactions (the events
    issue's command), as one chunk."""
    layer.setdefault("kind", "single")
    return setpiece_layer(name, ["react", "--once", *args], workspace=workspace, **layer)


def pipeline_layer(asset: str, stage: str | None = None, *, workspace: Path | str | None = None,
                   name: str | None = None, **layer: Any) -> Layer:
    """``setpiece pipeline run ASSET [STAGE]``: an asset's dvc pipeline (or one stage of it)
    as one chunk."""
    args = ["pipeline", "run", asset, *([stage] if stage else [])]
    layer.setdefault("kind", "single")
    default = f"pipeline-{stage}" if stage else "pipeline"
    return setpiece_layer(name or default, args, workspace=workspace, **layer)
