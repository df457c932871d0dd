"""The typed data contract between publish plugins (pyblish's ``context.data`` is a bag).

Every setpiece plugin reads one :class:`Session` (``session(context)``): the workspace,
the host adapter and its publish support, the output asset, the version planned by the
workspace's ``version_policy``, the target repo and (from extraction on) the staging
folder. Studio plugins use the same accessor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.protocol import Host, SceneData
from setpiece.hosts.publish.staging import Staging

KEY = "setpiece"
#: policies that publish the version written in pyproject.toml as it is
MANUAL_POLICIES = ("manual", "none", "off")


@dataclass
class Session:
    ws: Any
    host: Host | None = None
    support: Any = None
    asset_name: str | None = None
    repo_name: str | None = None
    planned_version: str | None = None
    staging: Staging | None = None
    #: (how the asset was found) scene property, scene path, --asset
    asset_source: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    #: the artist's comment on this version (``publish -m``, the publisher's comment field)
    comment: str = ""
    #: run from the app's publisher window: messages name buttons, not commands
    in_app: bool = False

    def fix(self, command: str, button: str) -> str:
        """How to fix a problem: ``command`` (a CLI hint) on the command line, ``button``
        (what to press or do in the app) in the publisher window."""
        return button if self.in_app else command

    @property
    def host_name(self) -> str:
        """The app publishing (``host`` when ``--resume`` runs outside any app)."""
        return self.host.name if self.host is not None else "host"

    @property
    def asset(self) -> Any:
        if not self.asset_name:
            raise SetpieceError("no output asset collected for this publish")
        return self.ws.output(self.asset_name)

    def repo(self) -> Any:
        return self.ws.repo(self.repo_name)

    def require_staging(self) -> Staging:
        if self.staging is None:
            raise SetpieceError("no staging folder: extraction did not run")
        return self.staging


def session(context: Any) -> Session:
    s = context.data.get(KEY)
    if not isinstance(s, Session):
        raise SetpieceError(
            "this publish has no setpiece session: run it through setpiece.hosts.publish"
        )
    return s


def policy(ws: Any) -> str:
    value = str(ws.settings.get("version_policy", "micro")).strip().lower()
    from setpiece.core.naming import BUMP_PARTS

    if value not in (*BUMP_PARTS, *MANUAL_POLICIES):
        raise SetpieceError(
            f"version_policy = {value!r} in setpiece.toml is not valid: use one of "
            f"{', '.join((*BUMP_PARTS, 'manual'))}"
        )
    return value


def stage_settings(ws: Any) -> tuple[str, float]:
    """The workspace's ``up_axis`` (upper case) and ``meters_per_unit`` (setpiece.toml
    ``[settings]``; Y and 0.01 when unset): what every export must write."""
    settings = ws.settings
    return str(settings.get("up_axis", "Y")).upper(), float(settings.get("meters_per_unit", 0.01))


def plan_version(ws: Any, name: str) -> str:
    """The version this publish will make.

    The output's version when nothing at or past it is published yet; otherwise the
    workspace's ``version_policy`` bump, repeated until past every published version
    (``manual``: the output's version as written, checked by the version validator).
    """
    from packaging.version import Version

    from setpiece.core.naming import bump

    current = str(ws.output(name).version)
    published = [Version(v) for v in ws.available_versions(name)]
    pol = policy(ws)
    if pol in MANUAL_POLICIES:
        return current
    candidate = current
    while published and any(v >= Version(candidate) for v in published):
        candidate = bump(candidate, pol)
    return candidate


def find_asset(ws: Any, host: Any) -> tuple[str | None, str]:
    """The output asset the open scene belongs to, and how it was found."""
    from setpiece.hosts.runtime import SCENE_ASSET_KEY

    if isinstance(host, SceneData):
        name = host.get_scene_data(SCENE_ASSET_KEY)
        if name:
            return str(name), f"scene property {SCENE_ASSET_KEY}"
    path = host.current_scene()
    if path:
        try:
            rel = Path(path).resolve().relative_to(Path(ws.outputs).resolve())
        except ValueError:
            return None, ""
        if len(rel.parts) >= 2:
            return rel.parts[0], f"scene saved under outputs/{rel.parts[0]}/"
    return None, ""
