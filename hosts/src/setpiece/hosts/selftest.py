"""The host selftest a studio runs in the real app (``setpiece selftest HOST``): a small
sample set written as plain ``.usda`` (no ``pxr`` needed), and the runner that loads it,
checks placement, lists, updates, exports, saves, removes and reopens through the host
contract, one PASS/FAIL line per step.

Containers of a given root layer are read by :func:`setpiece.usd.containers.read_containers`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.containers import ContainerRecord
from setpiece.core.errors import SetpieceError

if TYPE_CHECKING:
    from setpiece.hosts.protocol import Container, Host


# -- the selftest sample set (plain .usda text: no pxr needed to write it) ---------------

_ASSET_USDA = """#usda 1.0
(
    defaultPrim = "{name}"
    metersPerUnit = 1
    upAxis = "Y"
)

def Xform "{name}" (
    kind = "component"
    assetInfo = {{
        string name = "{name}"
        string version = "{version}"
        asset identifier = @{identifier}@
    }}
)
{{
    def Cube "geo"
    {{
        double size = {size}
    }}
}}
"""

_ROOT_HEADER = """#usda 1.0
(
    defaultPrim = "World"
    metersPerUnit = 1
    upAxis = "Y"
)

def Xform "World" (
    kind = "assembly"
)
{
"""

_ROOT_PRIM = """    def "{prim}" (
        kind = "component"
        assetInfo = {{
            string name = "{name}"
            string version = "{version}"
            asset identifier = @{identifier}@
            string requirement = "{requirement}"
            string kind = "{dep_kind}"
        }}
        prepend references = @{identifier}@
    )
    {{{layout}
    }}
"""

#: The sample set's layout: the Chair is placed (2, 0, -1) metres from the origin and turned
#: 90° about the up axis; the Table stays at the origin.
SAMPLE_LAYOUT: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "Chair": ((2.0, 0.0, -1.0), (0.0, 90.0, 0.0)),
}

_LAYOUT_OPS = """
        double3 xformOp:translate = ({t[0]}, {t[1]}, {t[2]})
        float3 xformOp:rotateXYZ = ({r[0]}, {r[1]}, {r[2]})
        uniform token[] xformOpOrder = ["xformOp:translate", "xformOp:rotateXYZ"]"""


@dataclass(frozen=True)
class SampleScene:
    """A tiny set written by :func:`write_sample_scene`.

    ``records``: the containers of ``root_layer``; ``update_to``: a newer record for
    the first container (its ``v2`` interface layer exists on disk).
    """

    root_layer: str
    records: tuple[ContainerRecord, ...]
    update_to: ContainerRecord


def write_sample_scene(folder: str | os.PathLike[str]) -> SampleScene:
    """Write the sample set (a Chair 1.0.0 with a 2.0.0 beside it, a Table 1.0.0).

    The root layer places the Chair as :data:`SAMPLE_LAYOUT` says (metres, Y up).
    """
    root = Path(folder)
    assets = [
        ("Chair", "1.0.0", "chair/1.0.0/asset.usda", 1.0, "Chair>=1", "semi-push"),
        ("Table", "1.0.0", "table/1.0.0/asset.usda", 2.0, "Table", "push"),
    ]
    chair_v2 = ("Chair", "2.0.0", "chair/2.0.0/asset.usda", 1.5)
    for name, version, ident, size, *_ in [*assets, (*chair_v2, "", "")]:
        target = root / str(ident)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            _ASSET_USDA.format(name=name, version=version, identifier=ident, size=size),
            encoding="utf-8",
        )
    body = [_ROOT_HEADER]
    records = []
    for name, version, ident, _size, requirement, dep_kind in assets:
        body.append(
            _ROOT_PRIM.format(
                prim=name,
                name=name,
                version=version,
                identifier=ident,
                requirement=requirement,
                dep_kind=dep_kind,
                layout=_layout_ops(str(name)),
            )
        )
        records.append(
            ContainerRecord(
                prim_path=f"/World/{name}",
                asset=str(name),
                version=str(version),
                identifier=str(ident),
                requirement=str(requirement),
                kind=str(dep_kind),
                layer=str(root / str(ident)).replace("\\", "/"),
            )
        )
    body.append("}\n")
    root_layer = root / "scene.usda"
    root_layer.write_text("".join(body), encoding="utf-8")
    update_to = dataclasses.replace(
        records[0],
        version=chair_v2[1],
        identifier=chair_v2[2],
        layer=str(root / chair_v2[2]).replace("\\", "/"),
    )
    return SampleScene(str(root_layer).replace("\\", "/"), tuple(records), update_to)


def _layout_ops(name: str) -> str:
    placed = SAMPLE_LAYOUT.get(name)
    if placed is None:
        return ""
    return _LAYOUT_OPS.format(t=placed[0], r=placed[1])


# -- the selftest runner -----------------------------------------------------------------


@dataclass
class SelftestReport:
    """What a selftest checked: one line per step, PASS or FAIL."""

    host: str
    steps: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.steps) and bool(self.steps)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def lines(self) -> list[str]:
        out = [f"setpiece selftest {self.host}"]
        for name, passed, detail in self.steps:
            out.append(
                f"  {'PASS' if passed else 'FAIL'}  {name}" + (f": {detail}" if detail else "")
            )
        failed = sum(1 for _, passed, _ in self.steps if not passed)
        out.append(
            f"{'ok' if self.ok else 'FAILED'}: {len(self.steps) - failed} passed, {failed} failed"
        )
        return out


@dataclass
class TransformProbe:
    """Host-specific: set a user transform on a container and read it back."""

    set: Callable[[Container], None]
    get: Callable[[Container], Any]
    label: str = "user transform kept"


#: A host-specific probe: where a loaded container is in the app, in metres along the
#: scene's Y-up axes (the probe converts from the app's units and up axis).
PlacementProbe = Callable[["Container"], Sequence[float]]


class _Abort(Exception):
    pass


def run_selftest(
    host: Host,
    *,
    root_layer: str | None = None,
    containers: Sequence[ContainerRecord] | None = None,
    workdir: str | None = None,
    transform: TransformProbe | None = None,
    placement: PlacementProbe | None = None,
    extra_steps: Sequence[tuple[str, Callable[[Sequence[Container], Path], str | None]]] = (),
    out: Callable[[str], None] | None = None,
) -> SelftestReport:
    """Build (or take) a small scene, load it, check, update, export, save; report.

    ``root_layer``: a scene root layer to use instead of the sample set; its containers
    are ``containers`` when given, else read from its assetInfo
    (:func:`setpiece.usd.containers.read_containers`).
    ``workdir``: where the sample, the export and the saved scene go (a temp dir if None).
    ``placement``: checks, on the sample set, that each container arrived where the sample
    layout (:data:`SAMPLE_LAYOUT`) puts it (step "layout").
    ``extra_steps``: the host's own checks of what differs across its versions, each
    ``(name, fn(loaded containers, workdir) -> detail)``, run after ``export_usd``.
    """
    from setpiece.hosts.protocol import SceneLoad

    report = SelftestReport(host=host.name or type(host).__name__)
    work = (
        Path(workdir)
        if workdir
        else Path(tempfile.mkdtemp(prefix=f"setpiece-selftest-{report.host}-"))
    )
    work.mkdir(parents=True, exist_ok=True)

    def step(name: str, fn: Callable[[], str | None], *, fatal: bool = False) -> bool:
        try:
            detail = fn() or ""
            report.steps.append((name, True, detail))
            return True
        except Exception as exc:  # a selftest reports every failure, never stops on one
            msg = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            if not isinstance(exc, (AssertionError, SetpieceError)):
                msg += " | " + traceback.format_exc().strip().splitlines()[-2].strip()
            report.steps.append((name, False, msg))
            if fatal:
                raise _Abort from exc
            return False

    state: dict[str, Any] = {}

    def identity() -> str:
        version = host.app_version()
        assert version, "app_version() is empty"
        return f"{report.host} {version}, headless={host.is_headless()}"

    def prepare() -> str:
        host.new_scene()
        if root_layer:
            from setpiece.usd.containers import read_containers

            records = list(containers) if containers is not None else read_containers(root_layer)
            assert records, f"no containers (prims with assetInfo) in {root_layer}"
            state["scene"] = SceneLoad(root_layer, tuple(records))
            first = records[0]
            state["update_to"] = dataclasses.replace(first, version=first.version + "+selftest")
            return f"{len(records)} containers in {root_layer}"
        sample = write_sample_scene(work / "sample")
        state["scene"] = SceneLoad(sample.root_layer, sample.records)
        state["update_to"] = sample.update_to
        return f"sample set in {work / 'sample'}"

    def load() -> str:
        scene: SceneLoad = state["scene"]
        loaded = host.load(scene)
        want = sorted((r.asset, r.version) for r in scene.containers)
        got = sorted((c.asset, c.version) for c in loaded)
        assert got == want, f"load returned {got}, expected {want}"
        state["loaded"] = loaded
        return ", ".join(f"{c.asset} {c.version} -> {c.node}" for c in loaded)

    def layout() -> str:
        assert placement is not None
        found = []
        for container in state["loaded"]:
            want = SAMPLE_LAYOUT.get(container.asset, ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)))[0]
            got = tuple(round(float(v), 4) + 0.0 for v in placement(container))
            assert got == want, (
                f"{container.asset} is at {got} m, the layout puts it at {want} m"
            )
            found.append(f"{container.asset} at {got} m")
        return ", ".join(found)

    def listing() -> str:
        scene: SceneLoad = state["scene"]
        found = host.ls()
        got = sorted((c.record.prim_path, c.asset, c.version, c.record.identifier) for c in found)
        want = sorted((r.prim_path, r.asset, r.version, r.identifier) for r in scene.containers)
        assert got == want, f"ls() read back {got}, expected {want}"
        return f"{len(found)} containers read back from the scene"

    def update() -> str:
        target: Container = state["loaded"][0]
        new: ContainerRecord = state["update_to"]
        before = None
        if transform is not None:
            transform.set(target)
            before = transform.get(target)
        updated = host.update(target, new)
        assert updated.version == new.version, f"update returned {updated.version}"
        again = [c for c in host.ls() if c.node == updated.node]
        assert again and again[0].version == new.version, (
            f"after update, ls() shows {[c.version for c in again]} on {updated.node}"
        )
        if transform is not None:
            after = transform.get(updated)
            assert after == before, f"changed by update: {before} -> {after}"
        state["loaded"][0] = updated
        return f"{target.asset} {target.version} -> {updated.version}" + (
            f", {transform.label}" if transform is not None else ""
        )

    def export() -> str:
        path = str(work / "export.usda")
        written = host.export_usd(path)
        assert Path(written).is_file(), f"export_usd returned {written}, no such file"
        assert Path(written).stat().st_size > 0, f"{written} is empty"
        return written

    def save() -> str:
        ext = {"maya": ".ma", "houdini": ".hip", "nuke": ".nk"}.get(report.host, ".scene")
        path = str(work / f"selftest{ext}")
        saved = host.save_scene(path)
        assert Path(saved).is_file(), f"save_scene returned {saved}, no such file"
        current = host.current_scene()
        assert current and Path(current).resolve() == Path(saved).resolve(), (
            f"current_scene() is {current}, expected {saved}"
        )
        return saved

    def remove() -> str:
        victim: Container = state["loaded"][-1]
        host.remove(victim)
        left = [c.node for c in host.ls()]
        assert victim.node not in left, f"{victim.node} still listed after remove"
        return f"removed {victim.node}; {len(left)} left"

    def reopen() -> str:
        saved = host.current_scene()
        assert saved, "no current scene to reopen"
        host.new_scene()
        assert not host.ls(), "new_scene() left containers behind"
        host.open_scene(saved)
        found = sorted(c.asset for c in host.ls())
        want = sorted(c.asset for c in state["loaded"])
        assert found == want, f"reopened scene lists {found}, expected {want}"
        return f"{saved}: {len(found)} containers"

    try:
        step("identity", identity)
        step("prepare scene", prepare, fatal=True)
        step("load", load, fatal=True)
        if placement is not None and not root_layer:
            step("layout", layout)
        step("ls", listing)
        step("update", update)
        step("export_usd", export)
        for name, fn in extra_steps:
            step(name, lambda fn=fn: fn(list(state["loaded"]), work))  # type: ignore[misc]
        step("save_scene", save)
        step("reopen", reopen)
        step("remove", remove)
    except _Abort:
        pass
    emit = out or (lambda line: print(line, file=sys.stdout))
    for line in report.lines():
        emit(line)
    return report


def selftest_argv(argv: Sequence[str] | None, host: str) -> Mapping[str, str | None]:
    """Parse ``[--root-layer PATH] [--workdir DIR]`` for a host's selftest ``main``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=f"setpiece.hosts.{host}.selftest",
        description=f"Check setpiece's {host} adapter inside the real app.",
    )
    parser.add_argument("--root-layer", help="a scene root layer to load instead of the sample set")
    parser.add_argument("--workdir", help="where to write the sample, export and saved scene")
    args = parser.parse_args(list(argv) if argv is not None else None)
    return {"root_layer": args.root_layer, "workdir": args.workdir}
