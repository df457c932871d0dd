from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pxr import Sdf, Usd

from setpiece.core.errors import SetpieceError
from setpiece.usd import BuildOptions, build_scene, read_containers
from setpiece.usd.closure import Closure, ClosureEntry, resolve_closure
from setpiece.usd.workspace import build_workspace_scene


@pytest.fixture
def kitchen(site):
    site.add("Chair", "1.2.0")
    site.add("Table", "2.0.0", build=["Chair[build]>=1,<2"])
    site.add("Lamp", "1.0.0")
    site.add("Kitchen", "0.3.0", kind="set", build=["Table[build]", "Lamp[build]==1.0.0"])
    return site


def test_build_writes_user_layer_and_generated_layer(kitchen, tmp_path):
    out = tmp_path / "shots" / "sh010.usda"
    result = build_scene("Kitchen", kitchen.installed, out)
    assert result.status == "written" and result.scene_created
    generated = tmp_path / "shots" / "sh010.setpiece.usda"
    assert result.generated == generated
    user = Sdf.Layer.FindOrOpen(str(out))
    assert list(user.subLayerPaths) == ["./sh010.setpiece.usda"]
    by_path = {c.prim_path: c for c in result.containers}
    assert sorted(by_path) == ["/World/Chair", "/World/Kitchen", "/World/Lamp", "/World/Table"]
    chair = by_path["/World/Chair"]
    assert (chair.asset, chair.version, chair.identifier) == ("Chair", "1.2.0", "chair/asset.usda")
    assert (chair.requirement, chair.kind) == ("Chair<2,>=1", "semi-push")
    assert by_path["/World/Lamp"].kind == "pull"
    assert by_path["/World/Table"].kind == "push"
    assert by_path["/World/Kitchen"].requirement == ""
    # composed: the containers carry the interface layers' kinds
    stage = Usd.Stage.Open(str(out), Usd.Stage.LoadNone)
    assert Usd.ModelAPI(stage.GetPrimAtPath("/World/Chair")).GetKind() == "component"
    assert Usd.ModelAPI(stage.GetPrimAtPath("/World/Kitchen")).GetKind() == "assembly"
    assert stage.GetDefaultPrim().GetPath() == Sdf.Path("/World")
    assert read_containers(out) == read_containers(out, composed=False)
    assert [r.prim_path for r in read_containers(out)] == sorted(by_path)


def test_rebuild_is_deterministic_and_writes_nothing(kitchen, tmp_path):
    a = build_scene("Kitchen", kitchen.installed, tmp_path / "a" / "s.usda")
    b = build_scene("Kitchen", kitchen.installed, tmp_path / "b" / "s.usda")
    assert a.generated.read_bytes() == b.generated.read_bytes()
    text = a.generated.read_text()
    assert str(tmp_path) not in text and "site-packages" not in text
    before = a.generated.stat().st_mtime_ns, a.scene.stat().st_mtime_ns
    again = build_scene("Kitchen", kitchen.installed, tmp_path / "a" / "s.usda")
    assert again.status == "unchanged" and not again.scene_created
    assert "unchanged (nothing written)" in again.summary()
    assert (a.generated.stat().st_mtime_ns, a.scene.stat().st_mtime_ns) == before


def test_rebuild_never_touches_user_edits(kitchen, tmp_path):
    out = tmp_path / "s.usda"
    build_scene("Kitchen", kitchen.installed, out)
    user = Sdf.Layer.FindOrOpen(str(out))
    over = Sdf.CreatePrimInLayer(user, "/World/Chair")
    over.specifier = Sdf.SpecifierOver
    attr = Sdf.AttributeSpec(over, "userNote", Sdf.ValueTypeNames.String)
    attr.default = "moved by layout"
    lamp = Sdf.CreatePrimInLayer(user, "/World/Lamp")
    lamp.specifier = Sdf.SpecifierOver
    lamp.active = False
    user.Save()
    edited = out.read_bytes()

    kitchen.assets["chair"].version = "1.3.0"  # a newer Chair got installed
    result = build_scene("Kitchen", kitchen.installed, out)
    assert result.status == "written"
    assert out.read_bytes() == edited
    stage = Usd.Stage.Open(str(out), Usd.Stage.LoadNone)
    chair = stage.GetPrimAtPath("/World/Chair")
    assert chair.GetAttribute("userNote").Get() == "moved by layout"
    assert chair.GetAssetInfo()["version"] == "1.3.0"
    # a deactivated container is not listed; the Sdf read lists what was built
    assert "/World/Lamp" not in [r.prim_path for r in read_containers(out)]
    assert "/World/Lamp" in [r.prim_path for r in read_containers(out, composed=False)]


def test_layout_by_kind_and_payload_arcs(kitchen, tmp_path):
    result = build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda",
                         BuildOptions(layout="kind", arc="payload"))
    assert [c.prim_path for c in result.containers] == [
        "/World/prop/Chair", "/World/prop/Lamp", "/World/prop/Table", "/World/set/Kitchen"]
    text = result.generated.read_text()
    assert "prepend payload = @chair/asset.usda@" in text and "references" not in text
    stage = Usd.Stage.Open(str(result.scene), Usd.Stage.LoadNone)
    assert not stage.GetPrimAtPath("/World/prop/Chair").IsLoaded()
    assert [r.prim_path for r in read_containers(result.scene)] == [
        c.prim_path for c in result.containers]


def test_metadata_is_the_same_on_every_layer(kitchen, tmp_path):
    from setpiece.usd import StageMetadata

    meta = StageMetadata(meters_per_unit=1.0, up_axis="Z", time_codes_per_second=25,
                         start_time_code=1001, end_time_code=1100)
    result = build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda", BuildOptions(metadata=meta))
    for path in (result.scene, result.generated):
        layer = Sdf.Layer.FindOrOpen(str(path))
        assert meta.differences(layer) == [], path
    stage = Usd.Stage.Open(str(result.scene), Usd.Stage.LoadNone)
    assert stage.GetTimeCodesPerSecond() == 25


def test_missing_interface_layer_names_the_asset_and_writes_nothing(kitchen, tmp_path):
    kitchen.add("Rug", "0.1.0", interface=False)
    kitchen.assets["kitchen"].groups["build"].append("Rug[build]")
    out = tmp_path / "shots" / "s.usda"
    with pytest.raises(SetpieceError) as err:
        build_scene("Kitchen", kitchen.installed, out)
    msg = str(err.value)
    assert msg.startswith("Rug 0.1.0 (required by Kitchen) has no interface layer")
    assert "asset.usda" in msg and "kind 'tool'" in msg
    assert not (tmp_path / "shots").exists()


def test_tool_assets_are_not_containers(kitchen, tmp_path):
    kitchen.add("Exporter", "1.0.0", kind="tool", interface=False)
    kitchen.assets["kitchen"].groups["build"].append("Exporter[build]")
    result = build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda")
    assert "Exporter" not in [c.asset for c in result.containers]


def test_dependency_not_installed(kitchen, tmp_path):
    kitchen.assets["kitchen"].groups["build"].append("Sofa[build]>=2")
    with pytest.raises(SetpieceError, match=r"Sofa \(required by Kitchen as 'Sofa>=2'\) is not "
                                            r"installed: run 'setpiece install \"Kitchen\[build\]\"'"):
        build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda")
    assert not (tmp_path / "s.usda").exists()


def test_installed_version_outside_requirement(kitchen, tmp_path):
    kitchen.assets["lamp"].version = "1.1.0"
    with pytest.raises(SetpieceError, match=r"Lamp 1.1.0 is installed but Kitchen requires 'Lamp==1.0.0'"):
        build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda")


def test_cycle_is_named(kitchen, tmp_path):
    kitchen.assets["chair"].groups["build"].append("Kitchen[build]")
    with pytest.raises(SetpieceError, match=r"dependency cycle: Kitchen -> Table -> Chair -> Kitchen"):
        build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda")
    assert not (tmp_path / "s.usda").exists()


def test_base_dependencies_compose_inside_and_are_not_containers(site, tmp_path):
    site.add("Vase", "1.0.0")
    site.add("Shelf", "1.0.0", base=["Vase>=1"])
    site.add("Room", "1.0.0", kind="set", build=["Shelf[build]"])
    closure = resolve_closure("Room", site.installed)
    assert {e.name: e.container for e in closure.entries.values()} == {
        "Room": True, "Shelf": True, "Vase": False}
    result = build_scene("Room", closure, tmp_path / "s.usda")
    assert [c.asset for c in result.containers] == ["Room", "Shelf"]


def test_duplicate_prim_names_are_refused(site, tmp_path):
    a = site.add("Chair-A", "1.0.0")
    b = site.add("Chair_A2", "1.0.0")
    b.name = "Chair_A"  # a hand-made closure whose two assets map to one prim
    root = site.add("Room", "1.0.0", kind="set")
    closure = Closure(ClosureEntry(root, container=True, is_root=True), "build", {
        "room": ClosureEntry(root, container=True, is_root=True),
        "x": ClosureEntry(a, "Chair-A", container=True),
        "y": ClosureEntry(b, "Chair_A", container=True)})
    with pytest.raises(SetpieceError, match="duplicate prim name /World/Chair_A: assets Chair-A and Chair_A"):
        build_scene("Room", closure, tmp_path / "shots" / "s.usda")
    assert not (tmp_path / "shots").exists()


def test_bad_output_names(kitchen, tmp_path):
    with pytest.raises(SetpieceError, match=r"must end in \.usda or \.usd"):
        build_scene("Kitchen", kitchen.installed, tmp_path / "s.abc")
    with pytest.raises(SetpieceError, match="generated layer name"):
        build_scene("Kitchen", kitchen.installed, tmp_path / "s.setpiece.usda")


def test_user_layer_without_the_sublayer_is_warned(kitchen, tmp_path):
    out = tmp_path / "s.usda"
    out.write_text("#usda 1.0\n")
    result = build_scene("Kitchen", kitchen.installed, out)
    assert out.read_text() == "#usda 1.0\n"
    assert any("does not sublayer ./s.setpiece.usda" in w for w in result.warnings)


def test_folder_next_to_scene_shadowing_is_warned(kitchen, tmp_path):
    (tmp_path / "chair").mkdir()
    (tmp_path / "chair" / "asset.usda").write_text("#usda 1.0\n")
    result = build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda")
    assert any("shadows the installed Chair for @chair/asset.usda@" in w for w in result.warnings)


# -- workspace-level builds (stamp) ------------------------------------------------------


@dataclass
class _Config:
    settings: dict[str, Any] = field(default_factory=dict)


class FakeWorkspace:
    def __init__(self, site, root: Path) -> None:
        self.site = site
        self.root = root
        self.site_packages = site.site_packages
        self.config = _Config()
        self.discoveries = 0

    def installed_assets(self):
        self.discoveries += 1
        return self.site.installed


def test_noop_rebuild_skips_discovery_until_something_changes(kitchen, tmp_path):
    ws = FakeWorkspace(kitchen, tmp_path)
    first = build_workspace_scene(ws, "Kitchen")
    assert first.scene == tmp_path / "scenes" / "Kitchen.usda" and first.status == "written"
    second = build_workspace_scene(ws, "Kitchen")
    assert second.status == "unchanged" and second.count == 4 and ws.discoveries == 1
    # another option: a real build again (bytes differ: layout)
    assert build_workspace_scene(ws, "Kitchen", layout="kind").status == "written"
    assert ws.discoveries == 2
    # something installed: site-packages changed -> discovery, bytes compared
    (kitchen.site_packages / "other-1.0.dist-info").mkdir()
    third = build_workspace_scene(ws, "Kitchen", layout="kind")
    assert third.status == "unchanged" and ws.discoveries == 3
    # the generated file edited by hand -> rebuilt
    third.generated.write_text(third.generated.read_text() + "\n")
    assert build_workspace_scene(ws, "Kitchen", layout="kind").status == "written"
    # settings are inputs too
    ws.config.settings["up_axis"] = "Z"
    assert build_workspace_scene(ws, "Kitchen", layout="kind").status == "written"


def test_editable_interface_that_fails_to_parse_stops_the_build(kitchen, tmp_path):
    ws = FakeWorkspace(kitchen, tmp_path)
    kitchen.assets["chair"].editable = True
    (kitchen.site_packages / "chair" / "asset.usda").write_text("#usda 1.0\ndef (\n")
    with pytest.raises(SetpieceError, match=r"Chair 1.2.0 .* fails to parse: .*see 'setpiece usd check Chair'"):
        build_workspace_scene(ws, "Kitchen")
    assert not (tmp_path / "scenes").exists()


def test_spec_and_group(kitchen, tmp_path):
    ws = FakeWorkspace(kitchen, tmp_path)
    with pytest.raises(SetpieceError, match="unknown dependency group 'bild'"):
        build_workspace_scene(ws, "Kitchen", group="bild")
    with pytest.raises(SetpieceError, match="invalid asset name"):
        build_workspace_scene(ws, "../Kitchen")
    result = build_workspace_scene(ws, "Kitchen[edit]", tmp_path / "e.usda")
    assert [c.asset for c in result.containers] == ["Kitchen"]


def test_files_are_world_readable(kitchen, tmp_path):
    result = build_scene("Kitchen", kitchen.installed, tmp_path / "s.usda")
    mask = os.umask(0)
    os.umask(mask)
    assert result.generated.stat().st_mode & 0o777 == 0o666 & ~mask


def test_closure_from_real_dist_info_metadata(tmp_path):
    """Installed assets as setpiece.core discovers them (dist-info), fast and full parsers."""
    from setpiece.core.assets import scan_site_packages
    from setpiece.usd import scaffold_interface
    from setpiece.usd.resolver import using_search_paths

    site = tmp_path / "site-packages"

    def dist(name, version, kind, lines=""):
        info = site / f"{name.lower()}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.3\nName: {name}\nVersion: {version}\n"
            f"Keywords: setpiece-asset,setpiece-kind:{kind}\n{lines}\n")
        (info / "entry_points.txt").write_text(f"[setpiece.asset]\n{name} = {name.lower()}\n")
        scaffold_interface(site / name.lower(), name, version, kind)

    dist("Chair", "1.2.0", "prop")
    dist("Vase", "1.0.0", "prop")
    dist("Table", "2.0.0", "prop", 'Requires-Dist: Vase>=1; python_version >= "3"\n')
    dist("Kitchen", "0.3.0", "set", 'Provides-Extra: build\n'
         'Requires-Dist: chair[build]<2,>=1; extra == "build"\n'
         'Requires-Dist: Table[build]; extra == "build"\n')
    installed = scan_site_packages(site)[0]
    closure = resolve_closure("Kitchen", installed)
    got = {e.name: (e.requirement, e.dependency_kind, e.container) for e in closure.entries.values()}
    assert got == {
        "Kitchen": ("", "push", True),
        "Chair": ("Chair<2,>=1", "semi-push", True),
        "Table": ("Table", "push", True),
        "Vase": ("Vase>=1", "semi-push", False),  # complex marker: full parser fallback
    }
    with using_search_paths([site]):
        result = build_scene("Kitchen", closure, tmp_path / "s.usda")
        assert [r.asset for r in read_containers(result.scene)] == ["Chair", "Kitchen", "Table"]


def test_noop_rebuild_notices_an_editable_interface_layer_edited_in_place(kitchen, tmp_path):
    """Editing asset.usda in place leaves its folder's mtime alone: the stamp watches the file."""
    ws = FakeWorkspace(kitchen, tmp_path)
    kitchen.assets["chair"].editable = True
    assert build_workspace_scene(ws, "Kitchen").status == "written"
    assert build_workspace_scene(ws, "Kitchen").status == "unchanged" and ws.discoveries == 1
    layer = kitchen.site_packages / "chair" / "asset.usda"
    folder = os.stat(layer.parent)
    with open(layer, "r+", encoding="utf-8") as fh:  # in place: no new directory entry
        fh.write("#usda 1.0\ndef (\n")
        fh.truncate()
    st = os.stat(layer)
    os.utime(layer, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    os.utime(layer.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    with pytest.raises(SetpieceError, match=r"Chair 1.2.0 .* fails to parse"):
        build_workspace_scene(ws, "Kitchen")


def test_noop_rebuild_notices_an_editable_assets_pyproject(kitchen, tmp_path):
    ws = FakeWorkspace(kitchen, tmp_path)
    chair = kitchen.assets["chair"]
    chair.editable = True
    project = tmp_path / "outputs" / "Chair"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "Chair"\nversion = "1.2.0"\n')
    chair.source_dir = project  # type: ignore[attr-defined]  # as InstalledAsset has
    build_workspace_scene(ws, "Kitchen")
    assert build_workspace_scene(ws, "Kitchen").status == "unchanged" and ws.discoveries == 1
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("1.2.0", "1.2.10"))
    assert build_workspace_scene(ws, "Kitchen").status == "unchanged"
    assert ws.discoveries == 2  # not the stamp's short cut: re-resolved, bytes compared
