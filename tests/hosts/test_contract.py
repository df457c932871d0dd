"""The host contract (setpiece.hosts.protocol): every adapter is a HostBase and a Host, and
has exactly the capabilities it declares, checked the way the runtime and publishing check
them (``isinstance``). mypy checks the same at type level (the adapters subclass HostBase,
whose abstract methods they must implement)."""

from __future__ import annotations

from typing import Any

import pytest

from setpiece.hosts.protocol import (
    Asking,
    ContainerData,
    Host,
    HostBase,
    Notifying,
    OpenPolicy,
    Publishing,
    SceneData,
    Selection,
    SetupScene,
    Timers,
    ToolAddons,
    UnitsExport,
)

CAPABILITIES = {
    "SceneData": SceneData, "ContainerData": ContainerData, "Notifying": Notifying,
    "Asking": Asking, "Timers": Timers, "Selection": Selection, "Publishing": Publishing,
    "UnitsExport": UnitsExport, "OpenPolicy": OpenPolicy, "SetupScene": SetupScene,
    "ToolAddons": ToolAddons,
}
COMMON = {"SceneData", "ContainerData", "Notifying", "Asking", "Selection"}
EXPECTED = {
    "maya": COMMON | {"Publishing", "UnitsExport"},
    "houdini": COMMON | {"Publishing"},
    "nuke": COMMON | {"Publishing", "OpenPolicy"},
    "blender": COMMON | {"Timers", "UnitsExport", "SetupScene", "ToolAddons"},
}


def _adapter(name: str) -> Any:
    from setpiece.hosts import registry

    return registry.get_host(name)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_adapter_is_a_host_with_the_capabilities_it_declares(name: str) -> None:
    host = _adapter(name)  # no app needed: adapters import it inside their methods
    assert isinstance(host, HostBase) and isinstance(host, Host)
    assert host.name == name
    has = {cap for cap, proto in CAPABILITIES.items() if isinstance(host, proto)}
    assert has == EXPECTED[name]
    if "UnitsExport" in has:
        assert host.export_units is True


def test_a_partial_host_is_not_a_host_and_base_defaults_are_safe() -> None:
    class Half:
        name = "half"

        def ls(self) -> list[Any]:
            return []

    assert not isinstance(Half(), Host)
    with pytest.raises(TypeError, match="abstract"):
        HostBase()  # type: ignore[abstract]

    class Minimal(HostBase):
        name = "minimal"

        def app_version(self) -> str:
            return "1"

        def is_headless(self) -> bool:
            return True

        def new_scene(self) -> None: ...
        def open_scene(self, path: str) -> None: ...
        def save_scene(self, path: str | None = None) -> str:
            return path or ""

        def current_scene(self) -> str | None:
            return None

        def load(self, scene: Any) -> list[Any]:
            return []

        def ls(self) -> list[Any]:
            return []

        def update(self, container: Any, record: Any) -> Any:
            return container

        def remove(self, container: Any) -> None: ...
        def export_usd(self, path: str, *, selection: bool = False) -> str:
            return path

    host = Minimal()
    ran: list[int] = []
    host.defer(lambda: ran.append(1))
    host.install_menu([])
    host.on_scene_opened(lambda: None)
    assert ran == [1] and host.main_window() is None and isinstance(host, Host)
    assert not any(isinstance(host, proto) for proto in CAPABILITIES.values())
