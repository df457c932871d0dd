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


def _progress(item: Any) -> None:
    mark = {"success": "ok", "failed": "FAIL"}.get(item.status, item.status)
    where = f" [{item.instance}]" if item.instance else ""
    print(f"  {mark:4} {item.label}{where}", file=sys.stderr, flush=True)


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
    """Runs inside the app (the batch script): open, publish, report. The exit code."""
    # The app writes to the process's stdout at C level ("Info: Saved ...");
    # stdout belongs to the CLI's --json: send everything the app prints to stderr.
    sys.stdout.flush()
    saved_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        return _publish_in_host(host_name, scene, asset, repo, workspace, json_out, repair)
    finally:
        sys.stdout.flush()
        os.dup2(saved_stdout, 1)
        os.close(saved_stdout)


def _publish_in_host(
    host_name: str, scene: str, asset: str | None, repo: str | None, workspace: str | None,
    json_out: str, repair: bool,
) -> int:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.publish.report import PublishReport
    from setpiece.hosts.publish.run import publish_scene
    from setpiece.hosts.publish.run import repair as run_repairs
    from setpiece.hosts.registry import get_host

    report: PublishReport
    try:
        host = get_host(host_name)
        host.open_scene(scene)
        report = publish_scene(host, workspace, asset=asset, repo=repo,
                               raise_on_failure=False, progress=_progress)
        if not report.success and repair and any(i.actions for i in report.failed):
            done = run_repairs(report)
            print(f"repaired: {', '.join(done)}; saving {scene} and publishing again",
                  file=sys.stderr)
            host.save_scene()
            report = publish_scene(host, workspace, asset=asset, repo=repo,
                                   raise_on_failure=False, progress=_progress)
    except SetpieceError as exc:
        report = PublishReport(host=host_name, scene=scene, load_errors=[str(exc)])
    print(report.format_text(), file=sys.stderr)
    if json_out:
        Path(json_out).write_text(json.dumps(report.to_json(), indent=2, default=str),
                                  encoding="utf-8")
    return 0 if report.success else 1
