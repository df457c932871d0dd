"""The Nuke adapter's full protocol, run against the ``nuke`` fake (tests/hosts/fakes/nuke.py).

Nuke cannot be installed here: these tests check what setpiece asks of the ``nuke``
module and what an artist sees in the node graph; ``setpiece.hosts.nuke.selftest``
repeats the same journey inside the real Nuke.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dcc_steps import menu_commands, reopened, reported_from_menu
from fakes.nuke import DETACHED, FakeNuke, Menu

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Host, MenuCommand, SceneLoad


@pytest.fixture
def nuke(monkeypatch: pytest.MonkeyPatch) -> FakeNuke:
    monkeypatch.delenv("SETPIECE_NUKE_3D", raising=False)
    # 17: the one version whose GeoTransform Mask knob is documented (fakes/nuke.py)
    return FakeNuke(gui=False, major=17).install(monkeypatch)


@pytest.fixture
def gui_nuke(monkeypatch: pytest.MonkeyPatch) -> FakeNuke:
    monkeypatch.delenv("SETPIECE_NUKE_3D", raising=False)
    return FakeNuke(gui=True, major=17).install(monkeypatch)


@pytest.fixture
def host():  # type: ignore[no-untyped-def]
    from setpiece.hosts.nuke import NukeHost

    return NukeHost()


def test_importing_the_adapter_needs_no_nuke() -> None:
    import importlib

    for name in ("setpiece.hosts.nuke", "setpiece.hosts.nuke.selftest", "setpiece.hosts.nuke.launch"):
        importlib.import_module(name)
    assert "nuke" not in sys.modules


def test_adapter_satisfies_the_host_protocol(host) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(host, Host) and host.name == "nuke"


def test_identity(nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    assert host.app_version() == "17.1v3"
    assert host.is_headless() is True


def test_load_chains_georeference_nodes_with_metadata_knobs(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    stray = nuke.module.createNode("GeoTransform")  # selected: createNode would wire to it
    assert stray.isSelected()

    loaded = host.load(SceneLoad(sample.root_layer, sample.records))

    assert [c.node for c in loaded] == ["Chair", "Table"]
    chair, table = nuke.node("Chair"), nuke.node("Table")
    assert chair.Class() == table.Class() == "GeoReference"
    assert chair.input(0) is None  # not wired to the stray selected node
    # the Chair is placed by the layout (a GeoTransform after it); the Table is not placed
    assert table.input(0) is nuke.node("Chair_layout") and nuke.node("Chair_layout").input(0) is chair
    assert chair["file_path"].value() == sample.records[0].layer
    assert chair["prim_path"].value() == "/World/Chair"  # not the asset's own root, /Chair
    assert chair.knob("setpiece_tab") is not None
    assert chair["setpiece_name"].value() == "Chair"
    assert chair["setpiece_version"].value() == "1.0.0"
    assert chair["setpiece_requirement"].value() == "Chair>=1"
    assert chair["setpiece_prim_path"].value() == "/World/Chair"
    assert table["setpiece_identifier"].value() == "table/1.0.0/asset.usda"


def test_loading_twice_uniquifies_and_extends_the_chain(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    second = host.load(SceneLoad(sample.root_layer, sample.records))

    assert [c.node for c in second] == ["Chair1", "Table1"]
    assert nuke.node("Chair1").input(0) is nuke.node("Table")
    assert [c.node for c in host.ls()] == ["Chair", "Table", "Chair1", "Table1"]


def test_ls_reads_containers_back_from_knobs(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    nuke.module.createNode("GeoImport")  # a plain GeoImport is not a container

    found = host.ls()

    assert [(c.node, c.asset, c.version, c.record.kind) for c in found] == [
        ("Chair", "Chair", "1.0.0", "semi-push"),
        ("Table", "Table", "1.0.0", "push"),
    ]


def test_load_without_records_reads_the_root_layer(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    loaded = host.load(SceneLoad(sample.root_layer))
    assert [c.asset for c in loaded] == ["Chair", "Table"]
    assert nuke.node("Table")["file_path"].value() == sample.records[1].layer


def test_classic_3d_uses_readgeo2_when_geoimport_is_missing(monkeypatch: pytest.MonkeyPatch, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.nuke import NukeHost

    monkeypatch.setenv("SETPIECE_NUKE_3D", "new")  # asks for GeoImport, but this Nuke lacks it
    fake = FakeNuke(gui=False, major=14).install(monkeypatch)
    host = NukeHost()

    loaded = host.load(SceneLoad(sample.root_layer, sample.records))

    assert [fake.node(c.node).Class() for c in loaded] == ["ReadGeo2", "ReadGeo2"]
    assert fake.node("Table").input(0) is None  # ReadGeo2 nodes are not chained
    assert host.reader_class() == "ReadGeo2"
    with pytest.raises(SetpieceError, match="USD export needs the new 3D system"):
        host.export_usd(str(tmp_path / "x.usda"))


def test_classic_3d_on_request(monkeypatch: pytest.MonkeyPatch, sample) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.nuke import NukeHost

    monkeypatch.setenv("SETPIECE_NUKE_3D", "classic")
    fake = FakeNuke(gui=False, major=16).install(monkeypatch)
    NukeHost().load(SceneLoad(sample.root_layer, sample.records))
    assert fake.node("Chair").Class() == "ReadGeo2"


def test_update_sets_the_file_and_keeps_connections(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    user_xform = nuke.module.createNode("GeoTransform")
    user_xform.setInput(0, nuke.node("Chair"))

    updated = host.update(chair, sample.update_to)

    node = nuke.node("Chair")
    assert updated.node == "Chair" and updated.version == "2.0.0"
    assert node["file_path"].value() == sample.update_to.layer
    assert node["setpiece_version"].value() == "2.0.0"
    assert user_xform.input(0) is node and nuke.node("Chair_layout").input(0) is node
    assert nuke.node("Table").input(0) is nuke.node("Chair_layout")  # the layout stays
    assert [c.version for c in host.ls()] == ["2.0.0", "1.0.0"]


def test_remove_reconnects_what_followed(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    host.load(SceneLoad(sample.root_layer, sample.records[:1]))  # Chair1 after Table

    table = host.ls()[1]
    table_node = nuke.node("Table")
    host.remove(table)

    assert nuke.to_node("Table") is None
    assert nuke.node("Chair1").input(0) is nuke.node("Chair_layout")
    host.remove(host.ls()[0])  # the Chair: its layout GeoTransform goes with it
    assert nuke.to_node("Chair") is None and nuke.to_node("Chair_layout") is None
    assert nuke.node("Chair1").input(0) is None
    assert [n.name() for n in nuke.nodes] == ["Chair1", "Chair1_layout"]
    with pytest.raises(ValueError, match=DETACHED):
        table_node.name()


def test_update_or_remove_of_a_deleted_container_is_a_one_line_error(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    nuke.module.delete(nuke.node("Chair"))

    with pytest.raises(SetpieceError, match=r"container Chair \(Chair\) is no longer in the script") as err:
        host.update(chair, sample.update_to)
    assert "\n" not in str(err.value)
    with pytest.raises(SetpieceError):
        host.remove(chair)


def test_export_writes_the_chain_with_geoexport_and_cleans_up(nuke: FakeNuke, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    host.update(chair, sample.update_to)

    written = host.export_usd(str(tmp_path / "out" / "scene.usda"))

    assert [n.Class() for n in nuke.nodes] == ["GeoReference", "GeoTransform", "GeoReference"]  # exporter deleted
    assert nuke.executed == [("GeoExport1", 1, 1)]
    from pxr import Usd

    stage = Usd.Stage.Open(written)
    assert stage.GetPrimAtPath("/World/Chair/geo").IsValid()
    refs = stage.GetPrimAtPath("/World/Chair").GetMetadata("references").GetAddedOrExplicitItems()
    assert refs[0].assetPath == sample.update_to.layer


def test_export_selection_and_empty_script(nuke: FakeNuke, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SetpieceError, match="no containers to export"):
        host.export_usd(str(tmp_path / "x.usda"))
    host.load(SceneLoad(sample.root_layer, sample.records))
    with pytest.raises(SetpieceError, match="nothing is selected"):
        host.export_usd(str(tmp_path / "x.usda"), selection=True)

    nuke.node("Chair").setSelected(True)
    text = Path(host.export_usd(str(tmp_path / "sel.usda"), selection=True)).read_text()
    assert '"Chair"' in text and '"Table"' not in text


def test_select_in_scene_replaces_the_selection(nuke: FakeNuke, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, table = host.load(SceneLoad(sample.root_layer, sample.records))
    pick = nuke.module.createNode("GeoTransform")  # selected, as createNode does

    host.select([chair.node])
    assert [n.name() for n in nuke.module.selectedNodes()] == ["Chair"]
    assert not pick.isSelected()
    host.select([table.node, chair.node])
    assert sorted(n.name() for n in nuke.module.selectedNodes()) == ["Chair", "Table"]
    host.select([])
    assert nuke.module.selectedNodes() == []

    nuke.module.delete(nuke.node("Table"))
    with pytest.raises(SetpieceError, match="nuke: Table is no longer in the script; refresh the inventory"):
        host.select([chair.node, table.node])


def test_failed_export_is_a_one_line_error_and_leaves_no_exporter(nuke: FakeNuke, host, sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))

    def boom(node, start=1, end=1, incr=1):  # type: ignore[no-untyped-def]
        raise RuntimeError("GeoExport1: cannot write\nread-only disk")

    monkeypatch.setattr(nuke.module, "execute", boom)
    with pytest.raises(SetpieceError, match=r"USD export to .* failed: GeoExport1: cannot write read-only disk"):
        host.export_usd(str(tmp_path / "x.usda"))
    assert [n.Class() for n in nuke.nodes] == ["GeoReference", "GeoTransform", "GeoReference"]


def test_save_open_and_script_load_callback(nuke: FakeNuke, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened: list[str | None] = []
    host.on_scene_opened(lambda: opened.append(host.current_scene()))
    host.load(SceneLoad(sample.root_layer, sample.records))
    assert host.current_scene() is None

    saved = host.save_scene(str(tmp_path / "comp.nk"))
    host.save_scene()  # again, to the same file: overwrite allowed
    host.new_scene()
    assert host.ls() == [] and host.current_scene() is None

    host.open_scene(saved)

    assert opened == [saved]
    assert [(c.asset, c.version) for c in host.ls()] == [("Chair", "1.0.0"), ("Table", "1.0.0")]
    assert nuke.node("Table").input(0) is nuke.node("Chair_layout")
    assert nuke.node("Chair_layout")["translate"].value() == pytest.approx([2.0, 0.0, -1.0])
    host.remove_callbacks()
    host.open_scene(saved)
    assert opened == [saved]


def test_scene_file_errors_are_one_line(nuke: FakeNuke, host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SetpieceError, match="no such file"):
        host.open_scene(str(tmp_path / "missing.nk"))
    with pytest.raises(SetpieceError, match="never saved"):
        host.save_scene()
    with pytest.raises(SetpieceError, match=r"\.nk"):
        host.save_scene(str(tmp_path / "comp.hip"))


def test_menu_in_the_nuke_menu_bar_replaced_on_reinstall(gui_nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[str] = []
    commands = menu_commands(ran, tool="Chair/Props tool")
    host.install_menu(commands)
    host.install_menu(commands)

    bar = gui_nuke.menus["Nuke"]
    menus = [m for m in bar.items if isinstance(m, Menu)]
    assert [m.name() for m in menus] == ["setpiece"]
    items = menus[0].items
    assert [i[1] if i[0] == "command" else "---" for i in items] == [
        "Build scene", "Update all", "---", "Chair/Props tool"
    ]
    assert items[0][3] == "Build the scene"
    items[0][2]()
    items[3][2]()
    assert ran == ["build"]
    assert gui_nuke.messages == ["setpiece: no workspace here"]


def test_no_menu_in_terminal_mode(nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    host.install_menu([MenuCommand("Build scene", lambda: None)])
    assert not nuke.menus["Nuke"].items


def test_defer(gui_nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    host.defer(lambda: ran.append(1))
    assert ran == []
    gui_nuke.run_main_thread()
    assert ran == [1]


def test_headless_defer_and_main_window(nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    host.defer(lambda: ran.append(1))
    assert ran == [1] and nuke.main_thread == []
    assert host.main_window() is None


def test_startup_files(gui_nuke: FakeNuke, monkeypatch: pytest.MonkeyPatch) -> None:
    import setpiece.hosts
    import setpiece.hosts.nuke as nuke_pkg

    installed: list[object] = []
    monkeypatch.setattr(setpiece.hosts, "install", installed.append, raising=False)
    monkeypatch.setattr(nuke_pkg, "_installed", [])
    folder = nuke_pkg.startup_dir()
    for name in ("init.py", "menu.py"):
        exec(compile((folder / name).read_text(), name, "exec"), {"__name__": name[:-3]})
        if name == "init.py":
            assert installed == []  # GUI: init.py leaves it to menu.py
    assert len(installed) == 1 and installed[0].name == "nuke"  # type: ignore[attr-defined]
    nuke_pkg.bootstrap()  # only once per session
    assert len(installed) == 1


def test_terminal_mode_installs_from_init_py(nuke: FakeNuke, monkeypatch: pytest.MonkeyPatch) -> None:
    import setpiece.hosts
    import setpiece.hosts.nuke as nuke_pkg

    installed: list[object] = []
    monkeypatch.setattr(setpiece.hosts, "install", installed.append, raising=False)
    monkeypatch.setattr(nuke_pkg, "_installed", [])
    init = nuke_pkg.startup_dir() / "init.py"
    exec(compile(init.read_text(), "init.py", "exec"), {"__name__": "init"})
    assert len(installed) == 1


def test_selftest_passes_against_the_fake(nuke: FakeNuke, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from setpiece.hosts.nuke import selftest

    report = selftest.run(workdir=str(tmp_path))

    out = capsys.readouterr().out
    assert report.ok, out
    assert "node and wiring kept" in out and out.strip().endswith("14 passed, 0 failed")
    assert "PASS  tool assets on NUKE_PATH: no workspace" in out
    assert "PASS  containers at their prim paths: Chair at /World/Chair" in out
    assert "PASS  layout: Chair at (2.0, 0.0, -1.0) m, Table at (0.0, 0.0, 0.0) m" in out
    assert "PASS  GeoTransform Mask knob: Chair_layout: Mask knob 'mask_patterns' = '/World/Chair'" in out


def test_selftest_fails_when_the_geotransform_does_not_place_the_prim(
        nuke: FakeNuke, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Nuke whose GeoTransform applied its transform after the asset's own (Append) or
    not at all is caught by the layout step, read from what GeoExport writes."""
    from fakes import nuke as fake_module

    from setpiece.hosts.nuke import selftest

    real = fake_module._geotransform_ops
    monkeypatch.setattr(fake_module, "_geotransform_ops", lambda node, layer: [])  # ignored
    report = selftest.run(workdir=str(tmp_path))
    out = capsys.readouterr().out
    assert report.exit_code == 1
    assert "FAIL  layout: AssertionError: Chair is at (0.0, 0.0, 0.0) m, the layout puts it at (2.0, 0.0, -1.0) m" in out
    monkeypatch.setattr(fake_module, "_geotransform_ops", real)


def test_selftest_main_with_a_root_layer(nuke: FakeNuke, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.nuke import selftest

    assert selftest.main(["--root-layer", sample.root_layer, "--workdir", str(tmp_path / "w")]) == 0


def test_selftest_fails_on_classic_nuke_export(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from setpiece.hosts.nuke import selftest

    monkeypatch.delenv("SETPIECE_NUKE_3D", raising=False)
    FakeNuke(gui=False, major=14).install(monkeypatch)
    report = selftest.run(workdir=str(tmp_path))

    out = capsys.readouterr().out
    assert report.exit_code == 1
    assert "FAIL  export_usd: SetpieceError: nuke: USD export needs the new 3D system" in out
    assert "PASS  reopen" in out


def test_launch_spec() -> None:
    from setpiece.hosts.nuke.launch import launch_spec

    spec = launch_spec()
    assert spec.host == "nuke" and spec.startup_var == "NUKE_PATH"
    assert spec.batch_args == ("-t", "{script}")
    assert spec.python_by_app_version["15"] == "3.10" and spec.python_by_app_version["16"] == "3.11"
    assert any(g.startswith("/usr/local/Nuke") for g in spec.install_globs)


def test_scene_data_is_saved_with_the_script(nuke: FakeNuke, host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert host.get_scene_data("setpiece_asset") is None
    host.set_scene_data("setpiece_asset", "Kitchen")
    host.set_scene_data("setpiece_asset", "Kitchen")  # the knob is added once
    saved = host.save_scene(str(tmp_path / "kitchen.nk"))
    host.new_scene()
    assert host.get_scene_data("setpiece_asset") is None
    host.open_scene(saved)
    assert host.get_scene_data("setpiece_asset") == "Kitchen"


def test_notify_and_ask(gui_nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    done: list[int] = []
    host.notify("2 containers are out of date")
    assert host.ask("Update them now?", lambda: done.append(1)) is True
    gui_nuke.answer = False
    assert host.ask("Update them now?", lambda: done.append(2)) is True
    assert done == [1] and gui_nuke.messages == ["2 containers are out of date"]


def test_notify_and_ask_in_terminal_mode(nuke: FakeNuke, host, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    host.notify("2 containers are out of date")
    assert capsys.readouterr().err == "setpiece: 2 containers are out of date\n"
    assert host.ask("Update?", lambda: None) is False


def test_the_runtime_installs_its_menu_through_the_adapter(gui_nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    import setpiece.hosts

    setpiece.hosts.install(host)

    menu = gui_nuke.menus["Nuke"].findItem("setpiece")
    assert menu is not None
    labels = [i[1] for i in menu.items if i[0] == "command"]
    assert "Build scene" in labels and "Update all" in labels
    assert len(gui_nuke.on_script_load) == 1


def test_the_generic_launcher_plans_nuke_t(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from setpiece.hosts import launching
    from setpiece.hosts.nuke import startup_dir

    exe = tmp_path / "usr" / "local" / "Nuke16.0v2" / "Nuke16.0"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    monkeypatch.setenv("SETPIECE_NUKE_BATCH_EXECUTABLE", str(exe))
    script = tmp_path / "job.py"
    script.write_text("")

    plan = launching.batch_plan("nuke", None, str(script))

    assert plan.command == [str(exe), "-t", str(script)]
    assert (plan.app_version, plan.python) == ("16", "3.11")
    assert plan.env["NUKE_PATH"] == str(startup_dir())
    assert {p.name for p in startup_dir().iterdir()} >= {"init.py", "menu.py"}


def test_container_data_survives_update_save_and_reopen(nuke, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    assert host.get_container_data(chair, "setpiece_setup") is None
    host.set_container_data(chair, "setpiece_setup", {"version": "1.0.0", "status": "ok"})
    host.update(chair, sample.update_to)
    again = reopened(host, tmp_path / "scene.nk", "Chair")
    assert host.get_container_data(again, "setpiece_setup") == {"version": "1.0.0", "status": "ok"}


def test_two_copies_of_one_asset_keep_their_own_prim_paths(nuke: FakeNuke, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """GeoReference puts each container at its prim path: two chairs stay two. (GeoImport
    would land both at the asset's own root, /Chair, the second overwriting the first.)"""
    import dataclasses

    chair = sample.records[0]
    twin = dataclasses.replace(chair, prim_path="/World/Chair_2")
    host.load(SceneLoad(sample.root_layer, (chair, twin)))
    from pxr import Usd

    stage = Usd.Stage.Open(host.export_usd(str(tmp_path / "twins.usda")))
    assert stage.GetPrimAtPath("/World/Chair/geo").IsValid()
    assert stage.GetPrimAtPath("/World/Chair_2/geo").IsValid()

    imports = []
    for _ in range(2):  # what GeoImport would do with the same file
        node = nuke.module.createNode("GeoImport")
        node["file"].setValue(chair.layer)
        imports.append(node)
    imports[1].setInput(0, imports[0])
    exporter = nuke.module.createNode("GeoExport")
    exporter.setInput(0, imports[1])
    exporter["file"].setValue(str(tmp_path / "imports.usda"))
    exporter["file_type"].setValue("usd")  # Nuke 17: Alembic by default
    nuke.module.execute(exporter, 1, 1)
    stage = Usd.Stage.Open(str(tmp_path / "imports.usda"))
    assert [str(p.GetPath()) for p in stage.GetPseudoRoot().GetChildren()] == ["/Chair"]


def test_nuke_17_geoexport_writes_usd_not_its_default_alembic(monkeypatch: pytest.MonkeyPatch, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.nuke import NukeHost

    fake = FakeNuke(gui=False, major=17).install(monkeypatch)
    host = NukeHost()
    host.load(SceneLoad(sample.root_layer, sample.records))
    written = host.export_usd(str(tmp_path / "scene.usda"))
    assert Path(written).read_text(encoding="utf-8").startswith("#usda 1.0")
    assert ("Knob.setValue", ("GeoExport1.file_type", "usd"), {}) in fake.calls

    plain = fake.module.createNode("GeoExport")  # left at its default Format: abc
    plain.setInput(0, fake.node("Table"))
    plain["file"].setValue(str(tmp_path / "plain.usda"))
    fake.module.execute(plain, 1, 1)
    assert not (tmp_path / "plain.usda").read_bytes().startswith(b"#usda")


def test_new_script_does_not_inherit_the_previous_scripts_asset(nuke: FakeNuke, host) -> None:  # type: ignore[no-untyped-def]
    host.set_scene_data("setpiece_asset", "KitchenSet")
    nuke.module.scriptClear()  # nuke's own default keeps the Root's user knobs
    assert host.get_scene_data("setpiece_asset") == "KitchenSet"
    host.new_scene()
    assert host.get_scene_data("setpiece_asset") is None


def test_no_update_on_open_in_render_or_terminal_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    from setpiece.hosts.nuke import NukeHost

    FakeNuke(gui=False).install(monkeypatch)
    monkeypatch.delenv("SETPIECE_UPDATE_ON_OPEN", raising=False)
    assert NukeHost().may_update_on_open() is False
    monkeypatch.setenv("SETPIECE_UPDATE_ON_OPEN", "1")
    assert NukeHost().may_update_on_open() is True
    FakeNuke(gui=True).install(monkeypatch)
    monkeypatch.delenv("SETPIECE_UPDATE_ON_OPEN")
    assert NukeHost().may_update_on_open() is True


# -- the scene's layout arrives (a GeoTransform per placed container) --------------------


def _world(path: str, prim: str):  # type: ignore[no-untyped-def]
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(path, Usd.Stage.LoadNone)
    m = UsdGeom.Xformable(stage.GetPrimAtPath(prim)).ComputeLocalToWorldTransform(0)
    return [[round(m[i][j], 6) + 0.0 for j in range(4)] for i in range(4)]


@pytest.mark.parametrize("major", [15, 16])
def test_a_layout_is_refused_where_the_mask_knob_is_unverified(monkeypatch: pytest.MonkeyPatch, host, sample, major: int) -> None:  # type: ignore[no-untyped-def]
    # no Foundry page names GeoTransform's Mask knob in 15/16: the fake has none, as
    # Nuke has no knob of a wrong name, and setpiece says so instead of guessing
    monkeypatch.delenv("SETPIECE_NUKE_3D", raising=False)
    nuke = FakeNuke(gui=False, major=major).install(monkeypatch)
    with pytest.raises(SetpieceError, match=r"no Mask knob .*run 'setpiece selftest nuke'"):
        host.load(SceneLoad(sample.root_layer, sample.records))
    layout = nuke.node("Chair_layout")
    with pytest.raises(NameError, match="knob mask does not exist"):
        layout["mask"]


def test_load_places_the_chair_where_the_layout_puts_it(monkeypatch: pytest.MonkeyPatch, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SETPIECE_NUKE_3D", raising=False)
    nuke = FakeNuke(gui=False, major=17).install(monkeypatch)
    mask = "mask_patterns"
    # the sample layout (metres, Y up): Chair at (2, 0, -1), turned 90° about Y
    host.load(SceneLoad(sample.root_layer, sample.records))

    layout = nuke.node("Chair_layout")
    assert layout.Class() == "GeoTransform" and layout.input(0) is nuke.node("Chair")
    assert layout[mask].value() == "/World/Chair"
    assert (layout["xform_order"].value(), layout["rot_order"].value(),
            layout["xform_op_order"].value()) == ("SRT", "XYZ", "Prepend")
    assert layout["translate"].value() == pytest.approx([2.0, 0.0, -1.0])
    assert layout["rotate"].value() == pytest.approx([0.0, 90.0, 0.0])
    assert layout["scaling"].value() == pytest.approx([1.0, 1.0, 1.0])
    assert nuke.to_node("Table_layout") is None  # the Table is not placed: nothing to add
    assert [c.asset for c in host.ls()] == ["Chair", "Table"]  # a layout node is no container
    # what GeoExport writes of the chain puts both where the scene does
    written = host.export_usd(str(tmp_path / "set.usda"))
    for prim in ("/World/Chair", "/World/Table"):
        assert _world(written, prim) == _world(sample.root_layer, prim)


def test_layout_replaces_an_assets_own_root_transform_as_the_scene_does(nuke: FakeNuke, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # both assets lift themselves 0.5 m on their own root prim; the scene's layout
    # replaces that on the Chair (its xformOpOrder wins) and keeps it on the Table
    for record in sample.records:
        layer = Path(record.layer)
        layer.write_text(layer.read_text().replace(
            '    def Cube "geo"',
            '    double3 xformOp:translate = (0, 0.5, 0)\n'
            '    uniform token[] xformOpOrder = ["xformOp:translate"]\n    def Cube "geo"',
        ))

    host.load(SceneLoad(sample.root_layer, sample.records))

    # prepended before the asset's own lift: the GeoTransform takes it back out
    assert nuke.node("Chair_layout")["translate"].value() == pytest.approx([2.0, -0.5, -1.0], abs=1e-9)
    assert nuke.to_node("Table_layout") is None  # the reference brings the lift already
    written = host.export_usd(str(tmp_path / "set.usda"))
    assert _world(written, "/World/Chair") == _world(sample.root_layer, "/World/Chair")
    assert _world(written, "/World/Chair")[3][:3] == [2.0, 0.0, -1.0]
    assert _world(written, "/World/Table")[3][:3] == [0.0, 0.5, 0.0]


def test_the_fake_geotransform_types_its_knobs(nuke: FakeNuke) -> None:
    node = nuke.module.createNode("GeoTransform")
    with pytest.raises(TypeError):
        node["translate"].setValue("2 0 1")
    with pytest.raises(NameError):
        node["mask"]  # Nuke 17: the Mask knob is 'mask_patterns'


def test_report_a_problem_from_the_menu(gui_nuke: FakeNuke, host, make_workspace) -> None:  # type: ignore[no-untyped-def]
    import setpiece.hosts

    ws = make_workspace()
    setpiece.hosts.install(host, ws.root)
    menu = gui_nuke.menus["Nuke"].findItem("setpiece")
    (item,) = [i for i in menu.items if i[0] == "command" and i[1] == "Report a problem"]
    item[2]()

    path = reported_from_menu(ws.root, "nuke", host.app_version())
    assert gui_nuke.messages[-1] == f"Problem report written: {path}\nAttach this file to your ticket."


def test_the_app_version_comes_from_the_folder_nearest_the_executable(tmp_path: Path) -> None:
    """A number elsewhere in the path (a temp folder ``pytest-815``, a ``2015`` share) is not
    read as the app's version: only a whole version, nearest the executable first."""
    from setpiece.hosts import launching

    exe = tmp_path / "pytest-815" / "2015" / "Nuke16.0v2" / "Nuke16.0"
    assert launching.app_info("nuke", exe) == ("16", "3.11")
    assert launching.app_info("nuke", tmp_path / "Nuke150" / "Nuke") == ("", None)
    assert launching.app_info("houdini", Path("/opt/hfs20.5.370/bin/hython")) == ("20.5", "3.11")
    assert launching.app_info("maya", Path("/usr/autodesk/maya2025/bin/mayapy")) == ("2025", "3.11")
