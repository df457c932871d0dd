"""The scene inventory window (setpiece.hosts.ui.inventory), Qt offscreen, against a real
workspace (sample assets published to a folder repo and installed with uv) and a small
in-memory host implementing the protocol.

Scene: KitchenSet (up to date), two Chairs at 1.0.0 with 1.1.0 installed (outdated), Table
semi-push 1.3.0 with 2.0.0 published outside '<2' (held), Lamp pinned 3.2.1 with 3.3.0
published (held), a second Table through a push requirement (update available), and
Apartment, which is not installed.

Update brings a container to the newest version its requirement admits: installed into the
workspace first (``Workspace.install(..., record=False)``, as ``setpiece scene update``),
then moved through ``Runtime.update``; held containers stay, and a failed install moves
nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from setpiece.core.containers import ContainerRecord
from setpiece.hosts.protocol import Container, MenuCommand, SceneLoad

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt


class SceneHost:
    """A host whose scene is a dict node -> record, with the optional select hook."""

    name = "memory"

    def __init__(self, records: dict[str, ContainerRecord]) -> None:
        self.headless = False
        self.notified: list[str] = []
        self.nodes = dict(records)
        self.data: dict[tuple[str, str], Any] = {}
        self.selected: list[str] = []
        self.updates: list[tuple[str, str]] = []
        self.ls_calls = 0

    def app_version(self) -> str:
        return "1.0"

    def is_headless(self) -> bool:
        return self.headless

    def notify(self, message: str) -> None:
        self.notified.append(message)

    def new_scene(self) -> None:
        self.nodes.clear()

    def open_scene(self, path: str) -> None:
        pass

    def save_scene(self, path: str | None = None) -> str:
        return str(path)

    def current_scene(self) -> str | None:
        return None

    def load(self, scene: SceneLoad) -> list[Container]:
        raise NotImplementedError

    def ls(self) -> list[Container]:
        self.ls_calls += 1
        return [Container(n, r) for n, r in self.nodes.items()]

    def update(self, container: Container, record: ContainerRecord) -> Container:
        self.nodes[container.node] = record
        self.updates.append((container.node, record.version))
        return Container(container.node, record)

    def remove(self, container: Container) -> None:
        del self.nodes[container.node]

    def export_usd(self, path: str, *, selection: bool = False) -> str:
        return path

    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        pass

    def on_scene_opened(self, callback: Callable[[], None]) -> None:
        pass

    def defer(self, fn: Callable[[], None]) -> None:
        fn()

    def main_window(self) -> Any | None:
        return None

    def get_container_data(self, container: Container, key: str) -> Any:
        return self.data.get((container.node, key))

    def set_container_data(self, container: Container, key: str, value: Any) -> None:
        self.data[(container.node, key)] = value

    def select(self, nodes: list[str]) -> None:
        self.selected = list(nodes)


def rec(name: str, version: str, requirement: str = "", kind: str = "push") -> ContainerRecord:
    return ContainerRecord(f"/World/{name}", name, version, f"{name.lower()}/asset.usda",
                           requirement, kind)


SCENE = {
    "KitchenSet": rec("KitchenSet", "1.0.0"),
    "Chair": rec("Chair", "1.0.0", "Chair"),
    "Chair_01": rec("Chair", "1.0.0", "Chair"),
    "Table": rec("Table", "1.3.0", "Table>=1.2.3,<2", "semi-push"),
    "Lamp": rec("Lamp", "3.2.1", "Lamp==3.2.1", "pull"),
    "BigTable": rec("Table", "1.3.0", "Table"),
    "Apartment": rec("Apartment", "0.1.0", "Apartment"),
}
EXPECTED = {  # node: (scene, installed, newest, admits newest, status)
    "KitchenSet": ("1.0.0", "1.0.0", "1.0.0", "yes", "up-to-date"),
    "Chair": ("1.0.0", "1.1.0", "1.1.0", "yes", "outdated"),
    "Chair_01": ("1.0.0", "1.1.0", "1.1.0", "yes", "outdated"),
    "Table": ("1.3.0", "1.3.0", "2.0.0", "no", "held"),
    "Lamp": ("3.2.1", "3.2.1", "3.3.0", "no", "held"),
    "BigTable": ("1.3.0", "1.3.0", "2.0.0", "yes", "update-available"),
    "Apartment": ("0.1.0", "-", "0.1.0", "yes", "not-installed"),
}


@pytest.fixture
def kitchen(sample_ws: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, SceneHost, Any]:
    """(workspace with KitchenSet[build] installed, host holding SCENE, runtime)."""
    from setpiece.hosts.runtime import Runtime
    from setpiece.hosts.ui import published_versions

    monkeypatch.setenv("PXR_AR_DEFAULT_SEARCH_PATH", "")  # Runtime.update configures USD
    monkeypatch.delenv("SETPIECE_NO_QT", raising=False)
    monkeypatch.setattr(published_versions, "_CACHES", {})
    sample_ws.install(["KitchenSet[build]"])
    host = SceneHost(SCENE)
    return sample_ws, host, Runtime(host, sample_ws)


def _table(window: Any) -> dict[str, tuple[str, ...]]:
    t = window.table
    return {
        t.item(i, 0).text(): tuple(t.item(i, j).text() for j in range(1, t.columnCount()))
        for i in range(t.rowCount())
    }


def _shown(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    # (scene, installed, newest, admits newest, status) of each node
    return {node: (c[1], c[2], c[3], c[6], c[7]) for node, c in table.items()}


def _background(window: Any, node: str) -> str:
    t = window.table
    (i,) = [i for i in range(t.rowCount()) if t.item(i, 0).text() == node]
    return str(t.item(i, 1).background().color().name())


def _tooltip(window: Any, node: str) -> str:
    t = window.table
    (i,) = [i for i in range(t.rowCount()) if t.item(i, 0).text() == node]
    return str(t.item(i, t.columnCount() - 1).toolTip())


def _open(runtime: Any) -> Any:
    """Open the window through the runtime's menu entry, as the artist does."""
    (entry,) = [c for c in runtime.menu_commands() if c.label == "Inventory"]
    window = entry.callback()
    assert window is not None and window.__class__.__name__ == "_InventoryWindow"
    assert window.wait_for_versions(30)
    return window


def test_window_lists_versions_highlights_and_updates(kitchen: tuple[Any, SceneHost, Any]) -> None:
    from setpiece.hosts.ui.inventory import COLORS, HEADERS

    ws, host, runtime = kitchen
    window = _open(runtime)
    try:
        assert [window.table.horizontalHeaderItem(j).text() for j in range(len(HEADERS))] == list(
            HEADERS
        )
        table = _table(window)
        assert _shown(table) == EXPECTED
        if os.environ.get("SETPIECE_SCREENSHOT"):  # a picture to look at (never committed)
            window.table.selectRow(1)
            assert window.grab().save(os.environ["SETPIECE_SCREENSHOT"])
            window.table.clearSelection()
        assert table["Table"][4:6] == ("semi-push", "Table>=1.2.3,<2")
        assert table["Lamp"][4:6] == ("pull", "Lamp==3.2.1")
        assert _background(window, "Chair") == COLORS["outdated"]
        assert _background(window, "Table") == COLORS["held"]
        assert _background(window, "BigTable") == COLORS["update-available"]
        assert _background(window, "Apartment") == COLORS["not-installed"]
        assert _background(window, "KitchenSet") != COLORS["outdated"]
        assert window.summary.text() == (
            "7 container(s): 1 not installed, 2 outdated, 1 update available, 2 held, 1 up to date"
        )
        # the repos were listed once each (folder repos: one listing for every asset)
        assert window.versions.lookups == len(ws.repos())

        # only the rows that need attention
        window.only_outdated.setChecked(True)
        hidden = {window.table.item(i, 0).text() for i in range(window.table.rowCount())
                  if window.table.isRowHidden(i)}
        assert hidden == {"KitchenSet"}
        window.only_outdated.setChecked(False)

        # Update selected: through Runtime.update, to the installed version; the row refreshes
        window.select_nodes(["Chair"])
        assert window.selected_nodes() == ["Chair"]
        window.select_button.click()
        assert host.selected == ["Chair"]
        window.update_selected_button.click()
        assert host.updates == [("Chair", "1.1.0")]
        assert host.nodes["Chair"].version == "1.1.0" and host.nodes["Chair_01"].version == "1.0.0"
        assert Path(host.nodes["Chair"].layer).is_file()  # the installed 1.1.0 layer
        after = _shown(_table(window))
        assert after["Chair"] == ("1.1.0", "1.1.0", "1.1.0", "yes", "up-to-date")
        assert after["Chair_01"] == EXPECTED["Chair_01"]
        assert window.status.text().startswith("updated 1 container(s) (Chair 1.1.0);")
        assert _background(window, "Chair") != COLORS["outdated"]
        assert window.selected_nodes() == ["Chair"]  # selection kept across the refresh
        # a held row is never moved past its requirement; the tooltip says how to change it
        assert "setpiece require" in _tooltip(window, "Lamp")
        window.select_nodes(["Lamp"])
        window.update_selected_button.click()
        assert host.nodes["Lamp"].version == "3.2.1" and len(host.updates) == 1
        assert window.status.text() == "nothing to update: Lamp: 'Lamp==3.2.1' holds it at 3.2.1"
        assert str(ws.installed_assets()["lamp"].version) == "3.2.1"

        # an update-available row: the newest version its requirement admits is installed in
        # the workspace, then the container moves to it
        assert "Update installs it in the workspace" in _tooltip(window, "BigTable")
        window.select_nodes(["BigTable"])
        window.update_selected_button.click()
        assert str(ws.installed_assets()["table"].version) == "2.0.0"
        assert [str(r) for r in ws.config.requests] == ["KitchenSet[build]"]  # record=False
        assert host.updates[-1] == ("BigTable", "2.0.0")
        assert host.nodes["BigTable"].version == "2.0.0"
        assert Path(host.nodes["BigTable"].layer).is_file()
        assert window.status.text().startswith(
            "updated 1 container(s) (Table 2.0.0) after installing Table==2.0.0;"
        )
        after = _shown(_table(window))
        assert after["BigTable"] == ("2.0.0", "2.0.0", "2.0.0", "yes", "up-to-date")
        # the semi-push Table did not move: '<2' refuses the 2.0.0 now installed (held)
        assert host.nodes["Table"].version == "1.3.0"
        assert after["Table"] == ("1.3.0", "2.0.0", "2.0.0", "no", "held")
        assert "2.0.0 is installed but 'Table>=1.2.3,<2'" in _tooltip(window, "Table")
        assert _background(window, "Table") == COLORS["held"]

        # Update all: the other outdated Chair; the held rows stay; no repo asked again
        lookups = window.versions.lookups
        window.update_all_button.click()
        assert host.nodes["Chair_01"].version == "1.1.0"
        assert host.nodes["Table"].version == "1.3.0" and host.nodes["Lamp"].version == "3.2.1"
        assert host.nodes["Apartment"].version == "0.1.0"
        assert _shown(_table(window))["Chair_01"][4] == "up-to-date"
        assert window.status.text().startswith("updated 1 container(s) (Chair 1.1.0);")
        assert window.versions.lookups == lookups

        # Refresh asks the repos again (a new version published meanwhile shows up)
        window.refresh_button.click()
        assert window.wait_for_versions(30)
        assert window.versions.lookups == lookups + len(ws.repos())

        # the menu entry again: the open window is raised, not a second one
        (entry,) = [c for c in runtime.menu_commands() if c.label == "Inventory"]
        assert entry.callback() is window
    finally:
        window.close()


def test_console_fallback_prints_the_same_table(
    kitchen: tuple[Any, SceneHost, Any], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from setpiece.hosts.ui.inventory import HEADERS, format_table

    _ws, host, runtime = kitchen
    window = _open(runtime)
    qt_rows = [tuple(window.table.item(i, j).text() for j in range(len(HEADERS)))
               for i in range(window.table.rowCount())]
    assert qt_rows == [r.cells() for r in window.rows]
    expected = format_table(window.rows)
    window.close()

    monkeypatch.setitem(sys.modules, "Qt", None)  # "import Qt" now fails
    capsys.readouterr()
    (entry,) = [c for c in runtime.menu_commands() if c.label == "Inventory"]
    rows = entry.callback()
    err = capsys.readouterr().err
    assert expected in err
    lines = err.splitlines()
    assert lines[1].split() == [h for h in " ".join(HEADERS).split()]
    assert {line.split()[0]: line.split()[-1] for line in lines[2:-1]} == {
        node: e[-1] for node, e in EXPECTED.items()
    }
    assert [r.status for r in rows] == [e[-1] for e in EXPECTED.values()]
    (note,) = host.notified  # the artist sees what needs attention
    assert note.startswith("7 container(s): 1 not installed, 2 outdated")
    assert "Chair: 1.0.0 in the scene, 1.1.0 installed" in note

    # headless (mayapy, blender -b): the console even with Qt, never a window
    monkeypatch.delitem(sys.modules, "Qt")
    host.headless = True
    assert isinstance(entry.callback(), list)
    assert expected in capsys.readouterr().err and len(host.notified) == 1


def test_thousand_containers_one_batch_read(
    kitchen: tuple[Any, SceneHost, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from setpiece.hosts.ui.inventory import InventoryWindow, RepoVersions, collect

    ws, host, runtime = kitchen
    names = list(SCENE)
    host.nodes = {f"{names[i % len(names)]}_{i:04d}": SCENE[names[i % len(names)]]
                  for i in range(1000)}
    reads: list[int] = []
    original = ws.installed_assets

    def counted() -> Any:
        reads.append(1)
        return original()

    monkeypatch.setattr(ws, "installed_assets", counted)
    versions = RepoVersions(ws)
    start = time.perf_counter()
    rows = collect(runtime, versions)
    seconds = time.perf_counter() - start
    assert len(rows) == 1000 and len(reads) == 1 and host.ls_calls == 1
    assert versions.lookups == len(ws.repos())
    assert seconds < 2.0, seconds

    start = time.perf_counter()
    window = InventoryWindow(runtime, None, versions)
    try:
        opened = time.perf_counter() - start
        assert window.table.rowCount() == 1000 and not window.fetching
        outdated = sum(EXPECTED[names[i % len(names)]][-1] == "outdated" for i in range(1000))
        assert sum(r.status == "outdated" for r in window.rows) == outdated
        assert opened < 5.0, opened
        print(f"1,000 containers: collect {seconds:.3f} s, window {opened:.3f} s "
              f"(fill {window.fill_seconds:.3f} s)")
    finally:
        window.close()


def test_repo_lookups_run_in_the_background(
    kitchen: tuple[Any, SceneHost, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow repo does not hold the window: it shows at once and fills in Newest later."""
    from setpiece.hosts.ui.inventory import PENDING, InventoryWindow, RepoVersions

    ws, _host, runtime = kitchen
    original = ws.repos

    class Slow:
        kind = "index"

        def __init__(self, repo: Any) -> None:
            self.repo = repo

        def versions(self, name: str) -> list[str]:
            time.sleep(0.1)
            return list(self.repo.versions(name))

    monkeypatch.setattr(ws, "repos", lambda: {n: Slow(r) for n, r in original().items()})
    start = time.perf_counter()
    window = InventoryWindow(runtime, None, RepoVersions(ws))
    try:
        assert time.perf_counter() - start < 0.5
        assert window.fetching
        assert {c[3] for c in _table(window).values()} == {PENDING}
        assert "asking the repos for 5 asset(s)" in window.summary.text()
        assert _shown(_table(window))["Chair"][4] == "outdated"  # known without the repos
        assert window.wait_for_versions(30)
        assert _shown(_table(window)) == EXPECTED
        # index repos: one request per distinct asset and repo, never per container
        assert window.versions.lookups == 5 * len(original())
    finally:
        window.close()


def test_update_stays_within_the_bounds(kitchen: tuple[Any, SceneHost, Any]) -> None:
    """Semi-push Table>=1.2.3,<2 at 1.2.3, 2.0.0 the newest: Update takes 1.3.0, not 2.0.0."""
    from setpiece.hosts.ui.inventory import collect, update_containers

    ws, host, runtime = kitchen
    ws.install(["Table==1.2.3"], record=False)
    host.nodes = {"Table": rec("Table", "1.2.3", "Table>=1.2.3,<2", "semi-push"),
                  "Lamp": SCENE["Lamp"]}
    (row, _lamp) = collect(runtime)
    assert (row.status, row.newest, row.admits_newest, row.target) == (
        "update-available", "2.0.0", False, "1.3.0")
    assert "Table 1.3.0 is published" in row.hint() and "2.0.0 is published too" in row.hint()
    result = update_containers(runtime, runtime.host.ls())
    assert result.installed == ["Table==1.3.0"]
    assert host.nodes["Table"].version == "1.3.0" and host.nodes["Lamp"].version == "3.2.1"
    assert str(ws.installed_assets()["table"].version) == "1.3.0"
    assert result.skipped == {"Lamp": "Lamp: 'Lamp==3.2.1' holds it at 3.2.1"}
    assert result.message().startswith("updated 1 container(s) (Table 1.3.0) after installing")
    assert [r.status for r in collect(runtime)] == ["held", "held"]


def _break_wheel(wheel: Path) -> None:
    wheel.write_bytes(b"this is not a zip file")


@pytest.mark.parametrize("how", ["corrupted wheel", "unreachable repo"])
def test_failed_install_changes_no_container(
    kitchen: tuple[Any, SceneHost, Any], sample_repo: Path, tmp_path: Path, how: str,
    snap: Callable[..., dict[str, bytes | None]],
) -> None:
    """The install fails: one red line in the status area, the scene and the workspace's
    packages as they were."""
    ws, host, runtime = kitchen
    window = _open(runtime)  # the repos answered: 2.0.0 is known
    try:
        before_nodes = dict(host.nodes)
        before_site = snap(ws.site_packages)
        before_rows = _shown(_table(window))
        if how == "corrupted wheel":
            _break_wheel(sample_repo / "table-2.0.0-py3-none-any.whl")
        else:
            sample_repo.rename(tmp_path / "gone")
        window.select_nodes(["BigTable"])
        window.update_selected_button.click()
        text = window.status.text()
        assert text and "\n" not in text and len(text) <= 400
        assert "#c62828" in window.status.styleSheet()  # red: an error
        if how == "corrupted wheel":
            assert text.startswith("corrupted wheel table 2.0.0 in repo 'blessed'")
        else:
            assert text.startswith("repo 'blessed': folder ") and "does not exist" in text
        assert host.updates == [] and host.nodes == before_nodes
        assert str(ws.installed_assets()["table"].version) == "1.3.0"
        assert snap(ws.site_packages) == before_site
        assert _shown(_table(window)) == before_rows  # refreshed, unchanged
    finally:
        window.close()


def test_version_columns_sort_as_versions(kitchen: tuple[Any, SceneHost, Any]) -> None:
    from setpiece.hosts.ui.inventory import HEADERS

    _ws, host, runtime = kitchen
    host.nodes = {
        "A": rec("Chair", "1.9.0", "Chair"),
        "B": rec("Chair", "1.10.0", "Chair"),
        "C": rec("Chair", "1.2.0", "Chair"),
        "D": rec("Chair", "dev", "Chair"),
        "E": rec("Apartment", "0.1.0", "Apartment"),  # not installed: Installed is "-"
    }
    window = _open(runtime)
    qt: Any = __import__("Qt").QtCore.Qt
    order: Any = getattr(qt, "SortOrder", qt)
    t = window.table

    def column(name: str) -> list[str]:
        j = HEADERS.index(name)
        return [t.item(i, j).text() for i in range(t.rowCount())]

    try:
        t.sortByColumn(HEADERS.index("Scene"), order.AscendingOrder)
        assert column("Scene") == ["0.1.0", "1.2.0", "1.9.0", "1.10.0", "dev"]
        t.sortByColumn(HEADERS.index("Scene"), order.DescendingOrder)
        assert column("Scene") == ["1.10.0", "1.9.0", "1.2.0", "0.1.0", "dev"]  # unknown last
        t.sortByColumn(HEADERS.index("Installed"), order.AscendingOrder)
        assert column("Installed")[-1] == "-"
        t.sortByColumn(HEADERS.index("Installed"), order.DescendingOrder)
        assert column("Installed")[-1] == "-"
        # the rows stay whole: the node still goes with its version
        t.sortByColumn(HEADERS.index("Scene"), order.AscendingOrder)
        assert column("Container") == ["E", "C", "A", "B", "D"]
        window.refresh(refetch=False)  # a refresh keeps the order
        assert column("Container") == ["E", "C", "A", "B", "D"]
        # text columns still sort as text
        t.sortByColumn(HEADERS.index("Container"), order.DescendingOrder)
        assert column("Container") == ["E", "D", "C", "B", "A"]
    finally:
        window.close()


def test_module_imports_no_qt() -> None:
    code = (
        "import sys\n"
        "import setpiece.hosts.runtime, setpiece.hosts.ui.inventory\n"
        "bad = [m for m in ('Qt', 'PySide6', 'PySide2', 'pxr') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _qt() -> Any:
    from Qt import QtWidgets

    return QtWidgets


def _choose(window: Any, node: str, version: str) -> list[str]:
    """Open ``node``'s version dropdown as a click does, pick ``version``; the entries."""
    combo = window.open_version_menu(node)
    assert combo is not None and combo.objectName() == "version"
    entries = [combo.itemText(i) for i in range(combo.count())]
    i = combo.findData(version)
    assert i >= 0, entries
    combo.setCurrentIndex(i)
    combo.activated.emit(i)
    _qt().QApplication.processEvents()  # the switch runs once the editor closed
    return entries


def test_version_dropdown_switches_and_asks_outside_the_requirement(
    kitchen: tuple[Any, SceneHost, Any],
) -> None:
    """The Scene cell lists every published version; an admitted one is taken at once (and
    installed), one outside the requirement only after Yes; Cancel changes nothing."""
    ws, host, runtime = kitchen
    window = _open(runtime)
    seen: list[tuple[int, int, str]] = []
    original = window._progress
    window._progress = lambda d, t, w: (seen.append((d, t, w)), original(d, t, w))
    try:
        # semi-push Table>=1.2.3,<2 at 1.3.0: go back to 1.2.3 (admitted: no question)
        entries = _choose(window, "Table", "1.2.3")
        assert entries == ["2.0.0 (outside the requirement)", "1.3.0", "1.2.3"]
        assert window.confirmation is None
        assert host.nodes["Table"].version == "1.2.3"
        assert str(ws.installed_assets()["table"].version) == "1.2.3"
        assert Path(host.nodes["Table"].layer).is_file()
        assert window.status.text().startswith(
            "updated 1 container(s) (Table 1.2.3) after installing Table==1.2.3")
        assert seen[0][2] == "installing Table 1.2.3" and seen[-1][:2] == (2, 2)
        assert not window.progress.isVisible()  # hidden once done
        assert _shown(_table(window))["Table"][:2] == ("1.2.3", "1.2.3")
        # the other Table container (push) did not move: it reads outdated now
        assert host.nodes["BigTable"].version == "1.3.0"
        assert _shown(_table(window))["BigTable"][4] == "outdated"

        # pinned Lamp==3.2.1 -> 3.3.0: asked first; Cancel leaves everything as it was
        entries = _choose(window, "Lamp", "3.3.0")
        assert entries == ["3.3.0 (outside the requirement)", "3.2.1"]
        box = window.confirmation
        assert box is not None and box.isVisible()
        assert "Lamp 3.3.0 is outside 'Lamp==3.2.1' (pull" in box.text()
        buttons: Any = getattr(_qt().QMessageBox, "StandardButton", _qt().QMessageBox)
        box.button(buttons.Cancel).click()
        assert host.nodes["Lamp"].version == "3.2.1"
        assert str(ws.installed_assets()["lamp"].version) == "3.2.1"
        # again, and Yes: installed and moved
        _choose(window, "Lamp", "3.3.0")
        window.confirmation.button(buttons.Yes).click()
        assert host.nodes["Lamp"].version == "3.3.0"
        assert str(ws.installed_assets()["lamp"].version) == "3.3.0"
        assert window.status.text().startswith("updated 1 container(s) (Lamp 3.3.0)")
    finally:
        window.close()


def test_switch_outside_without_confirmation_is_refused(kitchen: tuple[Any, SceneHost, Any]) -> None:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts.ui.inventory_actions import switch_version

    ws, host, runtime = kitchen
    lamp = [c for c in host.ls() if c.node == "Lamp"]
    with pytest.raises(SetpieceError, match=r"Lamp 3.3.0 is outside 'Lamp==3.2.1' \(pull\)"):
        switch_version(runtime, lamp, "3.3.0")
    assert host.updates == [] and str(ws.installed_assets()["lamp"].version) == "3.2.1"
    both = [c for c in host.ls() if c.node in ("Lamp", "Chair")]
    with pytest.raises(SetpieceError, match="switch one asset at a time"):
        switch_version(runtime, both, "3.3.0", outside_requirement=True)


def test_remove_asks_then_takes_the_containers_out(kitchen: tuple[Any, SceneHost, Any]) -> None:
    ws, host, runtime = kitchen
    window = _open(runtime)
    try:
        window.select_nodes(["Chair", "Chair_01"])
        window.remove_button.click()
        box = window.confirmation
        assert "Remove 2 container(s) from the scene (Chair, Chair_01)" in box.text()
        buttons: Any = getattr(_qt().QMessageBox, "StandardButton", _qt().QMessageBox)
        box.button(buttons.Yes).click()
        assert "Chair" not in host.nodes and "Chair_01" not in host.nodes
        assert set(_table(window)) == set(SCENE) - {"Chair", "Chair_01"}
        assert window.status.text() == "removed 2 container(s): Chair, Chair_01"
        assert "chair" in ws.installed_assets()  # the package stays installed
    finally:
        window.close()


def test_rows_show_the_installed_versions_thumbnail(kitchen: tuple[Any, SceneHost, Any]) -> None:
    from Qt import QtGui

    ws, _host, runtime = kitchen
    chair = ws.installed_assets()["chair"]
    image = QtGui.QImage(24, 16, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("#8d6e63"))
    assert image.save(str(Path(chair.package_dir) / "thumbnail.png"))
    window = _open(runtime)
    try:
        t = window.table
        icons = {t.item(i, 0).text(): not t.item(i, 1).icon().isNull() for i in range(t.rowCount())}
        assert icons == {node: node.startswith("Chair") for node in SCENE}
    finally:
        window.close()
