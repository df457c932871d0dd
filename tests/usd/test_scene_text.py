"""The generated layer's text: the fast template writes exactly what Sdf writes."""

from __future__ import annotations

import random

import pytest

from setpiece.usd.closure import resolve_closure
from setpiece.usd.metadata import StageMetadata
from setpiece.usd.scene import (
    BuildOptions,
    _plan,
    generated_layer_text,
    generated_layer_text_sdf,
)


def _texts(site, root: str, options: BuildOptions, monkeypatch=None) -> tuple[str, str]:
    closure = resolve_closure(root, site.installed, options.group)
    planned = _plan(closure, options, [])
    sdf = generated_layer_text_sdf(closure, options, planned)
    if monkeypatch is not None and planned:  # the template is used: Sdf writes no container
        import setpiece.usd.scene as scene

        def no_containers(closure, options, planned):
            assert not planned, "the template fell back to Sdf"
            return generated_layer_text_sdf(closure, options, planned)

        monkeypatch.setattr(scene, "generated_layer_text_sdf", no_containers)
    fast = generated_layer_text(closure, options, planned)
    if monkeypatch is not None:
        monkeypatch.undo()
    return fast, sdf


@pytest.mark.parametrize("layout", ["flat", "kind"])
@pytest.mark.parametrize("arc", ["reference", "payload"])
def test_template_matches_sdf(site, layout: str, arc: str, monkeypatch) -> None:
    rng = random.Random(f"{layout}{arc}")
    kinds = ["prop", "set", "character", "fx"]
    names = []
    for i in range(40):
        name = rng.choice(["Chair", "table", "My-Lamp", "Vase_2", "X"]) + f"{i}"
        version = rng.choice(["1.0.0", "2.3.4rc1", "0.1.0.post2", "3.0.0.dev1", "1.0.0+local.7"])
        site.add(name, version, kind=rng.choice(kinds))
        names.append((name, version))
    build = []
    for name, version in names:
        spec = rng.choice(["", f"=={version}", ">=0.1.dev0,<9", "!=7.0", ">0.0.1"])
        build.append(f"{name}{spec}")
    site.add("Mid", kind="set", build=[f"{n}" for n, _ in names[:5]])
    site.add("Shot", kind="shot", build=[*build, "Mid"])
    other = StageMetadata(up_axis="Z", meters_per_unit=1.0, time_codes_per_second=25.0,
                          start_time_code=1001.0, end_time_code=1100.0)
    for metadata in (StageMetadata(), other):
        options = BuildOptions(layout=layout, arc=arc, metadata=metadata)
        fast, sdf = _texts(site, "Shot", options, monkeypatch)
        assert fast == sdf
        groups = len({a.kind for a in site.installed.values()}) if layout == "kind" else 0
        assert fast.count('def Xform "') == len(names) + 3 + groups  # World, Mid, Shot, props


def test_unusual_strings_go_through_sdf(site) -> None:
    """A string the template was not checked on: the whole layer is Sdf's (same text)."""
    site.add("Chair")
    site.add("Shot", kind="shot", build=["Chair"])
    options = BuildOptions()
    closure = resolve_closure("Shot", site.installed, "build")
    planned = _plan(closure, options, [])
    chair = next(c for c in planned if c.entry.asset.name == "Chair")
    chair.entry.requirement = 'Chair "quoted"\\ and\nnewline'
    fast, sdf = (generated_layer_text(closure, options, planned),
                 generated_layer_text_sdf(closure, options, planned))
    assert fast == sdf and "newline" in fast


def test_empty_scene_text(site) -> None:
    site.add("Shot", kind="shot", interface=False)
    fast, sdf = _texts(site, "Shot", BuildOptions())
    assert fast == sdf and 'def Xform "World"' in fast
