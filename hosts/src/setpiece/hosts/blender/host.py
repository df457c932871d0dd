"""``BlenderHost``: the host protocol on top of ``bpy``.

Scene model (what an artist sees in the outliner):

- one collection per container, named after its prim (``Chair``), carrying the
  container's metadata as an ID property ``setpiece_container`` (name, version,
  identifier, requirement, kind, prim_path, layer, root_layer) and, once its setup
  code ran, ``setpiece_setup`` (version, status);
- inside it one empty (``Chair``, ``setpiece_role = "container"``) that holds the
  container's placement: the layout transform from the scene layer at load, then
  whatever the artist does to it;
- under that empty, the asset's content imported with ``bpy.ops.wm.usd_import`` from
  its own interface layer, so Blender converts that layer's ``metersPerUnit`` and
  ``upAxis`` (USD composition does not: a centimetre, Y-up asset referenced into a
  metre, Z-up scene would otherwise arrive 100 times too big and lying down).

Update replaces everything in the collection except the container empty, so the
artist's transform on the container survives.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Container, HostBase, MenuCommand, SceneLoad

log = logging.getLogger("setpiece.hosts.blender")

#: ID property on a container collection with its metadata
CONTAINER_PROP = "setpiece_container"
#: ID property on a container collection recording the setup run (version, status)
SETUP_PROP = "setpiece_setup"
#: object property marking the container's transform empty
ROLE_PROP = "setpiece_role"

_RECORD_FIELDS = ("prim_path", "asset", "version", "identifier", "requirement", "kind", "layer")

# Menu state shared by the registered Blender classes (one menu per Blender process).
_MENU_COMMANDS: dict[str, MenuCommand] = {}
_REGISTERED: list[Any] = []
_SCENE_CALLBACKS: list[Callable[[], None]] = []
_AT_EXIT: list[bool] = []


class BlenderHost(HostBase):
    """Blender behind the setpiece host protocol.

    ``bpy_module`` can be handed in (tests, embedding); by default ``bpy`` is imported on
    first use, never at import time.
    """

    name = "blender"
    #: ``export_usd`` converts to an up axis and units (the UnitsExport capability)
    export_units = True

    def __init__(self, bpy_module: Any | None = None, search_paths: Sequence[str] = ()) -> None:
        self._bpy_module = bpy_module
        self.search_paths = list(search_paths)

    # -- plumbing ----------------------------------------------------------------
    @property
    def bpy(self) -> Any:
        if self._bpy_module is None:
            try:
                import bpy
            except ImportError as exc:
                raise SetpieceError(
                    f"Blender's Python module 'bpy' cannot be imported ({exc}): run inside "
                    "Blender, or 'pip install bpy' in a Python 3.11 environment"
                )
            self._bpy_module = bpy
        return self._bpy_module

    # -- identity ----------------------------------------------------------------
    def app_version(self) -> str:
        return str(self.bpy.app.version_string)

    def is_headless(self) -> bool:
        return bool(self.bpy.app.background)

    # -- scene files -------------------------------------------------------------
    def new_scene(self) -> None:
        self.bpy.ops.wm.read_homefile(use_empty=True)

    def open_scene(self, path: str) -> None:
        if not Path(path).is_file():
            raise SetpieceError(f"scene {path} does not exist: check the path")
        self.bpy.ops.wm.open_mainfile(filepath=str(path))

    def save_scene(self, path: str | None = None) -> str:
        bpy = self.bpy
        if path is None:
            if not bpy.data.filepath:
                raise SetpieceError("the scene was never saved: give a path to save it to")
            bpy.ops.wm.save_mainfile()
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            bpy.ops.wm.save_as_mainfile(filepath=str(path))
        return str(bpy.data.filepath)

    def current_scene(self) -> str | None:
        return str(self.bpy.data.filepath) or None

    def get_scene_data(self, key: str) -> Any:
        """A value stored on the current scene (``bpy.types.Scene`` ID property)."""
        return _plain(self.bpy.context.scene.get(key))

    def set_scene_data(self, key: str, value: Any) -> None:
        self.bpy.context.scene[key] = value

    def notify(self, message: str) -> None:
        """Tell the artist: a popup in the UI, the log when headless."""
        if self.is_headless():
            log.warning("%s", message)
            return
        from setpiece.hosts.blender import ui

        ui.popup(self.bpy, message, None)

    def scene_handle(self) -> Any:
        """What setup code gets as its scene handle: the current ``bpy.types.Scene``."""
        return self.bpy.context.scene

    # -- containers --------------------------------------------------------------
    def load(self, scene: SceneLoad) -> list[Container]:
        root = str(Path(scene.root_layer).resolve())
        if not Path(root).is_file():
            raise SetpieceError(f"USD layer {root} does not exist: build the scene first")
        from setpiece.usd.containers import read_containers

        records = list(scene.containers) or read_containers(root)
        if not records:
            raise SetpieceError(
                f"{root} holds no containers (no prim with assetInfo name and version): "
                "build it with 'setpiece scene build'"
            )
        info = _StageInfo(root)
        loaded: list[Container] = []
        search = self._search_paths()
        for record in records:
            layer, mask = _content_layer(record, root, search)
            coll = self._new_container(record, root, info, whole_scene=bool(mask))
            self._import_content(coll, record, root, (layer, mask))
            loaded.append(self._container(coll))
        self.bpy.context.view_layer.update()
        return loaded

    def ls(self) -> list[Container]:
        out = []
        for coll in self.bpy.data.collections:
            if CONTAINER_PROP in coll:
                out.append(self._container(coll))
        return sorted(out, key=lambda c: (c.record.prim_path, c.node))

    def update(self, container: Container, record: ContainerRecord) -> Container:
        """Replace the container's content with ``record``'s version, keeping its empty.

        The new version is imported first, into a temporary collection; only when that
        worked is the old content swapped out and the container relabelled. A failed
        import leaves the old content and metadata as they were (and raises).
        """
        bpy = self.bpy
        coll = self.collection(container)
        old = _props(coll)
        root = str(old.get("root_layer", "")) or record.extra.get("root_layer", "")
        staging = bpy.data.collections.new(f"{coll.name}.setpiece_update")
        bpy.context.scene.collection.children.link(staging)
        try:
            self._import_content(staging, record, root, parent=None)
        except BaseException:
            self._clear_content(staging, keep=None)
            bpy.data.collections.remove(staging)
            raise
        empty = _container_empty(coll)
        if empty is None:  # the artist deleted it: recreate one where it was loaded
            empty = self._new_empty(coll, record.prim_path.rsplit("/", 1)[-1] or record.asset)
        freed = {b.name for o in coll.all_objects if o is not empty for b in (o, o.data) if b}
        self._clear_content(coll, keep=empty)
        _move_content(staging, coll, empty, freed)
        bpy.data.collections.remove(staging)
        self._write_props(coll, record, root)
        bpy.context.view_layer.update()
        return self._container(coll)

    def remove(self, container: Container) -> None:
        coll = self.collection(container)
        self._clear_content(coll, keep=None)
        self.bpy.data.collections.remove(coll)

    def collection(self, container: Container | str) -> Any:
        """The ``bpy.types.Collection`` of a container (or of a collection name)."""
        name = container if isinstance(container, str) else container.node
        coll = self.bpy.data.collections.get(name)
        if coll is None or CONTAINER_PROP not in coll:
            raise SetpieceError(
                f"container {name!r} is not in the scene any more: refresh the inventory"
            )
        return coll

    def container_empty(self, container: Container | str) -> Any:
        """The empty that holds the container's transform (move this one)."""
        return _container_empty(self.collection(container))

    # setup bookkeeping (optional capability used by setpiece.hosts.setup_code)
    def get_container_data(self, container: Container, key: str) -> Any:
        value = self.collection(container).get(key)
        return _plain(value)

    def set_container_data(self, container: Container, key: str, value: Any) -> None:
        self.collection(container)[key] = value

    # -- export ------------------------------------------------------------------
    def export_usd(
        self,
        path: str,
        *,
        selection: bool = False,
        up_axis: str | None = None,
        meters_per_unit: float | None = None,
    ) -> str:
        """Export with ``bpy.ops.wm.usd_export``; optionally to a workspace's units/axis."""
        from setpiece.hosts.blender import usd_io

        out = Path(path).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        bpy = self.bpy
        kwargs = usd_io.export_kwargs(
            bpy, str(out), selection=selection, up_axis=up_axis, meters_per_unit=meters_per_unit
        )
        result = usd_io.run_operator(
            bpy, "usd_export", kwargs, what=f"export {out}",
            fix="see Blender's console for why, and check the folder can be written",
        )
        if "FINISHED" not in result or not out.is_file():
            raise SetpieceError(f"Blender did not export {out}: see Blender's console for why")
        if meters_per_unit is not None:
            usd_io.convert_units_after_export(bpy, str(out), float(meters_per_unit))
        return str(out)

    # -- integration -------------------------------------------------------------
    def install_menu(self, commands: Sequence[MenuCommand]) -> None:
        from setpiece.hosts.blender import ui

        _MENU_COMMANDS.clear()
        for index, command in enumerate(commands):
            _MENU_COMMANDS[f"{index:03d}"] = command
        ui.register(self.bpy, _MENU_COMMANDS, _REGISTERED)
        self._clean_up_at_exit()

    def load_tool_assets(self, workspace: Any) -> list[Any]:
        """Enable the add-ons installed tool assets ship (``setpiece.blender.addons``)."""
        from setpiece.hosts.blender.addons import enable_asset_addons

        return list(enable_asset_addons(workspace))

    def uninstall(self) -> None:
        """Remove setpiece's menu and scene-opened handler from this Blender session."""
        from setpiece.hosts.blender import ui

        ui.unregister(self.bpy, _REGISTERED)
        _MENU_COMMANDS.clear()
        self.clear_scene_callbacks()

    def menu_commands(self) -> list[MenuCommand]:
        """The entries of the installed ``setpiece`` menu, in order."""
        return [_MENU_COMMANDS[k] for k in sorted(_MENU_COMMANDS)]

    def on_scene_opened(self, callback: Callable[[], None]) -> None:
        bpy = self.bpy
        _SCENE_CALLBACKS.append(callback)
        handlers = bpy.app.handlers.load_post
        if not any(getattr(h, "_setpiece", False) for h in handlers):

            @bpy.app.handlers.persistent
            def setpiece_load_post(*_args: Any) -> None:
                for fn in list(_SCENE_CALLBACKS):
                    try:
                        fn()
                    except SetpieceError as exc:  # the artist can fix it: one line
                        log.error("setpiece: %s", exc)
                    except Exception:  # a broken callback must not break file loading
                        log.exception("setpiece scene-opened callback %r failed", fn)

            setpiece_load_post._setpiece = True
            handlers.append(setpiece_load_post)
        self._clean_up_at_exit()

    def _clean_up_at_exit(self) -> None:
        """``bpy`` as a Python module (no Blender binary) before 4.4 crashes at interpreter
        exit (SIGSEGV, run here on bpy 4.2.23 and 4.3.0; 4.4.0 does not) while a Python
        class or handler is still registered: take ours out first (``atexit`` runs before
        the module is torn down). The Blender app has its own exit path: nothing to do."""
        if _AT_EXIT or str(getattr(self.bpy.app, "binary_path", "blender")):
            return
        import atexit

        _AT_EXIT.append(True)
        atexit.register(self.uninstall)

    def clear_scene_callbacks(self) -> None:
        _SCENE_CALLBACKS.clear()
        handlers = self.bpy.app.handlers.load_post
        for h in [h for h in handlers if getattr(h, "_setpiece", False)]:
            handlers.remove(h)

    def defer(self, fn: Callable[[], None]) -> None:
        bpy = self.bpy
        if bpy.app.background:
            fn()
            return

        def tick() -> None:
            try:
                fn()
            except Exception:
                log.exception("setpiece deferred call %r failed", fn)
            return None  # run once

        bpy.app.timers.register(tick, first_interval=0.0)

    def every(self, seconds: float, fn: Callable[[], None]) -> None:
        """Call ``fn`` every ``seconds`` while the app runs (``bpy.app.timers``, kept across
        file loads); timers do not run in a background (``-b``) session."""

        def tick() -> float:
            try:
                fn()
            except Exception:
                log.exception("setpiece timer %r failed", fn)
            return seconds

        self.bpy.app.timers.register(tick, first_interval=seconds, persistent=True)

    def main_window(self) -> Any | None:
        return None  # Blender is not a Qt app: Qt tools run top-level (or out of process)

    def ask(self, message: str, on_yes: Callable[[], None], label: str = "Update") -> bool:
        """Offer ``on_yes`` to the artist in a popup; headless, return False (no one to ask)."""
        if self.is_headless():
            return False
        from setpiece.hosts.blender import ui

        ui.popup(self.bpy, message, MenuCommand(label, on_yes))
        return True

    # -- optional hook of the inventory window (setpiece.hosts.ui.inventory) -------
    def select(self, nodes: Sequence[str]) -> None:
        """Select these containers (collection names), replacing the selection: every
        object of their collections in the view layer; the first one's container empty
        becomes the active object."""
        collections = [self.collection(name) for name in nodes]
        view_layer = self.bpy.context.view_layer
        for obj in view_layer.objects:
            obj.select_set(False)
        active = None
        for coll in collections:
            for obj in coll.all_objects:
                if obj.name in view_layer.objects:
                    obj.select_set(True)
            empty = _container_empty(coll)
            if active is None and empty is not None and empty.name in view_layer.objects:
                active = empty
        if active is not None:
            view_layer.objects.active = active

    # -- internals ---------------------------------------------------------------
    def _container(self, coll: Any) -> Container:
        props = _props(coll)
        extra = {k: v for k, v in props.items() if k not in _RECORD_FIELDS and k != "name"}
        setup = _plain(coll.get(SETUP_PROP))
        if setup:
            extra["setup"] = setup
        record = ContainerRecord(
            prim_path=str(props.get("prim_path", "")),
            asset=str(props.get("name", "")),
            version=str(props.get("version", "")),
            identifier=str(props.get("identifier", "")),
            requirement=str(props.get("requirement", "")),
            kind=str(props.get("kind", "push")),
            layer=str(props.get("layer", "")),
            extra=extra,
        )
        return Container(node=coll.name, record=record)

    def _write_props(self, coll: Any, record: ContainerRecord, root: str) -> None:
        data = dict(record.metadata())
        data.update(prim_path=record.prim_path, layer=record.layer, root_layer=root)
        coll[CONTAINER_PROP] = data

    def _new_container(
        self, record: ContainerRecord, root: str, info: _StageInfo, whole_scene: bool = False
    ) -> Any:
        bpy = self.bpy
        label = record.prim_path.rsplit("/", 1)[-1] or record.asset
        coll = bpy.data.collections.new(label)
        bpy.context.scene.collection.children.link(coll)
        self._write_props(coll, record, root)
        empty = self._new_empty(coll, label)
        if not whole_scene:  # content imported from the scene itself carries its placement
            empty.matrix_world = _matrix(info.container_matrix(record.prim_path, record.layer))
        return coll

    def _new_empty(self, coll: Any, label: str) -> Any:
        empty = self.bpy.data.objects.new(label, None)
        empty.empty_display_type = "PLAIN_AXES"
        empty[ROLE_PROP] = "container"
        coll.objects.link(empty)
        return empty

    def _import_content(
        self,
        coll: Any,
        record: ContainerRecord,
        root: str,
        content: tuple[str, str] | None = None,
        *,
        parent: Any = "container",
    ) -> None:
        """Import ``record``'s content into ``coll``, its top-level objects parented to
        ``coll``'s container empty (``parent=None``: left unparented)."""
        from setpiece.hosts.blender import usd_io

        bpy = self.bpy
        layer, mask = content or _content_layer(record, root, self._search_paths())
        empty = _container_empty(coll) if parent == "container" else parent
        view_layer = bpy.context.view_layer
        previous = view_layer.active_layer_collection
        layer_coll = _find_layer_collection(view_layer.layer_collection, coll)
        if layer_coll is None:
            raise SetpieceError(
                f"container collection {coll.name!r} is not in the view layer: link it to the "
                "scene (or exclude nothing) and update again"
            )
        before = {o.name for o in coll.objects}
        view_layer.active_layer_collection = layer_coll
        try:
            kwargs: dict[str, Any] = {
                "filepath": layer,
                "merge_parent_xform": False,  # 4.4+; 4.2 and 4.3 always merge
                "create_collection": False,
                "import_proxy": False,
                "import_render": True,
            }
            if mask:
                kwargs["prim_path_mask"] = mask
            try:
                kwargs.update(usd_io.import_unit_kwargs(bpy, layer))
            except SetpieceError as exc:
                raise SetpieceError(
                    f"Blender could not import {record.asset} {record.version} from {layer} "
                    f"({' '.join(str(exc).split())[:200]}): check the layer with 'setpiece usd "
                    f"check {record.asset}'"
                )
            result = usd_io.run_operator(
                bpy, "usd_import", kwargs,
                what=f"import {record.asset} {record.version} from {layer}",
                fix=f"check the layer with 'setpiece usd check {record.asset}'",
            )
        finally:
            view_layer.active_layer_collection = previous
        if "FINISHED" not in result:
            raise SetpieceError(
                f"Blender did not import {record.asset} {record.version} from {layer}: see the "
                "console"
            )
        if empty is None:
            return
        new = [o for o in coll.objects if o.name not in before]
        for obj in new:
            if obj.parent is None and obj is not empty:
                obj.parent = empty
                obj.matrix_parent_inverse.identity()

    def _clear_content(self, coll: Any, keep: Any | None) -> None:
        bpy = self.bpy
        objects = [o for o in coll.all_objects if o is not keep]
        datas = [o.data for o in objects if o.data is not None]
        materials = [m for d in datas for m in getattr(d, "materials", ()) if m is not None]
        if objects:
            bpy.data.batch_remove(objects)
        orphans = [d for d in [*datas, *materials] if d.users == 0]
        if orphans:
            bpy.data.batch_remove(orphans)
        if keep is None:
            return
        for child in list(coll.children):
            coll.children.unlink(child)

    def _search_paths(self) -> list[str]:
        env = os.environ.get("PXR_AR_DEFAULT_SEARCH_PATH", "")
        return [*self.search_paths, *[p for p in env.split(os.pathsep) if p]]


# -- helpers (module level so tests and the runtime can use them) -------------------


def _props(coll: Any) -> dict[str, Any]:
    value = _plain(coll.get(CONTAINER_PROP))
    return dict(value) if isinstance(value, dict) else {}


def _plain(value: Any) -> Any:
    """ID property groups/arrays to plain Python."""
    if value is None:
        return None
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    to_list = getattr(value, "to_list", None)
    if callable(to_list):
        return to_list()
    return value


def _move_content(source: Any, target: Any, empty: Any, freed: set[str]) -> None:
    """Move everything of ``source`` into ``target``: top-level objects under ``empty``,
    renamed back to the names the old content had (``geo.001`` -> ``geo``), where free."""
    moved = list(source.objects)
    for obj in moved:
        target.objects.link(obj)
        source.objects.unlink(obj)
        if obj.parent is None and obj is not empty:
            obj.parent = empty
            obj.matrix_parent_inverse.identity()
    for child in list(source.children):
        target.children.link(child)
        source.children.unlink(child)
    for obj in moved:
        for block in (obj, obj.data):
            if block is None:
                continue
            name = block.name
            base = _unsuffixed(name)
            if base == name:
                continue
            wanted = [base, *sorted(n for n in freed if n != base and _unsuffixed(n) == base)]
            for candidate in wanted:
                if candidate == name:
                    break
                block.name = candidate
                if block.name == candidate:
                    freed.discard(candidate)
                    break
            else:  # every name still taken by something else: keep its own
                block.name = name


def _unsuffixed(name: str) -> str:
    base, dot, suffix = name.rpartition(".")
    return base if dot and suffix.isdigit() and len(suffix) == 3 else name


def _container_empty(coll: Any) -> Any | None:
    for obj in coll.objects:
        if obj.get(ROLE_PROP) == "container":
            return obj
    return None


def _find_layer_collection(layer_coll: Any, coll: Any) -> Any | None:
    if layer_coll.collection == coll:
        return layer_coll
    for child in layer_coll.children:
        found = _find_layer_collection(child, coll)
        if found is not None:
            return found
    return None


def _matrix(rows: Sequence[Sequence[float]]) -> Any:
    from mathutils import Matrix

    return Matrix([list(r) for r in rows])


def _content_layer(
    record: ContainerRecord, root: str, search_paths: Iterable[str]
) -> tuple[str, str]:
    """(layer to import, prim path mask) for one container's content."""
    candidates: list[Path] = []
    if record.layer:
        candidates.append(Path(record.layer))
    ident = record.identifier
    if ident:
        p = Path(ident)
        if p.is_absolute():
            candidates.append(p)
        else:
            candidates.append(Path(root).parent / ident)
            candidates.extend(Path(base) / ident for base in search_paths)
    for candidate in candidates:
        if candidate.is_file():
            layer = str(candidate.resolve())
            if layer == root:  # the scene is this one asset's own layer
                return layer, record.prim_path
            return layer, ""
    if not ident and not record.layer:
        return root, record.prim_path
    raise SetpieceError(
        f"{record.asset} {record.version}: interface layer {ident or record.layer!r} is not "
        f"installed: run 'setpiece install {record.asset}' and update again"
    )


class _StageInfo:
    """The scene layer's units, up axis and container placements, via ``pxr``.

    Placement in Blender space = C @ M @ C⁻¹, with M the container prim's local-to-world
    matrix in the scene's own space and C the conversion Blender applies to a stage of
    that ``metersPerUnit`` / ``upAxis`` (scale, then +90° about X for Y-up).
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._layout: Any = None

    def container_matrix(self, prim_path: str, layer: str) -> list[list[float]]:
        """Where the container's empty goes: the scene's placement of ``prim_path`` less the
        transform the asset's own layer already carries (the import shows that one), read
        through the shared ``SceneLayout`` that the Maya and Houdini adapters use too."""
        identity = [[1.0 if i == j else 0.0 for j in range(4)] for i in range(4)]
        if not prim_path:
            return identity
        if self._layout is None:
            from setpiece.hosts.layout import SceneLayout

            self._layout = SceneLayout(self.root)
        try:
            placed = self._layout.placement(prim_path, layer)
        except ImportError:
            log.warning("pxr is not importable: containers are placed at the origin")
            return identity
        if placed is None:
            return identity
        # In the scene's space; Blender converts a stage to metres and Z-up on import (C),
        # so its placement is C⁻¹·M·C with USD's row vectors (p' = p·M), then transposed:
        # Blender's matrices take column vectors.
        from setpiece.hosts.layout import conversion, inverse, matmul, matrix

        up = "Y" if str(self._layout.up_axis).upper() == "Y" else "Z"
        conv = conversion(float(self._layout.meters_per_unit), up, 1.0, "Z")
        world = matmul(matmul(inverse(conv), matrix(placed)), conv)
        return [[float(world[j][i]) for j in range(4)] for i in range(4)]
