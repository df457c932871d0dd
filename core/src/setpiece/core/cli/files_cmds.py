"""``setpiece files ...``: track, push and pull an asset's big files (dvc)."""

from __future__ import annotations

from typing import Any

import click

from setpiece.core.cli import State, echo_json, pass_state


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def _added(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        what = f"{r['files']} files, " if r["files"] != 1 or r["md5"].endswith(".dir") else ""
        click.echo(f"{r['asset']}: {r['path']} ({what}{_size(r['size'])}) md5 {r['md5']}")


@click.group()
def files() -> None:
    """Track, push and pull an asset's big files (dvc). The bytes never go into the wheel."""


@files.command()
@click.argument("name")
@click.argument("paths", nargs=-1, required=True)
@click.option("--as", "dest", metavar="DEST",
              help="Where in the asset's package folder (with several PATHs: a folder).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def add(state: State, name: str, paths: tuple[str, ...], dest: str | None, as_json: bool) -> None:
    """Track PATH... in output asset NAME (copied in when outside it); again: record the new state."""
    from setpiece.core.files import need_dvc
    from setpiece.core.files.tracking import add as add_files

    ws = state.workspace()
    need_dvc()
    _added(add_files(ws, name, list(paths), dest), as_json)


@files.command(name="import")
@click.argument("name")
@click.argument("source")
@click.option("--as", "dest", metavar="DEST", help="Where in the asset's package folder.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def import_(state: State, name: str, source: str, dest: str | None, as_json: bool) -> None:
    """Bring external SOURCE into NAME and record its state ('files status' says when it changed)."""
    from setpiece.core.files import need_dvc
    from setpiece.core.files.tracking import import_ as import_files

    ws = state.workspace()
    need_dvc()
    _added([import_files(ws, name, source, dest)], as_json)


@files.command()
@click.argument("name", metavar="NAME[==VER]")
@click.option("--repo", "repo_name", metavar="R", help="Check this repo's files remote.")
@click.option("--local", "local_only", is_flag=True, help="Do not check any remote.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status(state: State, name: str, repo_name: str | None, local_only: bool, as_json: bool) -> None:
    """For each tracked path of NAME: present, modified or missing locally and on the remote."""
    from setpiece.core.files.status import status as files_status

    result = files_status(state.workspace(), name, repo=repo_name, check_remote=not local_only)
    if as_json:
        echo_json(result)
        return
    if not result["paths"]:
        click.echo(f"{result['asset']} tracks no files")
        return
    rows = [("PATH", "KIND", "SIZE", "LOCAL", "REMOTE", "SOURCE")]
    for r in result["paths"]:
        rows.append((r["path"], r["kind"], _size(r["size"]), r["local"], r["remote"],
                     r.get("source", "")))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if result.get("note"):
        click.echo(f"note: {result['note']}", err=True)
    for r in result["paths"]:
        if r["local"] == "corrupt":
            click.echo(f"{r['path']}: the cached copy it links to is corrupt: repair with "
                       f"'setpiece files verify {result['asset']} --repair'", err=True)
    changed = [r["path"] for r in result["paths"] if r.get("source") == "changed"]
    for path in changed:
        click.echo(f"{path}: its source changed: re-import with 'setpiece files import "
                   f"{result['asset']} SOURCE --as {path}'", err=True)


@files.command()
@click.argument("name")
@click.option("--repo", "repo_name", metavar="R", help="Target repo (default: the workspace's default repo).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def push(state: State, name: str, repo_name: str | None, as_json: bool) -> None:
    """Send output asset NAME's tracked files to a repo's files remote (only what it lacks)."""
    from setpiece.core.files.pushing import push as push_files

    result = push_files(state.workspace(), name, repo=repo_name)
    if as_json:
        echo_json(result)
        return
    click.echo(f"{result['asset']}: sent {result['sent']} of {result['objects']} object(s), "
               f"{_size(result['bytes'])}, to repo '{result['repo']}'")


@files.command()
@click.argument("name", metavar="[NAME[==VER]]", required=False)
@click.option("--repo", "repo_name", metavar="R", help="Fetch only from this repo's files remote.")
@click.option("--dry-run", is_flag=True, help="Say how many files and bytes would be fetched.")
@click.option("--closure", "closure", multiple=True, metavar="REQ",
              help="Pre-warm: the files of REQ's closure (KitchenSet[build]): installed versions "
                   "into the workspace, the others into the files cache. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def pull(state: State, name: str | None, repo_name: str | None, dry_run: bool,
         closure: tuple[str, ...], as_json: bool) -> None:
    """Bring NAME's files (default: every installed asset's) into the workspace, linked from the cache."""
    from setpiece.core.files.pulling import pull as pull_files

    if closure:
        _prewarm(state, name, closure, repo_name, dry_run, as_json)
        return
    result = pull_files(state.workspace(), name, repo=repo_name, dry_run=dry_run)
    if as_json:
        echo_json(result)
        return
    assets = ", ".join(result["assets"]) or "no asset with tracked files"
    if dry_run:
        click.echo(f"would fetch {result['files']} file(s), {_size(result['bytes'])}, for {assets}")
    else:
        click.echo(f"pulled {assets}: {result['paths']} tracked path(s) in place, fetched "
                   f"{result['files']} file(s), {_size(result['bytes'])}")


@files.command()
@click.argument("name", metavar="[NAME[==VER]]", required=False)
@click.option("--repo", "repo_name", metavar="R", help="Check only this repo's files remote.")
@click.option("--repair", is_flag=True,
              help="Re-fetch corrupt cached copies from a remote; re-push good cached copies "
                   "over corrupt remote ones.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def verify(state: State, name: str | None, repo_name: str | None, repair: bool, as_json: bool) -> None:
    """Re-hash every file object of NAME (default: every installed asset's) in the files cache
    and on the remotes; exit 1 when one is corrupt or missing everywhere."""
    from setpiece.core.errors import SetpieceError
    from setpiece.core.files import need_dvc
    from setpiece.core.files.verify import verify as verify_files

    need_dvc()
    result = verify_files(state.workspace(), name, repo=repo_name, repair=repair)
    if as_json:
        echo_json(result)
    else:
        for a in result["assets"]:
            bad = [r for r in a["objects"]
                   if r["cache"] != "ok" or any(s not in ("ok", "present") for s in r["remote"].values())]
            click.echo(f"{a['name']} {a['version']}: {len(a['objects'])} object(s), "
                       f"{len(bad)} not ok")
            for r in bad:
                remote = ", ".join(f"{n} {s}" for n, s in r["remote"].items())
                click.echo(f"  {r['path']}: cache {r['cache']}; remote {remote}")
        for what in result["repaired"]:
            click.echo(f"repaired {what}")
    problems = result["corrupt"] + result["missing"]
    if problems:
        shown = ", ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        fix = ("push the files again from an asset that has them, or re-export them"
               if repair else "run 'setpiece files verify --repair'")
        raise SetpieceError(f"{len(problems)} file object(s) corrupt or missing: {shown}; {fix}")


def _prewarm(state: State, name: str | None, closure: tuple[str, ...], repo: str | None,
             dry_run: bool, as_json: bool) -> None:
    from setpiece.core.errors import SetpieceError
    from setpiece.core.sites.prewarm import prewarm

    if name:
        raise SetpieceError(f"give either NAME ({name}) or --closure, not both: --closure "
                            "already names what to pull")
    result = prewarm(state.workspace(), closure, repo=repo, dry_run=dry_run)
    if as_json:
        echo_json(result)
        return
    verb = "would fetch" if dry_run else "fetched"
    click.echo(f"{' '.join(closure)}: {result['closure']} version(s); {verb} {result['files']} "
               f"file(s), {_size(result['bytes'])}; in the workspace: "
               f"{', '.join(result['linked']) or 'none'}; in the cache only: "
               f"{', '.join(result['cached']) or 'none'}")
