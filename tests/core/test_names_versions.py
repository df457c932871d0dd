"""Asset names and versions: what is accepted, what is refused (and that nothing is written)."""

from __future__ import annotations

import pytest

from setpiece.core import SetpieceError
from setpiece.core.naming import (
    bump,
    next_after,
    next_in_line,
    normalize,
    validate_name,
    validate_version,
)

BAD_NAMES = [
    pytest.param("../x", id="path-escape"),
    pytest.param("a b", id="space"),
    pytest.param("", id="empty"),
    pytest.param("A" * 200, id="200-chars"),
    pytest.param("class", id="keyword-class"),
    pytest.param("import", id="keyword-import"),
    pytest.param("Lambda", id="keyword-any-case"),  # import name 'lambda'
    pytest.param("async", id="keyword-async"),
    pytest.param("1Chair", id="leading-digit"),
    pytest.param("_Chair", id="leading-underscore"),
    pytest.param("Chair.v2", id="dot"),
    pytest.param("Chair/Leg", id="slash"),
    pytest.param("Chaïr", id="non-ascii"),
    pytest.param("Chair\n", id="newline"),
]

# Import names are lower-cased ('None' -> 'none'), so the capitalised keywords True, False
# and None cannot collide with Python's: they are valid asset names.
GOOD_NAMES = ["Chair", "Kitchen_Chair", "kitchen-chair-2", "A", "x" * 64, "Class_", "None", "True"]

BAD_VERSIONS = [
    "1.2.3.4",  # four parts
    "1.2",  # two parts
    "1",
    "v1.2.3",
    "1.2.3-beta",  # SemVer spelling, not PEP 440
    "1.2.3+local",
    "1.2.x",
    "latest",
    "",
    "1.2.3 rc1",
    "1.2.3.rc1.post",
]

GOOD_VERSIONS = ["0.1.0", "1.2.3", "1.2.3rc1", "1.2.3a1", "1.2.3b2", "1.2.3.post1", "1.2.3.dev2",
                 "10.20.30", "1.2.3rc1.post2.dev3"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_validate_name_refuses(name: str) -> None:
    with pytest.raises(SetpieceError) as exc:
        validate_name(name)
    message = str(exc.value)
    assert "\n" not in message
    assert "name" in message


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_validate_name_accepts(name: str) -> None:
    assert validate_name(name) == name


def test_names_compare_case_insensitively() -> None:
    assert normalize("Kitchen_Chair") == normalize("kitchen-chair") == normalize("KITCHEN__chair")


def test_keyword_message_names_the_import_name() -> None:
    with pytest.raises(SetpieceError, match="import name 'class'"):
        validate_name("Class")  # import name is 'class'


@pytest.mark.parametrize("version", BAD_VERSIONS)
def test_validate_version_refuses(version: str) -> None:
    with pytest.raises(SetpieceError, match="invalid version"):
        validate_version(version)


@pytest.mark.parametrize("version", GOOD_VERSIONS)
def test_validate_version_accepts(version: str) -> None:
    assert validate_version(version)


@pytest.mark.parametrize(
    ("version", "part", "expected"),
    [
        ("1.2.3", "major", "2.0.0"),
        ("1.2.3", "minor", "1.3.0"),
        ("1.2.3", "micro", "1.2.4"),
        ("1.2.3", "pre", "1.2.4rc1"),
        ("1.2.4rc1", "pre", "1.2.4rc2"),
        ("1.2.4rc2", "micro", "1.2.4"),
        ("1.2.3", "post", "1.2.3.post1"),
        ("1.2.3.post1", "post", "1.2.3.post2"),
        ("1.2.3", "dev", "1.2.4.dev1"),
        ("1.2.4.dev1", "dev", "1.2.4.dev2"),
        ("1.2.4.dev2", "micro", "1.2.4"),
    ],
)
def test_bump(version: str, part: str, expected: str) -> None:
    assert bump(version, part) == expected
    validate_version(expected)


def test_bump_unknown_part() -> None:
    with pytest.raises(SetpieceError, match="unknown version part"):
        bump("1.0.0", "patch")


def test_next_after_moves_past_every_published_version() -> None:
    assert next_after(["1.0.0", "1.1.0", "2.0.0"], "1.0.0") == "2.0.1"
    assert next_after([], "1.0.0") == "1.0.1"
    assert next_after(["1.0.0"], "3.0.0") == "3.0.1"


def test_next_in_line_continues_a_maintenance_line() -> None:
    published = ["1.2.3", "1.3.0", "1.3.1", "2.0.0"]
    assert next_in_line(published, "1.3.0") == "1.3.2"
    assert next_in_line(published, "1.2.3") == "1.2.4"
    assert next_in_line(published, "2.0.0") == "2.0.1"
    assert next_in_line(["1.3.0rc1"], "1.3.0rc1") == "1.3.0"  # the release of a pre-release


# -- through the CLI: refused with one line, exit 1, nothing created -------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_create_refuses_bad_name(make_workspace, run_cli, snap, name: str) -> None:
    ws = make_workspace()
    before = snap(ws.root, skip=(".setpiece",))
    r = run_cli("-w", ws.root, "create", name)
    r.user_error("name")
    assert snap(ws.root, skip=(".setpiece",)) == before
    assert list(ws.outputs.iterdir()) == []
    assert ws.installed_assets() == {}


@pytest.mark.parametrize("version", ["1.2.3.4", "1.2", "v1.0.0", "1.0.0-beta", "1.0.0+local"])
def test_create_refuses_bad_version(make_workspace, run_cli, snap, version: str) -> None:
    ws = make_workspace()
    before = snap(ws.root)
    r = run_cli("-w", ws.root, "create", "Chair", "--version", version)
    r.user_error("invalid version", version)
    assert snap(ws.root) == before


@pytest.mark.parametrize(
    "command",
    [
        ["info", "../x"],
        ["versions", "a b"],
        ["install", "class"],
        ["edit", "../x"],
        ["promote", "../x==1.0.0", "--to", "blessed"],
        ["require", "Chair", "../x"],
    ],
)
def test_bad_names_refused_everywhere(make_workspace, run_cli, command: list[str]) -> None:
    ws = make_workspace()
    ws.create("Chair")
    run_cli("-w", ws.root, *command).user_error()


@pytest.mark.parametrize("spec", ["Chair==1.2.3.4", "Chair==1.0", "Chair==banana"])
def test_bad_versions_refused_in_specs(make_workspace, run_cli, spec: str) -> None:
    ws = make_workspace()
    run_cli("-w", ws.root, "promote", spec, "--to", "blessed").user_error("version")
    run_cli("-w", ws.root, "edit", spec).user_error("version")


def test_create_is_case_insensitive(make_workspace, run_cli) -> None:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "create", "Chair").exit_code == 0
    r = run_cli("-w", ws.root, "create", "chair")
    r.user_error("already exists")
    assert [p.name for p in ws.outputs.iterdir()] == ["Chair"]


def _versions_to_bump() -> list[str]:
    """Every shape of version setpiece accepts: releases with and without pre, post, dev."""
    import itertools

    out = []
    for release, pre, post, dev in itertools.product(
        ["0.0.0", "0.1.0", "1.2.3", "2.0.9", "10.20.30"],
        ["", "a0", "a1", "b2", "rc1", "rc9"],
        ["", ".post0", ".post1", ".post4"],
        ["", ".dev0", ".dev1", ".dev7"],
    ):
        out.append(f"{release}{pre}{post}{dev}")
    return out


def test_every_bump_goes_strictly_forward() -> None:
    """Property: for every accepted version and every part, the bump is a valid version
    strictly greater than the one bumped (never backwards, never the same)."""
    from packaging.version import Version

    from setpiece.core.naming import BUMP_PARTS

    backwards = []
    for version in _versions_to_bump():
        validate_version(version)
        for part in BUMP_PARTS:
            new = bump(version, part)
            assert validate_version(new) == new, (version, part, new)
            if not Version(new) > Version(version):
                backwards.append(f"{version} +{part} -> {new}")
    assert backwards == []


def test_bump_pre_of_a_post_release_of_a_pre_release() -> None:
    assert bump("1.2.3rc1.post1", "pre") == "1.2.3rc2"
    assert bump("1.2.3rc1.post1.dev2", "pre") == "1.2.3rc2"
    assert bump("1.2.3rc1.dev2", "pre") == "1.2.3rc1"


@pytest.mark.parametrize("text", [
    "Chair", " Chair ", "KitchenSet[build]", "Table>=1.2.3,<2", "Table >= 1.2.3 , < 2",
    "Lamp==3.2.1", "my-chair_2[build,edit]~=1.2", "Chair===1.0.0", "Chair!=1.0.*",
    "Chair>=1.0.0rc1", "Chair==1.0.0.post1", "Chair[build]>1,<=2.0.0.dev3",
])
def test_install_request_fast_path_agrees_with_packaging(text: str) -> None:
    from packaging.requirements import Requirement

    from setpiece.core.requirements import _SIMPLE, request_name

    assert _SIMPLE.fullmatch(text), "a simple form must not need packaging"
    assert request_name(text) == Requirement(text).name


@pytest.mark.parametrize(("text", "fragment"), [
    ("../x", "invalid"), ("a b", "invalid"), ("Chair>=", "invalid requirement"),
    ("class", "reserved"), ("Chair @ https://example.com/c.whl", "URL"),
    ("Chair; python_version > '3'", None),  # not simple: packaging decides, and accepts it
])
def test_install_request_errors_are_the_same_either_way(text: str, fragment: str | None) -> None:
    from setpiece.core.requirements import request_name

    if fragment is None:
        assert request_name(text) == "Chair"
        return
    with pytest.raises(SetpieceError) as exc:
        request_name(text)
    assert fragment in str(exc.value)
