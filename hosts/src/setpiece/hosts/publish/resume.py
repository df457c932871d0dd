"""``setpiece publish NAME --resume``: finish a publish that was interrupted or failed in
integration, from its staging folder, outside the app.

The newest run of NAME whose staging is complete (``extracted``) or half-integrated
(``integrating``) is integrated again: every integrator works from the staging manifest
alone and is idempotent (files copied again, version set, interface written, wheel
built, files pushed, package published, ``published`` emitted). When the planned version
was published by someone else meanwhile, the next free one is taken; when the repo's wheel
of that version is the one this run sent (same sha256 as recorded in the staging
manifest) the run died after publishing it, so it is only marked published (never
published twice under two versions).
"""

from __future__ import annotations

from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.hosts.publish.orders import is_integrator
from setpiece.hosts.publish.report import PublishReport


def _sent_by_this_run(ws: Any, name: str, version: str, repo: str | None, staging: Any) -> bool:
    from setpiece.hosts.publish.plugins import _ours

    try:
        target = ws.repo(repo)
    except SetpieceError:
        return False
    return _ours(target, name, version, staging)


def resume(
    ws: Any, name: str, repo: str | None = None, *, raise_on_failure: bool = True
) -> PublishReport:
    from setpiece.hosts.publish.discovery import discover
    from setpiece.hosts.publish.run import run_plugins
    from setpiece.hosts.publish.session import Session, plan_version
    from setpiece.hosts.publish.staging import pending, publish_root

    asset = ws.output(name)
    runs = pending(ws, asset.name)
    if not runs:
        raise SetpieceError(
            f"no interrupted publish of {asset.name} to resume (looked in "
            f"{publish_root(ws, asset.name)}): publish it from the app, or with "
            f"'setpiece batch HOST publish SCENE --asset {asset.name}'"
        )
    staging = runs[0]
    target = repo or staging.data.get("repo")
    version = str(staging.data.get("version") or "")
    from packaging.version import Version

    if not version or (
        any(Version(v) == Version(version) for v in ws.available_versions(asset.name))
        and not _sent_by_this_run(ws, asset.name, version, target, staging)
    ):
        version = plan_version(ws, asset.name)
    session = Session(ws, None, None, asset_name=asset.name, repo_name=target,
                      planned_version=version, staging=staging, asset_source="resume")
    found = discover(None, ws)
    plugins = [p for p in found.plugins if is_integrator(p.order)]
    ws.report(f"Resuming the publish of {asset.name} {version} from {staging.path}")
    report = run_plugins(
        session, plugins, sources=found.sources, borders=[], load_errors=found.errors,
        raise_on_failure=False,
    )
    report.asset, report.repo = asset.name, session.repo_name
    report.version = session.planned_version
    if report.published:
        staging.remove()
        report.staging = None
    else:
        report.staging = str(staging.path)
        report.resume = f"setpiece publish {asset.name} --resume"
    ws.report(report.format_text())
    if not report.success and raise_on_failure:
        from setpiece.hosts.publish.report import PublishFailed

        raise PublishFailed(report)
    return report
