"""Farm layers for the apps: a Blender render, and mayapy / hython / nuke batch commands.

Every layer's command and environment come from ``setpiece.hosts.launching.batch_plan``,
the same as ``setpiece batch HOST run`` and ``setpiece env HOST``: the app found by
``[hosts.HOST] batch_executable`` / ``SETPIECE_HOST_BATCH_EXECUTABLE`` / PATH, the
workspace's packages and setpiece on its Python path. Layers are tagged with the host's
name (farm backends route them to machines that have the app).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.layers import files_add_layer, scene_build_layer
from setpiece.core.farm.model import Depend, Job, Layer


def _module_file(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SetpieceError(f"{name} is missing: reinstall setpiece-hosts")
    return spec.origin


def batch_layer(host: str, script: Path | str, args: Sequence[str] = (), *, ws: Any = None,
                name: str | None = None, no_setup: bool = False, **layer: Any) -> Layer:
    """``script`` run headless in ``host`` (mayapy, hython, ``nuke -t``, Blender) per chunk;
    ``args`` may hold tokens (``{frames}``, ``{first}``...: ``setpiece.core.farm.model.TOKENS``)."""
    from setpiece.hosts.launching import batch_plan

    path = Path(script).resolve()
    if not path.is_file():
        raise SetpieceError(f"script {script} does not exist: check the path")
    plan = batch_plan(host, ws, str(path), list(args), no_setup=no_setup)
    env = {**plan.env, **layer.pop("env", {})}
    tags = layer.pop("tags", None) or [host]
    return Layer(name or f"{host}-{path.stem}", command=plan.command, env=env, tags=tags, **layer)


def render_layer(scene: Path | str, output: Path | str, frames: str, *, chunk: int = 10,
                 ws: Any = None, engine: str = "CYCLES", size: str = "160x90",
                 samples: int = 4, image_name: str = "frame", name: str = "render",
                 scene_exists: bool = True, **layer: Any) -> Layer:
    """Blender renders ``frames`` of ``scene`` (a built .blend, or a USD file) to
    ``output/<image_name>.####.png``, each chunk its own frames (``scene_exists=False``: the
    scene is made by an earlier layer of the job)."""
    scene_path = Path(scene).resolve()
    if scene_exists and not scene_path.is_file():
        raise SetpieceError(f"scene {scene} does not exist: build it first "
                            "('setpiece batch blender build ASSET -o SCENE')")
    args = [str(scene_path), "--output", str(Path(output).resolve()), "--frames", "{frames}",
            "--engine", engine, "--size", size, "--samples", str(samples), "--name", image_name]
    return batch_layer("blender", _module_file("setpiece.hosts.blender.render_frames"), args,
                       ws=ws, name=name, frames=frames, chunk=chunk, **layer)


def render_job(scene: Path | str, output: Path | str, frames: str, *, chunk: int = 10,
               ws: Any = None, asset: str | None = None, build: str | None = None,
               name: str | None = None, **render: Any) -> Job:
    """A job rendering ``scene``. With ``build`` (an asset spec), a ``pre`` layer first builds
    the scene (``setpiece batch blender build SPEC -o SCENE``); with ``asset``, a ``post``
    layer tracks the frames as that output asset's files (``setpiece files add ASSET OUTPUT
    --as renders/<OUTPUT name>``)."""
    layers = []
    if build is not None:
        if ws is None:
            raise SetpieceError("building the scene needs a workspace: pass -w PATH")
        layers.append(scene_build_layer(build, scene, workspace=ws.root))
    layers.append(render_layer(scene, output, frames, chunk=chunk, ws=ws,
                               scene_exists=build is None, **render))
    if asset is not None:
        if ws is None:
            raise SetpieceError("tracking frames as asset files needs a workspace: pass -w PATH")
        layers.append(files_add_layer(asset, [output], dest=f"renders/{Path(output).name}",
                                      workspace=ws.root, depends=[Depend("render")]))
    return Job(name or f"render-{Path(scene).stem}", layers=layers)


def nuke_render_layer(script: Path | str, frames: str, *, chunk: int = 10, ws: Any = None,
                      write: str | None = None, name: str = "comp", **layer: Any) -> Layer:
    """``nuke -x [-X WRITE] -F RANGE SCRIPT.nk``: Nuke renders the script's Write nodes (or
    ``write``) for each chunk's frames (Foundry: "Command Line Operations"; a range is
    ``A-B`` or ``A-BxS``, given after ``-F``). Each chunk must be one such range."""
    from setpiece.hosts.launching import environment, find_executable

    path = Path(script).resolve()
    if not path.is_file():
        raise SetpieceError(f"Nuke script {script} does not exist: check the path")
    exe = find_executable("nuke", ws, batch=True)
    if exe is None:
        raise SetpieceError("no Nuke found: set SETPIECE_NUKE_BATCH_EXECUTABLE or [hosts.nuke] "
                            "batch_executable in setpiece.toml")
    command = [str(exe), "-x", *(["-X", write] if write else []), "-F", "{chunk_range}", str(path)]
    env = {**environment("nuke", ws), **layer.pop("env", {})}
    made = Layer(name, command=command, env=env, frames=frames, chunk=chunk,
                 tags=layer.pop("tags", None) or ["nuke"], **layer)
    split = [c.spec for c in made.chunks() if "," in c.spec]
    if split:
        raise SetpieceError(f"layer {name!r}: chunk {split[0]} is not one range Nuke's -F takes: "
                            "give frames as one range (1-100 or 1-100x2)")
    return made
