"""The in-app runtime and the setup runner, against a small in-memory host.

The Blender end-to-end tests (test_blender_e2e.py) prove the same in real bpy; these pin
the rules: dependency order, once per container and version, failures isolated, safe
mode, the on_open policies, tool menu entries, and the cost of ``install(host)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from setpiece.core.containers import ContainerRecord
from setpiece.hosts.protocol import Container, MenuCommand, SceneLoad


class MemoryHost:
    """A host whose 'scene' is a dict of containers (node -> record) plus container data."""

    name = "memory"

    def __init__(self, headless: bool = True) -> None:
        self.headless = headless
        self.nodes: dict[str, ContainerRecord] = {}
        self.data: dict[tuple[str, str], Any] = {}
        self.menu: list[MenuCommand] = []
        self.opened: list[Callable[[], None]] = []
        self.deferred: list[Callable[[], None]] = []
        self.scene: str | None = None
        self.asked: list[str] = []
        self.scene_data: dict[str, Any] = {}
        self.notified: list[str] = []

    def app_version(self) -> str:
        return "1.0"

    def is_headless(self) -> bool:
        return self.headless

    def new_scene(self) -> None:
        self.nodes.clear()

    def open_scene(self, path: str) -> None:
        self.scene = path
        for fn in self.opened:
            fn()

    def save_scene(self, path: str | None = None) -> str:
        self.scene = path or self.scene
        return str(self.scene)

    def current_scene(self) -> str | None:
        return self.scene

    def load(self, scene: SceneLoad) -> list[Container]:
        out = []
        for r in scene.containers:  # a node per container, named after its prim
            node = r.prim_path.rsplit("/", 1)[-1]
            self.nodes[node] = r
            out.append(Container(node, r))
        return out

    def ls(self) -> list[Container]:
        return [Container(n, r) for n, r in sorted(self.nodes.items())]

    def update(self, container: Container, record: ContainerRecord) -> Container:
        self.nodes[container.node] = record
        return Container(container.node, record)

    def remove(self, container: Container) -> None:
        del self.nodes[container.node]

    def export_usd(self, path: str, *, selection: bool = False) -> str:
        return path

    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        self.menu = list(commands)

    def on_scene_opened(self, callback: Callable[[], None]) -> None:
        self.opened.append(callback)

    def defer(self, fn: Callable[[], None]) -> None:
        self.deferred.append(fn)

    def main_window(self) -> Any | None:
        return None

    def get_container_data(self, container: Container, key: str) -> Any:
        return self.data.get((container.node, key))

    def set_container_data(self, container: Container, key: str, value: Any) -> None:
        self.data[(container.node, key)] = value

    def get_scene_data(self, key: str) -> Any:
        return self.scene_data.get(key)

    def set_scene_data(self, key: str, value: Any) -> None:
        self.scene_data[key] = value

    def notify(self, message: str) -> None:
        self.notified.append(message)

    def ask(self, message: str, on_yes: Callable[[], None], label: str = "Update") -> bool:
        if self.headless:
            return False
        self.asked.append(message)
        on_yes()
        return True


@dataclass
class FakeAsset:
    name: str
    version: str
    deps: list[str] = field(default_factory=list)
    eps: dict[str, dict[str, str]] = field(default_factory=dict)
    package_dir: Path = Path("/nowhere")
    editable: bool = False

    def groups(self) -> dict[str, list[Requirement]]:
        return {"build": [Requirement(d) for d in self.deps]}

    def entry_point_groups(self) -> dict[str, dict[str, str]]:
        return self.eps


class FakeWorkspace:
    def __init__(self, root: Path, assets: list[FakeAsset], on_open: str = "report") -> None:
        self.root = root
        self.outputs = root / "outputs"
        self.site_packages = root / "site-packages"
        self.site_packages.mkdir(parents=True, exist_ok=True)
        self.assets = {a.name.lower(): a for a in assets}
        self.settings = {"on_open": on_open}
        self.config = type("C", (), {"settings": self.settings})()

    def installed_assets(self) -> dict[str, FakeAsset]:
        return self.assets


CALLS: list[str] = []


def setup_ok(ctx: Any) -> None:
    CALLS.append(f"{ctx.asset}=={ctx.version}")
    ctx.logger.info("ok")


def setup_fail(ctx: Any) -> None:
    CALLS.append(f"{ctx.asset}=={ctx.version}")
    raise ValueError(f"{ctx.asset} is broken")


def setup_exit(ctx: Any) -> None:
    CALLS.append(f"{ctx.asset}=={ctx.version}")
    sys.exit(3)


def setup_interrupt(ctx: Any) -> None:
    raise KeyboardInterrupt


def record(name: str, version: str) -> ContainerRecord:
    return ContainerRecord(f"/World/{name}", name, version, f"{name.lower()}/asset.usda")


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()


HERE = f"{__name__}"


def test_setups_run_in_dependency_order_once_per_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from setpiece.hosts.setup_code import run_setups

    ws = FakeWorkspace(
        tmp_path,
        [
            FakeAsset("Set", "1.0.0", ["Table", "Chair"]),
            FakeAsset("Table", "1.0.0", ["Chair"]),
            FakeAsset("Chair", "1.0.0"),
        ],
    )
    host = MemoryHost()
    containers = host.load(
        SceneLoad(
            "x.usda", [record("Set", "1.0.0"), record("Table", "1.0.0"), record("Chair", "1.0.0")]
        )
    )
    targets = {
        "set": f"{HERE}:setup_ok",
        "table": f"{HERE}:setup_fail",
        "chair": f"{HERE}:setup_ok",
    }
    report = run_setups(host, containers, workspace=ws, targets=targets)
    assert CALLS == ["Chair==1.0.0", "Table==1.0.0", "Set==1.0.0"]
    assert [r.status for r in report.results] == ["ok", "failed", "ok"]
    assert "setup of Table 1.0.0 failed: ValueError: Table is broken" in caplog.text
    assert "Traceback" in caplog.text
    assert report.summary() == "2 setup(s) ran; 1 failed (Table 1.0.0): see the log"

    # again: only the failed one runs again (once per container and version) ...
    CALLS.clear()
    report = run_setups(host, host.ls(), workspace=ws, targets=targets)
    assert CALLS == ["Table==1.0.0"]
    assert [r.status for r in report.results] == ["already", "failed", "already"]
    targets["table"] = f"{HERE}:setup_ok"  # the asset's code was fixed: it runs, once
    CALLS.clear()
    run_setups(host, host.ls(), workspace=ws, targets=targets)
    assert CALLS == ["Table==1.0.0"]
    CALLS.clear()
    report = run_setups(host, host.ls(), workspace=ws, targets=targets)
    assert CALLS == [] and {r.status for r in report.results} == {"already"}
    # ... until a container's version changes
    chair = next(c for c in host.ls() if c.asset == "Chair")
    host.update(chair, replace(chair.record, version="1.1.0"))
    run_setups(host, host.ls(), workspace=ws, targets=targets)
    assert CALLS == ["Chair==1.1.0"]


def test_a_setup_calling_sys_exit_is_a_failed_setup_and_the_build_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from setpiece.hosts.setup_code import run_setups

    ws = FakeWorkspace(tmp_path, [FakeAsset("Table", "1.0.0"), FakeAsset("Chair", "1.0.0")])
    host = MemoryHost()
    containers = host.load(
        SceneLoad("x.usda", [record("Table", "1.0.0"), record("Chair", "1.0.0")])
    )
    targets = {"table": f"{HERE}:setup_exit", "chair": f"{HERE}:setup_ok"}
    report = run_setups(host, containers, workspace=ws, targets=targets)
    assert CALLS == ["Table==1.0.0", "Chair==1.0.0"]
    assert [(r.asset, r.status) for r in report.results] == [("Table", "failed"), ("Chair", "ok")]
    assert report.results[0].error == "SystemExit: 3"
    assert "setup of Table 1.0.0 failed: SystemExit: 3" in caplog.text

    with pytest.raises(KeyboardInterrupt):  # the artist's Ctrl+C still stops it
        run_setups(
            host, containers, workspace=ws, targets={"table": f"{HERE}:setup_interrupt"},
            force=True,
        )


def test_an_asset_with_unreadable_metadata_is_reported_by_name_and_the_others_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from setpiece.hosts.setup_code import run_setups

    class BrokenAsset(FakeAsset):
        def entry_point_groups(self) -> dict[str, dict[str, str]]:
            raise ValueError("entry_points.txt: bad line")

    ws = FakeWorkspace(
        tmp_path,
        [
            BrokenAsset("Table", "1.0.0"),
            FakeAsset("Chair", "1.0.0", eps={"setpiece.setup": {"Chair": f"{HERE}:setup_ok"}}),
        ],
    )
    host = MemoryHost()
    containers = host.load(
        SceneLoad("x.usda", [record("Table", "1.0.0"), record("Chair", "1.0.0")])
    )
    report = run_setups(host, containers, workspace=ws)
    assert CALLS == ["Chair==1.0.0"]
    statuses = {r.asset: r.status for r in report.results}
    assert statuses == {"Table": "failed", "Chair": "ok"}
    assert "setup of Table 1.0.0 failed: setup code not found: ValueError" in caplog.text
    assert "1 failed (Table 1.0.0)" in report.summary()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_safe_mode_skips_all_asset_code(
    how: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from setpiece.hosts.runtime import Runtime
    from setpiece.hosts.setup_code import run_setups

    host = MemoryHost()
    containers = host.load(SceneLoad("x.usda", [record("Chair", "1.0.0")]))
    if how == "env":
        monkeypatch.setenv("SETPIECE_SAFE_MODE", "1")
    report = run_setups(
        host, containers, targets={"chair": f"{HERE}:setup_ok"}, no_setup=how == "flag" or None
    )
    assert CALLS == [] and report.safe_mode and report.results[0].status == "skipped"

    tool = FakeAsset("Tools", "1.0.0", eps={"setpiece.menu": {"Randomise": f"{HERE}:setup_ok"}})
    rt = Runtime(host, FakeWorkspace(tmp_path, [tool]), no_setup=how == "flag" or None)
    assert rt.tool_commands() == []


def test_menu_has_builtins_then_tool_entries_and_publish_is_lazy(tmp_path: Path) -> None:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.runtime import Runtime, register_command

    tool = FakeAsset(
        "Tools", "1.0.0", eps={"setpiece.menu": {"Randomise chairs": f"{HERE}:setup_ok"}}
    )
    host = MemoryHost()
    rt = Runtime(host, FakeWorkspace(tmp_path, [tool]))
    labels = [c.label for c in rt.menu_commands(with_tools=True)]
    assert labels == ["Build scene", "Update all", "Inventory", "Publish", "Loader",
                      "Workfiles", "Report a problem", "Randomise chairs"]
    publish = rt.menu_commands()[3]
    if "setpiece.hosts.publish" not in sys.modules:
        try:
            import setpiece.hosts.publish  # noqa: F401
        except ImportError:
            with pytest.raises(SetpieceError, match="Publish is not available"):
                publish.callback()
    seen: list[Any] = []
    register_command("publish", "Publish", lambda runtime: seen.append(runtime))
    try:
        Runtime(host, FakeWorkspace(tmp_path, [])).menu_commands()[3].callback()
        assert len(seen) == 1
    finally:
        register_command("publish", "Publish", "setpiece.hosts.publish:publish")


def _opened_scene(tmp_path: Path, policy: str, headless: bool = True) -> tuple[MemoryHost, Any]:
    from setpiece.hosts.runtime import install

    ws = FakeWorkspace(
        tmp_path, [FakeAsset("Chair", "1.1.0"), FakeAsset("Table", "1.0.0")], on_open=policy
    )
    host = MemoryHost(headless=headless)
    host.load(SceneLoad("x.usda", [record("Chair", "1.0.0"), record("Table", "1.0.0")]))
    host.scene_data["setpiece_asset"] = "KitchenSet"
    rt = install(host, ws, defer=False)
    rt.configure_usd = lambda: []  # type: ignore[method-assign]
    host.open_scene(str(tmp_path / "kitchen.scene"))
    return host, rt


@pytest.mark.parametrize(
    ("policy", "headless", "chair_after", "asked"),
    [
        ("report", True, "1.0.0", False),
        ("off", True, "1.0.0", False),
        ("update", True, "1.1.0", False),
        ("ask", False, "1.1.0", True),  # the artist said yes
        ("ask", True, "1.0.0", False),  # headless: nobody to ask, so report
    ],
)
def test_on_open_policies(
    tmp_path: Path, policy: str, headless: bool, chair_after: str, asked: bool
) -> None:
    host, rt = _opened_scene(tmp_path, policy, headless)
    check = rt.last_check
    assert check.policy == policy and check.asset == "KitchenSet"
    assert host.nodes["Chair"].version == chair_after
    assert check.asked is asked
    if policy != "off":
        assert [c.to_json()["status"] for c in check.changes] == ["outdated", "up-to-date"]
        assert "Chair: 1.0.0 in the scene, 1.1.0 installed" in check.message()


def test_on_open_update_is_only_reported_where_the_host_says_not_to_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host whose ``may_update_on_open()`` is False (Nuke's render and terminal sessions)
    gets the report, never the update, under ``on_open = update``."""
    monkeypatch.setattr(MemoryHost, "may_update_on_open", lambda self: False, raising=False)
    host, rt = _opened_scene(tmp_path, "update")
    check = rt.last_check
    assert check.policy == "report" and not check.updated
    assert host.nodes["Chair"].version == "1.0.0"
    assert "Chair: 1.0.0 in the scene, 1.1.0 installed" in check.message()


def test_scene_outside_outputs_and_unknown_policy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from setpiece.hosts.runtime import Runtime

    ws = FakeWorkspace(tmp_path, [FakeAsset("Chair", "1.1.0")], on_open="sometimes")
    host = MemoryHost()
    host.scene = str(tmp_path / "elsewhere" / "x.scene")
    check = Runtime(host, ws).scene_opened()
    assert check.asset is None and check.changes == []
    assert "on_open = 'sometimes' is not valid" in caplog.text


def test_install_is_cheap_and_defers_the_rest(tmp_path: Path) -> None:
    from setpiece.hosts.runtime import install

    host = MemoryHost(headless=False)
    best = min(_timed(lambda: install(host, FakeWorkspace(tmp_path, []))) for _ in range(20))
    assert best < 0.05
    assert host.deferred and [c.label for c in host.menu][:4] == [
        "Build scene",
        "Update all",
        "Inventory",
        "Publish",
    ]


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_update_never_moves_a_container_past_its_requirement(tmp_path: Path) -> None:
    """One version per asset in a workspace: Table 2.0.0 installed for a push container
    must not drag along a container whose requirement says ``<2``."""
    from setpiece.hosts.runtime import install

    ws = FakeWorkspace(tmp_path, [FakeAsset("Table", "2.0.0")], on_open="update")
    host = MemoryHost()
    bounded = ContainerRecord(prim_path="/World/Table", asset="Table", version="1.3.0",
                              identifier="table/asset.usda", requirement="Table>=1.2.3,<2",
                              kind="semi-push")
    push = ContainerRecord(prim_path="/World/BigTable", asset="Table", version="1.3.0",
                           identifier="table/asset.usda", requirement="Table", kind="push")
    host.load(SceneLoad("x.usda", [bounded, push]))
    host.scene_data["setpiece_asset"] = "KitchenSet"
    rt = install(host, ws, defer=False)
    rt.configure_usd = lambda: []  # type: ignore[method-assign]
    host.open_scene(str(tmp_path / "kitchen.scene"))
    statuses = {c.node: c.status for c in rt.last_check.changes}
    assert statuses == {"Table": "held", "BigTable": "outdated"}
    assert host.nodes["Table"].version == "1.3.0"  # kept: its requirement refuses 2.0.0
    assert host.nodes["BigTable"].version == "2.0.0"
    assert "'Table>=1.2.3,<2' refuses it" in rt.last_check.message()


def test_batch_build_refuses_a_spec_the_installed_version_does_not_satisfy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``setpiece batch HOST build "KitchenSet==9.9"`` with 1.0.0 installed: a one-line error
    naming the installed version and the fix, never a build of 1.0.0 in its place."""
    from setpiece.hosts import launching, registry, runtime

    ws = FakeWorkspace(tmp_path, [FakeAsset("KitchenSet", "1.0.0")])
    host = MemoryHost()
    built: list[str] = []

    def fake_build_layer(ws: Any, asset: str, **_: Any) -> tuple[Path, list[Any]]:
        built.append(asset)
        return tmp_path / "scene.usda", [record("Chair", "1.0.0")]

    monkeypatch.setattr(registry, "get_host", lambda name: host)
    monkeypatch.setattr(runtime, "_find_workspace", lambda cls, h: ws)
    monkeypatch.setattr(runtime, "build_layer", fake_build_layer)
    monkeypatch.setattr(runtime.Runtime, "configure_usd", lambda self: [])
    out = str(tmp_path / "kitchen.scene")

    code = launching.build_in_host("memory", "KitchenSet==9.9", out)
    err = capsys.readouterr().err
    assert code == 1 and built == []
    assert err.count("\n") == 1
    assert "KitchenSet 1.0.0 is installed but the build asks for KitchenSet==9.9" in err
    assert "setpiece install \"KitchenSet==9.9\"" in err

    for spec in ("KitchenSet", "KitchenSet==1.0.0", "KitchenSet>=1,<2"):
        assert launching.build_in_host("memory", spec, out) == 0, capsys.readouterr().err
    assert built == ["KitchenSet"] * 3

    assert launching.build_in_host("memory", "Kitchen Set!", out) == 1
    assert "build spec 'Kitchen Set!' is not valid" in capsys.readouterr().err


def test_one_failing_container_does_not_stop_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """on_open = update with Chair's update failing: Table and Lamp still update and run
    their setup, Chair keeps its version, the failure is one line (no traceback)."""
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.runtime import install

    class FlakyHost(MemoryHost):
        def update(self, container: Container, record: ContainerRecord) -> Container:
            if container.asset == "Chair":
                raise SetpieceError("Blender could not import Chair 1.1.0: check the layer")
            if container.asset == "Lamp":
                raise RuntimeError("unexpected")
            return super().update(container, record)

    setup = {"setpiece.setup": {"Table": f"{HERE}:setup_ok"}}
    ws = FakeWorkspace(
        tmp_path,
        [FakeAsset("Chair", "1.1.0"), FakeAsset("Table", "1.1.0", eps=setup),
         FakeAsset("Lamp", "1.1.0")],
        on_open="update",
    )
    host = FlakyHost()
    host.load(SceneLoad("x.usda", [record(n, "1.0.0") for n in ("Chair", "Table", "Lamp")]))
    host.scene_data["setpiece_asset"] = "KitchenSet"
    rt = install(host, ws, defer=False)
    rt.configure_usd = lambda: []  # type: ignore[method-assign]
    host.open_scene(str(tmp_path / "kitchen.scene"))

    check = rt.last_check
    assert [c.node for c in check.updated] == ["Table"]
    assert host.nodes["Table"].version == "1.1.0" and host.nodes["Chair"].version == "1.0.0"
    assert CALLS == ["Table==1.1.0"]  # setup ran for the one that updated
    assert [(f.asset, f.version) for f in check.failed] == [("Chair", "1.1.0"), ("Lamp", "1.1.0")]
    assert "Chair (Chair): not updated from 1.0.0 to 1.1.0: Blender could not import" in (
        check.message()
    )
    chair_log = [r for r in caplog.records if "Chair (Chair): not updated" in r.getMessage()]
    assert chair_log and chair_log[0].exc_info is None  # one line, no traceback
    lamp_log = [r for r in caplog.records if "Lamp (Lamp): not updated" in r.getMessage()]
    assert lamp_log and lamp_log[0].exc_info is not None  # unexpected: traceback kept

    updated, report = rt.update()  # still unpacks as before; failures on the result
    assert updated == [] and report.results == []


def test_editable_outputs_import_when_the_app_put_site_packages_on_sys_path(
    make_workspace: Callable[..., Any],
) -> None:
    """A DCC's startup puts inputs/ site-packages on sys.path without reading its ``.pth``
    files (Blender's SETPIECE_PYTHONPATH): an editable output's setup must still import
    ('setup of X 0.1.1 failed: ModuleNotFoundError' was the bug)."""
    import subprocess

    ws = make_workspace()
    ws.create("Stool", kind="prop")  # editable: importable only through uv's .pth file
    code = (
        "import sys\n"
        f"sys.path.append({str(ws.site_packages)!r})\n"
        "try:\n"
        "    import stool\n"
        "    print('BEFORE ok')\n"
        "except ModuleNotFoundError:\n"
        "    print('BEFORE missing')\n"
        "from setpiece.hosts.setup_code import ensure_importable\n"
        "class W: site_packages = " + repr(str(ws.site_packages)) + "\n"
        "ensure_importable(W())\n"
        "import stool\n"
        "print('AFTER', stool.__file__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "BEFORE missing" in proc.stdout  # what the app's sys.path alone gives
    assert f"AFTER {ws.output('Stool').package_dir / '__init__.py'}" in proc.stdout
