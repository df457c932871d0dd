"""The fast METADATA readers give what the email parser and packaging give."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement

from setpiece.core.assets import (
    parse_requirement_fast,
    read_header_fields,
    requirements_by_group,
    requirements_from_fields,
    scan_site_packages,
)
from setpiece.core.wheels import parse_metadata

TRICKY_REQUIREMENTS = [
    "Chair",
    "chair",
    "My-Chair",
    "my_chair.v2",
    "Chair[build]",
    "chair[build] ; extra == 'build'",
    'Chair[build]; extra == "build"',
    "Chair [ build , edit ] >= 1.2 , < 2 ; extra == 'Build'",
    "Chair[Build_Stuff]>=1; extra == 'build-stuff'",
    "Chair[build]>=1.2.3,<2",
    "Chair>=1.2.3,<2,!=1.5",
    "Chair==1.2.3",
    "Chair===1.2.3",
    "Chair==1.2.*",
    "Chair~=1.2",
    "Chair>1a1",
    "Chair<=2.0.post1",
    "Chair==1.0+local.1",
    "Chair (>=1,<2)",
    "Chair>=1 ; python_version >= '3'",
    "Chair>=1; extra == 'build' and python_version >= '3'",
    "Chair; 'build' == extra",
    "Chair; extra != 'build'",
    "Chair; (extra == 'build')",
    "Chair @ https://example.com/chair.whl",
    "Chair @ file:///tmp/chair.whl ; extra == 'build'",
    "Chair[]",
    "Chair[build,]",
    "Chair>=",
    "Chair>=1.0.*",
    "Chair==1.2.3 ",
    "  Chair",
    "Chair-",
    "-Chair",
    "Chair>=1,,<2",
    "Chair; extra == 'build' ",
    "Chair; extra == 'bu ild'",
    "Chair; extra == ''",
    "Chair;extra=='build'",
    "Chair>= 1.0",
    "Chair\t>=1",
    "Chair[build]==1.0; extra == \"edit\"",
]


def _same(a: Requirement, b: Requirement) -> None:
    assert isinstance(a, Requirement) and isinstance(b, Requirement)  # a lazy subclass or not
    assert (a.name, a.url, a.extras, str(a.specifier), a.specifier.prereleases) == (
        b.name, b.url, b.extras, str(b.specifier), b.specifier.prereleases
    )
    assert str(a.marker) == str(b.marker)
    assert str(a) == str(b)
    assert a == b


def _parse(fn, text: str):  # type: ignore[no-untyped-def]
    try:
        return fn(text), None
    except InvalidRequirement as exc:
        return None, str(exc)


@pytest.mark.parametrize("text", TRICKY_REQUIREMENTS)
def test_parse_requirement_fast_matches_packaging(text: str) -> None:
    fast, fast_error = _parse(parse_requirement_fast, text)
    slow, slow_error = _parse(Requirement, text)
    assert fast_error == slow_error
    if slow is not None:
        _same(fast, slow)
        assert fast.marker is None or fast.marker.evaluate({"extra": "build"}) == (
            slow.marker is not None and slow.marker.evaluate({"extra": "build"})
        )


def test_parse_requirement_fast_random() -> None:
    rng = random.Random(4)
    pieces = ["Chair", "my_chair", "a.b-c", "[build]", "[build, edit]", "[", "]", " ",
              ">=1", "<2", ",", "==1.2.3", "~=1.0", "!=1.5.*", "===x", "; extra == 'build'",
              '; extra == "Edit"', ";", "(", ")", "1", "\t", "@ x", "extra"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        fast, fast_error = _parse(parse_requirement_fast, text)
        slow, slow_error = _parse(Requirement, text)
        assert fast_error == slow_error, text
        if slow is not None:
            _same(fast, slow)


def _groups_both(text: str) -> tuple[dict, dict | None]:  # type: ignore[type-arg]
    slow = requirements_by_group(parse_metadata(text.encode()))
    fields = read_header_fields(text)
    return slow, (requirements_from_fields(fields) if fields is not None else None)


def _same_groups(slow: dict, fast: dict) -> None:  # type: ignore[type-arg]
    assert list(fast) == list(slow)
    for group in slow:
        assert len(fast[group]) == len(slow[group])
        for a, b in zip(fast[group], slow[group], strict=True):
            _same(a, b)


HEAD = "Metadata-Version: 2.3\nName: KitchenSet\nVersion: 1.0.0\n"


@pytest.mark.parametrize(
    "body",
    [
        # uv_build's form: Requires-Dist before Provides-Extra, single quotes, lower case
        "Requires-Dist: chair[build] ; extra == 'build'\n"
        "Requires-Dist: lamp[build]==3.2.1 ; extra == 'build'\n"
        "Requires-Dist: table[build]>=1.2.3,<2 ; extra == 'build'\n"
        "Requires-Python: >=3.10\nProvides-Extra: build\nProvides-Extra: edit\n"
        "Provides-Extra: export\n",
        # extras spelled differently from the marker (normalised comparison)
        "Provides-Extra: Build_Stuff\nRequires-Dist: Chair; extra == 'build-stuff'\n",
        # a marker on an extra that is not provided: a base dependency
        "Requires-Dist: Chair; extra == 'nope'\nProvides-Extra: build\n",
        # markers of other kinds, base deps, case of the header names
        "requires-dist: Vase>=1; python_version >= '3'\nPROVIDES-EXTRA: build\n"
        "Requires-Dist: Table[build]; extra == 'build' and python_version >= '3'\n"
        "Requires-Dist: Chair\n",
        # duplicated extras, an empty extra, spaces
        "Provides-Extra: build\nProvides-Extra: build\nProvides-Extra: \n"
        "Requires-Dist:   Chair [ build ] >= 1 , < 2 ;extra=='build'\n",
        # folded (continuation) lines: the email parser's business
        "Summary: a\n  long summary\nRequires-Dist: Chair; extra == 'build'\n"
        "Provides-Extra: build\n",
        # a body after the header, which looks like headers
        "Provides-Extra: build\n\nRequires-Dist: Nope\nDescription text\n",
        # no requirements at all
        "",
        # CRLF line ends
        "Provides-Extra: build\r\nRequires-Dist: Chair; extra == 'build'\r\n",
    ],
)
def test_requirements_from_fields_match_email(body: str) -> None:
    slow, fast = _groups_both(HEAD + body)
    if fast is None:  # the reader declined: the asset falls back to the email parser
        assert "\r" in body or "\n " in body
        return
    _same_groups(slow, fast)


def test_requirements_from_fields_random() -> None:
    rng = random.Random(7)
    lines = [
        "Provides-Extra: build", "Provides-Extra: Edit", "Provides-Extra: export",
        "Requires-Dist: chair[build] ; extra == 'build'",
        "Requires-Dist: Table>=1,<2; extra == \"edit\"",
        "Requires-Dist: Lamp==3.2.1",
        "Requires-Dist: Vase; python_version >= '3'",
        "Requires-Dist: Rug[build,export]~=1.0; extra == 'EXPORT'",
        "Requires-Dist: Rug; extra == 'build' or extra == 'edit'",
        "Summary: things: and more",
        "Keywords: setpiece-asset,setpiece-kind:set",
    ]
    for _ in range(300):
        body = "".join(line + "\n" for line in rng.sample(lines, rng.randint(0, len(lines))))
        slow, fast = _groups_both(HEAD + body)
        assert fast is not None
        _same_groups(slow, fast)


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "Summary: x\n\nbody",
        HEAD + "Summary:  leading spaces kept out, trailing kept  \n",
        HEAD + "Odd Name: x\n",
        HEAD + "Name-Only-Line\nRequires-Dist: Chair\n",
        "From someone\n" + HEAD,
        HEAD + "Summary: caf\u00e9\n",
        HEAD + "X:\n",
        HEAD + "Summary: a: b: c\nKeywords:k\n",
        HEAD + "Summary: x\x0cy\x1cz\x0b\nRequires-Dist: b\n",
        HEAD + "Summary:\tx\t\n",
        HEAD.rstrip("\n"),
        "\n" + HEAD,
        "",
        "\n\n" + HEAD,
        HEAD + "\n\n\nSummary: in the body\n",
        " Lead: x\n" + HEAD,
    ],
)
def test_read_header_fields_match_email(text: str) -> None:
    fields = read_header_fields(text)
    if fields is None:
        return  # declined: the email parser reads it
    msg = parse_metadata(text.encode())
    assert fields == list(msg.items())


def test_scan_keeps_fields_and_groups_match_email(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    bodies = {
        "Chair": "Requires-Dist: lamp[build]==3.2.1 ; extra == 'build'\nProvides-Extra: build\n",
        "Table": "Requires-Dist: vase>=1\n",
        "Folded": "Summary: a\n folded summary\nRequires-Dist: vase>=1\n",
    }
    for name, body in bodies.items():
        info = site / f"{name.lower()}-1.0.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.3\nName: {name}\nVersion: 1.0.0\n"
                                       + body)
        (info / "entry_points.txt").write_text(f"[setpiece.asset]\n{name} = {name.lower()}\n")
    assets, _ = scan_site_packages(site)
    assert assets["chair"].fields is not None and assets["folded"].fields is None
    for asset in assets.values():
        slow = requirements_by_group(parse_metadata((asset.dist_info / "METADATA").read_bytes()))
        _same_groups(slow, asset.groups())
    assert [str(r) for r in assets["chair"].requirements("build")] == ["lamp[build]==3.2.1"]
    assert assets["folded"].description == "a folded summary"


@pytest.mark.parametrize(
    "text",
    [
        HEAD + "Summary:  padded  \nKeywords: setpiece-asset,setpiece-kind:prop\n"
        "Summary: second\n\nBody: no\n",
        HEAD + "Summary: a\n  folded\n\tsummary\nKeywords: k\n",
        HEAD + "Odd line\nSummary: s\n",
        HEAD.replace("\n", "\r\n") + "Summary: crlf\r\n",
        HEAD + "Summary: x\n \nKeywords: after a blank-looking line\n",
    ],
)
def test_scan_headers_are_the_line_reader_s(tmp_path: Path, text: str) -> None:
    """Whichever reader the scan uses, ``headers`` is what the text-mode reader gives."""
    from setpiece.core.assets import _headers

    info = tmp_path / "chair-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(text.encode())
    (info / "entry_points.txt").write_bytes(b"[setpiece.asset]\r\nChair = chair\r\n")
    asset = scan_site_packages(tmp_path)[0]["chair"]
    with open(info / "METADATA", encoding="utf-8") as fh:
        full = _headers(fh.read())
    for key in ("Name", "Summary", "Keywords"):  # the fields an asset answers from
        assert asset.headers.get(key, "") == full.get(key, "")
    assert asset.entry_points == (info / "entry_points.txt").read_text(encoding="utf-8")
    assert asset.import_name == "chair"


def test_direct_url_read_once_without_stat(tmp_path: Path) -> None:
    info = tmp_path / "chair-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(HEAD)
    (info / "entry_points.txt").write_text("[setpiece.asset]\nChair = chair\n")
    assert not scan_site_packages(tmp_path)[0]["chair"].editable
    src = tmp_path / "outputs" / "Chair"
    (src / "src" / "chair").mkdir(parents=True)
    (info / "direct_url.json").write_text(
        json.dumps({"url": src.as_uri(), "dir_info": {"editable": True}})
    )
    asset = scan_site_packages(tmp_path)[0]["chair"]
    assert asset.editable and asset.package_dir == src / "src" / "chair"
    (info / "direct_url.json").write_text("not json")
    assert not scan_site_packages(tmp_path)[0]["chair"].editable
