"""One scene, one status per container: ``setpiece scene inventory``, ``setpiece scene
update --dry-run``, the in-app runtime (``Runtime.check`` and the published-version offer)
and the inventory window's rows say the same thing, because they all ask
``setpiece.usd.status.container_status``.

The scene (real uv workspace, sample assets in a folder repo, a real USD scene):

* Table ``>=1.2.3,<2`` (semi-push) at 1.2.3, 1.3.0 and 2.0.0 published: the bounded
  container with an allowed update. ``scene inventory`` said ``held`` here while ``scene
  update`` updated it to 1.3.0; now both say ``update-available`` to 1.3.0;
* Chair (push) built at 1.1.0, then 1.0.0 installed: ``outdated``, Update brings it to
  1.1.0 (published, admitted, newer than the installed one);
* Lamp ``==3.2.1`` (pull) with 3.3.0 published: ``held``;
* KitchenSet, the root: ``up-to-date``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from setpiece.core.containers import ContainerRecord
from setpiece.hosts.protocol import Container

pytest.importorskip("pxr")


class SceneHost:
    """The open scene's containers (read back from the USD scene), for ``Runtime.check``."""

    name = "memory"

    def __init__(self, records: list[ContainerRecord]) -> None:
        self.records = records

    def ls(self) -> list[Container]:
        return [Container(r.prim_path, r) for r in self.records]


@pytest.mark.slow
def test_cli_inventory_update_runtime_and_window_agree(sample_ws: Any, run_cli: Any) -> None:
    from setpiece.hosts import published
    from setpiece.hosts.runtime import Runtime
    from setpiece.hosts.ui.inventory import collect
    from setpiece.usd.containers import read_containers

    root = sample_ws.root
    assert run_cli("-w", root, "install", "KitchenSet[build]").exit_code == 0
    sample_ws.install(["Table==1.2.3"], record=False)
    built = run_cli("-w", root, "scene", "build", "KitchenSet")
    assert built.exit_code == 0, built.err
    sample_ws.install(["Chair==1.0.0"], record=False)
    scene = Path(root) / "scenes" / "KitchenSet.usda"

    inv = run_cli("-w", root, "scene", "inventory", str(scene), "--json")
    assert inv.exit_code == 0, inv.err
    cli = {r["asset"]: (r["status"], r["target"]) for r in inv.json()}
    assert cli == {
        "KitchenSet": ("up-to-date", None),
        "Chair": ("outdated", "1.1.0"),
        "Table": ("update-available", "1.3.0"),
        "Lamp": ("held", None),
    }
    text = run_cli("-w", root, "scene", "inventory", str(scene)).out
    table_line = next(line for line in text.splitlines() if line.startswith("/World/Table"))
    assert table_line.split()[-1] == "update-available"

    dry = run_cli("-w", root, "scene", "update", str(scene), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.err
    steps = {s["asset"]: (s["action"], s["to"]) for s in dry.json()["steps"]}
    moved = {a: to for a, (action, to) in steps.items() if action == "update"}
    assert moved == {a: target for a, (status, target) in cli.items()
                     if status in ("outdated", "update-available")}
    assert steps["Lamp"][0] == steps["KitchenSet"][0] == "unchanged"

    # in the app: the same containers, read back from the same scene
    records = read_containers(scene)
    runtime = Runtime(SceneHost(records), sample_ws)
    by_asset = {c.asset: str(c.status) for c in runtime.check()}
    # without asking the repos the runtime knows what is installed: Table's 1.3.0 is
    # published, not installed, so the installed check alone finds it current
    assert by_asset == {"KitchenSet": "up-to-date", "Chair": "outdated", "Table": "up-to-date",
                        "Lamp": "up-to-date"}
    offers = {u.asset: u.published_version
              for u in published.published_updates(sample_ws, runtime.host.ls())}
    assert offers["Table"] == "1.3.0" and "Lamp" not in offers
    # the inventory window's rows (Qt-free): the repos asked, the CLI's words and targets
    rows = {r.asset: (str(r.status), r.target) for r in collect(runtime)}
    assert rows == cli
