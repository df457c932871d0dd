"""The workspace: ``setpiece.toml``, ``inputs/`` (uv venv), ``outputs/``, ``build/``,
``external_packages/``. ``Workspace`` is the Python API; the CLI is a thin layer over it.

Found (like git) from an explicit path, then ``SETPIECE_WORKSPACE``, then by walking up
from the current folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from setpiece.core.config import CONFIG_NAME, Config
from setpiece.core.errors import NotFound, SetpieceError
from setpiece.core.naming import normalize, validate_name
from setpiece.core.progress import Progress
from setpiece.core.repos.base import Repo, is_url, open_repo

Reporter = Callable[[str], None]

HEADER = """setpiece workspace: edit by hand or with 'setpiece repo ...' / 'setpiece install ...'
repos: name -> location (a folder or an http(s):// package index URL)
"""


def _quiet(_: str) -> None:
    pass


#: archive suffixes uv reads from a ``--find-links`` folder as source distributions
_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tbz", ".tar.xz", ".txz",
                   ".tar.zst", ".tar.lz", ".tar.lzma", ".tlz", ".tar", ".egg")


#: proxy settings uv (reqwest) reads; when none is set, setpiece sets its own
_PROXY_VARS = ("ALL_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "http_proxy", "https_proxy")
#: a proxy that does not exist (port 9 is "discard", not served here)
DEAD_PROXY = "http://127.0.0.1:9"


def _no_redirects_env(repos: Sequence[Repo]) -> dict[str, str]:
    """Environment that lets uv reach only the index repos' own hosts.

    uv follows redirects and has no option not to. Every other host is sent to a proxy
    that does not exist (``NO_PROXY`` lists the repos' hosts), so an index that starts
    redirecting a name to a public index fails the install instead of serving a public
    package. Not done when the user has a proxy of their own configured (then the check
    made on every use, ``IndexRepo.index_url``, is the guard).
    """
    from urllib.parse import urlparse

    hosts = sorted({h for r in repos if is_url(r.location)
                    for h in [urlparse(r.location).hostname] if h})
    if not hosts or any(os.environ.get(v) for v in _PROXY_VARS):
        return {}
    no_proxy = ",".join(hosts)
    return {"ALL_PROXY": DEAD_PROXY, "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY,
            "NO_PROXY": no_proxy, "no_proxy": no_proxy}


def _archive_names(filename: str) -> list[str]:
    """Every project name a non-wheel file could stand for (``my-asset-1.0.tar.gz``: ``my``,
    ``my-asset``): uv splits an sdist's name from its version at any dash."""
    low = filename.lower()
    stem = next((filename[: -len(s)] for s in _SDIST_SUFFIXES if low.endswith(s)), None)
    if stem is None:
        return []
    parts = stem.split("-")
    return [normalize("-".join(parts[:i])) for i in range(1, len(parts))]


class Workspace:
    """One workspace folder. Every method that changes something is atomic or undoable."""

    def __init__(self, root: Path | str, reporter: Reporter | None = None) -> None:
        self.root = Path(root).resolve()
        self.report: Reporter = reporter or _quiet
        #: the progress line of long work (off here; the CLI turns it on for a terminal)
        self.progress: Progress = Progress.off()
        if not (self.root / CONFIG_NAME).is_file():
            raise SetpieceError(
                f"{self.root} is not a setpiece workspace (no {CONFIG_NAME}): "
                f"create one with 'setpiece init {self.root}'"
            )

    # -- finding / creating ----------------------------------------------------
    @classmethod
    def find(cls, path: Path | str | None = None, reporter: Reporter | None = None) -> Workspace:
        """From ``path``, else ``$SETPIECE_WORKSPACE``, else the nearest parent with a config."""
        from setpiece.core.paths import workspace_root

        root = workspace_root(path)
        if root is not None:
            return cls(root, reporter)
        raise SetpieceError(
            "not inside a setpiece workspace: run 'setpiece init PATH' to create one, or pass "
            "-w PATH / set SETPIECE_WORKSPACE"
        )

    @classmethod
    def init(
        cls,
        path: Path | str = ".",
        *,
        python: str | None = None,
        repos: Sequence[tuple[str, str]] = (),
        blessed: str | None = None,
        default: str | None = None,
        reporter: Reporter | None = None,
        site: str | None = None,
    ) -> Workspace:
        from setpiece.core.workspace_init import init_workspace

        return init_workspace(
            cls, Path(path), python=python, repos=repos, blessed=blessed, default=default,
            reporter=reporter or _quiet, site=site,
        )

    # -- layout ----------------------------------------------------------------
    @cached_property
    def config(self) -> Config:
        return Config.load(self.root / CONFIG_NAME)

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def external_dir(self) -> Path:
        return self.root / "external_packages"

    @property
    def state_dir(self) -> Path:
        """Private state: event log, staging, locks (``.setpiece/``)."""
        return self.root / ".setpiece"

    @property
    def python(self) -> Path:
        if sys.platform == "win32":
            return self.inputs / "Scripts" / "python.exe"
        return self.inputs / "bin" / "python"

    @property
    def python_version(self) -> str:
        """``major.minor`` of the inputs venv (from its pyvenv.cfg, without running it)."""
        cfg = self.inputs / "pyvenv.cfg"
        try:
            for line in cfg.read_text(encoding="utf-8").splitlines():
                key, _, value = line.partition("=")
                if key.strip() in ("version_info", "version"):
                    return ".".join(value.strip().split(".")[:2])
        except FileNotFoundError:
            pass
        return str(self.config.workspace.get("python", f"{sys.version_info[0]}.{sys.version_info[1]}"))

    @property
    def site_packages(self) -> Path:
        if sys.platform == "win32":
            return self.inputs / "Lib" / "site-packages"
        return self.inputs / "lib" / f"python{self.python_version}" / "site-packages"

    @property
    def settings(self) -> dict[str, Any]:
        return self.config.settings

    def _check_inputs(self) -> None:
        if not self.python.exists():
            raise SetpieceError(
                f"the workspace venv {self.inputs} is missing: recreate it with "
                f"'setpiece sync' from a lock or 'setpiece init {self.root}'"
            )

    # -- repos -------------------------------------------------------------------
    def repos(self) -> dict[str, Repo]:
        """Configured repos, blessed first, then the others in the order of setpiece.toml."""
        cfg = self.config.repos
        order = list(cfg)
        blessed = self.config.blessed
        if blessed in cfg:
            order.remove(blessed)
            order.insert(0, blessed)
        out = {}
        for name in order:
            entry = dict(cfg[name])
            location = str(entry.pop("location", ""))
            if not location:
                raise SetpieceError(f"repo '{name}' in setpiece.toml has no location: add one")
            if not is_url(location) and not Path(location).is_absolute():
                location = str((self.root / location).resolve())
            out[name] = open_repo(name, location, entry)
        return out

    def repo(self, name: str | None = None, *, purpose: str = "default") -> Repo:
        """A repo by name; with no name, the ``default`` (publish) or ``blessed`` one."""
        repos = self.repos()
        if name is None:
            name = self.config.default if purpose == "default" else self.config.blessed
            if name is None:
                raise SetpieceError(
                    f"the workspace has no {purpose} repo: add one with "
                    f"'setpiece repo add NAME LOCATION --{purpose}'"
                )
        if name not in repos:
            known = ", ".join(repos) or "none"
            raise SetpieceError(
                f"unknown repo '{name}' (configured: {known}): add it with "
                f"'setpiece repo add {name} LOCATION'"
            )
        return repos[name]

    def repo_add(
        self, name: str, location: str, *, blessed: bool = False, default: bool = False,
        create: bool = False,
    ) -> Repo:
        """Add (or re-add, to change its location or roles) repo ``name``. A folder that
        does not exist is refused unless ``create`` (a typo or an unmounted share would
        otherwise become a new, empty repo)."""
        from setpiece.core.repos.folder import FolderRepo

        validate_name(name)
        open_repo(name, location)  # refuses unsupported schemes before the path is resolved
        if not is_url(location):
            location = str(Path(location).expanduser().resolve())
        repo = open_repo(name, location)
        if isinstance(repo, FolderRepo):
            if not repo.root.is_dir() and not create:
                raise SetpieceError(
                    f"repo '{name}': folder {repo.root} does not exist: check the path (an "
                    f"unmounted share?), or pass --create to make a new repo there"
                )
            repo.create()
        else:
            repo.check()
        with self.config.edit() as doc:
            import tomlkit

            if "repos" not in doc:
                doc["repos"] = tomlkit.table(is_super_table=True)
            table = tomlkit.table()
            table["location"] = location
            doc["repos"][name] = table
            if blessed:
                doc["workspace"]["blessed"] = name
            if default:
                doc["workspace"]["default"] = name
        return repo

    def repo_remove(self, name: str, *, force: bool = False) -> None:
        """Forget repo ``name`` (its contents are left alone). The blessed (install source)
        or default (publish target) repo is kept unless ``force``: set another first."""
        self.repo(name)
        roles = [r for r in ("blessed", "default") if getattr(self.config, r) == name]
        if roles and not force:
            role = roles[0]
            raise SetpieceError(
                f"repo '{name}' is the workspace's {' and '.join(roles)} repo: set another first "
                f"with 'setpiece repo add NAME LOCATION --{role}', or pass --force to remove it "
                f"and leave the workspace without one"
            )
        with self.config.edit() as doc:
            del doc["repos"][name]
            for role in ("blessed", "default"):
                if doc["workspace"].get(role) == name:
                    del doc["workspace"][role]

    # -- assets ------------------------------------------------------------------
    def installed(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        from setpiece.core.assets import scan_site_packages

        return scan_site_packages(self.site_packages)

    def installed_assets(self) -> dict[str, Any]:
        """Installed assets by normalised name (``InstalledAsset``)."""
        return self.installed()[0]

    def installed_asset(self, name: str) -> Any:
        assets = self.installed_assets()
        key = normalize(name)
        if key not in assets:
            raise NotFound(
                f"asset '{name}' is not installed in {self.inputs}: "
                f"run 'setpiece install {name}'"
            )
        return assets[key]

    def output_assets(self) -> dict[str, Any]:
        from setpiece.core.project import OutputAsset

        out = {}
        if self.outputs.is_dir():
            for child in sorted(self.outputs.iterdir()):
                if (child / "pyproject.toml").is_file():
                    asset = OutputAsset(child)
                    out[asset.key] = asset
        return out

    def output(self, name: str) -> Any:
        outputs = self.output_assets()
        key = normalize(name)
        if key not in outputs:
            raise SetpieceError(
                f"'{name}' is not an output asset of this workspace: create it with "
                f"'setpiece create {name}' or make an editable copy with 'setpiece edit {name}'"
            )
        return outputs[key]

    def available_versions(self, name: str) -> list[str]:
        """Every published version of ``name`` across the workspace's repos, oldest first."""
        from packaging.version import Version

        found: set[str] = set()
        for repo in self.repos().values():
            try:
                found.update(repo.versions(name))
            except SetpieceError:
                continue
        return sorted(found, key=Version)

    def versions(self, name: str, repo: str | None = None) -> dict[str, list[str]]:
        repos = {repo: self.repo(repo)} if repo else self.repos()
        return {n: r.versions(name) for n, r in repos.items()}

    # -- uv ----------------------------------------------------------------------
    def uv_index_args(self, repo: str | None = None) -> tuple[list[str], dict[str, str]]:
        """uv arguments that resolve only from the workspace's repos, blessed first (at a
        site: only its own repos and those in no site).

        Every repo is a PEP 503 index (folder repos keep a static one), passed in order
        with ``--index-strategy unsafe-first-match``: the first repo that has a matching
        version wins. ``--default-index`` replaces PyPI, so nothing ever comes from a
        public index by name; ``external_packages/`` is the only other source.
        """
        if repo:
            repos = [self.repo(repo)]
        elif "sites" in self.config.data:  # at a site: its own repos (setpiece.core.sites)
            from setpiece.core.sites import install_repos

            repos = install_repos(self)
        else:
            repos = list(self.repos().values())
        args = ["--no-config", "--index-strategy", "unsafe-first-match"]
        env: dict[str, str] = {}
        urls = [f"{n}={u}" if (n := r.uv_index_name()) else u
                for r in repos for u in [r.index_url()]]
        for r in repos:
            env.update(r.uv_env())
        env.update(_no_redirects_env(repos))
        if urls:
            for url in urls[:-1]:
                args += ["--index", url]
            args += ["--default-index", urls[-1]]
        else:
            args += ["--no-index"]
        self.external_dir.mkdir(exist_ok=True)
        self.check_external()
        args += ["--find-links", str(self.external_dir)]
        return args, env

    def external_shadowing(self, names: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """(wheel or name, asset name, repo) for every external package named like an asset
        that a configured repo publishes: uv treats ``--find-links`` as one more source where
        the highest version wins, so such a wheel could replace the repo's asset."""
        from setpiece.core.wheels import parse_wheel_name

        if names is None:
            found: dict[str, str] = {}
            if self.external_dir.is_dir():
                with os.scandir(self.external_dir) as it:
                    for entry in it:
                        wn = parse_wheel_name(entry.name)
                        if wn:
                            found.setdefault(wn.project, entry.name)
                        else:  # an sdist (or anything uv might build): every name it could be
                            for key in _archive_names(entry.name):
                                found.setdefault(key, entry.name)
        else:
            found = {normalize(n): n for n in names}
        if not found:
            return []
        out = []
        repos = self.repos()
        for key in sorted(found):
            for repo_name, r in repos.items():
                try:
                    if r.has_project(key):
                        out.append((found[key], key, repo_name))
                        break
                except SetpieceError:  # an unreachable index fails the uv run on its own
                    continue
        return out

    def check_external(self) -> None:
        """Refuse to resolve while ``external_packages/`` holds a wheel named like an asset
        of a repo: the repos always win for any name they have (checked once per listing)."""
        try:
            stamp = (self.external_dir.stat().st_mtime_ns, tuple(self.config.repos))
        except FileNotFoundError:
            return
        if getattr(self, "_external_ok", None) == stamp:
            return
        from setpiece.core.wheels import check_wheel

        for path in sorted(self.external_dir.glob("*.whl")):
            check_wheel(path, asset=False)  # no '../' entries, whatever the package
        bad = self.external_shadowing()
        if bad:
            wheel, key, repo_name = bad[0]
            raise SetpieceError(
                f"external_packages/{wheel} is named like asset '{key}' of repo '{repo_name}': "
                f"assets come only from the repos; delete it from {self.external_dir}"
            )
        self._external_ok = stamp

    def uv_pip(self, command: str, args: Iterable[str], *, repo: str | None = None,
               what: str = "install", with_index: bool = True) -> str:
        from setpiece.core.uvrun import run_uv

        self._check_inputs()
        idx, env = self.uv_index_args(repo) if with_index else ([], {})
        label = {"install": "Installing", "uninstall": "Uninstalling"}.get(command, command)
        try:
            with self.progress.task(f"{label} with uv") as task:
                proc = run_uv(
                    ["pip", command, "--python", str(self.python), *idx, *args],
                    env=env,
                    what=what,
                    progress=task,
                )
        finally:
            self.refresh_installed()
        return proc.stderr

    def refresh_installed(self) -> None:
        """Bring the installed index up to date (after every uv call: the next reader
        finds it current; see ``setpiece.core.installed_index``)."""
        from setpiece.core.assets import scan_site_packages

        scan_site_packages(self.site_packages)

    # -- events --------------------------------------------------------------------
    def emit(self, event: str, **data: Any) -> dict[str, Any]:
        """Log ``event`` (published, installed, ...) and notify subscribers; with
        ``to_repo=REPO`` also in that repo's own log (``setpiece.core.events.emit``)."""
        from setpiece.core.events import emit

        return emit(self, event, **data)

    # -- operations (implemented in their own modules) ------------------------------
    def create(self, name: str, *, kind: str | None = None, version: str = "0.1.0",
               description: str = "", template: str | None = None,
               params: dict[str, str] | None = None) -> Any:
        from setpiece.core.authoring import create

        return create(self, name, kind=kind, version=version, description=description,
                      template=template, params=params)

    def require(self, name: str, reqs: Sequence[str], *, group: str | None = None) -> None:
        from setpiece.core.authoring import require

        require(self, name, reqs, group=group)

    def unrequire(self, name: str, dep: str, *, group: str | None = None) -> None:
        from setpiece.core.authoring import unrequire

        unrequire(self, name, dep, group=group)

    def bump(self, name: str, part: str) -> str:
        from setpiece.core.authoring import bump

        return bump(self, name, part)

    def build(self, name: str) -> Path:
        from setpiece.core.publishing import build

        return build(self, name)

    def publish(self, name: str, *, repo: str | None = None, comment: str | None = None,
                repro: bool = False) -> Path:
        from setpiece.core.publishing import publish

        return publish(self, name, repo=repo, comment=comment, repro=repro)

    def promote(self, spec: str, *, to: str, from_: str | None = None) -> str:
        from setpiece.core.publishing import promote

        return promote(self, spec, to=to, from_=from_)

    def edit(self, spec: str) -> Any:
        from setpiece.core.publishing import edit

        return edit(self, spec)

    def install(self, reqs: Sequence[str], *, repo: str | None = None, record: bool = True) -> list[str]:
        from setpiece.core.installing import install

        return install(self, reqs, repo=repo, record=record)

    def uninstall(self, names: Sequence[str]) -> list[str]:
        from setpiece.core.installing import uninstall

        return uninstall(self, names)

    def external_add(self, reqs: Sequence[str]) -> list[str]:
        from setpiece.core.installing import external_add

        return external_add(self, reqs)

    def freeze(self, output: Path | None = None) -> str:
        from setpiece.core.installing import freeze

        return freeze(self, output)

    def sync(self, lock: Path) -> list[str]:
        from setpiece.core.installing import sync

        return sync(self, lock)

    def info(self, name: str) -> dict[str, Any]:
        from setpiece.core.listing import info

        return info(self, name)
