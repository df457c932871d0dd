"""The publish surfaces: ``setpiece batch blender publish`` (headless, real Blender in a
subprocess), the in-app menu entry and report window (Qt offscreen), and light imports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

bpy = pytest.importorskip("bpy", reason="bpy (Blender as a Python module) is not installed")
pytestmark = pytest.mark.bpy
pytest.importorskip("pyblish")

from setpiece.hosts.blender import BlenderHost  # noqa: E402
from setpiece.hosts.publish.report import ItemResult, Message, PublishReport  # noqa: E402


@pytest.fixture
def ws(make_workspace: Callable[..., Any]) -> Any:
    w = make_workspace()
    w.create("Chair", kind="prop")
    with w.config.edit() as doc:
        doc["publish"] = {"thumbnail": False}
    return w


def save_scene(ws: Any, name: str = "Seat") -> Path:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_cube_add(size=1.0)
    bpy.context.active_object.name = name
    path = Path(ws.outputs) / "Chair" / "work" / "chair.blend"
    BlenderHost().save_scene(str(path))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return path


def test_batch_publish_headless(ws: Any, run_setpiece: Callable[..., Any]) -> None:
    scene = save_scene(ws)
    result = run_setpiece("-w", ws.root, "batch", "blender", "publish", scene, "--json",
                          timeout=300)
    assert result.exit_code == 0, result.err
    data = result.json()
    assert data["success"] and data["published"]
    assert (data["asset"], data["version"], data["repo"]) == ("Chair", "0.1.0", "review")
    assert "OK: published Chair 0.1.0 to review" in result.err
    assert ws.repo("review").versions("Chair") == ["0.1.0"]


@pytest.mark.slow
def test_batch_publish_prints_the_report_once_without_egl_noise(
        ws: Any, run_setpiece: Callable[..., Any], run_in_terminal: Callable[..., Any]) -> None:
    """With the thumbnail rendered (a headless GPU start-up printed 'EGL Error' lines): piped,
    the report is printed once and no EGL line; on a terminal, a progress line names the
    plugins while they run and is gone when the report is printed."""
    with ws.config.edit() as doc:
        doc["publish"] = {"thumbnail": True}
    scene = save_scene(ws)
    piped = run_setpiece("-w", ws.root, "batch", "blender", "publish", scene, timeout=300)
    assert piped.exit_code == 0, piped.err
    assert piped.out == ""
    lines = piped.err.splitlines()
    assert not [ln for ln in lines if "EGL" in ln], piped.err
    assert lines.count("setpiece publish: Chair 0.1.0") == 1
    assert [ln for ln in lines if ln.startswith("  ok   Thumbnail")] == [
        next(ln for ln in lines if ln.startswith("  ok   Thumbnail ("))]
    assert lines[-1] == "OK: published Chair 0.1.0 to review"
    assert "\x1b[K" not in piped.err

    ws.bump("Chair", "micro")
    t = run_in_terminal("-w", ws.root, "batch", "blender", "publish", scene, timeout=300)
    assert t.exit_code == 0, t.raw
    drawn = [part.split("\r")[0] for part in t.raw.split("\r\x1b[K")[1:] if part.strip()]
    # the line is redrawn on a timer, so which plug-ins it happened to name depends on speed:
    # it names several, each one that finished
    named = {d.split(": ", 1)[1].rsplit(" done (", 1)[0] for d in drawn
             if d.startswith("Publishing chair.blend: ") and " done (" in d}
    screen = t.screen
    reported = {ln[len("  ok   "):].rsplit(" (", 1)[0] for ln in screen if ln.startswith("  ok   ")}
    assert len(named) >= 3 and named <= reported, (drawn, reported)
    assert not [ln for ln in screen if "EGL" in ln or ln.startswith("Publishing chair.blend")]
    assert screen.count("setpiece publish: Chair 0.1.1") == 1
    assert len([ln for ln in screen if ln.startswith("  ok   Thumbnail")]) == 1
    assert screen[-1] == "OK: published Chair 0.1.1 to review"
    assert ws.repo("review").versions("Chair") == ["0.1.0", "0.1.1"]


def test_batch_publish_failure_exits_nonzero_and_repair(
    ws: Any, run_setpiece: Callable[..., Any]
) -> None:
    scene = save_scene(ws, name="seat.001")
    result = run_setpiece("-w", ws.root, "batch", "blender", "publish", scene, "--json",
                          timeout=300)
    assert result.exit_code == 1
    data = result.json()
    assert not data["success"] and data["stopped_before"] == pytest.approx(1.6)
    failed = [r for r in data["results"] if r["status"] == "failed"]
    assert [r["plugin"] for r in failed] == ["ValidateBlenderNames"]
    assert failed[0]["actions"] == ["Repair"] and "'seat.001'" in failed[0]["error"]
    assert "FAIL Blender: object names [model]" in result.err
    assert "fix: Repair" in result.err
    assert ws.repo("review").versions("Chair") == []

    fixed = run_setpiece("-w", ws.root, "batch", "blender", "publish", scene, "--repair",
                         timeout=300)
    assert fixed.exit_code == 0, fixed.err
    assert "repaired: Blender: object names" in fixed.err
    assert ws.repo("review").versions("Chair") == ["0.1.0"]


def test_batch_publish_asset_option_and_bad_scene(
    ws: Any, tmp_path: Path, run_setpiece: Callable[..., Any]
) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_cube_add()
    loose = tmp_path / "elsewhere.blend"
    BlenderHost().save_scene(str(loose))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    nope = run_setpiece("-w", ws.root, "batch", "blender", "publish", loose, timeout=300)
    assert nope.exit_code == 1 and "belongs to no output asset" in nope.err
    ok = run_setpiece("-w", ws.root, "batch", "blender", "publish", loose, "--asset", "Chair",
                      timeout=300)
    assert ok.exit_code == 0, ok.err
    missing = run_setpiece("-w", ws.root, "batch", "blender", "publish", tmp_path / "x.blend")
    missing.user_error("does not exist")


def test_menu_entry_runs_publish_and_prints_report(
    ws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Headless (bpy is a background Blender) with Qt importable: the report goes to the
    console once and no window is made (a QApplication with no display aborts Blender)."""
    from setpiece.hosts.publish import ui
    from setpiece.hosts.runtime import Runtime

    monkeypatch.delenv("SETPIECE_NO_QT", raising=False)
    assert ui.qt_available()
    windows = list(ui._windows)
    scene = save_scene(ws)
    host = BlenderHost()
    host.open_scene(str(scene))
    try:
        runtime = Runtime(host, ws)
        (entry,) = [c for c in runtime.menu_commands() if c.label == "Publish"]
        report = entry.callback()
        assert report.success and report.version == "0.1.0"
        err = capsys.readouterr().err
        assert err.count("OK: published Chair 0.1.0 to review") == 1, err
        assert ui._windows == windows
    finally:
        bpy.ops.wm.read_factory_settings(use_empty=True)


def _report() -> PublishReport:
    return PublishReport(
        asset="Chair", version="1.2.0", repo="review", host="blender",
        items=[
            ItemResult("CollectSession", "Output asset and version", -0.4, None, "success", 3.0),
            ItemResult("ValidateBlenderNames", "Blender: object names", 1.1, "model", "failed",
                       1.0, [Message("ERROR", "object 'a b' in model")],
                       error="1 object name(s) in model are not valid USD names", actions=["Repair"]),
            ItemResult("ExtractUSD", "USD", 2.0, None, "not-run"),
        ],
        stopped_before=1.6, stop_reason="Blender: object names failed (border order<1.5)",
    )


def test_report_window_offscreen(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("Qt")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.delenv("SETPIECE_NO_QT", raising=False)
    from setpiece.hosts.publish.ui import show_report

    repaired: list[bool] = []
    window = show_report(_report(), None, on_repair=lambda: repaired.append(True))
    assert window is not None
    assert window.windowTitle() == "setpiece publish: Chair 1.2.0"
    assert window.summary.text().startswith("FAILED: publish of Chair 1.2.0 failed")
    rows = [window.tree.topLevelItem(i) for i in range(window.tree.topLevelItemCount())]
    assert [(r.text(0), r.text(2)) for r in rows] == [
        ("Output asset and version", "success"),
        ("Blender: object names", "failed"),
        ("USD", "not-run"),
    ]
    assert "not valid USD names" in rows[1].child(0).text(0)
    assert "stopped before order 1.6" in window.details.text()
    assert window.repair_button.isVisibleTo(window)
    window.repair_button.click()
    assert repaired == [True]
    window.close()


def test_report_text_and_json() -> None:
    report = _report()
    text = report.format_text()
    assert "FAIL Blender: object names [model]" in text
    assert "fix: Repair" in text and "skip USD" in text
    assert text.splitlines()[-1].startswith("FAILED: publish of Chair 1.2.0 failed: Blender: object")
    data = json.loads(json.dumps(report.to_json()))
    assert data["success"] is False and data["results"][1]["stage"] == "validate"


def test_cli_help_imports_no_pyblish_pxr_bpy_or_qt() -> None:
    code = (
        "import sys\n"
        "from setpiece.core.cli import main\n"
        "try:\n    main(['batch', '--help'])\nexcept SystemExit:\n    pass\n"
        "main(['batch', 'publish', '--help'])\n"
        "import setpiece.hosts.publish, setpiece.hosts.publish.cli\n"
        "bad = [m for m in ('pyblish', 'pxr', 'bpy', 'Qt', 'PySide6') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Publish SCENE headless from HOST" in proc.stdout


def test_borders_parse() -> None:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.publish.borders import borders_from_config, parse_border

    b = parse_border("order>=1,<2")
    assert b.contains(1.0) and b.contains(1.9) and not b.contains(2.0)
    assert b.past(2.0) and not b.past(1.5)
    assert parse_border("validate").contains(1.2) and parse_border("2.5").past(2.5)
    texts = [b.text for b in borders_from_config({})]
    assert texts == ["order<0.5", "order>=0.5,<1.5", "order>=1.5,<2.5", "order<2.5"]
    assert [b.text for b in borders_from_config({"borders": []})] == ["order<2.5"]
    with pytest.raises(SetpieceError, match="not valid"):
        parse_border("when it fails")
