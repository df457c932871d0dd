from __future__ import annotations

import pytest

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.usd.inventory import inventory, plan_update

REPO = {
    "Chair": ["1.0.0", "1.2.0", "1.3.0", "2.0.0", "2.1.0rc1"],
    "Table": ["3.2.1", "3.3.0"],
    "Lamp": ["1.0.0", "1.1.0"],
    "Rug": ["0.1.0"],
}
INSTALLED = {"Chair": "1.2.0", "Table": "3.2.1", "Lamp": "1.0.0", "Rug": "0.1.0"}


def rec(asset, version, requirement, kind):
    return ContainerRecord(f"/World/{asset}", asset, version, f"{asset.lower()}/asset.usda",
                           requirement, kind, extra={"requiredBy": "Kitchen"})


RECORDS = [
    rec("Chair", "1.2.0", "Chair>=1,<2", "semi-push"),
    rec("Table", "3.2.1", "Table==3.2.1", "pull"),
    rec("Lamp", "0.9.0", "Lamp", "push"),
    rec("Rug", "0.1.0", "Rug", "push"),
]


def rows():
    return {r.record.asset: r for r in inventory(RECORDS, INSTALLED.get, lambda n: REPO.get(n, []))}


def test_inventory_statuses():
    r = rows()
    # semi-push Chair>=1,<2 at 1.2.0: 2.0.0 is the newest but 1.3.0 is admitted, so Update
    # takes 1.3.0 and the inventory says so (it said "held" before the status was one)
    assert (r["Chair"].newest, r["Chair"].admits_newest, r["Chair"].status, r["Chair"].target) == (
        "2.0.0", False, "update-available", "1.3.0")
    assert (r["Table"].newest, r["Table"].admits_newest, r["Table"].status) == (
        "3.3.0", False, "held")
    # installed 1.0.0, scene says 0.9.0, 1.1.0 published and admitted: Update takes 1.1.0
    assert (r["Lamp"].status, r["Lamp"].target) == ("outdated", "1.1.0")
    assert r["Rug"].status == "up-to-date" and r["Rug"].target is None
    missing = inventory([rec("Sofa", "1.0.0", "Sofa", "push")], INSTALLED.get, lambda n: [])
    assert missing[0].status == "not-installed"
    assert r["Chair"].to_json()["installed"] == "1.2.0"
    assert r["Chair"].to_json()["status"] == "update-available"


def test_inventory_and_update_agree():
    """Every container the inventory says Update moves is moved by plan_update, to the
    inventory's target; every other one is left unchanged."""
    extra = [
        rec("Bench", "1.0.0", "Bench", "push"),  # installed 1.1.0, nothing newer: rebuild
        rec("Stool", "1.0.0", "Stool<2", "semi-push"),  # installed 2.0.0 refused: held
        # installed 2.0.0 refused; 1.5.0 is admitted but older than what is installed (for
        # another container: one version per asset), so Update never installs it
        rec("Shelf", "1.0.0", "Shelf<2", "semi-push"),
    ]
    installed = {**INSTALLED, "Bench": "1.1.0", "Stool": "2.0.0", "Shelf": "2.0.0"}
    repo = {**REPO, "Bench": ["1.0.0", "1.1.0"], "Stool": ["1.0.0", "2.0.0"],
            "Shelf": ["1.0.0", "1.5.0", "2.0.0"]}
    records = [*RECORDS, *extra]
    inv = {r.record.asset: r for r in inventory(records, installed.get, lambda n: repo[n])}
    plan = {s.record.asset: s for s in plan_update(records, installed.get, lambda n: repo[n]).steps}
    for asset, row in inv.items():
        step = plan[asset]
        if row.status.updatable:
            assert (step.action, step.target) == ("update", row.target), asset
        else:
            assert step.action == "unchanged", asset
    assert {a: str(r.status) for a, r in inv.items()} == {
        "Chair": "update-available", "Table": "held", "Lamp": "outdated", "Rug": "up-to-date",
        "Bench": "outdated", "Stool": "held", "Shelf": "held",
    }
    # Bench moves to the installed version: the scene is rebuilt, nothing installed
    assert (plan["Bench"].current, plan["Bench"].target, plan["Bench"].needs_install) == (
        "1.0.0", "1.1.0", False)
    assert "Stool 2.0.0 is outside 'Stool<2'" in plan["Stool"].reason
    assert plan_update(records, installed.get, lambda n: repo[n]).requirements() == [
        "Chair==1.3.0", "Lamp==1.1.0"]


def test_update_available_when_admitted():
    r = inventory([rec("Lamp", "1.0.0", "Lamp", "push")], INSTALLED.get, lambda n: REPO[n])
    assert (r[0].newest, r[0].admits_newest, r[0].status) == ("1.1.0", True, "update-available")


def test_update_latest_stays_within_bounds():
    plan = plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n])
    steps = {s.record.asset: s for s in plan.steps}
    assert (steps["Chair"].action, steps["Chair"].target) == ("update", "1.3.0")
    assert steps["Table"].action == "unchanged"
    assert "pinned to 'Table==3.2.1' (pull) by Kitchen" in steps["Table"].reason
    assert (steps["Lamp"].action, steps["Lamp"].target) == ("update", "1.1.0")
    assert steps["Rug"].reason == "up to date"
    assert plan.requirements() == ["Chair==1.3.0", "Lamp==1.1.0"]


def test_update_one_asset_outside_its_requirement_is_refused():
    with pytest.raises(SetpieceError, match=r"Chair 2.0.0 is outside 'Chair>=1,<2' \(semi-push\) "
                                            r"required by Kitchen: widen it"):
        plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="chair", to="2.0.0")
    with pytest.raises(SetpieceError, match=r"pinned to 'Table==3.2.1' \(pull\)"):
        plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="Table", to="3.3.0")
    with pytest.raises(SetpieceError, match=r"Chair 9\.9\.9 is not in the workspace's repos"):
        plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="Chair", to="9.9.9")
    with pytest.raises(SetpieceError, match="no container of asset 'Sofa'"):
        plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="Sofa")
    with pytest.raises(SetpieceError, match="'newest' is not a version"):
        plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="Chair", to="newest")


def test_update_to_an_admitted_version_and_prereleases_are_not_latest():
    plan = plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="Chair", to="1.3.0")
    assert plan.requirements() == ["Chair==1.3.0"]
    assert not plan.steps[0].downgrade
    wide = [rec("Chair", "1.2.0", "Chair", "push")]
    plan = plan_update(wide, INSTALLED.get, lambda n: REPO[n])
    assert plan.requirements() == ["Chair==2.0.0"]  # not 2.1.0rc1


def test_update_to_a_version_needs_an_asset():
    with pytest.raises(SetpieceError, match=r"--to 1\.0\.0 needs --asset NAME"):
        plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], to="1.0.0")


def test_downgrade_is_refused_unless_allowed():
    with pytest.raises(SetpieceError, match=r"Chair 1\.0\.0 is older than the installed "
                                            r"1\.2\.0: pass --allow-downgrade"):
        plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="Chair", to="1.0.0")
    plan = plan_update(RECORDS, INSTALLED.get, lambda n: REPO[n], asset="Chair", to="1.0.0",
                       allow_downgrade=True)
    assert plan.requirements() == ["Chair==1.0.0"]  # within bounds, and asked for
    assert plan.steps[0].downgrade and plan.steps[0].to_json()["downgrade"] is True
