"""The one container reader (setpiece.usd.containers): what a container is, on layers
written by hand, by the host selftest's sample set and by a scene build's sublayer."""

from __future__ import annotations

from pathlib import Path

import pytest

from setpiece.core.errors import SetpieceError

pytest.importorskip("pxr")

from setpiece.usd.containers import read_containers

LAYER = """#usda 1.0
(
    subLayers = [@./{name}.setpiece.usda@]
)
"""

GENERATED = """#usda 1.0

def Xform "World"
{
    def "Chair" (
        assetInfo = {
            string name = "Chair"
            string version = "1.0.0"
            asset identifier = @chair/asset.usda@
            string requirement = "Chair>=1,<2"
            string kind = "semi-push"
            string requiredBy = "Kitchen"
        }
    )
    {
        def "Leg" (
            assetInfo = {
                string name = "Leg"
                string version = "0.1.0"
                string requirement = "Leg"
                string kind = "push"
            }
        )
        {
        }
    }

    def "Kitchen" (
        assetInfo = {
            string name = "Kitchen"
            string version = "2.0.0"
        }
    )
    {
        def "Lamp" (
            assetInfo = {
                string name = "Lamp"
                string version = "3.2.1"
                string requirement = "Lamp==3.2.1"
                string kind = "pull"
            }
        )
        {
        }
    }
}
"""


def test_a_container_names_its_requirement_and_containers_do_not_nest(tmp_path: Path) -> None:
    (tmp_path / "shot.setpiece.usda").write_text(GENERATED)
    (tmp_path / "shot.usda").write_text(LAYER.format(name="shot"))
    composed = read_containers(tmp_path / "shot.usda")
    # Leg is inside the Chair container (it belongs to it); Kitchen carries name and
    # version only (an interface layer's own prim, not a placement): its Lamp is one
    assert [(r.prim_path, r.asset, r.kind) for r in composed] == [
        ("/World/Chair", "Chair", "semi-push"),
        ("/World/Kitchen/Lamp", "Lamp", "pull"),
    ]
    chair = composed[0]
    assert (chair.identifier, chair.requirement, chair.extra) == (
        "chair/asset.usda", "Chair>=1,<2", {"requiredBy": "Kitchen"})
    # the generated layer alone (Sdf, no composition) says the same
    assert read_containers(tmp_path / "shot.usda", composed=False) == composed


def test_the_host_sample_set_reads_as_the_hosts_load_it(tmp_path: Path) -> None:
    from setpiece.hosts.selftest import write_sample_scene

    sample = write_sample_scene(tmp_path / "sample")
    records = read_containers(sample.root_layer)
    assert [(r.asset, r.version, r.identifier) for r in records] == [
        (r.asset, r.version, r.identifier) for r in sample.records
    ]


def test_a_missing_or_broken_scene_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SetpieceError, match="does not exist: build it with 'setpiece scene build"):
        read_containers(tmp_path / "nope.usda")
    bad = tmp_path / "bad.usda"
    bad.write_text('#usda 1.0\ndef Xform "World" (\n')
    with pytest.raises(SetpieceError, match="fails to parse"):
        read_containers(bad)
