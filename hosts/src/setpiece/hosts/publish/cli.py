"""``setpiece batch HOST publish SCENE [--asset NAME]``: publish headless (``setpiece batch HOST
ACTION``, like ``setpiece batch HOST build SPEC``).

The outer process (the ``setpiece`` CLI) runs a small script in the app's headless mode
(``blender -b`` or the bpy module, ``mayapy``, ``hython``...) through
``setpiece.hosts.launching.batch_run``; inside, :func:`publish_in_host` opens the scene,
publishes it, prints the report to stderr and writes it as JSON for the CLI's ``--json``.
Exit code: 0 published, 1 failed (the report says what, where and how to fix it).
Nothing here imports pyblish, pxr, bpy or Qt at import time.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

SCRIPT = """\
import sys
from setpiece.hosts.publish.cli import publish_in_host
sys.exit(publish_in_host({host!r}, {scene!r}, asset={asset!r}, repo={repo!r},
                         workspace={workspace!r}, json_out={json_out!r}, repair={repair!r}))
"""


def batch_publish(
    host: str,
    ws: Any,
    scene: str,
    *,
    asset: str | None = None,
    repo: str | None = None,
    repair: bool = False,
    no_setup: bool = False,
) -> tuple[int, dict[str, Any] | None]:
    """Run the publish of ``scene`` headless in ``host``: (exit code, JSON report)."""
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.launching import batch_run

    if not Path(scene).is_file():
        raise SetpieceError(f"scene {scene} does not exist: check the path")
    fd, json_out = tempfile.mkstemp(prefix="setpiece-publish-", suffix=".json")
    os.close(fd)
    fd, script = tempfile.mkstemp(prefix="setpiece-publish-", suffix=".py")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(SCRIPT.format(host=host, scene=str(Path(scene).resolve()), asset=asset,
                               repo=repo, workspace=str(ws.root), json_out=json_out,
                               repair=repair))
    try:
        code = batch_run(host, ws, script, no_setup=no_setup)
        try:
            data = json.loads(Path(json_out).read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            data = None
        return code, data
    finally:
        for path in (script, json_out):
            try:
                os.unlink(path)
            except OSError:
                pass


def publish_in_host(
    host_name: str,
    scene: str,
    *,
    asset: str | None = None,
    repo: str | None = None,
    workspace: str | None = None,
    json_out: str = "",
    repair: bool = False,
) -> int:
    """Runs inside the app (the batch script): open, publish, report. The exit code.

    The report is printed once, at the end. While the plugins run, a terminal shows a
    progress line naming the plugin (``setpiece.core.progress``: not when stderr is not a
    terminal, nor with the CLI's ``-q``/``--json``, which set ``SETPIECE_NO_PROGRESS``).
    The app writes to the process's stdout at C level ("Info: Saved ..."), and stdout
    belongs to the CLI's ``--json``: everything the app prints goes to stderr."""
    from setpiece.core.progress import Progress
    from setpiece.hosts.app_output import relayed

    try:
        terminal: Any = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace",
                                  buffering=1)
    except OSError:
        terminal = None
    line = Progress.for_terminal(stream=terminal) if terminal is not None else Progress.off()
    try:
        with relayed(line):
            return _publish_in_host(host_name, scene, asset, repo, workspace, json_out,
                                    repair, line)
    finally:
        line.close_all()
        if terminal is not None:
            terminal.close()


def _publish_in_host(
    host_name: str, scene: str, asset: str | None, repo: str | None, workspace: str | None,
    json_out: str, repair: bool, line: Any,
) -> int:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.publish.report import PublishReport
    from setpiece.hosts.publish.run import publish_scene
    from setpiece.hosts.publish.run import repair as run_repairs
    from setpiece.hosts.registry import get_host

    report: PublishReport
    task = line.task(f"Publishing {Path(scene).name}")

    def progress(item: Any) -> None:
        task.update(note=f"{item.label}{f' [{item.instance}]' if item.instance else ''} done")

    try:
        host = get_host(host_name)
        host.open_scene(scene)
        report = publish_scene(host, workspace, asset=asset, repo=repo,
                               raise_on_failure=False, progress=progress)
        if not report.success and repair and any(i.actions for i in report.failed):
            done = run_repairs(report)
            print(f"repaired: {', '.join(done)}; saving {scene} and publishing again",
                  file=sys.stderr, flush=True)
            host.save_scene()
            report = publish_scene(host, workspace, asset=asset, repo=repo,
                                   raise_on_failure=False, progress=progress)
    except SetpieceError as exc:
        report = PublishReport(host=host_name, scene=scene, load_errors=[str(exc)])
    finally:
        task.close()
    print(report.format_text(), file=sys.stderr, flush=True)  # the report, once
    if json_out:
        Path(json_out).write_text(json.dumps(report.to_json(), indent=2, default=str),
                                  encoding="utf-8")
    return 0 if report.success else 1
