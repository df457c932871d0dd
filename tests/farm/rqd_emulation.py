"""Run the frames of an OpenCue job spec the way Cuebot dispatches them and RQD runs them.

No Cuebot can run here, so the tests take the spec XML setpiece wrote and do, for every layer,
what OpenCue does with it (read in OpenCue's sources, commit 1cea9a8d965e):

- Cuebot cuts the layer's ``<range>`` into chunks of ``<chunk>`` frames: one dispatched frame
  per chunk, named ``%04d-<layer>`` after its first frame (``FrameSet.getChunk``, used in
  ``DispatchSupportService.prepareRqdRunFrame``).
- ``prepareRqdRunFrame`` replaces ``#ZFRAME# #IFRAME# #FRAME_START# #FRAME_END# #FRAME_CHUNK#
  #LAYER# #JOB# #FRAMESPEC# #FRAME#`` in ``<cmd>`` and sends the job's and layer's ``<env>``
  plus ``CUE3 CUE_THREADS CUE_MEMORY CUE_GPUS CUE_GPU_MEMORY CUE_LOG_PATH CUE_RANGE CUE_CHUNK
  CUE_IFRAME CUE_LAYER CUE_JOB CUE_FRAME CUE_SHOW CUE_SHOT CUE_USER CUE_JOB_ID CUE_LAYER_ID
  CUE_FRAME_ID CUE_THREADABLE``.
- RQD (``rqd/rqcore.py``, ``FrameAttendantThread.__createEnvVariables`` and ``runLinux``)
  starts from an empty environment: ``PATH`` is ``/usr/local/sbin:/usr/local/bin:/usr/sbin:
  /usr/bin:/sbin:/bin`` (``rqmachine.getPathEnv``), then ``TERM USER LOGNAME mcp show shot
  jobid jobhost frame zframe logfile maxframetime minspace CUE3 SP_NOMYCSHRC``, then the
  frame's environment on top (no host variables: ``RQD_USE_ALL_HOST_ENV_VARS`` is off by
  default, and no ``HOME``). It writes the command into a file and runs it through
  ``/usr/bin/time -p -o ... <file>``: the file has no ``#!`` line, so ``time``'s ``execvp``
  hands it to ``/bin/sh``. The frame's output goes to ``<log dir>/<job>.<frame>.rqlog``.

Cuebot lower-cases layer and job names (``JobSpec.conformLayerName``); the emulation does too.
"""

from __future__ import annotations

import getpass
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

RQD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class RqdFrame:
    layer: str
    name: str
    command: str
    exit_code: int
    log: Path


def expand_range(spec: str) -> list[int]:
    """OpenCue's FrameSet for the forms setpiece writes (``1-10``, ``1-10x2``, ``1,5,7-9``)."""
    frames: list[int] = []
    for item in spec.split(","):
        step = 1
        if "x" in item:
            item, step_text = item.split("x")
            step = int(step_text)
        if "-" in item[1:]:
            cut = item.index("-", 1)
            first, last = int(item[:cut]), int(item[cut + 1:])
            frames.extend(range(first, last + 1, step))
        else:
            frames.append(int(item))
    return frames


def _env(node: etree._Element | None) -> dict[str, str]:
    if node is None:
        return {}
    return {key.get("name"): key.text or "" for key in node.findall("key")}


def run_layer(spec_xml: str, layer_name: str, log_dir: Path) -> list[RqdFrame]:
    """Dispatch and run every frame (chunk) of ``layer_name`` as Cuebot + RQD would."""
    root = etree.fromstring(spec_xml.encode(), etree.XMLParser(no_network=True))
    job = root.find("job")
    assert job is not None
    layer = next(la for la in job.iter("layer") if la.get("name") == layer_name)
    job_name = job.get("name", "").lower()
    show, shot, user = root.findtext("show"), root.findtext("shot"), root.findtext("user")
    cmd = layer.findtext("cmd") or ""
    range_ = layer.findtext("range") or ""
    chunk = int(layer.findtext("chunk") or "1")
    frames = expand_range(range_)
    cue_layer = layer_name.lower().replace("-", "_")
    job_env = _env(job.find("env"))
    layer_env = _env(layer.find("env"))
    log_dir.mkdir(parents=True, exist_ok=True)
    ran: list[RqdFrame] = []
    for start in range(0, len(frames), chunk):
        chunk_frames = frames[start:start + chunk]
        number = chunk_frames[0]
        frame_name = f"{number:04d}-{cue_layer}"
        frame_spec = ",".join(str(f) for f in chunk_frames)
        command = (cmd.replace("#ZFRAME#", f"{number:04d}")
                   .replace("#IFRAME#", str(number))
                   .replace("#FRAME_START#", str(number))
                   .replace("#FRAME_END#", str(chunk_frames[-1]))
                   .replace("#FRAME_CHUNK#", str(chunk))
                   .replace("#LAYER#", cue_layer).replace("#JOB#", job_name)
                   .replace("#FRAMESPEC#", frame_spec).replace("#FRAME#", frame_name))
        log = log_dir / f"{job_name}.{frame_name}.rqlog"
        env = {
            "PATH": RQD_PATH, "TERM": "unknown", "USER": user or getpass.getuser(),
            "LOGNAME": user or getpass.getuser(), "mcp": "1", "show": show or "",
            "shot": shot or "", "jobid": job_name, "jobhost": socket.gethostname(),
            "frame": frame_name, "zframe": frame_name, "logfile": str(log),
            "maxframetime": "0", "minspace": "200", "CUE3": "True", "SP_NOMYCSHRC": "1",
        }
        env.update(job_env)
        env.update(layer_env)
        env.update({
            "CUE3": "1", "CUE_THREADS": "1", "CUE_MEMORY": "3355443", "CUE_GPUS": "0",
            "CUE_GPU_MEMORY": "0", "CUE_LOG_PATH": str(log_dir), "CUE_RANGE": range_,
            "CUE_CHUNK": str(chunk), "CUE_IFRAME": str(number), "CUE_LAYER": cue_layer,
            "CUE_JOB": job_name, "CUE_FRAME": frame_name, "CUE_SHOW": show or "",
            "CUE_SHOT": shot or "", "CUE_USER": user or "", "CUE_JOB_ID": str(uuid.uuid4()),
            "CUE_LAYER_ID": str(uuid.uuid4()), "CUE_FRAME_ID": str(uuid.uuid4()),
            "CUE_THREADABLE": "0",
        })
        command_file = log_dir / f"rqd-cmd-{frame_name}"
        command_file.write_text(command, encoding="utf-8")
        command_file.chmod(0o777)
        with log.open("wb") as out:
            code = subprocess.call(["/bin/sh", str(command_file)], env=env, cwd=log_dir,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        ran.append(RqdFrame(layer_name, frame_name, command, code, log))
    return ran
