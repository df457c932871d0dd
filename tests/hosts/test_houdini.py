"""The Houdini adapter's full protocol, run against the ``hou`` fake (tests/hosts/fakes/hou.py).

Houdini cannot be installed here: these tests check what setpiece asks of ``hou`` and
what an artist sees in /stage; ``setpiece.hosts.houdini.selftest`` repeats the same
journey inside the real Houdini.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dcc_steps import menu_commands, reopened, reported_from_menu
from fakes.hou import FakeHou, OperationFailed, hipFileEventType, severityType

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Host, MenuCommand, SceneLoad


@pytest.fixture
def hou(monkeypatch: pytest.MonkeyPatch) -> FakeHou:
    return FakeHou(ui=False).install(monkeypatch)


@pytest.fixture
def gui_hou(monkeypatch: pytest.MonkeyPatch) -> FakeHou:
    return FakeHou(ui=True).install(monkeypatch)


@pytest.fixture
def host():  # type: ignore[no-untyped-def]
    from setpiece.hosts.houdini import HoudiniHost

    return HoudiniHost()


@pytest.fixture(autouse=True)
def _empty_menu():  # type: ignore[no-untyped-def]
    from setpiece.hosts.houdini import MENU

    MENU.clear()
    yield
    MENU.clear()


def test_importing_the_adapter_needs_no_hou() -> None:
    import importlib

    for name in ("setpiece.hosts.houdini", "setpiece.hosts.houdini.selftest", "setpiece.hosts.houdini.launch"):
        importlib.import_module(name)
    assert "hou" not in sys.modules


def test_adapter_satisfies_the_host_protocol(host) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(host, Host) and host.name == "houdini"


def test_identity(hou: FakeHou, host) -> None:  # type: ignore[no-untyped-def]
    assert host.app_version() == "20.5.410"
    assert host.is_headless() is True


def test_load_chains_one_reference_lop_per_container(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    loaded = host.load(SceneLoad(sample.root_layer, sample.records))

    assert [c.node for c in loaded] == ["/stage/Chair", "/stage/Table"]
    chair, chair_layout, table = hou.stage.children()
    assert chair.type().name() == table.type().name() == "reference"
    assert chair.parm("filepath1").eval() == sample.records[0].layer
    # Reference 2.0: one file entry, set explicitly; the multi-input's primpath untouched
    assert chair.parm("num_files").eval() == 1 and chair.parm("reftype1").eval() == "file"
    assert chair.parm("primpath1").eval() == "/World/Chair"
    assert chair.parm("primpath").eval() == "/Chair"  # its default, /$OS
    # the Chair is placed by the layout (a Transform LOP after it); the Table is not placed
    assert chair_layout.type().name() == "xform" and chair_layout.name() == "Chair_layout"
    # chained in load order, the last one displayed
    assert chair_layout.inputs() == (chair,) and table.inputs() == (chair_layout,)
    assert chair.inputs() == ()
    assert hou.stage.displayNode() is table
    # metadata as spare parameters in a "setpiece" folder
    assert chair.parmTemplateGroup().findFolder("setpiece") is not None
    assert chair.parm("setpiece_name").eval() == "Chair"
    assert chair.parm("setpiece_version").eval() == "1.0.0"
    assert chair.parm("setpiece_requirement").eval() == "Chair>=1"
    assert chair.parm("setpiece_kind").eval() == "semi-push"
    assert table.parm("setpiece_identifier").eval() == "table/1.0.0/asset.usda"


def test_load_appends_after_what_is_displayed_and_uniquifies_names(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    first = host.load(SceneLoad(sample.root_layer, sample.records))
    second = host.load(SceneLoad(sample.root_layer, sample.records))

    assert [c.node for c in second] == ["/stage/Chair1", "/stage/Table1"]
    chair1 = hou.node("/stage/Chair1")
    assert chair1.inputs()[0].path() == first[-1].node
    assert hou.stage.displayNode().path() == "/stage/Table1"


def test_ls_reads_containers_back_from_spare_parameters(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    hou.stage.createNode("sublayer", "not_a_container")

    found = host.ls()

    assert [(c.node, c.asset, c.version, c.record.prim_path) for c in found] == [
        ("/stage/Chair", "Chair", "1.0.0", "/World/Chair"),
        ("/stage/Table", "Table", "1.0.0", "/World/Table"),
    ]


def test_load_without_records_reads_the_root_layer(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    loaded = host.load(SceneLoad(sample.root_layer))

    assert [(c.asset, c.record.requirement) for c in loaded] == [("Chair", "Chair>=1"), ("Table", "Table")]
    assert hou.node("/stage/Chair").parm("filepath1").eval() == sample.records[0].layer


def test_update_changes_the_file_reloads_and_keeps_the_wiring(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, table = host.load(SceneLoad(sample.root_layer, sample.records))
    node = hou.node(chair.node)

    updated = host.update(chair, sample.update_to)

    assert updated.node == chair.node and updated.version == "2.0.0"
    assert node.parm("filepath1").eval() == sample.update_to.layer
    assert node.parm("reload").presses == 1
    assert node.parm("setpiece_version").eval() == "2.0.0"
    assert node.outputs() == (hou.node("/stage/Chair_layout"),)
    assert hou.node("/stage/Chair_layout").outputs() == (hou.node(table.node),)
    assert [c.version for c in host.ls()] == ["2.0.0", "1.0.0"]


def test_remove_reconnects_the_chain_and_the_display_flag(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    host.load(SceneLoad(sample.root_layer, sample.records[:1]))  # /stage/Chair1 after Table

    host.remove(host.ls()[1])  # Table, in the middle

    assert hou.node("/stage/Table") is None
    assert hou.node("/stage/Chair1").inputs() == (hou.node("/stage/Chair_layout"),)
    host.remove(host.ls()[-1])  # the displayed one (through its layout LOP)
    assert hou.node("/stage/Chair1") is None and hou.node("/stage/Chair1_layout") is None
    assert hou.stage.displayNode() is hou.node("/stage/Chair_layout")
    assert [n.name() for n in hou.stage.children()] == ["Chair", "Chair_layout"]


def test_update_or_remove_of_a_deleted_container_is_a_one_line_error(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    hou.node(chair.node).destroy()

    with pytest.raises(SetpieceError, match=r"container /stage/Chair \(Chair\) is no longer in the scene") as err:
        host.update(chair, sample.update_to)
    assert "\n" not in str(err.value)
    with pytest.raises(SetpieceError):
        host.remove(chair)


def test_missing_stage_network_is_a_clear_error(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    hou.stage.destroy()
    with pytest.raises(SetpieceError, match="no /stage LOP network"):
        host.load(SceneLoad(sample.root_layer, sample.records))
    assert host.ls() == []


def test_export_runs_a_usd_rop_on_the_displayed_lop_and_cleans_up(hou: FakeHou, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    host.update(chair, sample.update_to)

    written = host.export_usd(str(tmp_path / "out" / "scene.usda"))

    assert Path(written).is_file()
    assert [c.name() for c in hou.stage.children()] == ["Chair", "Chair_layout", "Table"]  # the ROP is gone
    from pxr import Usd

    stage = Usd.Stage.Open(written)
    refs = stage.GetPrimAtPath("/World/Chair").GetMetadata("references").GetAddedOrExplicitItems()
    assert refs[0].assetPath == sample.update_to.layer
    assert stage.GetPrimAtPath("/World/Table/geo").IsValid()


def test_export_selection(hou: FakeHou, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    with pytest.raises(SetpieceError, match="no LOP node is selected"):
        host.export_usd(str(tmp_path / "sel.usda"), selection=True)

    hou.node("/stage/Chair").setSelected(True)
    written = host.export_usd(str(tmp_path / "sel.usda"), selection=True)
    text = Path(written).read_text()
    assert '"Chair"' in text and '"Table"' not in text


def test_select_in_scene_replaces_the_selection(hou: FakeHou, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, table = host.load(SceneLoad(sample.root_layer, sample.records))
    hou.node("/stage/Chair_layout").setSelected(True)  # the artist's own pick

    host.select([chair.node])
    assert [n.path() for n in hou.module.selectedNodes()] == ["/stage/Chair"]
    host.select([table.node, chair.node])
    assert sorted(n.path() for n in hou.module.selectedNodes()) == ["/stage/Chair", "/stage/Table"]
    host.select([])
    assert hou.module.selectedNodes() == ()

    hou.node("/stage/Table").destroy()
    with pytest.raises(SetpieceError, match="houdini: /stage/Table is no longer in the scene; refresh the inventory"):
        host.select([chair.node, table.node])
    assert hou.module.selectedNodes() == ()


def test_export_of_an_empty_stage_is_a_clear_error(hou: FakeHou, host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SetpieceError, match="/stage is empty"):
        host.export_usd(str(tmp_path / "x.usda"))


def test_save_open_and_after_load_callback(hou: FakeHou, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    events: list[str | None] = []
    host.on_scene_opened(lambda: events.append(host.current_scene()))
    host.load(SceneLoad(sample.root_layer, sample.records))
    assert host.current_scene() is None

    saved = host.save_scene(str(tmp_path / "shot.hip"))
    host.new_scene()  # fires BeforeClear/AfterClear: not an "opened" event
    assert host.ls() == [] and events == []

    host.open_scene(saved)

    assert events == [saved]
    assert [(c.asset, c.version) for c in host.ls()] == [("Chair", "1.0.0"), ("Table", "1.0.0")]
    assert hou.stage.displayNode().name() == "Table"
    host.remove_callbacks()
    hou.module.hipFile.load(saved)
    assert events == [saved]


def test_scene_file_errors_are_one_line(hou: FakeHou, host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SetpieceError, match="no such file"):
        host.open_scene(str(tmp_path / "missing.hip"))
    bad = tmp_path / "bad.hip"
    bad.write_text("not a hip")
    with pytest.raises(SetpieceError, match="not a valid hip file"):
        host.open_scene(str(bad))
    with pytest.raises(SetpieceError, match="never saved"):
        host.save_scene()
    with pytest.raises(SetpieceError, match=r"\.hip"):
        host.save_scene(str(tmp_path / "shot.ma"))


def test_menu_commands_through_the_dynamic_main_menu(gui_hou: FakeHou, host) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.houdini import menu_items, run_menu_item

    ran: list[str] = []
    host.install_menu(menu_commands(ran))

    assert menu_items() == ["0", "Build scene", "1", "Update all", "_separator_", "", "2", "Chair tool"]
    run_menu_item("1")
    run_menu_item("_separator_")
    run_menu_item("2")
    assert ran == ["update"]
    assert gui_hou.messages == [("setpiece: no workspace here", severityType.Error)]
    host.install_menu([MenuCommand("Build scene", lambda: None)])
    assert menu_items() == ["0", "Build scene"]


def test_main_menu_xml_calls_the_menu_functions() -> None:
    import setpiece.hosts.houdini as houdini

    root = ET.parse(houdini.startup_dir() / "setpiece" / "MainMenuCommon.xml").getroot()
    strip = root.find("./menuBar/subMenu/scriptMenuStripDynamic")
    assert strip is not None
    assert "menu_items()" in strip.findtext("contentsScriptCode", "")
    assert 'run_menu_item(kwargs["selectedtoken"])' in strip.findtext("scriptCode", "")
    assert root.findtext("./menuBar/subMenu/label") == "setpiece"


def test_package_file_adds_the_startup_folder_to_houdini_path() -> None:
    import setpiece.hosts.houdini as houdini

    package = json.loads((houdini.startup_dir() / "setpiece.json").read_text())
    assert package["hpath"] == "$HOUDINI_PACKAGE_PATH/setpiece"
    pythonrc = houdini.startup_dir() / "setpiece" / "scripts" / "python" / "pythonrc.py"
    assert "setpiece.hosts.houdini.bootstrap()" in pythonrc.read_text()


def test_bootstrap_is_deferred_in_the_ui(gui_hou: FakeHou, monkeypatch: pytest.MonkeyPatch) -> None:
    import setpiece.hosts
    import setpiece.hosts.houdini as houdini

    installed: list[object] = []
    monkeypatch.setattr(setpiece.hosts, "install", installed.append, raising=False)
    pythonrc = houdini.startup_dir() / "setpiece" / "scripts" / "python" / "pythonrc.py"
    exec(compile(pythonrc.read_text(), str(pythonrc), "exec"), {"__name__": "pythonrc"})

    assert installed == []
    gui_hou.run_deferred()
    assert len(installed) == 1 and installed[0].name == "houdini"  # type: ignore[attr-defined]


def test_bootstrap_runs_now_in_hython_and_never_raises(hou: FakeHou, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import setpiece.hosts
    import setpiece.hosts.houdini as houdini

    def broken(host: object) -> None:
        raise RuntimeError("resolver\nexploded")

    monkeypatch.setattr(setpiece.hosts, "install", broken, raising=False)
    houdini.bootstrap()
    assert "setpiece: not installed in Houdini: resolver exploded" in capsys.readouterr().err


def test_defer_and_main_window(gui_hou: FakeHou, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    host.defer(lambda: ran.append(1))
    assert ran == []
    gui_hou.run_deferred()
    assert ran == [1]
    assert host.main_window() is gui_hou.main_window


def test_headless_defer_and_main_window(hou: FakeHou, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    host.defer(lambda: ran.append(1))
    assert ran == [1] and hou.deferred == []
    assert host.main_window() is None


def test_after_load_is_the_only_event_that_counts(hou: FakeHou, host) -> None:  # type: ignore[no-untyped-def]
    calls: list[int] = []
    host.on_scene_opened(lambda: calls.append(1))
    for event in hipFileEventType:
        for callback in hou.event_callbacks:
            callback(event)
    assert calls == [1]


def test_selftest_passes_against_the_fake(hou: FakeHou, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from setpiece.hosts.houdini import selftest

    report = selftest.run(workdir=str(tmp_path))

    out = capsys.readouterr().out
    assert report.ok, out
    assert "node and wiring kept" in out and out.strip().endswith("12 passed, 0 failed")
    assert "PASS  tool assets on HOUDINI_OTLSCAN_PATH: no workspace" in out
    assert "PASS  layout: Chair at (2.0, 0.0, -1.0) m, Table at (0.0, 0.0, 0.0) m" in out
    assert ("PASS  Reference LOP 2.0 file entries (per Houdini version): Houdini "
            f"{hou.version}: Chair: primpath1 /World/Chair, Table: primpath1 /World/Table") in out


def test_selftest_catches_a_reference_lop_without_file_entries(hou: FakeHou, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A Houdini whose reference LOP is not 2.0 (no file entries) is refused at load, and
    the selftest says so in one line naming the version needed."""
    from fakes import hou as fake_module

    from setpiece.hosts.houdini import selftest

    entries = {k: v for k, v in fake_module._NODE_TYPES["reference"].items()
               if k not in ("num_files",)}
    monkeypatch.setitem(fake_module._NODE_TYPES, "reference", entries)
    report = selftest.run(workdir=str(tmp_path))
    out = capsys.readouterr().out
    assert report.exit_code == 1
    assert "FAIL  load: SetpieceError: houdini:" in out and "19.5" in out


def test_selftest_main_with_a_root_layer(hou: FakeHou, sample, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.houdini import selftest

    assert selftest.main(["--root-layer", sample.root_layer, "--workdir", str(tmp_path / "w")]) == 0
    assert "2 containers in " + sample.root_layer in capsys.readouterr().out


def test_selftest_reports_a_broken_export(hou: FakeHou, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from fakes import hou as fake_module

    from setpiece.hosts.houdini import selftest

    monkeypatch.setitem(fake_module._NODE_TYPES, "usd_rop", {"execute": ("button", None)})  # no lopoutput parm
    report = selftest.run(workdir=str(tmp_path))

    assert report.exit_code == 1
    out = capsys.readouterr().out
    assert "FAIL  export_usd: SetpieceError: houdini: /stage/setpiece_export (usd_rop) has no parameter 'lopoutput'" in out
    assert "PASS  save_scene" in out  # the other steps still ran


def test_launch_spec() -> None:
    from setpiece.hosts.houdini.launch import launch_spec

    spec = launch_spec()
    assert spec.host == "houdini" and spec.batch_executables == ("hython",)
    assert spec.startup_var == "HOUDINI_PACKAGE_DIR"
    assert spec.python_by_app_version == {"20.0": "3.10", "20.5": "3.11", "21.0": "3.11"}
    assert any(g.startswith("/opt/hfs") for g in spec.install_globs)


def test_scene_data_is_saved_with_the_hip(hou: FakeHou, host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert host.get_scene_data("setpiece_asset") is None
    host.set_scene_data("setpiece_asset", "Kitchen")
    saved = host.save_scene(str(tmp_path / "kitchen.hip"))
    host.new_scene()
    assert host.get_scene_data("setpiece_asset") is None
    host.open_scene(saved)
    assert host.get_scene_data("setpiece_asset") == "Kitchen"


def test_notify_and_ask(gui_hou: FakeHou, host) -> None:  # type: ignore[no-untyped-def]
    done: list[int] = []
    host.notify("2 containers are out of date")
    assert host.ask("Update them now?", lambda: done.append(1), "Update all") is True
    gui_hou.answer = 1  # "Later"
    assert host.ask("Update them now?", lambda: done.append(2), "Update all") is True
    assert done == [1] and len(gui_hou.messages) == 3


def test_notify_and_ask_in_hython(hou: FakeHou, host, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    host.notify("2 containers are out of date")
    assert capsys.readouterr().err == "setpiece: 2 containers are out of date\n"
    assert host.ask("Update?", lambda: None) is False


def test_the_runtime_installs_its_menu_through_the_adapter(gui_hou: FakeHou, host) -> None:  # type: ignore[no-untyped-def]
    import setpiece.hosts
    from setpiece.hosts.houdini import menu_items

    setpiece.hosts.install(host)

    assert "Build scene" in menu_items() and "Update all" in menu_items()
    assert len(gui_hou.event_callbacks) == 1


def test_the_generic_launcher_plans_hython(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from setpiece.hosts import launching
    from setpiece.hosts.houdini import startup_dir

    exe = tmp_path / "opt" / "hfs20.0.625" / "bin" / "hython"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    monkeypatch.setenv("SETPIECE_HOUDINI_BATCH_EXECUTABLE", str(exe))
    script = tmp_path / "job.py"
    script.write_text("")

    plan = launching.batch_plan("houdini", None, str(script))

    assert plan.command == [str(exe), str(script)]
    assert (plan.app_version, plan.python) == ("20.0", "3.10")
    assert plan.env["HOUDINI_PACKAGE_DIR"] == str(startup_dir())
    assert (startup_dir() / "setpiece.json").is_file()


def test_container_data_survives_update_save_and_reopen(hou, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    assert host.get_container_data(chair, "setpiece_setup") is None
    host.set_container_data(chair, "setpiece_setup", {"version": "1.0.0", "status": "ok"})
    host.update(chair, sample.update_to)
    again = reopened(host, tmp_path / "scene.hip", "Chair")
    assert host.get_container_data(again, "setpiece_setup") == {"version": "1.0.0", "status": "ok"}


# -- the scene's layout arrives ---------------------------------------------------------


def _world(path: str, prim: str):  # type: ignore[no-untyped-def]
    """A prim's local-to-world matrix in a USD file, composed (rounded for comparing)."""
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(path, Usd.Stage.LoadNone)
    m = UsdGeom.Xformable(stage.GetPrimAtPath(prim)).ComputeLocalToWorldTransform(0)
    return [[round(m[i][j], 6) + 0.0 for j in range(4)] for i in range(4)]


def test_load_places_the_chair_where_the_layout_puts_it(hou: FakeHou, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the sample layout (metres, Y up): Chair at (2, 0, -1), turned 90° about Y
    host.load(SceneLoad(sample.root_layer, sample.records))

    layout = hou.node("/stage/Chair_layout")
    assert layout.parm("primpattern").eval() == "/World/Chair"
    # local space, absolute: the prim's transform is the layout's, as in the scene
    assert (layout.parm("xforminworldspace").eval(), layout.parm("setabsolutexform").eval()) == (0, 1)
    assert [layout.parm(p).eval() for p in ("tx", "ty", "tz")] == pytest.approx([2.0, 0.0, -1.0])
    assert [layout.parm(p).eval() for p in ("rx", "ry", "rz")] == pytest.approx([0.0, 90.0, 0.0])
    assert [layout.parm(p).eval() for p in ("sx", "sy", "sz")] == pytest.approx([1.0, 1.0, 1.0])
    assert hou.node("/stage/Table_layout") is None  # the Table is not placed: nothing to add
    # what Houdini's stage holds (written by the USD ROP) puts both where the scene does
    written = host.export_usd(str(tmp_path / "set.usda"))
    for prim in ("/World/Chair", "/World/Table"):
        assert _world(written, prim) == _world(sample.root_layer, prim)
    assert _world(written, "/World/Chair")[3][:3] == [2.0, 0.0, -1.0]


def test_layout_replaces_an_assets_own_root_transform_as_the_scene_does(hou: FakeHou, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
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

    assert hou.node("/stage/Table_layout") is None  # the reference brings the lift already
    written = host.export_usd(str(tmp_path / "set.usda"))
    assert _world(written, "/World/Chair")[3][:3] == [2.0, 0.0, -1.0]
    assert _world(sample.root_layer, "/World/Table")[3][:3] == [0.0, 0.5, 0.0]


def test_update_keeps_the_users_edit_of_the_layout(hou: FakeHou, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    layout = hou.node("/stage/Chair_layout")
    layout.setParms({"tx": 3.5, "ry": 45.0})  # the artist moves the Chair

    host.update(chair, sample.update_to)

    assert [n.name() for n in hou.stage.children()] == ["Chair", "Chair_layout", "Table"]
    assert (layout.parm("tx").eval(), layout.parm("ry").eval()) == (3.5, 45.0)
    assert hou.node(chair.node).parm("filepath1").eval() == sample.update_to.layer
    # and the move is saved with the .hip
    saved = host.save_scene(str(tmp_path / "shot.hip"))
    host.open_scene(saved)
    assert hou.node("/stage/Chair_layout").parm("tx").eval() == 3.5


def test_the_fake_transform_lop_types_its_parameters(hou: FakeHou) -> None:
    node = hou.stage.createNode("xform", "t")
    with pytest.raises(TypeError):
        node.parm("tx").set("2")
    with pytest.raises(TypeError):
        node.parm("setabsolutexform").set(2)
    with pytest.raises(OperationFailed):
        node.setParms({"translate": (1, 2, 3)})  # a parm tuple's name, not a parm
    node.parm("xOrd").set(0)
    assert node.parm("xOrd").eval() == "srt"


def test_setting_only_the_reference_lops_primpath_leaves_the_asset_at_the_default_path(hou: FakeHou, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The fault setpiece avoids: on Reference 2.0 ``primpath`` is the multi-input's prim
    path; a file entry set that way lands at ``primpath1``'s default, /$OS."""
    node = hou.stage.createNode("reference", "Chair")
    node.parm("filepath1").set(sample.records[0].layer)
    node.parm("primpath").set("/World/Chair")
    rop = hou.stage.createNode("usd_rop", "out")
    rop.setInput(0, node)
    rop.parm("lopoutput").set(str(tmp_path / "out.usda"))
    rop.parm("execute").pressButton()
    text = (tmp_path / "out.usda").read_text()
    assert 'def Xform "Chair"' in text and '"World"' not in text


def test_report_a_problem_from_the_menu(gui_hou: FakeHou, host, make_workspace) -> None:  # type: ignore[no-untyped-def]
    import setpiece.hosts
    from setpiece.hosts.houdini import menu_items, run_menu_item

    ws = make_workspace()
    setpiece.hosts.install(host, ws.root)
    items = menu_items()
    run_menu_item(items[items.index("Report a problem") - 1])  # the entry's id comes first

    path = reported_from_menu(ws.root, "houdini", host.app_version())
    assert gui_hou.messages[-1][0] == f"Problem report written: {path}\nAttach this file to your ticket."
