"""End to end through the real ``setpiece`` CLI and a real workspace (uv, folder repos)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("pxr")
if shutil.which("uv") is None:
    try:
        import uv  # noqa: F401
    except ImportError:
        pytest.skip("uv is not available", allow_module_level=True)

from setpiece.core.cli import main


@pytest.fixture
def ws(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SETPIECE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SETPIECE_WORKSPACE", raising=False)
    root = tmp_path / "ws"
    assert main(["init", str(root)]) == 0
    monkeypatch.chdir(root)
    capsys.readouterr()
    return root


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def scaffold(root: Path, name: str, kind: str) -> None:
    from setpiece.usd import scaffold_interface

    package_dir = root / "outputs" / name / "src" / name.lower()
    if not (package_dir / "asset.usda").exists():  # until `create` calls it itself
        scaffold_interface(package_dir, name, "0.1.0", kind)


@pytest.mark.slow
def test_check_build_inventory_update(ws, capsys):
    assert run(capsys, "create", "Chair", "--kind", "prop")[0] == 0
    assert run(capsys, "create", "Kitchen", "--kind", "set")[0] == 0
    scaffold(ws, "Chair", "prop")
    scaffold(ws, "Kitchen", "set")
    code, out, _ = run(capsys, "usd", "check", "Chair")
    assert code == 0 and "is valid" in out

    assert run(capsys, "publish", "Chair")[0] == 0
    assert run(capsys, "bump", "Chair", "micro")[0] == 0
    assert run(capsys, "usd", "stamp", "Chair")[0] == 0
    assert run(capsys, "publish", "Chair")[0] == 0
    assert run(capsys, "uninstall", "Chair")[0] == 0
    assert run(capsys, "install", "Chair==0.1.0")[0] == 0
    assert run(capsys, "require", "Kitchen", "Chair>=0.1,<1")[0] == 0

    code, out, _ = run(capsys, "scene", "build", "Kitchen", "-o", "shots/k.usda")
    assert code == 0 and "written, 2 containers; created" in out
    code, out, _ = run(capsys, "scene", "build", "Kitchen", "-o", "shots/k.usda")
    assert code == 0 and "unchanged (nothing written), 2 containers" in out

    code, out, _ = run(capsys, "scene", "inventory", "shots/k.usda", "--json")
    rows = {r["asset"]: r for r in json.loads(out)}
    assert (rows["Chair"]["scene"], rows["Chair"]["newest"], rows["Chair"]["status"]) == (
        "0.1.0", "0.1.1", "update-available")

    code, _, err = run(capsys, "scene", "update", "shots/k.usda", "--asset", "Chair", "--to", "1.0.0")
    assert code == 1 and err.startswith("error: Chair 1.0.0 is not in the workspace's repos")
    assert len(err.strip().splitlines()) == 1

    code, out, _ = run(capsys, "scene", "update", "shots/k.usda", "--asset", "Chair")
    assert code == 0 and "Chair: updated 0.1.0 -> 0.1.1" in out
    code, out, _ = run(capsys, "scene", "inventory", "shots/k.usda", "--json")
    chair = next(r for r in json.loads(out) if r["asset"] == "Chair")
    assert (chair["scene"], chair["installed"], chair["status"]) == ("0.1.1", "0.1.1", "up-to-date")
    assert "0.1.1" in (ws / "shots" / "k.setpiece.usda").read_text()

    # a broken interface layer being edited: check fails, the build refuses, nothing changes
    layer = ws / "outputs" / "Kitchen" / "src" / "kitchen" / "asset.usda"
    layer.write_text('#usda 1.0\ndef Xform "Kitchen" (\n')
    code, out, err = run(capsys, "usd", "check", "Kitchen")
    assert code == 1 and "fails to parse" in out and "1 error(s)" in err
    before = (ws / "shots" / "k.setpiece.usda").read_bytes()
    code, _, err = run(capsys, "scene", "build", "Kitchen", "-o", "shots/k.usda", "--force")
    assert code == 1 and "fails to parse" in err and len(err.strip().splitlines()) == 1
    assert (ws / "shots" / "k.setpiece.usda").read_bytes() == before


def test_errors_are_one_line(ws, capsys):
    code, _, err = run(capsys, "scene", "build", "Nope")
    assert code == 1 and err.startswith("error: asset 'Nope' is not installed")
    code, _, err = run(capsys, "scene", "inventory", "missing.usda")
    assert code == 1 and "does not exist: build it with 'setpiece scene build" in err
    code, _, err = run(capsys, "usd", "check", "Nope")
    assert code == 1 and "neither installed nor in outputs" in err


@pytest.mark.slow
def test_update_to_a_version_needs_asset_and_downgrades_are_explicit(sample_ws, run_cli):
    root = sample_ws.root
    assert run_cli("-w", root, "install", "KitchenSet[build]").exit_code == 0
    assert run_cli("-w", root, "scene", "build", "KitchenSet").exit_code == 0
    scene = root / "scenes" / "KitchenSet.usda"
    generated = root / "scenes" / "KitchenSet.setpiece.usda"
    before = generated.read_bytes()
    assert 'string version = "1.1.0"' in before.decode()  # Chair, newest

    # a version without --asset: one usage line, exit 1, nothing installed or written
    run_cli("-w", root, "scene", "update", scene, "--to", "1.0.0").user_error(
        "--to 1.0.0 needs --asset NAME")
    # a downgrade is refused unless asked for
    run_cli("-w", root, "scene", "update", scene, "--asset", "Chair", "--to", "1.0.0").user_error(
        "Chair 1.0.0 is older than the installed 1.1.0", "--allow-downgrade")
    assert generated.read_bytes() == before
    assert str(sample_ws.installed_assets()["chair"].version) == "1.1.0"

    dry = run_cli("-w", root, "scene", "update", scene, "--asset", "Chair", "--to", "1.0.0",
                  "--allow-downgrade", "--dry-run")
    assert dry.exit_code == 0 and "Chair: would downgrade 1.1.0 -> 1.0.0" in dry.out, dry.err
    done = run_cli("-w", root, "scene", "update", scene, "--asset", "Chair", "--to", "1.0.0",
                   "--allow-downgrade")
    assert done.exit_code == 0 and "Chair: downgraded 1.1.0 -> 1.0.0" in done.out, done.err
    assert 'string version = "1.0.0"' in generated.read_text()


@pytest.mark.slow
def test_scene_builds_updates_and_failures_are_events(sample_ws, run_cli):
    root = sample_ws.root
    assert run_cli("-w", root, "install", "KitchenSet[build]").exit_code == 0
    assert run_cli("-w", root, "scene", "build", "KitchenSet").exit_code == 0
    assert run_cli("-w", root, "scene", "build", "KitchenSet").exit_code == 0  # no-op
    scene = root / "scenes" / "KitchenSet.usda"
    done = run_cli("-w", root, "scene", "update", scene, "--asset", "Chair", "--to", "1.0.0",
                   "--allow-downgrade")
    assert done.exit_code == 0, done.err
    assert run_cli("-w", root, "scene", "build", "Nope").exit_code == 1

    def events(name: str) -> list[dict]:
        result = run_cli("-w", root, "events", "--event", name, "--json")
        assert result.exit_code == 0, result.err
        return [json.loads(line) for line in result.out.splitlines() if line.strip()]

    built = events("scene.built")
    assert [(e["asset"], e["group"], e["status"], e["containers"]) for e in built] == [
        ("KitchenSet", "build", "written", 4),
        ("KitchenSet", "build", "unchanged", 4),
        ("KitchenSet", "build", "written", 4),  # the update's rebuild
    ]
    assert built[0]["scene"] == str(scene) and built[0]["scene_created"] is True
    (updated,) = events("scene.updated")
    assert (updated["scene"], updated["asset"], updated["status"]) == (
        str(scene), "KitchenSet", "written")
    assert updated["updates"] == [
        {"asset": "Chair", "from": "1.1.0", "to": "1.0.0", "downgrade": True}]
    failed = [e for e in events("failed") if e.get("action") == "scene.build"]
    assert len(failed) == 1 and failed[0]["asset"] == "Nope"
    assert failed[0]["error"].startswith("asset 'Nope' is not installed")
    assert failed[0]["scene"] == str(root / "scenes" / "Nope.usda")


def test_scene_build_draws_progress_on_a_terminal_only(ws, capsys, run_in_terminal,
                                                       run_setpiece):
    assert run(capsys, "create", "Chair", "--kind", "prop")[0] == 0
    assert run(capsys, "create", "Kitchen", "--kind", "set")[0] == 0
    assert run(capsys, "require", "Kitchen", "Chair")[0] == 0
    t = run_in_terminal("scene", "build", "Kitchen", cwd=ws)
    assert t.exit_code == 0, t.raw
    drawn = [part.split("\r")[0] for part in t.raw.split("\r\x1b[K")[1:] if part.strip()]
    assert any(d.startswith("Building scene Kitchen.usda: checking interface layers ")
               for d in drawn), drawn
    assert t.screen == [f"{ws / 'scenes' / 'Kitchen.setpiece.usda'}: written, 2 containers; "
                        f"created {ws / 'scenes' / 'Kitchen.usda'}"]
    piped = run_setpiece("scene", "build", "Kitchen", "--force", cwd=ws)
    assert piped.exit_code == 0 and piped.err == "", piped.err
