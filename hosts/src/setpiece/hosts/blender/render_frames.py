"""Render frames of a built scene headless in Blender: what a farm render chunk runs.

``render_frames.py SCENE --output DIR --frames SPEC [--engine E] [--size WxH] [--samples N]
[--name NAME]`` renders each frame of SPEC (``1,2,3`` or ``1-3``) of SCENE (a ``.blend``,
or a USD file imported first) to ``DIR/NAME.####.png``. Each frame is written under a
temporary name and renamed, so a killed chunk never leaves a partial frame. A scene with no
camera gets one framing every mesh (from a fixed direction, so frames of one shot match).

Run in a Python that imports ``bpy`` (``python render_frames.py ...``) or by Blender
(``blender -b --python render_frames.py -- ...``): ``setpiece batch blender run`` picks.
Engines are Blender's names: ``CYCLES`` (CPU; needs no GPU or display: the default),
``BLENDER_WORKBENCH``, ``BLENDER_EEVEE`` / ``BLENDER_EEVEE_NEXT`` (need a GPU context).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def _args(argv: list[str]) -> argparse.Namespace:
    if "--" in argv:  # blender -b --python this.py -- ARGS
        argv = argv[argv.index("--") + 1:]
    parser = argparse.ArgumentParser(prog="render_frames")
    parser.add_argument("scene")
    parser.add_argument("--output", required=True)
    parser.add_argument("--frames", required=True)
    parser.add_argument("--engine", default="CYCLES")
    parser.add_argument("--size", default="160x90")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--name", default="frame")
    return parser.parse_args(argv)


def _open(bpy: Any, scene: str) -> None:
    path = Path(scene)
    if not path.is_file():
        raise SystemExit(f"error: scene {scene} does not exist")
    if path.suffix.lower() == ".blend":
        bpy.ops.wm.open_mainfile(filepath=str(path))
    else:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.wm.usd_import(filepath=str(path))


def _frame_camera(bpy: Any, scene: Any) -> None:
    """A camera that sees every mesh of the scene, when the scene has none."""
    from mathutils import Vector

    points = [obj.matrix_world @ Vector(corner) for obj in scene.objects if obj.type == "MESH"
              for corner in obj.bound_box]
    if points:
        low = Vector((min(p.x for p in points), min(p.y for p in points), min(p.z for p in points)))
        high = Vector((max(p.x for p in points), max(p.y for p in points), max(p.z for p in points)))
    else:
        low, high = Vector((-1, -1, -1)), Vector((1, 1, 1))
    center = (low + high) / 2
    radius = max((high - low).length / 2, 0.01)
    data = bpy.data.cameras.new("setpiece_render_camera")
    data.clip_start = radius * 0.01
    data.clip_end = radius * 100
    camera = bpy.data.objects.new("setpiece_render_camera", data)
    scene.collection.objects.link(camera)
    direction = Vector((1.0, -1.2, 0.8)).normalized()
    camera.location = center + direction * radius * 3.0
    camera.rotation_euler = (-direction).to_track_quat("-Z", "Y").to_euler()
    scene.camera = camera
    if not any(obj.type == "LIGHT" for obj in scene.objects):
        sun = bpy.data.objects.new("setpiece_render_sun", bpy.data.lights.new("sun", "SUN"))
        scene.collection.objects.link(sun)
        sun.rotation_euler = camera.rotation_euler


def render(scene_path: str, output: str, frames: list[int], *, engine: str = "CYCLES",
           size: tuple[int, int] = (160, 90), samples: int = 4, name: str = "frame") -> list[Path]:
    import bpy

    _open(bpy, scene_path)
    scene = bpy.context.scene
    scene.render.engine = engine
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    if engine == "CYCLES":
        scene.cycles.samples = samples
        scene.cycles.device = "CPU"
    if scene.camera is None:
        _frame_camera(bpy, scene)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for frame in frames:
        scene.frame_set(frame)
        final = out / f"{name}.{frame:04d}.png"
        tmp = out / f".{name}.{frame:04d}.{os.getpid()}.tmp.png"
        scene.render.filepath = str(tmp)
        bpy.ops.render.render(write_still=True)
        if not tmp.is_file():
            raise SystemExit(f"error: Blender wrote no image for frame {frame} ({engine}): "
                             "try --engine CYCLES")
        os.replace(tmp, final)
        print(f"frame {frame}: {final}", flush=True)
        written.append(final)
    return written


def main(argv: list[str] | None = None) -> int:
    from setpiece.core.errors import SetpieceError
    from setpiece.core.farm.frames import parse_frames

    args = _args(sys.argv[1:] if argv is None else argv)
    try:
        frames = parse_frames(args.frames, what="--frames")
        width, _, height = args.size.partition("x")
        size = (int(width), int(height))
    except SetpieceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError:
        print(f"error: --size {args.size!r} must be WIDTHxHEIGHT, like 160x90", file=sys.stderr)
        return 1
    render(args.scene, args.output, frames, engine=args.engine, size=size,
           samples=args.samples, name=args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
