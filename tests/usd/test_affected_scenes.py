"""``setpiece affected``: the scenes of a workspace a publish would change, and --installed."""

from __future__ import annotations

import pytest

pytest.importorskip("pxr")


@pytest.mark.slow
def test_scenes_and_installed(sample_ws, run_cli) -> None:
    root = sample_ws.root
    assert run_cli("-w", root, "install", "KitchenSet[build]").exit_code == 0
    assert run_cli("-w", root, "scene", "build", "KitchenSet").exit_code == 0
    scene = root / "scenes" / "KitchenSet.usda"
    # the scene holds Table 1.2.3 (an older one than the newest its range admits)
    r = run_cli("-w", root, "scene", "update", scene, "--asset", "Table", "--to", "1.2.3",
                "--allow-downgrade")
    assert r.exit_code == 0, r.err

    def scenes(spec: str) -> list[tuple[str, str, str, str, str]]:
        r = run_cli("-w", root, "affected", spec, "--json")
        assert r.exit_code == 0, r.err
        return [(s["scene"], s["name"], s["installed"], s["version"], s["kind"])
                for s in r.json()["scenes"]]

    assert scenes("Table==1.3.0") == [(str(scene), "Table", "1.2.3", "1.3.0", "semi-push")]
    text = run_cli("-w", root, "affected", "Table==1.3.0").out
    assert (f"1 scene(s) of this workspace would change:\n  {scene} (KitchenSet[build]): "
            "Table 1.2.3 -> 1.3.0 ('Table<2,>=1.2.3', semi-push)") in text
    assert scenes("Table==2.0.0") == []  # outside KitchenSet's range
    assert scenes("Lamp==3.3.0") == []  # KitchenSet pins Lamp==3.2.1
    assert scenes("Chair==1.0.0") == []  # older than the Chair 1.1.0 it holds

    r = run_cli("-w", root, "affected", "--installed", "--json")
    assert r.exit_code == 0, r.err
    updates = r.json()["updates"]
    assert [(u["name"], u["installed"], u["version"]) for u in updates] == [
        ("Table", "1.2.3", "1.3.0")]  # Lamp is pinned, Chair and KitchenSet are the newest
    (table,) = updates
    assert [(a["name"], a["version"], a["kind"]) for a in table["assets"]] == [
        ("KitchenSet", "1.0.0", "semi-push")]
    assert [s["scene"] for s in table["scenes"]] == [str(scene)]
    text = run_cli("-w", root, "affected", "--installed").out
    assert text.startswith("Table 1.2.3 -> 1.3.0:\n  KitchenSet 1.0.0  semi-push  [build]")

    scene.unlink()  # a scene deleted is no longer reported
    assert scenes("Table==1.3.0") == []
    run_cli("-w", root, "affected", "--installed", "Table==1.3.0").user_error("not both")
