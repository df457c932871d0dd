"""Steps the Maya, Houdini and Nuke adapter tests take alike (each test keeps its own
assertions: what the artist sees differs per app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Container, MenuCommand


def menu_commands(ran: list[str], tool: str = "Chair tool") -> list[MenuCommand]:
    """The runtime's menu as the adapter gets it: two setpiece commands (they append to
    ``ran``) and a tool asset's command, in group ``tools``, that fails with a
    ``SetpieceError`` ("no workspace here")."""

    def fail() -> None:
        raise SetpieceError("no workspace here")

    return [
        MenuCommand("Build scene", lambda: ran.append("build"), tooltip="Build the scene"),
        MenuCommand("Update all", lambda: ran.append("update")),
        MenuCommand(tool, fail, group="tools"),
    ]


def reopened(host: Any, path: Path, asset: str) -> Container:
    """Save the scene to ``path``, start a new one, open the saved one again: ``asset``'s
    container as ``ls`` reads it back."""
    saved = host.save_scene(str(path))
    host.new_scene()
    host.open_scene(saved)
    return next(c for c in host.ls() if c.asset == asset)


def reported_from_menu(ws_root: Path, app: str, version: str) -> Path:
    """After the app's "Report a problem" entry ran in workspace ``ws_root``: the one report
    zip it wrote (manifest naming ``app`` and ``version``), the entry's span and its use."""
    import json
    import zipfile

    reports = sorted((ws_root / ".setpiece" / "reports").glob("setpiece-report-*.zip"))
    assert len(reports) == 1, reports
    with zipfile.ZipFile(reports[0]) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"manifest.json", "actions.jsonl", "environment.txt", "setpiece.toml"} <= names
    assert manifest["app"] == {"name": app, "version": version}
    assert manifest["workspace"] == str(ws_root)
    spans = [json.loads(x) for x in
             (ws_root / ".setpiece" / "telemetry" / "spans.jsonl").read_text().splitlines()]
    (span,) = [s for s in spans if s["name"] == "menu Report a problem"]
    assert span["attributes"]["setpiece.tool"] == "Report a problem"
    assert span["resource"]["attributes"]["setpiece.host"] == app
    uses = [p for line in (ws_root / ".setpiece" / "telemetry" / "metrics.jsonl").read_text().splitlines()
            for rm in json.loads(line)["resource_metrics"] for sm in rm["scope_metrics"]
            for m in sm["metrics"] if m["name"] == "setpiece.tool.uses"
            for p in m["data"]["data_points"]]
    assert [(p["attributes"], p["value"]) for p in uses] == [
        ({"host": app, "tool": "Report a problem"}, 1)]
    return reports[0]
