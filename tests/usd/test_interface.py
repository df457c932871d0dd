from __future__ import annotations

from pathlib import Path

import pytest
from pxr import Sdf, Usd

from setpiece.core.errors import SetpieceError
from setpiece.usd import (
    InterfaceDependency,
    StageMetadata,
    check_layer,
    scaffold_interface,
    write_interface_layer,
)


def test_scaffold_prop_is_a_valid_component_with_payload(site):
    path = scaffold_interface(site.site_packages / "lamp", "Lamp", "0.1.0", "prop")
    layer = Sdf.Layer.FindOrOpen(str(path))
    assert layer.defaultPrim == "Lamp"
    prim = layer.GetPrimAtPath("/Lamp")
    assert prim.kind == "component"
    assert dict(prim.assetInfo)["version"] == "0.1.0"
    assert dict(prim.assetInfo)["identifier"].path == "lamp/asset.usda"
    assert (path.parent / "payload.usda").is_file()
    assert check_layer(path, expect_name="Lamp", expect_version="0.1.0") == []


def test_scaffold_set_is_an_assembly_without_payload(site):
    path = scaffold_interface(site.site_packages / "kitchen", "Kitchen", "1.0.0", "set")
    layer = Sdf.Layer.FindOrOpen(str(path))
    prim = layer.GetPrimAtPath("/Kitchen")
    assert prim.kind == "assembly"
    assert not prim.payloadList.GetAddedOrExplicitItems()
    assert not (path.parent / "payload.usda").exists()


def test_scaffold_refuses_to_overwrite(tmp_path):
    path = tmp_path / "chair" / "asset.usda"
    path.parent.mkdir()
    path.write_text("#usda 1.0\n# mine\n")
    with pytest.raises(SetpieceError, match="already exists"):
        scaffold_interface(path.parent, "Chair", "1.0.0", "prop")
    assert path.read_text() == "#usda 1.0\n# mine\n"


def test_output_is_deterministic_and_incremental(tmp_path):
    a, b = tmp_path / "a.usda", tmp_path / "b.usda"
    deps = [InterfaceDependency("Table", "table/asset.usda", "1.0.0", "Table>=1", "semi-push"),
            InterfaceDependency("Chair", "chair/asset.usda")]
    assert write_interface_layer(a, "Set", "1.0.0", "set", "set/asset.usda", dependencies=deps)
    assert write_interface_layer(b, "Set", "1.0.0", "set", "set/asset.usda",
                                 dependencies=list(reversed(deps)))
    assert a.read_bytes() == b.read_bytes()
    mtime = a.stat().st_mtime_ns
    assert not write_interface_layer(a, "Set", "1.0.0", "set", "set/asset.usda", dependencies=deps)
    assert a.stat().st_mtime_ns == mtime
    text = a.read_text()
    assert "/tmp" not in text and str(tmp_path) not in text
    assert text.index('"Chair"') < text.index('"Table"')


def test_variants_select_the_first_and_carry_payloads(tmp_path):
    path = tmp_path / "asset.usda"
    write_interface_layer(path, "Tree", "1.0.0", "prop", "tree/asset.usda",
                          variants={"lod": {"high": "./high.usdc", "low": "./low.usdc"}})
    stage = Usd.Stage.Open(str(path), Usd.Stage.LoadNone)
    vset = stage.GetPrimAtPath("/Tree").GetVariantSets().GetVariantSet("lod")
    assert vset.GetVariantNames() == ["high", "low"]
    assert vset.GetVariantSelection() == "high"
    assert "@./low.usdc@" in path.read_text()


def test_metadata_is_configurable(tmp_path):
    path = tmp_path / "asset.usda"
    meta = StageMetadata.from_settings({"meters_per_unit": 1, "up_axis": "z",
                                        "time_codes_per_second": 25})
    write_interface_layer(path, "Rock", "1.0.0", "prop", "rock/asset.usda", metadata=meta)
    stage = Usd.Stage.Open(str(path))
    from pxr import UsdGeom

    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert UsdGeom.GetStageUpAxis(stage) == "Z"
    assert stage.GetTimeCodesPerSecond() == 25
    assert stage.GetFramesPerSecond() == 25


def test_bad_metadata_is_refused_with_the_setting_to_fix():
    with pytest.raises(SetpieceError, match=r"up_axis 'X' is not valid: set up_axis"):
        StageMetadata.from_settings({"up_axis": "x"})
    with pytest.raises(SetpieceError, match="meters_per_unit"):
        StageMetadata.from_settings({"meters_per_unit": 0})


@pytest.mark.parametrize("ident", ["/abs/chair/asset.usda", "C:/x/asset.usda", "../chair/asset.usda"])
def test_non_portable_identifiers_are_refused_and_nothing_written(tmp_path, ident):
    path = tmp_path / "asset.usda"
    with pytest.raises(SetpieceError, match=r"chair/asset\.usda"):
        write_interface_layer(path, "Set", "1.0.0", "set", "set/asset.usda",
                              dependencies=[InterfaceDependency("Chair", ident)])
    assert not path.exists()


def test_absolute_payload_is_refused(tmp_path):
    path = tmp_path / "asset.usda"
    with pytest.raises(SetpieceError, match=r"payload of Chair '/data/chair.usdc' is absolute"):
        write_interface_layer(path, "Chair", "1.0.0", "prop", "chair/asset.usda",
                              payload="/data/chair.usdc")
    assert not path.exists()


def test_duplicate_prim_names_are_refused(tmp_path: Path):
    path = tmp_path / "asset.usda"
    deps = [InterfaceDependency("My-Chair", "my_chair/asset.usda"),
            InterfaceDependency("My_Chair", "my_chair/asset.usda")]
    with pytest.raises(SetpieceError, match="duplicate prim name 'My_Chair' in Set"):
        write_interface_layer(path, "Set", "1.0.0", "set", "set/asset.usda", dependencies=deps)
    assert not path.exists()
