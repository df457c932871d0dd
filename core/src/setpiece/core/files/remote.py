"""A repo's files remote: where the bytes its published versions point to are kept.

- A folder repo keeps them in its own folder by default: objects under
  ``<repo>/files/md5/xx/...`` (a plain dvc remote rooted at the repo folder), so a shared
  repo folder is one thing to mount, back up and serve.
- Any dvc remote by configuration, for any repo (an index repo needs one)::

      [repos.review]
      location = "https://pypi.studio.lan/review/"
      files_remote = "s3://studio-assets/review"
      files_remote_options = { endpointurl = "http://minio.lan:9000", profile = "studio" }

  ``files_remote_options`` are dvc remote options (``dvc remote modify`` names). Cloud
  remotes need dvc's plugin for them (``pip install "dvc[s3]"``, ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError
from setpiece.core.files.store import describe_os_error

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace


@dataclass
class FilesRemote:
    repo: str
    url: str
    odb: Any  # dvc_data HashFileDB
    local: bool

    def missing(self, oids: set[str]) -> set[str]:
        """The objects of ``oids`` that this remote does not hold."""
        if not oids:
            return set()
        try:
            if self.local:
                return {o for o in oids if not self.odb.exists(o)}
            present = set(self.odb.oids_exist(sorted(oids)))
        except Exception as exc:
            raise unreachable(self, exc)
        return set(oids) - present


def unreachable(remote: FilesRemote, exc: BaseException) -> SetpieceError:
    return SetpieceError(
        f"the files remote of repo '{remote.repo}' ({remote.url}) is unreachable: "
        f"{describe_os_error(exc)}; check the network or files_remote in setpiece.toml"
    )


def configured_url(ws: Workspace, repo: str) -> str | None:
    """The files remote URL of a repo, or None when it has none (no dvc import)."""
    from setpiece.core.repos.base import is_url

    entry = ws.config.repos.get(repo)
    if entry is None:
        ws.repo(repo)  # raises the usual "unknown repo" error
        return None
    url = entry.get("files_remote") or _site_remote(ws, repo)[0]
    if url:
        url = str(url)
        if url.startswith("file://"):
            url = url[len("file://"):]
        if "://" not in url and not Path(url).expanduser().is_absolute():
            url = str((ws.root / url).resolve())
        return str(Path(url).expanduser()) if "://" not in url else url
    location = str(entry.get("location", ""))
    if not location or is_url(location):
        return None
    p = Path(location).expanduser()
    return str(p if p.is_absolute() else (ws.root / p).resolve())


def _site_remote(ws: Workspace, repo: str) -> tuple[str | None, dict[str, Any]]:
    """The files remote (and its options) of the site ``repo`` is at, if it names one."""
    if "sites" not in ws.config.data:
        return None, {}
    from setpiece.core.sites import site_of

    site = site_of(ws, repo)
    if site is None or not site.files_remote:
        return None, {}
    return site.files_remote, dict(site.files_remote_options)


def not_configured(repo: str) -> SetpieceError:
    return SetpieceError(
        f"repo '{repo}' has no files remote: add files_remote = \"s3://bucket/path\" (any dvc "
        f"remote URL) under [repos.{repo}] in setpiece.toml"
    )


def open_remote(ws: Workspace, repo: str) -> FilesRemote:
    """The files remote of ``repo``; a one-line error if it has none or it cannot be reached."""
    url = configured_url(ws, repo)
    if url is None:
        raise not_configured(repo)
    entry = ws.config.repos.get(repo, {})
    options = dict(entry.get("files_remote_options", {}) or {}) if entry.get("files_remote") \
        else dict(_site_remote(ws, repo)[1])
    from dvc_data.hashfile.db import get_odb

    if "://" not in url:
        from dvc_objects.fs.local import LocalFileSystem

        root = Path(url)
        if not root.is_dir():
            raise SetpieceError(
                f"the files remote of repo '{repo}' ({root}) is unreachable: the folder does not "
                "exist; mount it, create it, or fix files_remote in setpiece.toml"
            )
        fs = LocalFileSystem()
        odb = get_odb(fs, os.path.join(str(root), "files", "md5"), hash_name="md5")
        return FilesRemote(repo, url, odb, True)
    try:
        from dvc.fs import get_cloud_fs

        cls, config, fs_path = get_cloud_fs(None, url=url, **options)
        fs = cls(**config)
    except Exception as exc:  # unknown scheme, missing plugin, bad option
        text = describe_os_error(exc)
        hint = ""
        if "missing dependencies" in text or isinstance(exc, ImportError):
            scheme = url.split("://", 1)[0]
            hint = f': install dvc\'s plugin: pip install "dvc[{scheme}]"'
        raise SetpieceError(f"cannot open the files remote of repo '{repo}' ({url}): {text}{hint}")
    odb = get_odb(fs, fs.join(fs_path, "files", "md5"), hash_name="md5")
    remote = FilesRemote(repo, url, odb, False)
    try:
        fs.exists(fs_path)
    except Exception as exc:
        raise unreachable(remote, exc)
    return remote


def remotes_for_pull(ws: Workspace, repo: str | None = None) -> list[FilesRemote]:
    """Remotes to fetch from: one repo's, else every repo's that has one (blessed first; at
    a site, this site's first, then the other sites' in the order of ``setpiece.toml``),
    each remote once."""
    if repo is not None:
        return [open_remote(ws, repo)]
    from setpiece.core.sites import pull_order

    out = []
    errors = []
    urls: set[str] = set()
    for name in pull_order(ws, list(ws.repos())):
        url = configured_url(ws, name)
        if url is None or url in urls:
            continue
        urls.add(url)
        try:
            out.append(open_remote(ws, name))
        except SetpieceError as exc:
            errors.append(str(exc))
    if not out:
        if errors:
            raise SetpieceError(errors[0])
        raise SetpieceError(
            "no repo of this workspace has a files remote: add files_remote = \"URL\" under "
            "[repos.NAME] in setpiece.toml (folder repos have one by default)"
        )
    return out
