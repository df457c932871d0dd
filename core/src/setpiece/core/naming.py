"""Asset names and versions: validation, normalisation, bumping.

Names: a letter, then letters, digits, ``_`` or ``-``; at most 64 characters; compared
case-insensitively (PEP 503 normalisation); the import name (``my_chair``) must not be a
Python keyword. Versions: ``major.minor.micro`` with an optional pre/post/dev suffix in
PEP 440 spelling (``1.2.3``, ``1.2.3rc1``, ``1.2.3.post1``, ``1.2.3.dev2``).
"""

from __future__ import annotations

import keyword
import re

from setpiece.core.errors import BadInput

TYPE_CHECKING = False  # packaging.version is imported when a version is parsed (start-up)
if TYPE_CHECKING:
    from packaging.version import Version

MAX_NAME_LENGTH = 64
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")

BUMP_PARTS = ("major", "minor", "micro", "pre", "post", "dev")


def normalize(name: str) -> str:
    """PEP 503 normalised form, used for every comparison (``My_Chair`` -> ``my-chair``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def import_name(name: str) -> str:
    """The Python package an asset ships (``My-Chair`` -> ``my_chair``)."""
    return normalize(name).replace("-", "_")


def wheel_name(name: str) -> str:
    """The distribution part of a wheel file name (``My-Chair`` -> ``my_chair``)."""
    return import_name(name)


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid asset name, else raise a one-line error."""
    if not isinstance(name, str) or not name:
        raise BadInput("asset name is empty: give a name such as 'Chair'")
    if len(name) > MAX_NAME_LENGTH:
        raise BadInput(
            f"asset name '{name[:20]}...' is {len(name)} characters long: "
            f"use at most {MAX_NAME_LENGTH}"
        )
    if not _NAME_RE.fullmatch(name):  # fullmatch: "$" would accept a trailing newline
        raise BadInput(
            f"invalid asset name '{name}': start with a letter, then use only letters, "
            "digits, '_' or '-' (e.g. 'Kitchen_Chair')"
        )
    if keyword.iskeyword(import_name(name)) or import_name(name) in {"setpiece", "test"}:
        raise BadInput(
            f"invalid asset name '{name}': its import name '{import_name(name)}' is reserved "
            "in Python; choose another name (e.g. '{name}Asset')".replace("{name}", name)
        )
    return name


def parse_version(text: str) -> Version:
    """Parse a SemVer-shaped PEP 440 version or raise a one-line error."""
    from packaging.version import InvalidVersion, Version

    text = str(text).strip()
    if not _VERSION_RE.match(text):
        raise BadInput(
            f"invalid version '{text}': use major.minor.micro with an optional suffix "
            "(1.2.3, 1.2.3rc1, 1.2.3.post1, 1.2.3.dev2)"
        )
    try:
        return Version(text)
    except InvalidVersion:  # pragma: no cover - the regex is stricter than PEP 440
        raise BadInput(f"invalid version '{text}'")


def validate_version(text: str) -> str:
    return str(parse_version(text))


def bump(version: str, part: str) -> str:
    """Next version for ``part`` (major|minor|micro|pre|post|dev).

    ``major``/``minor``/``micro`` of a pre-release or dev release finish it when the
    base matches (``1.3.0rc1`` + micro -> ``1.3.0``), like most release tools.
    """
    from packaging.version import Version

    v = parse_version(version)
    major, minor, micro = v.release
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "micro":
        if v.pre or (v.dev is not None and v.post is None):  # post0 is a post release too
            return f"{major}.{minor}.{micro}"
        return f"{major}.{minor}.{micro + 1}"

    if part == "pre":
        if v.pre:
            tag, num = v.pre
            if v.dev is not None and v.post is None:  # 1.2.3rc1.dev2 -> 1.2.3rc1
                return f"{major}.{minor}.{micro}{tag}{num}"
            return f"{major}.{minor}.{micro}{tag}{num + 1}"  # rc1, rc1.post1 -> rc2
        return f"{major}.{minor}.{micro + 1}rc1"
    if part == "post":
        base = str(Version(f"{major}.{minor}.{micro}"))
        if v.pre:
            base += f"{v.pre[0]}{v.pre[1]}"
        post = (v.post or 0) + 1 if v.post is not None else 1
        return f"{base}.post{post}"
    if part == "dev":
        if v.dev is not None:
            return str(v).rsplit(".dev", 1)[0] + f".dev{v.dev + 1}"
        return f"{major}.{minor}.{micro + 1}.dev1"
    raise BadInput(f"unknown version part '{part}': use one of {', '.join(BUMP_PARTS)}")


def next_after(versions: list[str], base: str) -> str:
    """A version past every one in ``versions`` and ``base`` (micro bump of the newest)."""
    from packaging.version import Version

    newest = max([parse_version(base), *(Version(v) for v in versions)])
    major, minor, micro = newest.release
    if newest.is_prerelease and Version(f"{major}.{minor}.{micro}") not in {
        Version(v) for v in versions
    }:
        return f"{major}.{minor}.{micro}"
    return f"{major}.{minor}.{micro + 1}"


def next_in_line(versions: list[str], base: str) -> str:
    """The next free version of ``base``'s maintenance line (same major.minor): editing
    Table 1.3.0 while 2.0.0 exists gives 1.3.1 (or past the newest 1.3.x), so a bounded
    dependent (``Table<2``) can get the fix."""
    from packaging.version import Version

    line = parse_version(base).release[:2]
    return next_after([v for v in versions if Version(v).release[:2] == line], base)
