"""The runtime's published-version check with an artist at the app (not headless): the
update is offered (a button, never a modal), taken, and new publishes are said while open
through the host's ``every`` timer. Real workspaces, repo and USD; the host is in memory
(the Blender tests prove the same in real bpy, headless)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

pytest.importorskip("pxr")

from setpiece.core.containers import ContainerRecord
from setpiece.hosts.protocol import Container, MenuCommand, SceneLoad


class ArtistHost:
    """An app with an artist: ``ask`` shows a button the artist clicks."""

    name = "memory"

    def __init__(self) -> None:
        self.nodes: dict[str, ContainerRecord] = {}
        self.data: dict[str, Any] = {}
        self.asked: list[tuple[str, str]] = []
        self.said: list[str] = []
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def is_headless(self) -> bool:
        return False

    def current_scene(self) -> str | None:
        return None

    def get_scene_data(self, key: str) -> Any:
        return self.data.get(key)

    def set_scene_data(self, key: str, value: Any) -> None:
        self.data[key] = value

    def load(self, scene: SceneLoad) -> list[Container]:
        for r in scene.containers:
            self.nodes[r.prim_path.rsplit("/", 1)[-1]] = r
        return self.ls()

    def ls(self) -> list[Container]:
        return [Container(n, r) for n, r in sorted(self.nodes.items())]

    def update(self, container: Container, record: ContainerRecord) -> Container:
        self.nodes[container.node] = record
        return Container(container.node, record)

    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        pass

    def on_scene_opened(self, callback: Callable[[], None]) -> None:
        pass

    def defer(self, fn: Callable[[], None]) -> None:
        fn()

    def notify(self, message: str) -> None:
        self.said.append(message)

    def ask(self, message: str, on_yes: Callable[[], None], label: str = "Update") -> bool:
        self.asked.append((message, label))
        on_yes()  # the artist clicks the button
        return True

    def every(self, seconds: float, fn: Callable[[], None]) -> None:
        self.timers.append((seconds, fn))


def _on_open(ws: Any, policy: str) -> None:
    import tomlkit

    with ws.config.edit() as doc:
        if "settings" not in doc:
            doc["settings"] = tomlkit.table()
        doc["settings"]["on_open"] = policy


def test_offered_taken_and_watched(studio: Any) -> None:
    from setpiece.hosts.runtime import Runtime

    b = studio.b
    _on_open(b, "ask")
    host = ArtistHost()
    rt = Runtime(host, b.root, no_setup=True)
    rt.build("KitchenSet")
    assert host.nodes["Table"].version == "1.2.0"

    studio.publish_table("1.3.0")
    check = rt.scene_opened()
    assert [(u.asset, u.published_version) for u in check.published] == [("Table", "1.3.0")]
    assert check.asked is True
    (message, label), = host.asked
    assert label == "Update to published" and "Install and update them now?" in message
    assert host.nodes["Table"].version == "1.3.0"  # the artist clicked: installed, updated
    assert {k: str(a.version) for k, a in rt.workspace.installed_assets().items()}[
        "table"] == "1.3.0"

    # while the app is open: a timer polls the events; a new publish is offered again
    rt.finish_startup()
    ((seconds, tick),) = host.timers
    assert seconds == 2.0
    tick()
    assert len(host.asked) == 1  # nothing new yet
    studio.publish_table("1.4.0")
    tick()
    assert len(host.asked) == 2 and "Table: 1.4.0 is published" in host.asked[1][0]
    assert host.nodes["Table"].version == "1.4.0"
    assert host.nodes["Lamp"].version == "1.0.0"  # pinned: never offered
