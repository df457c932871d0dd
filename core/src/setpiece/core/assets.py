"""Assets as packages: installed ones (read from dist-info) and output ones (pyproject).

An installed distribution is an asset when its ``entry_points.txt`` has a
``[setpiece.asset]`` section (written by every asset setpiece scaffolds); everything else
in the venv is an ordinary Python package and is kept apart in every listing. The kind
and description travel in the wheel metadata (``Keywords: setpiece-kind:<kind>`` and
``Summary``). Discovery reads only small text files: no imports, no importlib scan.
"""

from __future__ import annotations

import errno
import json
import os
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.naming import import_name, normalize

if TYPE_CHECKING:  # packaging.requirements and email are imported when used
    from email.message import Message

    from packaging.requirements import Requirement

ASSET_GROUP = "setpiece.asset"
KIND_PREFIX = "setpiece-kind:"
ASSET_KEYWORD = "setpiece-asset"


def kind_from_keywords(keywords: str) -> str:
    kind = _KINDS.get(keywords)
    if kind is not None:
        return kind
    kind = ""
    for word in keywords.split(","):
        word = word.strip()
        if word.startswith(KIND_PREFIX):
            kind = word[len(KIND_PREFIX) :]
            break
    if len(_KINDS) < 1000:  # a handful of distinct keyword lines in a workspace
        _KINDS[keywords] = kind
    return kind


_KINDS: dict[str, str] = {}


def requirements_by_group(meta: Message) -> dict[str, list[Requirement]]:
    """Requires-Dist split by extra: ``""`` for the base dependencies."""
    from packaging.requirements import Requirement

    extras = list(meta.get_all("Provides-Extra") or [])  # read once (was once per req)
    out: dict[str, list[Requirement]] = {}
    for extra in extras:
        out.setdefault(extra, [])
    for text in meta.get_all("Requires-Dist") or []:
        req = Requirement(text)
        group = _group_of(req, extras)
        req.marker = None
        out.setdefault(group, []).append(req)
    return out


def _group_of(req: Requirement, extras: list[str]) -> str:
    """The first extra whose marker admits ``req`` (and the base would not), else ``""``."""
    if req.marker is not None:
        for extra in extras:
            if req.marker.evaluate({"extra": extra}) and not req.marker.evaluate({"extra": ""}):
                return extra
    return ""


# -- fast METADATA reading --------------------------------------------------------------
#
# Listing and scene builds read the METADATA of every installed asset. The email parser
# and packaging's requirement parser cost ~0.1 ms each per asset; the readers below
# handle the forms setpiece's build backend writes and fall back to them for anything
# else, so their results are always the same (tests/core/test_metadata_fast.py).

#: A header line as the email parser reads it (``Name: value``, leading blanks dropped).
_FIELD = re.compile(r"^([\041-\071\073-\176]+):[ \t]*(.*)$", re.MULTILINE)
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"[A-Za-z0-9.*+!_-]+"
_SPEC = rf"(?:~=|==|!=|<=|>=|<|>)[ \t]*{_VERSION}"
_FAST_REQ = re.compile(
    rf"[ \t]*({_NAME})[ \t]*"
    rf"(?:\[[ \t]*({_NAME}(?:[ \t]*,[ \t]*{_NAME})*)?[ \t]*\])?[ \t]*"
    rf"({_SPEC}(?:[ \t]*,[ \t]*{_SPEC})*)?[ \t]*"
    rf"""(?:;[ \t]*extra[ \t]*==[ \t]*(?:'({_NAME})'|"({_NAME})")[ \t]*)?"""
)
_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)
_MISSING_WIN = (21, 123, 1921)  # pathlib's _IGNORED_WINERRORS


_CANONICAL: dict[str, str] = {}


def _canonical(name: str) -> str:
    out = _CANONICAL.get(name)
    if out is None:
        out = normalize(name)
        if len(_CANONICAL) < 10_000:  # extra names: a handful
            _CANONICAL[name] = out
    return out


def read_header_fields(text: str) -> list[tuple[str, str]] | None:
    """METADATA's header fields in order, as the email parser reads them.

    A hand-written reader: it stops at the first blank line. Returns None when the
    header holds anything it does not read exactly like ``email`` does (folded lines,
    CR line ends, non-ASCII, malformed lines): the caller then uses the email parser.
    """
    head = text.split("\n\n", 1)[0]
    if not head:
        return []
    if (
        head[0] == "\n"  # a blank first line: no header at all
        or not head.isascii()
        or "\r" in head
        or "\n " in head
        or "\n\t" in head
    ):
        return None
    out: list[tuple[str, str]] = _FIELD.findall(head)
    if len(out) != head.count("\n") + (not head.endswith("\n")):
        return None  # a line that is no "Name: value" field
    return out


def parse_requirement_fast(text: str) -> Requirement:
    """``Requirement(text)``, without packaging's parser for the forms setpiece writes.

    ``name[extras]<specifiers>`` with an optional ``; extra == "group"`` marker; any
    other text goes through ``packaging.requirements.Requirement`` (same result, same
    errors).
    """
    m = _FAST_REQ.fullmatch(text)
    if m is None:
        from packaging.requirements import Requirement

        return Requirement(text)
    req = _fast_requirement(m, text)
    extra = m.group(4) or m.group(5)
    if extra:
        from packaging.markers import Marker

        req.marker = Marker(f'extra == "{_canonical(extra)}"')
    return req


def requirements_from_fields(fields: list[tuple[str, str]]) -> dict[str, list[Requirement]]:
    """:func:`requirements_by_group` on header fields from :func:`read_header_fields`."""
    extras: list[str] = []
    texts: list[str] = []
    for key, value in fields:
        if key == "Requires-Dist":  # the spelling every backend writes; others below
            texts.append(value)
        elif key == "Provides-Extra":
            extras.append(value)
        elif key[0] in "RrPp":
            low = key.lower()
            if low == "requires-dist":
                texts.append(value)
            elif low == "provides-extra":
                extras.append(value)
    out: dict[str, list[Requirement]] = {extra: [] for extra in extras}
    if not texts:
        return out
    canonical: dict[str, str] | None = None
    fullmatch = _FAST_REQ.fullmatch
    for text in texts:
        m = fullmatch(text)
        if m is None:  # a marker or form of its own: packaging decides its group
            from packaging.requirements import Requirement

            req = Requirement(text)
            group = _group_of(req, extras)
            req.marker = None
            out.setdefault(group, []).append(req)
            continue
        req = _fast_requirement(m, text)
        extra = m.group(4) or m.group(5)
        group = ""
        if extra:
            if canonical is None:
                canonical = {}
                for e in reversed(extras):  # the first extra of a canonical name wins
                    canonical[_canonical(e)] = e
            group = canonical.get(_canonical(extra), "")
        found = out.get(group)
        if found is None:
            out[group] = [req]
        else:
            found.append(req)
    return out


def _fast_requirement(m: re.Match[str], text: str) -> Requirement:
    """The Requirement of a ``_FAST_REQ`` match, its marker dropped.

    Its specifier is parsed when first read (a big set's 10,000 requirements are mostly
    read for their name): the text was checked to parse when first seen, so an invalid
    one still raises here, as the full parser does.
    """
    name, extras, spec = m.group(1, 2, 3)
    spec = spec or ""
    if spec not in _VALID_SPECS:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            from packaging.requirements import Requirement

            req = Requirement(text)  # raises, as the full parser does
            req.marker = None
            return req
        if len(_VALID_SPECS) < 10_000:
            _VALID_SPECS.add(spec)
    req = _lazy_class().__new__(_lazy_class())
    req.name = name
    req.url = None
    if not extras:
        req.extras = set()
    elif "," in extras:
        req.extras = {e.strip() for e in extras.split(",")}
    else:
        req.extras = {extras}  # one name: no blanks inside (see _FAST_REQ)
    req.spec_text = spec
    req.marker = None
    out: Requirement = req
    return out


_VALID_SPECS: set[str] = {""}
_LAZY: list[type] = []


def _lazy_class() -> Any:
    """``packaging``'s Requirement whose specifier is parsed from ``spec_text`` when read."""
    if _LAZY:
        return _LAZY[0]
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    class LazyRequirement(Requirement):
        __slots__ = ("_spec", "spec_text")
        _spec: SpecifierSet
        spec_text: str

        @property
        def specifier(self) -> SpecifierSet:
            try:
                spec = self._spec
            except AttributeError:
                spec = self._spec = SpecifierSet(self.spec_text)
            return spec

        @specifier.setter
        def specifier(self, value: SpecifierSet) -> None:
            self._spec = value
            self.spec_text = str(value)

        def __reduce__(self) -> Any:  # pickles as a plain Requirement
            return (Requirement, (str(self),))

    LazyRequirement.__name__ = LazyRequirement.__qualname__ = "Requirement"
    _LAZY.append(LazyRequirement)
    return LazyRequirement


class InstalledAsset:
    """An asset installed in the workspace's ``inputs/`` venv.

    ``headers``: METADATA's header fields read by the scan (first value of each; the index
    keeps Name, Summary and Keywords), so that listing 1,000 assets parses no email
    message; ``_meta`` parses fully when needed. ``fields``: METADATA's header fields in
    order (:func:`read_header_fields`; the index keeps Requires-Dist and Provides-Extra),
    so that requirements are read without the email parser or a second read; None: use
    ``_meta``.
    """

    def __init__(
        self,
        dist_info: Path | str,
        name: str,
        version: str,
        site_packages: Path,
        entry_points: str = "",
        headers: dict[str, str] | None = None,
        fields: list[tuple[str, str]] | None = None,
    ) -> None:
        self._dist_info = dist_info  # a str from the scan: made a Path when asked (10,000 x)
        self.name = name
        self.version = version
        self.site_packages = site_packages
        self.entry_points = entry_points
        self.headers: dict[str, str] = headers if headers is not None else {}
        self.fields = fields

    @property
    def dist_info(self) -> Path:
        path = self._dist_info
        if not isinstance(path, Path):
            path = self._dist_info = Path(path)
        return path

    @dist_info.setter
    def dist_info(self, value: Path | str) -> None:
        self._dist_info = value

    def __repr__(self) -> str:
        return (f"InstalledAsset(dist_info={os.fspath(self._dist_info)!r}, name={self.name!r}, "
                f"version={self.version!r})")

    @cached_property
    def _meta(self) -> Message:
        from setpiece.core.wheels import parse_metadata

        return parse_metadata((self.dist_info / "METADATA").read_bytes())

    @property
    def key(self) -> str:
        return normalize(self.name)

    @property
    def import_name(self) -> str:
        memo = self.__dict__.get("_import_name_memo")
        if memo is not None and memo[0] is self.entry_points and memo[1] == self.name:
            return str(memo[2])
        value = self._import_name()
        self.__dict__["_import_name_memo"] = (self.entry_points, self.name, value)
        return value

    def _import_name(self) -> str:
        for line in self.entry_points.split("[" + ASSET_GROUP + "]", 1)[-1].splitlines()[1:]:
            line = line.strip()
            if line.startswith("["):
                break
            if "=" in line:
                return line.split("=", 1)[1].strip().split(":", 1)[0]
        return import_name(self.name)

    def _header(self, key: str) -> str:
        if self.headers:
            return self.headers.get(key, "")
        return str(self._meta.get(key, "") or "")

    @property
    def kind(self) -> str:
        return kind_from_keywords(self._header("Keywords"))

    @property
    def description(self) -> str:
        return self._header("Summary")

    @cached_property
    def _direct_url(self) -> dict[str, Any]:
        return _read_direct_url(os.fspath(self.dist_info))  # the scan sets it: rarely read here

    @property
    def editable(self) -> bool:
        return bool(self._direct_url.get("dir_info", {}).get("editable"))

    @property
    def source_dir(self) -> Path | None:
        """For an editable install: the output asset's project folder."""
        url = self._direct_url.get("url", "")
        if self.editable and url.startswith("file:"):
            import urllib.parse
            import urllib.request  # here: ~0.1 s of imports (http.client) most commands skip

            return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        return None

    @property
    def package_path(self) -> str:
        """:attr:`package_dir` as a string (a scene build's hot loop: no pathlib)."""
        if self.editable:
            return os.fspath(self.package_dir)
        return f"{os.fspath(self.site_packages)}{os.sep}{self.import_name}"

    @property
    def package_dir(self) -> Path:
        """The folder of the asset's Python package (where ``asset.usda`` lives)."""
        src = self.source_dir
        if src is not None:
            for candidate in (src / "src" / self.import_name, src / self.import_name):
                if candidate.is_dir():
                    return candidate
        return self.site_packages / self.import_name

    def requirements(self, group: str = "") -> list[Requirement]:
        """Dependencies of ``group`` (``build``/``edit``/``export``; ``""`` = base)."""
        return list(self.groups().get(group, []))

    def groups(self) -> dict[str, list[Requirement]]:
        if self.fields is not None:
            return requirements_from_fields(self.fields)
        return requirements_by_group(self._meta)

    def entry_point_groups(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        current: dict[str, str] | None = None
        for line in self.entry_points.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = out.setdefault(line[1:-1], {})
            elif current is not None and "=" in line:
                k, v = line.split("=", 1)
                current[k.strip()] = v.strip()
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "description": self.description,
            "editable": self.editable,
            "package_dir": str(self.package_dir),
        }


def _dist_name_version(dist_info: Path | str) -> tuple[str, str]:
    stem = os.path.basename(dist_info)[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return name, version


def scan_site_packages(
    site_packages: Path, *, use_index: bool = True
) -> tuple[dict[str, InstalledAsset], list[tuple[str, str]]]:
    """(assets by normalised name, other distributions as (name, version)).

    Read through the installed index (:mod:`setpiece.core.installed_index`): only the
    distributions changed since it was made are read; ``use_index=False`` reads all.
    """
    if use_index:
        try:
            return _from_records(site_packages, scan_entries(site_packages))
        except (ValueError, TypeError, IndexError):  # an index of another shape: read all
            from setpiece.core import installed_index

            installed_index.forget(site_packages)
    return _from_records(site_packages, _read_all(site_packages))


def scan_entries(site_packages: Path) -> dict[str, tuple[str, Any]] | None:
    """Every ``*.dist-info`` of ``site_packages`` -> (path, [record, why half-installed]),
    through the installed index (None: no such folder). Records: :func:`read_dist`."""
    from setpiece.core import installed_index

    return installed_index.load(site_packages, read_entry)


def read_entry(path: str) -> list[Any]:
    """What the installed index keeps of one dist-info: its :func:`read_dist` record and
    why it is half-installed (``setpiece.core.half_installed``; None when whole)."""
    from setpiece.core.half_installed import why_broken

    return [read_dist(path), why_broken(path)]


def _from_records(
    site_packages: Path, dists: dict[str, tuple[str, Any]] | None
) -> tuple[dict[str, InstalledAsset], list[tuple[str, str]]]:
    assets: dict[str, InstalledAsset] = {}
    others: list[tuple[str, str]] = []
    if dists is None:
        return assets, others
    for dirname, (path, entry) in dists.items():
        record = entry[0]
        if not record:
            if record is None:
                name, _, version = dirname[: -len(".dist-info")].partition("-")
                others.append((name, version))
            continue  # False: half-installed (a killed install): install_checks.broken_dists
        key, published, summary, keywords, fields, eps, direct_url, imported = record
        headers = {"Name": published, "Summary": summary, "Keywords": keywords}
        asset = InstalledAsset(path, published, dirname[: -len(".dist-info")].partition("-")[2],
                               site_packages, eps, headers, fields)
        memo = asset.__dict__
        memo["_direct_url"] = direct_url  # the cached_property, read with the rest
        memo["_import_name_memo"] = (eps, published, imported)
        assets[key] = asset
    return dict(sorted(assets.items())), sorted(others)


def _read_all(site_packages: Path) -> dict[str, tuple[str, Any]] | None:
    try:
        entries = list(os.scandir(site_packages))
    except (FileNotFoundError, NotADirectoryError):
        return None
    return {e.name: (e.path, [read_dist(e.path), None]) for e in entries
            if e.name.endswith(".dist-info")}


#: the METADATA header fields an InstalledAsset answers from (the index keeps only these)
_KEPT_HEADERS = ("Name", "Summary", "Keywords")
#: the header fields requirements are read from (``requirements_from_fields``)
_KEPT_FIELDS = ("Requires-Dist", "Provides-Extra")


def read_dist(path: str) -> Any:
    """What the scan keeps of one ``.dist-info`` folder: None for a distribution that is no
    asset, False for a half-installed one (no readable METADATA), else
    ``[key, Name, Summary, Keywords, fields, entry_points text, direct_url, import name]``
    (plain JSON; ``key``: the normalised name of the folder, by which assets are listed)."""
    sep = os.sep
    try:
        eps = _read_text(f"{path}{sep}entry_points.txt")
    except (FileNotFoundError, NotADirectoryError):
        eps = ""
    except (OSError, UnicodeDecodeError):
        return False
    if "[" + ASSET_GROUP + "]" not in eps:
        return None
    try:
        text = _read_text(f"{path}{sep}METADATA")
    except (OSError, UnicodeDecodeError):
        return False
    fields = read_header_fields(text)
    headers: dict[str, str]
    if fields is not None:  # the same as _headers(text), one pass less
        headers = {}
        for key, value in fields:
            if key in _KEPT_HEADERS and key not in headers:
                headers[key] = value.strip()
    else:
        headers = {k: v for k, v in _headers(text).items() if k in _KEPT_HEADERS}
    if "Name" not in headers:
        return False  # an empty or cut METADATA: half-installed, as above
    kept: list[list[str]] | None = None
    if fields is not None:
        kept = [[k, v] for k, v in fields if k.title() in _KEPT_FIELDS]  # JSON's own shape
    direct_url = _read_direct_url(path)
    name = _dist_name_version(path)[0]
    asset = InstalledAsset(path, headers["Name"] or name, "", Path(), eps)
    return [normalize(name), asset.name, headers.get("Summary", ""),
            headers.get("Keywords", ""), kept, eps, direct_url, asset.import_name]


def _read_direct_url(dist_info: str) -> dict[str, Any]:
    # One open (no stat first): this runs for every asset.
    try:
        with open(os.path.join(dist_info, "direct_url.json"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        if exc.errno in _MISSING or getattr(exc, "winerror", None) in _MISSING_WIN:
            return {}  # what Path.exists() reads as "no such file"
        raise
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _read_text(path: str) -> str:
    """``open(path, encoding="utf-8").read()`` at half the cost (no TextIOWrapper)."""
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8")
    if "\r" in text:  # universal newlines, as text mode reads them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _headers(text: str) -> dict[str, str]:
    """The header fields of ``METADATA`` (up to the body), first value of each key."""
    out: dict[str, str] = {}
    key = ""
    for line in text.split("\n"):
        if not line.strip():
            break
        if line[0] in " \t":  # a folded continuation line
            if key and key in out:
                out[key] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            key = ""
            continue
        key = key.strip()
        if key in out:
            key = ""  # keep the first value only (Requires-Dist and friends repeat)
            continue
        out[key] = value.strip()
    return out
