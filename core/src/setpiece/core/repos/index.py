"""An index repo: any PEP 503 package index that accepts uploads (pypiserver, devpi, ...).

Reads use the simple API; uploads use the legacy upload API that twine and uv speak.
Small index servers queue only a few pending connections, so installs from an index
repo cap uv's download concurrency (``UV_CONCURRENT_DOWNLOADS``, 4 by default here;
``concurrency = N`` in the repo's config).
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from setpiece.core.errors import AccessDenied, AlreadyPublished, RemoteUnreachable, SetpieceError
from setpiece.core.naming import normalize
from setpiece.core.repos.base import Repo
from setpiece.core.wheels import check_wheel, parse_metadata, parse_wheel_name, read_metadata_bytes

if TYPE_CHECKING:
    from setpiece.core.repos.dependents import VersionRecord

TIMEOUT = 15.0


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.links.append((self._href, data.strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


class IndexRepo(Repo):
    kind = "index"

    @property
    def simple_url(self) -> str:
        url = self.location
        return url if url.endswith("/") else url + "/"

    @property
    def upload_url(self) -> str:
        url = self.options.get("upload_url")
        if url:
            return str(url)
        base = self.simple_url
        for suffix in ("simple/", "+simple/"):
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base

    @property
    def env_prefix(self) -> str:
        """``SETPIECE_REPO_<NAME>``: where this repo's credentials come from."""
        return f"SETPIECE_REPO_{re.sub(r'[^A-Za-z0-9]', '_', self.name).upper()}"

    def credentials(self) -> tuple[str, str] | None:
        """(username, password) from the environment (never from or into setpiece.toml)."""
        user = os.environ.get(f"{self.env_prefix}_USERNAME") or self.options.get("username")
        password = os.environ.get(f"{self.env_prefix}_PASSWORD") or self.options.get("password")
        if not user and not password:
            return None
        return str(user or ""), str(password or "")

    def _auth_header(self) -> dict[str, str]:
        creds = self.credentials()
        if creds is None:
            return {}
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _login_hint(self) -> str:
        return (f"set {self.env_prefix}_USERNAME and {self.env_prefix}_PASSWORD in the "
                "environment")

    def _opener(self) -> urllib.request.OpenerDirector:
        """urllib, following redirects only within the index's own host (like uv, which
        setpiece keeps from reaching any other host: see ``workspace._no_redirects_env``)."""
        repo = self

        class _SameHost(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                                 newurl: str) -> Any:
                old, new = urllib.parse.urlparse(req.full_url), urllib.parse.urlparse(newurl)
                if (old.hostname, old.port) != (new.hostname, new.port):
                    raise SetpieceError(
                        f"index repo '{repo.name}' redirected {req.full_url} to {newurl}, another "
                        "host: assets never come from anywhere but the workspace's repos, so it "
                        "was not followed; turn the index's fallback off (pypiserver: "
                        "--disable-fallback)"
                    )
                return super().redirect_request(req, fp, code, msg, headers, newurl)

        return urllib.request.build_opener(_SameHost)

    def _get(self, url: str) -> bytes | None:
        req = urllib.request.Request(url, headers=self._auth_header())
        try:
            with self._opener().open(req, timeout=TIMEOUT) as resp:
                data: bytes = resp.read()
                return data
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            if exc.code in (401, 403):
                given = "were refused" if self.credentials() else "are needed"
                raise AccessDenied(
                    f"index repo '{self.name}' answered {exc.code} {exc.reason} for {url}: "
                    f"credentials {given}; {self._login_hint()}"
                )
            raise SetpieceError(
                f"index repo '{self.name}' answered {exc.code} {exc.reason} for {url}: "
                "check the URL"
            )
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteUnreachable(
                f"index repo '{self.name}' at {self.location} is unreachable ({reason}): "
                "check the URL or start the server"
            )
        except ValueError as exc:  # http.client.InvalidURL: a malformed host or port
            raise SetpieceError(f"index repo '{self.name}': {exc}: fix the URL")

    def check_login(self) -> None:
        """Raise the one-line 401/403 error if the index refuses us (other failures pass)."""
        try:
            self._get(self.simple_url)
        except AccessDenied:
            raise
        except SetpieceError:
            pass

    def check(self) -> None:
        parts = urllib.parse.urlsplit(self.location)
        if parts.username or parts.password:
            bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
            raise SetpieceError(
                f"index repo '{self.name}': the URL holds credentials, which would be written "
                f"to setpiece.toml and shown in logs: add it as {bare} and "
                f"{self._login_hint()}")
        self._get(self.simple_url)
        self._check_no_fallback()

    def _check_no_fallback(self) -> None:
        """Refuse an index that sends names it lacks to another server (pypiserver's default
        fallback redirects them to PyPI): uv would follow it and install a public package
        in place of a missing asset (dependency confusion)."""

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        probe = urllib.parse.urljoin(self.simple_url, f"setpiece-probe-{uuid.uuid4().hex[:12]}/")
        opener = urllib.request.build_opener(_NoRedirect)
        req = urllib.request.Request(probe, headers=self._auth_header())
        try:
            with opener.open(req, timeout=TIMEOUT):
                pass
        except urllib.error.HTTPError as exc:
            target = exc.headers.get("Location", "") if 300 <= exc.code < 400 else ""
            if target and urllib.parse.urlparse(urllib.parse.urljoin(probe, target)).netloc != (
                urllib.parse.urlparse(probe).netloc
            ):
                raise SetpieceError(
                    f"index repo '{self.name}' redirects names it does not have to {target}: "
                    "assets must never come from a public index; turn the fallback off "
                    "(pypiserver: --disable-fallback)"
                )
        except (urllib.error.URLError, OSError):
            return
        self._check_not_a_proxy()

    #: a name every proxy of PyPI serves and no asset repo holds
    PUBLIC_PROBE = "pip"

    def _check_not_a_proxy(self) -> None:
        """Refuse an index that serves PyPI itself (devpi with ``bases=root/pypi``, an
        Artifactory/Nexus virtual or proxy repo): it answers public names with no redirect,
        so uv would install a public package in place of a missing asset."""
        try:
            files = self._files(self.PUBLIC_PROBE)
        except SetpieceError:
            return  # unreachable or refused: check() has said so already
        if files:
            raise SetpieceError(
                f"index repo '{self.name}' at {self.location} serves the public package "
                f"'{self.PUBLIC_PROBE}' ({len(files)} files): it proxies PyPI (devpi bases=root/pypi, "
                "an Artifactory/Nexus virtual repo) and assets must never come from a public "
                "index; use an index that holds only your packages"
            )

    def _files(self, project: str) -> list[tuple[str, str]]:
        """(absolute url, filename) of every wheel of ``project``."""
        url = urllib.parse.urljoin(self.simple_url, normalize(project) + "/")
        data = self._get(url)
        if data is None:
            return []
        parser = _Links()
        parser.feed(data.decode("utf-8", "replace"))
        out = []
        for href, text in parser.links:
            absolute = urllib.parse.urljoin(url, href)
            filename = text or urllib.parse.urlparse(absolute).path.rsplit("/", 1)[-1]
            if filename.endswith(".whl"):
                out.append((absolute, filename))
        return out

    def versions(self, project: str) -> list[str]:
        vs = set()
        for _, filename in self._files(project):
            wn = parse_wheel_name(filename)
            if wn and wn.project == normalize(project):
                vs.add(wn.version)

        def key(v: str) -> Any:
            try:
                return Version(v)
            except InvalidVersion:
                return Version("0")

        return sorted(vs, key=key)

    def _project_names(self) -> list[str]:
        """Every project the server lists (its root page)."""
        data = self._get(self.simple_url) or b""
        parser = _Links()
        parser.feed(data.decode("utf-8", "replace"))
        return sorted({normalize(text or href.strip("/").rsplit("/", 1)[-1]) for href, text in parser.links})

    def projects(self) -> dict[str, list[str]]:
        return {n: self.versions(n) for n in self._project_names()}

    def _find(self, project: str, version: str) -> tuple[str, str]:
        for url, filename in self._files(project):
            wn = parse_wheel_name(filename)
            if wn and wn.project == normalize(project) and Version(wn.version) == Version(version):
                return url, filename
        raise SetpieceError(
            f"{project}=={version} is not in repo '{self.name}' ({self.location}): "
            f"see 'setpiece versions {project} --repo {self.name}'"
        )

    def fetch(self, project: str, version: str, dest: Path) -> Path:
        url, filename = self._find(project, version)
        data = self._get(url.split("#", 1)[0])
        if data is None:
            raise SetpieceError(f"index repo '{self.name}' lost {filename}: publish it again")
        frag = urllib.parse.urlparse(url).fragment
        if frag.startswith("sha256=") and hashlib.sha256(data).hexdigest() != frag[7:]:
            raise SetpieceError(
                f"corrupted wheel {filename} in repo '{self.name}': its sha256 does not match "
                "the index; remove it from the server and publish again"
            )
        dest.mkdir(parents=True, exist_ok=True)
        out = dest / filename
        out.write_bytes(data)
        check_wheel(out)
        return out

    def metadata(self, project: str, version: str) -> bytes:
        url, filename = self._find(project, version)
        return self._metadata(url, filename)

    def _metadata(self, url: str, filename: str) -> bytes:
        """A wheel's METADATA: from the local cache, else the server's PEP 658 file
        (``<wheel url>.metadata``), else the wheel itself; then cached under
        ``$SETPIECE_HOME/cache/metadata`` by the wheel's sha256 (published versions never
        change, so an entry never goes stale)."""
        import tempfile

        from setpiece.core.fsutil import atomic_write_bytes
        from setpiece.core.paths import setpiece_home

        frag = urllib.parse.urlparse(url).fragment
        key = frag[7:] if frag.startswith("sha256=") else hashlib.sha256(url.encode()).hexdigest()
        cache = setpiece_home() / "cache" / "metadata" / f"{key}-{filename}.metadata"
        try:
            return cache.read_bytes()
        except OSError:
            pass
        data = self._get(url.split("#", 1)[0] + ".metadata")
        if data is None:
            with tempfile.TemporaryDirectory() as tmp:
                wn = parse_wheel_name(filename)
                if wn is None:
                    raise SetpieceError(f"{filename} is not a wheel file name")
                data = read_metadata_bytes(self.fetch(wn.name, wn.version, Path(tmp)))
        try:
            atomic_write_bytes(cache, data, durable=False)
        except OSError:
            pass  # a read-only home: slower next time, still right
        return data

    def version_records(self) -> Iterator[VersionRecord]:
        """Every version's requirements: one page request per project, and the metadata of
        each version not yet in the local cache."""
        from setpiece.core.repos.dependents import VersionRecord

        for name in self._project_names():
            for url, filename in self._files(name):
                if parse_wheel_name(filename) is not None:
                    yield VersionRecord.from_metadata(self._metadata(url, filename))

    def publish(self, wheel: Path, *, sha256: str | None = None) -> None:
        check_wheel(wheel)
        wn = parse_wheel_name(wheel.name)
        if wn is None:
            raise SetpieceError(f"{wheel.name} is not a wheel file name")
        if self.has_version(wn.project, wn.version):
            raise AlreadyPublished(
                f"{wn.project} {wn.version} is already published in repo '{self.name}': "
                f"published versions never change; bump first ('setpiece bump {wn.project} micro')"
            )
        meta = parse_metadata(read_metadata_bytes(wheel))
        data = wheel.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise SetpieceError(
                f"{wheel.name} has other bytes than expected (sha256 "
                f"{hashlib.sha256(data).hexdigest()}, expected {sha256}): nothing was uploaded "
                f"to repo '{self.name}'; run it again")
        fields = {
            ":action": "file_upload",
            "protocol_version": "1",
            "metadata_version": meta.get("Metadata-Version", "2.3"),
            "name": meta.get("Name", wn.name),
            "version": meta.get("Version", wn.version),
            "filetype": "bdist_wheel",
            "pyversion": "py3",
            "summary": meta.get("Summary", ""),
            "sha256_digest": hashlib.sha256(data).hexdigest(),
            "md5_digest": hashlib.md5(data).hexdigest(),
        }
        boundary = uuid.uuid4().hex
        body = bytearray()
        for key, value in fields.items():
            body += (
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n"
            ).encode()
        body += (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; "
            f"filename=\"{wheel.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        body += data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **self._auth_header()}
        req = urllib.request.Request(self.upload_url, data=bytes(body), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 409:
                raise AlreadyPublished(
                    f"{wn.project} {wn.version} is already published in repo '{self.name}': "
                    f"bump first ('setpiece bump {wn.project} micro')"
                )
            raise SetpieceError(
                f"upload of {wheel.name} to repo '{self.name}' failed: {exc.code} {exc.reason}; "
                "check upload_url and credentials (SETPIECE_REPO_<NAME>_USERNAME/_PASSWORD)"
            )
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteUnreachable(
                f"index repo '{self.name}' at {self.upload_url} is unreachable "
                f"({getattr(exc, 'reason', exc)}): check the URL or start the server"
            )

        if sha256 is not None:
            served = self.digests(wn.project).get(str(Version(wn.version)))
            if served is not None and served[1] not in (None, sha256):
                raise SetpieceError(
                    f"{wheel.name} arrived in repo '{self.name}' with other bytes than sent "
                    f"(the index says sha256 {served[1]}, sent {sha256}): remove it from the "
                    "server and run it again")

    def digests(self, project: str) -> dict[str, tuple[str, str | None]]:
        """version -> (wheel file name, sha256 from the index's link, None if it gives none)."""
        out: dict[str, tuple[str, str | None]] = {}
        for url, filename in self._files(project):
            wn = parse_wheel_name(filename)
            if wn is None or wn.project != normalize(project):
                continue
            frag = urllib.parse.urlparse(url).fragment
            try:
                key = str(Version(wn.version))
            except InvalidVersion:
                continue
            out[key] = (filename, frag[7:] if frag.startswith("sha256=") else None)
        return out

    def index_url(self) -> str:
        """The simple URL, checked again on every use: an index that began to redirect
        names it lacks, or to proxy PyPI, since ``repo add`` is refused (two requests)."""
        self._check_no_fallback()
        return self.simple_url

    def uv_index_name(self) -> str | None:
        """Passed to uv as a named index when it needs a login, so uv reads the credentials
        from ``UV_INDEX_<NAME>_USERNAME/_PASSWORD`` (never from argv or a file)."""
        return self.name if self.credentials() else None

    def uv_env(self) -> dict[str, str]:
        env = {"UV_CONCURRENT_DOWNLOADS": str(self.options.get("concurrency", 4))}
        creds = self.credentials()
        if creds is not None:
            key = f"UV_INDEX_{re.sub(r'[^A-Za-z0-9]', '_', self.name).upper()}"
            env[f"{key}_USERNAME"], env[f"{key}_PASSWORD"] = creds
        return env
