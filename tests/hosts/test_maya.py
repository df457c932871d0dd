"""The Maya adapter's full protocol, run against the Maya fake (tests/hosts/fakes/maya.py).

Maya cannot be installed here: these tests check what setpiece asks of Maya's API and
what an artist would see in the scene; ``setpiece.hosts.maya.selftest`` repeats the
same journey inside the real Maya.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dcc_steps import menu_commands, reopened, reported_from_menu
from fakes.maya import FakeMaya

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Host, MenuCommand, SceneLoad
from setpiece.usd.containers import read_containers


@pytest.fixture
def maya(monkeypatch: pytest.MonkeyPatch) -> FakeMaya:
    fake = FakeMaya(batch=True).install(monkeypatch)
    fake.standalone.initialize()  # what mayapy scripts do first
    return fake


@pytest.fixture
def gui_maya(monkeypatch: pytest.MonkeyPatch) -> FakeMaya:
    return FakeMaya(batch=False).install(monkeypatch)


@pytest.fixture
def host():  # type: ignore[no-untyped-def]
    from setpiece.hosts.maya import MayaHost

    return MayaHost()


def test_importing_the_adapter_needs_no_maya() -> None:
    import importlib

    for name in ("setpiece.hosts.maya", "setpiece.hosts.maya.adapter", "setpiece.hosts.maya.selftest", "setpiece.hosts.maya.launch"):
        importlib.import_module(name)
    assert "maya.cmds" not in sys.modules or not hasattr(sys.modules["maya.cmds"], "createNode")


def test_adapter_satisfies_the_host_protocol(host) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(host, Host)
    assert host.name == "maya"


def test_identity(maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    assert host.app_version() == "2025"
    assert host.is_headless() is True


def test_load_creates_one_proxy_shape_per_container_with_metadata(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    loaded = host.load(SceneLoad(sample.root_layer, sample.records))

    assert [c.node for c in loaded] == ["|Chair", "|Table"]
    assert [(c.asset, c.version) for c in loaded] == [("Chair", "1.0.0"), ("Table", "1.0.0")]
    # the plug-in was loaded on demand, once
    assert [a for a, _ in maya.called("loadPlugin")] == [("mayaUsdPlugin",)]
    chair = maya.nodes["ChairShape"]
    assert chair.type == "mayaUsdProxyShape" and chair.parent == "Chair"
    assert maya.attr("ChairShape.filePath") == sample.records[0].layer
    assert ("time1.outTime", "ChairShape.time") in maya.connections
    assert maya.attr("Chair.setpiece_name") == "Chair"
    assert maya.attr("Chair.setpiece_version") == "1.0.0"
    assert maya.attr("Chair.setpiece_requirement") == "Chair>=1"
    assert maya.attr("Chair.setpiece_kind") == "semi-push"
    assert maya.attr("Chair.setpiece_prim_path") == "/World/Chair"
    assert maya.attr("Table.setpiece_identifier") == "table/1.0.0/asset.usda"


def test_ls_reads_containers_back_from_the_scene_only(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.createNode("transform", name="notAContainer")

    found = host.ls()

    assert [c.node for c in found] == ["|Chair", "|Table"]
    assert [c.record.prim_path for c in found] == ["/World/Chair", "/World/Table"]
    assert [c.record.requirement for c in found] == ["Chair>=1", "Table"]
    assert found[0].record.identifier == sample.records[0].identifier


def test_loading_twice_uniquifies_node_names(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    second = host.load(SceneLoad(sample.root_layer, sample.records))

    assert [c.node for c in second] == ["|Chair1", "|Table1"]
    assert sorted(c.node for c in host.ls()) == ["|Chair", "|Chair1", "|Table", "|Table1"]


def test_load_without_records_reads_the_root_layers_asset_info(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    loaded = host.load(SceneLoad(sample.root_layer))

    assert [(c.asset, c.version, c.record.kind) for c in loaded] == [
        ("Chair", "1.0.0", "semi-push"),
        ("Table", "1.0.0", "push"),
    ]
    # the identifier was resolved next to the root layer
    assert maya.attr("ChairShape.filePath") == sample.records[0].layer


def test_update_repoints_the_proxy_and_keeps_the_users_transform(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.xform(chair.node, translation=(4.0, 0.0, -2.0), objectSpace=True)

    updated = host.update(chair, sample.update_to)

    assert updated.node == chair.node and updated.version == "2.0.0"
    assert maya.attr("ChairShape.filePath") == sample.update_to.layer
    assert maya.attr("Chair.translate") == (4.0, 0.0, -2.0)
    assert maya.attr("Chair.setpiece_version") == "2.0.0"
    assert [c.version for c in host.ls() if c.asset == "Chair"] == ["2.0.0"]


def test_update_to_the_same_file_reloads_the_layer(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))

    host.update(chair, sample.records[0])

    assert maya.layer_reloads == [sample.records[0].layer]


def test_update_or_remove_of_a_deleted_container_is_a_one_line_error(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.delete("Chair")

    with pytest.raises(SetpieceError, match=r"container \|Chair \(Chair\) is no longer in the scene") as err:
        host.update(chair, sample.update_to)
    assert "\n" not in str(err.value)
    with pytest.raises(SetpieceError):
        host.remove(chair)


def test_remove_deletes_the_container_and_its_shape(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, table = host.load(SceneLoad(sample.root_layer, sample.records))

    host.remove(chair)

    assert "Chair" not in maya.nodes and "ChairShape" not in maya.nodes
    assert [c.node for c in host.ls()] == [table.node]


def test_missing_mayausd_plugin_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, sample) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.maya import MayaHost

    fake = FakeMaya(batch=False, plugins=()).install(monkeypatch)

    with pytest.raises(SetpieceError) as err:
        MayaHost().load(SceneLoad(sample.root_layer, sample.records))

    message = str(err.value)
    assert "mayaUsdPlugin" in message and "USD for Maya" in message and "\n" not in message
    assert not [n for n in fake.nodes.values() if n.type == "transform"]  # nothing half-loaded


def test_export_writes_usd_through_mayausdexport(maya: FakeMaya, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.xform(chair.node, translation=(1.0, 2.0, 3.0), objectSpace=True)

    written = host.export_usd(str(tmp_path / "out" / "scene.usd"))

    assert Path(written).is_file()
    (_, kwargs), = maya.called("mayaUSDExport")
    assert kwargs == {"file": written, "selection": False, "defaultUSDFormat": "usdc"}
    assert '"Chair"' in Path(written).read_text() and "(1.0, 2.0, 3.0)" in Path(written).read_text()


def test_export_selection_needs_a_selection(maya: FakeMaya, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.select(clear=True)

    with pytest.raises(SetpieceError, match="nothing is selected"):
        host.export_usd(str(tmp_path / "sel.usda"), selection=True)

    maya.cmds.select("Table")
    written = host.export_usd(str(tmp_path / "sel.usda"), selection=True)
    assert '"Table"' in Path(written).read_text() and '"Chair"' not in Path(written).read_text()


def test_select_in_scene_replaces_the_selection(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, table = host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.createNode("transform", name="artistsPick")  # selected, as createNode does

    host.select([chair.node])
    assert maya.cmds.ls(selection=True, long=True) == ["|Chair"]
    host.select([table.node, chair.node])
    assert maya.cmds.ls(selection=True, long=True) == ["|Table", "|Chair"]
    host.select([])
    assert maya.cmds.ls(selection=True, long=True) == []

    maya.cmds.delete("Table")
    with pytest.raises(SetpieceError, match=r"maya: \|Table is no longer in the scene; refresh the inventory"):
        host.select([chair.node, table.node])


def test_save_open_and_scene_opened_callback(maya: FakeMaya, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened: list[str | None] = []
    host.on_scene_opened(lambda: opened.append(host.current_scene()))
    host.load(SceneLoad(sample.root_layer, sample.records))
    assert host.current_scene() is None

    saved = host.save_scene(str(tmp_path / "shot.ma"))
    assert saved == str(tmp_path / "shot.ma") and Path(saved).is_file()
    assert [k["type"] for _, k in maya.called("file") if k.get("save")] == ["mayaAscii"]
    host.new_scene()
    assert host.ls() == [] and host.current_scene() is None

    host.open_scene(saved)

    assert opened == [saved]
    assert [c.asset for c in host.ls()] == ["Chair", "Table"]
    host.remove_callbacks()
    host.open_scene(saved)
    assert opened == [saved]


def test_scene_file_errors_are_one_line(maya: FakeMaya, host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SetpieceError, match="no such file"):
        host.open_scene(str(tmp_path / "missing.ma"))
    with pytest.raises(SetpieceError, match="never saved"):
        host.save_scene()
    with pytest.raises(SetpieceError, match=r"\.ma or \.mb"):
        host.save_scene(str(tmp_path / "shot.blend"))


def test_menu_under_the_main_window_replaced_on_reinstall(gui_maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[str] = []
    commands = menu_commands(ran)
    host.install_menu(commands)
    host.install_menu(commands)  # reinstall: replaced, not duplicated

    assert list(gui_maya.menus) == ["setpieceMenu"]
    menu = gui_maya.menus["setpieceMenu"]
    assert menu["parent"] == "MayaWindow" and menu["label"] == "setpiece"
    assert [(i["label"], i["divider"]) for i in menu["items"]] == [
        ("Build scene", False), ("Update all", False), ("", True), ("Chair tool", False)
    ]
    assert menu["items"][0]["annotation"] == "Build the scene"
    menu["items"][0]["command"](False)  # Maya passes the checked state
    menu["items"][3]["command"](False)
    assert ran == ["build"]
    assert gui_maya.warnings == ["setpiece: no workspace here"]


def test_no_menu_in_batch(maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    host.install_menu([MenuCommand("Build scene", lambda: None)])
    assert maya.menus == {}


def test_defer_uses_evaldeferred_in_the_gui_and_runs_now_in_batch(gui_maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    host.defer(lambda: ran.append(1))
    assert ran == [] and gui_maya.called("evalDeferred")[0][1] == {"lowestPriority": True}
    gui_maya.run_deferred()
    assert ran == [1]


def test_defer_in_batch_runs_immediately(maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    ran: list[int] = []
    host.defer(lambda: ran.append(1))
    assert ran == [1] and not maya.called("evalDeferred")


def test_main_window(gui_maya: FakeMaya, host, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from Qt import QtCompat, QtWidgets

    wrapped: list[tuple[int, type]] = []
    monkeypatch.setattr(QtCompat, "wrapInstance", lambda ptr, cls: wrapped.append((ptr, cls)) or "MAIN")
    assert host.main_window() == "MAIN"
    assert wrapped == [(0x7F00DEAD, QtWidgets.QWidget)]


def test_main_window_is_none_in_batch(maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    assert host.main_window() is None


def test_bootstrap_installs_the_runtime_when_maya_is_idle(gui_maya: FakeMaya, monkeypatch: pytest.MonkeyPatch) -> None:
    import setpiece.hosts
    import setpiece.hosts.maya

    installed: list[object] = []
    monkeypatch.setattr(setpiece.hosts, "install", installed.append, raising=False)
    userSetup = Path(setpiece.hosts.maya.startup_dir(), "userSetup.py")
    exec(compile(userSetup.read_text(), str(userSetup), "exec"), {"__name__": "__main__"})

    assert installed == []  # deferred: nothing at Maya's startup
    gui_maya.run_deferred()
    assert len(installed) == 1 and installed[0].name == "maya"  # type: ignore[attr-defined]


def test_bootstrap_never_breaks_startup(gui_maya: FakeMaya, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import setpiece.hosts
    import setpiece.hosts.maya

    def broken(host: object) -> None:
        raise RuntimeError("resolver\nexploded")

    monkeypatch.setattr(setpiece.hosts, "install", broken, raising=False)
    setpiece.hosts.maya.bootstrap()
    gui_maya.run_deferred()
    assert "setpiece: not installed in Maya: resolver exploded" in capsys.readouterr().err


def test_selftest_passes_against_the_fake(maya: FakeMaya, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from setpiece.hosts.maya import selftest

    report = selftest.run(workdir=str(tmp_path))

    out = capsys.readouterr().out
    assert report.ok, out
    assert [name for name, _, _ in report.steps] == [
        "identity", "prepare scene", "load", "layout", "ls", "update", "export_usd",
        "proxies do not share their stage", "export root prim (per mayaUsd version)",
        "export units and up axis (per mayaUsd version)", "tool assets on MAYA_PLUG_IN_PATH",
        "save_scene", "reopen", "remove"
    ]
    assert "user transform kept" in out and out.strip().endswith("14 passed, 0 failed")
    assert "PASS  export units and up axis (per mayaUsd version): 1 m per unit, Z up " \
        "(-unit/-upAxis): the cube is 0.01 m wide" in out
    assert "PASS  tool assets on MAYA_PLUG_IN_PATH: no workspace" in out
    assert "mayaUsd 0.31.0: root prim and default prim 'selftest'" in out
    assert "PASS  layout: Chair at (2.0, 0.0, -1.0) m, Table at (0.0, 0.0, 0.0) m" in out


def test_selftest_main_initializes_mayapy_and_takes_a_root_layer(monkeypatch: pytest.MonkeyPatch, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from setpiece.hosts.maya import selftest

    fake = FakeMaya(batch=True).install(monkeypatch)  # not initialized: like a fresh mayapy

    code = selftest.main(["--root-layer", sample.root_layer, "--workdir", str(tmp_path / "w")])

    assert code == 0
    assert fake.standalone_initialized and len(fake.called("standalone.initialize")) == 1
    assert sorted(n for n, node in fake.nodes.items() if node.type == "transform") == ["Chair"]  # Table removed


def test_selftest_fails_loudly_when_the_plugin_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from setpiece.hosts.maya import selftest

    FakeMaya(batch=False, plugins=()).install(monkeypatch)
    report = selftest.run(workdir=str(tmp_path))

    assert report.exit_code == 1
    assert "FAIL  load: SetpieceError: maya: the USD plug-in (mayaUsdPlugin)" in capsys.readouterr().out


def test_sample_root_layer_round_trips_through_pxr(sample) -> None:  # type: ignore[no-untyped-def]
    records = read_containers(sample.root_layer)
    assert [(r.prim_path, r.asset, r.version, r.identifier, r.requirement, r.kind) for r in records] == [
        (r.prim_path, r.asset, r.version, r.identifier, r.requirement, r.kind) for r in sample.records
    ]
    from pxr import Usd

    stage = Usd.Stage.Open(sample.root_layer)
    assert stage.GetPrimAtPath("/World/Chair/geo").IsValid()


def test_launch_spec_and_batch_runner(maya: FakeMaya, tmp_path: Path) -> None:
    from setpiece.hosts.maya.launch import launch_spec, run_batch

    spec = launch_spec()
    assert spec.host == "maya" and spec.batch_executables == ("mayapy",)
    assert spec.python_by_app_version["2024"] == "3.10" and spec.python_by_app_version["2025"] == "3.11"
    assert any(g.startswith("/usr/autodesk/maya") for g in spec.install_globs)
    assert spec.batch_args == ("-m", "setpiece.hosts.maya.launch", "{script}")

    ok = tmp_path / "ok.py"
    ok.write_text("import sys\nfrom maya import cmds\nassert cmds.about(batch=True)\nprint(sys.argv[1:])\n")
    bad = tmp_path / "bad.py"
    bad.write_text("raise ValueError('boom')\n")
    assert run_batch([str(ok), "--flag"]) == 0
    assert run_batch([str(bad)]) == 1
    assert run_batch([]) == 2


def test_scene_data_is_saved_with_the_scene(maya: FakeMaya, host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert host.get_scene_data("setpiece_asset") is None
    host.set_scene_data("setpiece_asset", "Kitchen")
    saved = host.save_scene(str(tmp_path / "kitchen.ma"))
    host.new_scene()
    assert host.get_scene_data("setpiece_asset") is None
    host.open_scene(saved)
    assert host.get_scene_data("setpiece_asset") == "Kitchen"


def test_notify_and_ask(gui_maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    done: list[int] = []
    host.notify("2 containers are out of date")
    assert host.ask("Update them now?", lambda: done.append(1), "Update all") is True
    gui_maya.dialog_answer = "Later"
    assert host.ask("Update them now?", lambda: done.append(2), "Update all") is True
    assert done == [1]
    assert [d["buttons"] for d in gui_maya.dialogs] == [["OK"], ["Update all", "Later"], ["Update all", "Later"]]


def test_notify_and_ask_in_batch(maya: FakeMaya, host, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    host.notify("2 containers are out of date")
    assert capsys.readouterr().err == "setpiece: 2 containers are out of date\n"
    assert host.ask("Update?", lambda: None) is False


def test_the_runtime_installs_its_menu_through_the_adapter(gui_maya: FakeMaya, host) -> None:  # type: ignore[no-untyped-def]
    import setpiece.hosts

    setpiece.hosts.install(host)

    labels = [i["label"] for i in gui_maya.menus["setpieceMenu"]["items"]]
    assert "Build scene" in labels and "Update all" in labels
    assert gui_maya.called("MSceneMessage.addCallback")


def test_the_generic_launcher_plans_mayapy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from setpiece.hosts import launching
    from setpiece.hosts.maya import startup_dir

    exe = tmp_path / "usr" / "autodesk" / "maya2025" / "bin" / "mayapy"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    monkeypatch.setenv("SETPIECE_MAYA_BATCH_EXECUTABLE", str(exe))
    script = tmp_path / "job.py"
    script.write_text("")

    plan = launching.batch_plan("maya", None, str(script), ["--flag"])

    assert plan.command == [str(exe), "-m", "setpiece.hosts.maya.launch", str(script), "--flag"]
    assert (plan.app_version, plan.python) == ("2025", "3.11")
    assert plan.env["PYTHONPATH"].split(os.pathsep)[0] == str(startup_dir())
    assert (startup_dir() / "userSetup.py").is_file()


def test_container_data_survives_update_save_and_reopen(maya, host, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    assert host.get_container_data(chair, "setpiece_setup") is None
    host.set_container_data(chair, "setpiece_setup", {"version": "1.0.0", "status": "ok"})
    host.update(chair, sample.update_to)
    again = reopened(host, tmp_path / "scene.ma", "Chair")
    assert host.get_container_data(again, "setpiece_setup") == {"version": "1.0.0", "status": "ok"}


# -- the scene's layout arrives (tests/hosts/test_layout.py checks the shared reader) ----


def _maya_matrix(maya: FakeMaya, node: str):  # type: ignore[no-untyped-def]
    """The node's matrix in Maya internal units (cm), as Maya composes its attributes."""
    from setpiece.hosts.layout import Transform, compose

    return compose(
        Transform(
            maya.attr(f"{node}.translate"), maya.attr(f"{node}.rotate"),
            maya.attr(f"{node}.scale"), maya.attr(f"{node}.shear"),
        )
    )


def _apply(m, p):  # type: ignore[no-untyped-def]
    return tuple(round(sum(p[k] * m[k][j] for k in range(3)) + m[3][j], 6) for j in range(3))


def test_load_places_each_container_where_the_layout_puts_it(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    # the sample layout (metres, Y up): Chair at (2, 0, -1), turned 90° about Y
    host.load(SceneLoad(sample.root_layer, sample.records))

    # Maya works in centimetres and the proxy shape draws one stage unit as one cm:
    # the container transform carries the layout and the metre-to-centimetre scale
    assert maya.attr("Chair.translate") == pytest.approx((200.0, 0.0, -100.0))
    assert maya.attr("Chair.rotate") == pytest.approx((0.0, 90.0, 0.0))
    assert maya.attr("Chair.scale") == pytest.approx((100.0, 100.0, 100.0))
    assert maya.attr("Chair.shear") == pytest.approx((0.0, 0.0, 0.0))
    # the Chair's +X (1 m along its own X) ends up at (2, 0, -2) m in the set
    assert _apply(_maya_matrix(maya, "Chair"), (1.0, 0.0, 0.0)) == pytest.approx((200.0, 0.0, -200.0))
    # the Table has no layout: at the origin, metres converted
    assert maya.attr("Table.translate") == (0.0, 0.0, 0.0)
    assert maya.attr("Table.scale") == pytest.approx((100.0, 100.0, 100.0))
    # set through xform, once per container, in the object's own space
    assert [a for a, _ in maya.called("xform")] == [("Chair",), ("Table",)]
    assert all(k["objectSpace"] for _, k in maya.called("xform"))


def test_layout_goes_through_maya_working_units(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    maya.cmds.currentUnit(linear="m", angle="rad")

    host.load(SceneLoad(sample.root_layer, sample.records))

    # the same place in Maya's scene (kept in cm) whatever the working units
    assert maya.attr("Chair.translate") == pytest.approx((200.0, 0.0, -100.0))
    assert maya.attr("Chair.rotate") == pytest.approx((0.0, 90.0, 0.0))
    # and what the artist reads in the channel box, in metres and radians
    assert maya.cmds.getAttr("Chair.translate")[0] == pytest.approx((2.0, 0.0, -1.0))
    assert maya.cmds.getAttr("Chair.rotate")[0] == pytest.approx((0.0, 1.5707963, 0.0))


def test_layout_into_a_z_up_maya(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    maya.cmds.upAxis(axis="z")

    host.load(SceneLoad(sample.root_layer, sample.records))

    # Y-up (2, 0, -1) m is Z-up (2, 1, 0) m; the set is turned +90° about X as a whole
    assert maya.attr("Chair.translate") == pytest.approx((200.0, 100.0, 0.0))
    assert _apply(_maya_matrix(maya, "Chair"), (1.0, 0.0, 0.0)) == pytest.approx((200.0, 200.0, 0.0))
    assert _apply(_maya_matrix(maya, "Chair"), (0.0, 1.0, 0.0)) == pytest.approx((200.0, 100.0, 100.0))
    assert _apply(_maya_matrix(maya, "Table"), (0.0, 1.0, 0.0)) == pytest.approx((0.0, 0.0, 100.0))


def test_layout_of_a_centimetre_scene_needs_no_scale(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    root = Path(sample.root_layer)
    root.write_text(root.read_text().replace("metersPerUnit = 1", "metersPerUnit = 0.01"))

    host.load(SceneLoad(sample.root_layer, sample.records))

    assert maya.attr("Chair.translate") == pytest.approx((2.0, 0.0, -1.0))
    assert maya.attr("Chair.scale") == pytest.approx((1.0, 1.0, 1.0))
    assert [a for a, _ in maya.called("xform")] == [("Chair",)]  # the Table needs nothing


def test_an_assets_own_root_transform_is_not_applied_twice(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    # the Table's interface layer lifts it 0.5 m; the scene adds no layout of its own, so
    # in the scene it stands at y = 0.5, and the proxy already shows that lift
    table = Path(sample.records[1].layer)
    table.write_text(table.read_text().replace(
        '    def Cube "geo"',
        '    double3 xformOp:translate = (0, 0.5, 0)\n'
        '    uniform token[] xformOpOrder = ["xformOp:translate"]\n    def Cube "geo"',
    ))

    host.load(SceneLoad(sample.root_layer, sample.records))

    assert maya.attr("Table.translate") == pytest.approx((0.0, 0.0, 0.0))


def test_update_keeps_the_users_move_and_does_not_reapply_the_layout(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    chair, _ = host.load(SceneLoad(sample.root_layer, sample.records))
    maya.cmds.xform(chair.node, translation=(350.0, 0.0, 20.0), rotation=(0.0, 45.0, 0.0), objectSpace=True)
    calls = len(maya.called("xform"))

    host.update(chair, sample.update_to)

    assert len(maya.called("xform")) == calls  # update sets no transform
    assert maya.attr("Chair.translate") == (350.0, 0.0, 20.0)
    assert maya.attr("Chair.rotate") == (0.0, 45.0, 0.0)
    assert maya.attr("Chair.scale") == pytest.approx((100.0, 100.0, 100.0))


def test_a_locked_transform_is_an_error_from_maya(maya: FakeMaya, host, sample) -> None:  # type: ignore[no-untyped-def]
    # the fake's xform raises as Maya does for a locked channel (a studio's template node)
    node = maya.cmds.createNode("transform", name="locked")
    maya.cmds.setAttr(f"{node}.translate", lock=True)
    with pytest.raises(RuntimeError, match="locked"):
        maya.cmds.xform(node, translation=(1.0, 0.0, 0.0), objectSpace=True)
    with pytest.raises(TypeError):
        maya.cmds.xform(node, matrix=[1.0] * 16)  # not modelled: the adapter does not use it


def test_selftest_reports_a_layout_that_did_not_arrive(maya: FakeMaya, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from setpiece.hosts.layout import SceneLayout
    from setpiece.hosts.maya import selftest

    monkeypatch.setattr(SceneLayout, "placement", lambda self, prim_path, layer: None)
    report = selftest.run(workdir=str(tmp_path))

    assert not report.ok
    assert "FAIL  layout: AssertionError: Chair is at (0.0, 0.0, 0.0) m, the layout puts it at (2.0, 0.0, -1.0) m" in capsys.readouterr().out


def test_report_a_problem_from_the_menu(gui_maya: FakeMaya, host, make_workspace) -> None:  # type: ignore[no-untyped-def]
    import setpiece.hosts

    ws = make_workspace()
    setpiece.hosts.install(host, ws.root)
    items = gui_maya.menus["setpieceMenu"]["items"]
    (item,) = [i for i in items if i["label"] == "Report a problem"]
    item["command"](False)  # Maya passes the checked state

    path = reported_from_menu(ws.root, "maya", host.app_version())
    (dialog,) = gui_maya.dialogs
    assert dialog["message"] == f"Problem report written: {path}\nAttach this file to your ticket."
