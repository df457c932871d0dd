from __future__ import annotations

from setpiece.usd import InterfaceDependency, check_layer, write_interface_layer
from setpiece.usd.check import errors


def _codes(problems):
    return [(p.severity, p.code) for p in problems]


def test_missing_layer(tmp_path):
    problems = check_layer(tmp_path / "chair" / "asset.usda")
    assert _codes(problems) == [("error", "missing-layer")]
    assert "does not exist" in problems[0].message


def test_parse_failure_is_one_line_with_the_position(tmp_path):
    path = tmp_path / "asset.usda"
    path.write_text('#usda 1.0\ndef Xform "Chair" (\n  kind = \n')
    problems = check_layer(path)
    assert _codes(problems) == [("error", "parse")]
    msg = problems[0].message
    assert "\n" not in msg and "fails to parse" in msg and "asset.usda:3" in msg
    assert "pxrInternal" not in msg


def test_missing_default_prim(tmp_path):
    path = tmp_path / "asset.usda"
    path.write_text('#usda 1.0\ndef Xform "Chair" (\n    kind = "component"\n)\n{\n}\n')
    problems = check_layer(path)
    assert ("error", "default-prim") in _codes(problems)
    assert "defaultPrim" in problems[0].message


def test_absolute_and_unresolvable_references(site, tmp_path):
    path = site.site_packages / "set" / "asset.usda"
    write_interface_layer(path, "Set", "1.0.0", "set", "set/asset.usda",
                          dependencies=[InterfaceDependency("Ghost", "ghost/asset.usda")])
    text = path.read_text().replace("prepend references = @ghost/asset.usda@",
                                    "prepend references = [@ghost/asset.usda@, @/net/x.usda@]")
    path.write_text(text)
    problems = check_layer(path, label="Set")
    msgs = [p.message for p in problems if p.severity == "error"]
    assert any("@/net/x.usda@ on /Set/Ghost is absolute" in m for m in msgs), msgs
    assert any(
        "reference @ghost/asset.usda@ on /Set/Ghost does not resolve: install" in m for m in msgs
    ), msgs
    # reported once, not again as a composition error
    assert sum("ghost/asset.usda" in m for m in msgs) == 1


def test_installed_dependency_resolves(site):
    site.add("Chair")
    path = site.site_packages / "set" / "asset.usda"
    write_interface_layer(path, "Set", "1.0.0", "set", "set/asset.usda",
                          dependencies=[InterfaceDependency("Chair", "chair/asset.usda")])
    assert check_layer(path) == []


def test_payload_not_pulled_is_a_warning(site):
    path = site.site_packages / "rock" / "asset.usda"
    write_interface_layer(path, "Rock", "1.0.0", "prop", "rock/asset.usda", payload="./geo.usdc")
    assert _codes(check_layer(path)) == [("error", "unresolved")]
    (path.parent / "geo.usdc.dvc").write_text("outs:\n- md5: 0\n  path: geo.usdc\n")
    problems = check_layer(path)
    assert _codes(problems) == [("warning", "not-pulled")]
    assert "'setpiece files pull NAME'" in problems[0].message


def test_any_tracked_file_not_pulled_is_a_warning(site):
    """References and textures alike, and a file inside a tracked folder."""
    from pxr import Sdf

    path = site.site_packages / "rock" / "asset.usda"
    write_interface_layer(path, "Rock", "1.0.0", "prop", "rock/asset.usda")
    layer = Sdf.Layer.FindOrOpen(str(path))
    prim = layer.GetPrimAtPath(layer.defaultPrim and f"/{layer.defaultPrim}")
    attr = Sdf.AttributeSpec(prim, "texture", Sdf.ValueTypeNames.Asset)
    attr.default = Sdf.AssetPath("./textures/wood.png")
    prim.referenceList.Prepend(Sdf.Reference("./frames/f0001.usda"))
    layer.Save()
    assert check_layer(path) != [] and ("warning", "not-pulled") not in _codes(check_layer(path))
    (path.parent / "textures").mkdir()
    (path.parent / "textures" / "wood.png.dvc").write_text("outs:\n- md5: 0\n  path: wood.png\n")
    (path.parent / "frames.dvc").write_text("outs:\n- md5: 0.dir\n  path: frames\n")
    problems = check_layer(path)
    assert _codes(problems) == [("warning", "not-pulled"), ("warning", "not-pulled")]
    assert {p.message.split("(")[1].split(")")[0] for p in problems} == {
        "wood.png.dvc", "frames.dvc"}


def test_shadowing_by_the_current_folder_is_reported(site, tmp_path, monkeypatch):
    site.add("Chair")
    path = site.site_packages / "set" / "asset.usda"
    write_interface_layer(path, "Set", "1.0.0", "set", "set/asset.usda",
                          dependencies=[InterfaceDependency("Chair", "chair/asset.usda")])
    cwd = tmp_path / "elsewhere"
    (cwd / "chair").mkdir(parents=True)
    (cwd / "chair" / "asset.usda").write_text((site.site_packages / "chair/asset.usda").read_text())
    monkeypatch.chdir(cwd)
    expected = site.site_packages / "chair" / "asset.usda"
    problems = check_layer(path, expected_paths={"chair/asset.usda": expected}.get)
    assert _codes(problems) == [("warning", "shadowed")]
    assert str(cwd / "chair" / "asset.usda") in problems[0].message


def test_reference_cycle_is_a_composition_error(site):
    a = site.site_packages / "a" / "asset.usda"
    b = site.site_packages / "b" / "asset.usda"
    write_interface_layer(a, "A", "1.0.0", "set", "a/asset.usda",
                          dependencies=[InterfaceDependency("B", "b/asset.usda")])
    write_interface_layer(b, "B", "1.0.0", "set", "b/asset.usda",
                          dependencies=[InterfaceDependency("A", "a/asset.usda")])
    problems = check_layer(a)
    assert ("error", "composition") in _codes(problems)
    assert any("cycle" in p.message.lower() for p in problems), problems


def test_asset_info_and_metadata_mismatch_are_warnings(site):
    from setpiece.usd import StageMetadata

    path = site.site_packages / "rock" / "asset.usda"
    write_interface_layer(path, "Rock", "1.0.0", "prop", "rock/asset.usda")
    problems = check_layer(path, expect_name="Rock", expect_version="1.1.0",
                           metadata=StageMetadata(up_axis="Z"))
    assert _codes(problems) == [("warning", "asset-info"), ("warning", "metadata")]
    assert "setpiece usd stamp" in problems[0].message
    assert "upAxis is Y, the workspace uses Z" in problems[1].message


def test_relative_path_leaving_the_package_is_an_error(site, tmp_path):
    """``@../../../Chair/src/chair/asset.usda@`` composes in one workspace, breaks once published."""
    outputs = tmp_path / "outputs"
    chair = outputs / "Chair" / "src" / "chair"
    write_interface_layer(chair / "asset.usda", "Chair", "1.0.0", "prop", "chair/asset.usda")
    kitchen = outputs / "Kitchen" / "src" / "kitchen" / "asset.usda"
    write_interface_layer(kitchen, "Kitchen", "1.0.0", "set", "kitchen/asset.usda",
                          dependencies=[InterfaceDependency("Chair", "chair/asset.usda")])
    kitchen.write_text(kitchen.read_text().replace(
        "@chair/asset.usda@", "@../../../Chair/src/chair/asset.usda@"))
    (kitchen.parent / "geo.usda").write_text('#usda 1.0\n(\n    defaultPrim = "Geo"\n)\n\n'
                                             'def Scope "Geo"\n{\n}\n')
    kitchen.write_text(kitchen.read_text().replace(
        'kind = "assembly"', 'kind = "assembly"\n    prepend payload = @./sub/../geo.usda@'))
    problems = check_layer(kitchen, label="Kitchen")
    assert _codes(problems) == [("error", "outside-package")], problems
    msg = problems[0].message
    assert "\n" not in msg
    assert "reference @../../../Chair/src/chair/asset.usda@ on /Kitchen/Chair leaves the " \
           f"package folder {kitchen.parent}" in msg
    assert "use an identifier such as 'chair/asset.usda'" in msg
    # the package folder can be given: a layer in a sub-folder may go up to it, not beyond
    sub = kitchen.parent / "looks" / "look.usda"
    sub.parent.mkdir()
    sub.write_text('#usda 1.0\n(\n    defaultPrim = "L"\n)\n\ndef "L" (\n'
                   '    prepend references = @../geo.usda@\n)\n{\n}\n')
    assert errors(check_layer(sub, package_dir=kitchen.parent)) == []
    assert _codes(errors(check_layer(sub))) == [("error", "outside-package")]


def test_usd_check_reports_a_path_leaving_the_package(tmp_path, run_cli):
    from setpiece.core import Workspace

    ws = Workspace.init(tmp_path / "ws")
    assert run_cli("-w", ws.root, "create", "Chair", "--kind", "prop").exit_code == 0
    assert run_cli("-w", ws.root, "create", "Kitchen", "--kind", "set").exit_code == 0
    layer = ws.root / "outputs" / "Kitchen" / "src" / "kitchen" / "asset.usda"
    text = layer.read_text()
    layer.write_text(text.replace(
        'kind = "assembly"',
        'kind = "assembly"\n    prepend references = @../../../Chair/src/chair/asset.usda@'))
    result = run_cli("-w", ws.root, "usd", "check", "Kitchen")
    assert result.exit_code == 1
    assert "error: Kitchen" in result.out and "leaves the package folder" in result.out
    assert "'chair/asset.usda'" in result.out
    result.user_error("1 error(s)")
