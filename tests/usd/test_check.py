from __future__ import annotations

from setpiece.usd import InterfaceDependency, check_layer, write_interface_layer


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
    assert "setpiece pull" in problems[0].message


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
