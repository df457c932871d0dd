"""The host contract: what every DCC adapter implements, and what it may add.

* :class:`Host` (a Protocol) is what the runtime and publishing call on every host:
  identity, scene files, containers, USD export, menu, scene-opened callback, deferral,
  main window. :class:`HostBase` is the base class adapters subclass: it declares the
  same methods (mypy checks an adapter implements the abstract ones) and gives the
  parts that have a safe default one (run deferred work now, no main window, no menu).
* Capabilities, each a small ``runtime_checkable`` Protocol an adapter either has or has
  not; callers test them with ``isinstance(host, Selection)``, never ``getattr``:
  :class:`SceneData`, :class:`ContainerData`, :class:`Notifying`, :class:`Asking`,
  :class:`Timers`, :class:`Selection`, :class:`Publishing`, :class:`UnitsExport`,
  :class:`OpenPolicy`, :class:`SetupScene`, :class:`ToolAddons`.

No DCC module is imported at module level anywhere in an adapter: adapters import
``bpy`` / ``maya.cmds`` / ``hou`` / ``nuke`` inside their methods (or through an
injectable module attribute so tests can hand in a fake), so that ``setpiece`` works
outside the app and importing an adapter never fails.

Adapters register through the entry point group ``setpiece.hosts``
(``blender = "setpiece.hosts.blender:BlenderHost"``), so a studio adds a host
(3ds Max, Katana, ...) without touching setpiece.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from setpiece.core.containers import ContainerRecord


@dataclass
class Container:
    """A container as found in the app: the record plus the app's handle on it.

    ``node`` is the host's handle (a Blender collection name, a Maya node name, a
    Houdini node path, a Nuke node name); ``record`` is the metadata read back from it.
    """

    node: str
    record: ContainerRecord

    @property
    def asset(self) -> str:
        return self.record.asset

    @property
    def version(self) -> str:
        return self.record.version


@dataclass(frozen=True)
class MenuCommand:
    """One entry in the app's ``setpiece`` menu.

    ``label`` is what the artist sees; ``callback`` runs on the main thread;
    ``group`` places it (``"setpiece"`` entries first, then tool assets' entries).
    """

    label: str
    callback: Callable[[], Any]
    group: str = "setpiece"
    tooltip: str = ""


@dataclass(frozen=True)
class SceneLoad:
    """What to load: a scene's root layer and the containers it holds.

    ``root_layer`` is an absolute path to a USD layer built by ``setpiece.usd``;
    ``containers`` are its container records (prim paths inside that layer).
    """

    root_layer: str
    containers: Sequence[ContainerRecord] = field(default_factory=tuple)


@runtime_checkable
class Host(Protocol):
    """One DCC behind one small protocol."""

    #: short lowercase name: ``blender``, ``maya``, ``houdini``, ``nuke``
    name: str

    # -- identity --------------------------------------------------------------
    def app_version(self) -> str:
        """The app's version string (``"5.0.1"``, ``"2025.3"``)."""
        ...

    def is_headless(self) -> bool:
        """True in ``blender -b``, ``mayapy``, ``hython``, ``nuke -t``."""
        ...

    # -- scene files -----------------------------------------------------------
    def new_scene(self) -> None: ...

    def open_scene(self, path: str) -> None: ...

    def save_scene(self, path: str | None = None) -> str:
        """Save (to ``path`` when given) and return the saved path."""
        ...

    def current_scene(self) -> str | None:
        """The open scene file, or None when unsaved."""
        ...

    # -- containers ------------------------------------------------------------
    def load(self, scene: SceneLoad) -> list[Container]:
        """Load a USD scene (or one asset) into the app and return its containers."""
        ...

    def ls(self) -> list[Container]:
        """Every container in the open scene, read from the app's own data."""
        ...

    def update(self, container: Container, record: ContainerRecord) -> Container:
        """Point a container at another version, keeping the user's transform on it."""
        ...

    def remove(self, container: Container) -> None: ...

    # -- export ----------------------------------------------------------------
    def export_usd(self, path: str, *, selection: bool = False) -> str:
        """Export the selection (or the whole scene) to a USD file; return its path."""
        ...

    # -- integration -----------------------------------------------------------
    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        """Add (or replace) the ``setpiece`` menu with these entries."""
        ...

    def on_scene_opened(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` after every scene open."""
        ...

    def defer(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the app's main thread once the app is idle (immediately headless)."""
        ...

    def main_window(self) -> Any | None:
        """The app's main Qt window for parenting, or None (headless, or not a Qt app)."""
        ...


class HostBase(ABC):
    """The base class of host adapters: :class:`Host`, with safe defaults where there is
    one. Subclass it, set ``name`` and implement the abstract methods; add capabilities
    by implementing their methods (see the capability protocols below)."""

    #: short lowercase name: ``blender``, ``maya``, ``houdini``, ``nuke``
    name: str = ""

    # -- identity --------------------------------------------------------------
    @abstractmethod
    def app_version(self) -> str: ...

    @abstractmethod
    def is_headless(self) -> bool: ...

    # -- scene files -----------------------------------------------------------
    @abstractmethod
    def new_scene(self) -> None: ...

    @abstractmethod
    def open_scene(self, path: str) -> None: ...

    @abstractmethod
    def save_scene(self, path: str | None = None) -> str: ...

    @abstractmethod
    def current_scene(self) -> str | None: ...

    # -- containers ------------------------------------------------------------
    @abstractmethod
    def load(self, scene: SceneLoad) -> list[Container]: ...

    @abstractmethod
    def ls(self) -> list[Container]: ...

    @abstractmethod
    def update(self, container: Container, record: ContainerRecord) -> Container: ...

    @abstractmethod
    def remove(self, container: Container) -> None: ...

    # -- export ----------------------------------------------------------------
    @abstractmethod
    def export_usd(self, path: str, *, selection: bool = False) -> str: ...

    # -- integration (safe defaults) --------------------------------------------
    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        """Default: no menu (an app without one); the commands are logged."""
        logging.getLogger("setpiece.hosts").debug(
            "setpiece: %s has no menu: %s", self.name, ", ".join(c.label for c in commands)
        )

    def on_scene_opened(self, callback: Callable[[], Any]) -> None:  # noqa: B027
        """Default: the app tells no one a scene opened (nothing is called)."""

    def defer(self, fn: Callable[[], None]) -> None:
        """Default: run ``fn`` now (what every host does headless)."""
        fn()

    def main_window(self) -> Any | None:
        """Default: no Qt main window to parent to."""
        return None


# -- capabilities: what a host may add (test with isinstance) ---------------------------


@runtime_checkable
class SceneData(Protocol):
    """Values kept in the scene file (the output asset a scene belongs to, its root layer)."""

    def get_scene_data(self, key: str) -> Any: ...

    def set_scene_data(self, key: str, value: Any) -> None: ...


@runtime_checkable
class ContainerData(Protocol):
    """Values kept on a container's node (what its setup code did), saved with the scene."""

    def get_container_data(self, container: Container, key: str) -> Any: ...

    def set_container_data(self, container: Container, key: str, value: Any) -> None: ...


@runtime_checkable
class Notifying(Protocol):
    """An artist to tell things to: a status message (the log when headless)."""

    def notify(self, message: str) -> None: ...


@runtime_checkable
class Asking(Protocol):
    """An artist to ask: a non-modal question with one button."""

    def ask(self, message: str, on_yes: Callable[[], Any], label: str = "Update") -> bool:
        """Offer ``on_yes`` behind a ``label`` button; False when nobody can be asked."""
        ...


@runtime_checkable
class Timers(Protocol):
    """Calls ``fn`` every ``seconds`` on the app's main thread (watching events)."""

    def every(self, seconds: float, fn: Callable[[], None]) -> None: ...


@runtime_checkable
class Selection(Protocol):
    """Selects container nodes in the app (the inventory's *Select in scene*)."""

    def select(self, nodes: Sequence[str]) -> None: ...


@runtime_checkable
class Publishing(Protocol):
    """The host's own publish plugins and export of one publish instance."""

    def publish_plugins(self) -> list[Any]: ...

    def publish_export(self, instance: Any, path: str) -> str: ...

    def save_copy(self, path: str) -> str:
        """Save the open scene to ``path``, the artist keeping their own file."""
        ...


@runtime_checkable
class UnitsExport(Protocol):
    """``export_usd`` also converts to an up axis and units (``export_units`` is True)."""

    export_units: bool

    def export_usd(
        self, path: str, *, selection: bool = False, up_axis: str | None = None,
        meters_per_unit: float | None = None,
    ) -> str: ...


@runtime_checkable
class OpenPolicy(Protocol):
    """Whether the scene-opened check may update containers in this session (a render or
    batch session of the app says no)."""

    def may_update_on_open(self) -> bool: ...


@runtime_checkable
class SetupScene(Protocol):
    """The app's scene object handed to asset setup code (``ctx.scene``)."""

    def scene_handle(self) -> Any: ...


@runtime_checkable
class Shelves(Protocol):
    """Shelves made from tool assets (Maya shelves): one shelf per asset, its buttons the
    asset's ``setpiece.shelf`` entries. ``install_shelves`` replaces setpiece's shelves
    with these (a shelf of an asset no longer installed goes away)."""

    def install_shelves(self, shelves: Mapping[str, Sequence[MenuCommand]]) -> list[str]: ...


@runtime_checkable
class ToolAddons(Protocol):
    """Loads the app-side add-ons that tool assets ship (Blender add-ons)."""

    def load_tool_assets(self, workspace: Any) -> list[Any]: ...


@dataclass(frozen=True)
class LaunchSpec:
    """How ``setpiece env/launch/batch HOST`` starts one DCC.

    Each adapter package exposes ``launch_spec() -> LaunchSpec`` in
    ``setpiece.hosts.<host>.launch``; the generic launcher (``setpiece.hosts.launching``)
    finds the executable (``setpiece.toml`` ``[hosts.<host>] executable``, then
    ``SETPIECE_<HOST>_EXECUTABLE``, then PATH, then ``install_globs``), checks that the
    app's Python matches the workspace's, and builds the environment.
    """

    host: str
    #: GUI executable names looked up on PATH (``("maya",)``)
    executables: tuple[str, ...]
    #: headless executable names (``("mayapy",)``, ``("hython",)``; Blender: ``("blender",)`` + ``-b``)
    batch_executables: tuple[str, ...]
    #: standard install locations, newest last when sorted (``/usr/autodesk/maya*/bin/maya``)
    install_globs: tuple[str, ...] = ()
    #: the Python ``major.minor`` each app version ships, when known ({"2025": "3.11"})
    python_by_app_version: dict[str, str] = field(default_factory=dict)
    #: env var that points the app at setpiece's startup folder
    #: (``PYTHONPATH`` for userSetup.py, ``HOUDINI_PACKAGE_DIR``, ``NUKE_PATH``,
    #: ``BLENDER_SYSTEM_SCRIPTS``)
    startup_var: str = "PYTHONPATH"
    #: arguments that run a Python script headless: ``["-b", "--python", "{script}"]``
    batch_args: tuple[str, ...] = ("{script}",)
    #: arguments of the GUI launch, before the scene (Blender: ``--python-use-system-env``,
    #: without which it ignores ``PYTHONPATH``)
    launch_args: tuple[str, ...] = ()
    #: a variable that carries the ``PYTHONPATH`` entries again, for an app that may be
    #: started without honouring ``PYTHONPATH`` (Blender: ``SETPIECE_PYTHONPATH``, read by
    #: its startup add-on)
    pythonpath_var: str = ""
