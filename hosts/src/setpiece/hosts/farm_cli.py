"""``setpiece farm render``: a Blender render as a farm job (registered in the
``setpiece.farm.cli`` entry point group; no bpy import here)."""

from __future__ import annotations

from pathlib import Path

import click

from setpiece.core.cli import State, echo_json, pass_state


@click.command()
@click.argument("scene", type=click.Path(dir_okay=False))
@click.option("--frames", "-f", required=True, help="Frame range: 1-100, 1-100x2, 1,5,10-20.")
@click.option("--chunk", "-c", type=click.IntRange(min=1), default=10, show_default=True,
              help="Frames per chunk.")
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="Folder for the frames (default: renders/<scene name> beside the scene).")
@click.option("--asset", metavar="NAME", help="Track the frames as files of output asset NAME.")
@click.option("--build", metavar="SPEC",
              help="First build SCENE from asset SPEC on the farm (a pre layer).")
@click.option("--engine", default="CYCLES", show_default=True,
              help="Blender render engine (CYCLES, BLENDER_WORKBENCH, BLENDER_EEVEE...).")
@click.option("--size", default="160x90", show_default=True, help="Resolution, WIDTHxHEIGHT.")
@click.option("--samples", type=click.IntRange(min=1), default=4, show_default=True,
              help="Cycles samples.")
@click.option("--name", "job_name", metavar="JOB", help="Job name (default: render-<scene name>).")
@click.option("--backend", "-b", metavar="B", help="Backend (default: [farm] backend, else local).")
@click.option("--workers", type=click.IntRange(min=1), help="local: chunks at once (default: cores).")
@click.option("--wait", is_flag=True, help="Wait for the job to end, showing progress.")
@click.option("--save", "save_to", type=click.Path(dir_okay=False),
              help="Write the job to this file (.json/.yaml) instead of submitting it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def render(state: State, scene: str, frames: str, chunk: int, output: str | None,
           asset: str | None, build: str | None, engine: str, size: str, samples: int, job_name: str | None,
           backend: str | None, workers: int | None, wait: bool, save_to: str | None,
           as_json: bool) -> None:
    """Render FRAMES of SCENE (a built .blend, or USD) with Blender, in chunks."""
    from setpiece.core.cli.farm_cmds import farm_config, submit_job
    from setpiece.core.farm.frames import parse_frames
    from setpiece.core.farm.jobfile import save_job
    from setpiece.hosts.farm import render_job

    parse_frames(frames, what="--frames")
    _, ws = farm_config(state) if not save_to else (None, _optional_ws(state))
    out = Path(output) if output else Path(scene).resolve().parent / "renders" / Path(scene).stem
    job = render_job(scene, out, frames, chunk=chunk, ws=ws, asset=asset, build=build, name=job_name,
                     engine=engine, size=size, samples=samples)
    if save_to:
        path = save_job(job, save_to)
        if as_json:
            echo_json(job.to_dict())
        else:
            click.echo(str(path))
        return
    submit_job(state, job, backend, wait, workers, as_json)


def _optional_ws(state: State) -> object:
    from setpiece.core.errors import SetpieceError

    try:
        return state.workspace()
    except SetpieceError:
        if state.workspace_path:
            raise
        return None
