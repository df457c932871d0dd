"""Commands on the workspace: init, repo, list, versions, info."""

from __future__ import annotations

from typing import Any

import click

from setpiece.core.cli import State, echo_json, pass_state
from setpiece.core.cli.site_cmds import repo_sync


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--python", "python", metavar="VER", help="Python of the workspace venv (e.g. 3.11, the DCC's).")
@click.option("--repo", "repos", multiple=True, metavar="NAME=LOCATION", help="A repo (folder or http(s) index URL); repeatable.")
@click.option("--blessed", metavar="NAME", help="The repo assets install from first.")
@click.option("--default", "default", metavar="NAME", help="The repo assets publish to.")
@click.option("--site", metavar="NAME", help="The site the workspace is at ([workspace] site; see docs/multisite.md).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def init(state: State, path: str, python: str | None, repos: tuple[str, ...], blessed: str | None, default: str | None, site: str | None, as_json: bool) -> None:
    """Create a workspace: setpiece.toml, inputs/ (uv venv), outputs/, build/, external_packages/.

    With no --repo, two folder repos 'blessed' (install source) and 'review' (publish
    target) are created under the per-user data folder ($SETPIECE_HOME).
    """
    from setpiece.core.workspace import Workspace
    from setpiece.core.workspace_init import parse_repo_option

    ws = Workspace.init(
        path, python=python, repos=[parse_repo_option(r) for r in repos],
        blessed=blessed, default=default, reporter=state.report, site=site,
    )
    state.report(f"Initialized workspace {ws.root}")
    for name, repo in ws.repos().items():
        roles = [r for r in ("blessed", "default") if getattr(ws.config, r) == name]
        state.report(f"  repo {name}: {repo.location}" + (f" ({', '.join(roles)})" if roles else ""))
    if as_json:
        echo_json({"root": str(ws.root), "python": str(ws.python),
                   "repos": {n: r.location for n, r in ws.repos().items()},
                   "blessed": ws.config.blessed, "default": ws.config.default})


@click.group()
def repo() -> None:
    """Add, list or remove repos (folders or package index URLs); sync them between sites."""


repo.add_command(repo_sync)


@repo.command("add")
@click.argument("name")
@click.argument("location")
@click.option("--blessed", is_flag=True, help="Make it the install source.")
@click.option("--default", "default", is_flag=True, help="Make it the publish target.")
@click.option("--create", is_flag=True, help="Create the folder if it does not exist (a new, empty repo).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def repo_add(state: State, name: str, location: str, blessed: bool, default: bool, create: bool, as_json: bool) -> None:
    """Add repo NAME at LOCATION (a folder path or an http(s):// index URL).

    A folder must exist unless --create is given. Run again on a configured NAME to change
    its location or roles.
    """
    ws = state.workspace()
    r = ws.repo_add(name, location, blessed=blessed, default=default, create=create)
    state.report(f"Added repo {name}: {r.location}")
    if as_json:
        echo_json({**r.describe(), "blessed": ws.config.blessed == name,
                   "default": ws.config.default == name})


@repo.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def repo_list(state: State, as_json: bool) -> None:
    """List the workspace's repos, blessed first."""
    ws = state.workspace()
    rows = []
    for name, r in ws.repos().items():
        d = r.describe()
        d["blessed"] = ws.config.blessed == name
        d["default"] = ws.config.default == name
        rows.append(d)
    if as_json:
        echo_json(rows)
        return
    for d in rows:
        roles = ",".join(k for k in ("blessed", "default") if d[k])
        click.echo(f"{d['name']:<12} {d['kind']:<7} {d['location']}" + (f"  [{roles}]" if roles else ""))


@repo.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Also remove the blessed or default repo (the workspace is left without one).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def repo_remove(state: State, name: str, force: bool, as_json: bool) -> None:
    """Remove repo NAME from the workspace (its contents are left alone).

    The blessed or default repo is kept unless --force: set another first with
    'setpiece repo add NAME LOCATION --blessed' (or --default).
    """
    state.workspace().repo_remove(name, force=force)
    state.report(f"Removed repo {name}")
    if as_json:
        echo_json({"removed": name})


@repo.command("reindex")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def repo_reindex(state: State, name: str, as_json: bool) -> None:
    """Rebuild a folder repo's static index (simple/) from its wheels."""
    from setpiece.core.errors import SetpieceError
    from setpiece.core.repos.folder import FolderRepo

    r = state.workspace().repo(name)
    if not isinstance(r, FolderRepo):
        raise SetpieceError(f"repo '{name}' is an index server: it keeps its own index")
    skipped: list[str] = []
    indexed = r.reindex(skipped)
    state.report(f"Indexed {indexed} assets in {r.location}")
    if as_json:
        echo_json({"repo": name, "indexed": indexed, "skipped": skipped})
    if skipped:
        first = skipped[0]
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise SetpieceError(f"left {len(skipped)} wheel(s) out of the index, the rest is indexed: "
                            f"{first}{more}")


@repo.command("gc")
@click.argument("name", required=False)
@click.option("--dry-run", is_flag=True, help="Say what would be removed.")
@click.option("--older-than", "grace", type=float, default=3600.0, show_default=True, metavar="SECONDS",
              help="Only temp files untouched this long (younger ones may have a live writer).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def repo_gc(state: State, name: str | None, dry_run: bool, grace: float, as_json: bool) -> None:
    """Remove temp files that killed writers left in folder repo NAME (default: every folder repo)."""
    from setpiece.core.errors import SetpieceError
    from setpiece.core.repos.folder import FolderRepo
    from setpiece.core.repos.gc import gc

    ws = state.workspace()
    repos = {name: ws.repo(name)} if name else ws.repos()
    folders = {n: r for n, r in repos.items() if isinstance(r, FolderRepo)}
    if name and not folders:
        raise SetpieceError(f"repo '{name}' is an index server: it keeps its own files")
    rows: list[dict[str, Any]] = []
    for n, r in folders.items():
        r.check()
        res = gc(r.root, grace=grace, dry_run=dry_run)
        rows.append({"repo": n, "location": r.location, "removed": [p for p, _ in res.removed],
                     "bytes": res.bytes, "young": res.young, "dry_run": dry_run})
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        verb = "would remove" if dry_run else "removed"
        click.echo(f"repo {row['repo']}: {verb} {len(row['removed'])} temp file(s), "
                   f"{row['bytes']:,} bytes" + (f"; kept {row['young']} younger than "
                                               f"{grace:g} s" if row["young"] else ""))
        for p in row["removed"]:
            click.echo(f"  {p}")


@click.command("list")
@click.option("--installed", "which", flag_value="installed", help="Installed assets (default).")
@click.option("--outputs", "which", flag_value="outputs", help="Editable output assets.")
@click.option("--repo", "repo_name", metavar="R", help="Assets published in repo R.")
@click.option("--all", "show_all", is_flag=True, help="With --installed: also list ordinary packages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_(state: State, which: str | None, repo_name: str | None, show_all: bool, as_json: bool) -> None:
    """List installed assets (default), output assets, or the assets of a repo."""
    ws = state.workspace()
    if repo_name:
        data = ws.repo(repo_name).listing()
        if as_json:
            echo_json([{"name": n, "versions": v} for n, v in data.items()])
        else:
            for n, v in data.items():
                click.echo(f"{n:<24} {', '.join(v)}")
        return
    if which == "outputs":
        rows = [{"name": o.name, "version": o.version, "kind": o.kind, "path": str(o.path)}
                for o in ws.output_assets().values()]
        if as_json:
            echo_json(rows)
        else:
            for r in rows:
                click.echo(f"{r['name']:<24} {r['version']:<12} {r['kind']}")
        return
    assets, others = ws.installed()
    from setpiece.core.half_installed import broken_dists

    for b in broken_dists(ws.site_packages):
        click.echo(f"warning: {b.name} {b.version} is half-installed ({b.why}: an install was "
                   f"interrupted): 'setpiece install {b.name}=={b.version}' repairs it", err=True)
    if as_json:
        out = {"assets": [a.to_json() for a in assets.values()]}
        if show_all:
            out["packages"] = [{"name": n, "version": v} for n, v in others]
        echo_json(out if show_all else out["assets"])
        return
    lines = [f"{a.name:<24} {a.version:<12} {a.kind}" + ("  (editable)" if a.editable else "")
             for a in assets.values()]
    if lines:
        click.echo("\n".join(lines))  # one write: 1,000 echo calls cost more than the scan
    if show_all and others:
        click.echo("\nother packages (not assets):")
        for n, v in others:
            click.echo(f"  {n:<22} {v}")



@click.command()
@click.argument("name")
@click.option("--repo", "repo_name", metavar="R", help="Only this repo.")
@click.option("-l", "--long", "long_", is_flag=True,
              help="Each version on a line with who published it, when, and its comment.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def versions(state: State, name: str, repo_name: str | None, long_: bool, as_json: bool) -> None:
    """Published versions of NAME in each repo."""
    from setpiece.core.naming import validate_name

    validate_name(name)
    ws = state.workspace()
    data = ws.versions(name, repo_name)
    if data and not any(data.values()):
        from setpiece.core.errors import SetpieceError

        searched = ", ".join(data)
        raise SetpieceError(
            f"no repo has '{name}': searched {searched}; see 'setpiece list --repo NAME'"
        )
    if long_:
        from setpiece.core.listing import provenance_line, versions_long

        detailed = versions_long(ws, name, repo_name)
        if as_json:
            echo_json(detailed)
        else:
            for repo_, rows in detailed.items():
                for row in rows:
                    click.echo(f"{repo_:<12} {row['version']:<12} {provenance_line(row)}")
    elif as_json:
        echo_json(data)
    else:
        for repo_, vs in data.items():
            yanked = _yanked(ws, repo_, name) if vs else {}
            shown = [f"{v} (yanked)" if v in yanked else v for v in vs]
            click.echo(f"{repo_:<12} {', '.join(shown) if vs else '-'}")
    from setpiece.core.authoring import reindex_hint

    hint = reindex_hint(ws, name)
    if hint:
        click.echo(f"warning: {hint}", err=True)


@click.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def info(state: State, name: str, as_json: bool) -> None:
    """An asset's version, kind, description and dependencies (with their kind)."""
    from setpiece.core.naming import validate_name

    validate_name(name)
    data = state.workspace().info(name)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['name']} {data['version']}  ({data['kind'] or 'no kind'}, {data['source']})")
    if data["description"]:
        click.echo(f"  {data['description']}")
    click.echo(f"  installed: {data['installed'] or '-'}")
    for repo_, vs in data["published"].items():
        click.echo(f"  published in {repo_}: {', '.join(vs)}")
    if data["provenance"]:
        from setpiece.core.listing import provenance_line

        click.echo(f"  {data['version']}: {provenance_line(data['provenance'])}")
    if data["dependencies"]:
        click.echo("  dependencies:")
        for d in data["dependencies"]:
            click.echo(f"    [{d['group']}] {d['requirement']:<28} {d['kind']}")


def _yanked(ws: object, repo_name: str, name: str) -> dict[str, str]:
    """Yanked versions of ``name`` in a folder repo (an index server says so itself)."""
    from setpiece.core.repos.folder import FolderRepo

    repo_ = ws.repo(repo_name)  # type: ignore[attr-defined]
    return repo_.yanked(name) if isinstance(repo_, FolderRepo) else {}
