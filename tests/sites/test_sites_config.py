"""Sites in setpiece.toml: checked when read (one line each), the current site, owners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def _with(ws: Any, text: str, site: str | None = "london") -> Path:
    path = ws.config.path
    body = path.read_text(encoding="utf-8")
    if site:
        body = body.replace("[workspace]\n", f'[workspace]\nsite = "{site}"\n', 1)
    path.write_text(body + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "fragments"), [
    ('[sites.london]\nrepos = ["nowhere"]\n', ("[sites.london] repos", "repo 'nowhere'", "not configured")),
    ('[sites.london]\nrepos = "blessed"\n', ("[sites.london] repos", "list of repo names")),
    ('[sites.london]\nrepos = ["blessed"]\n[sites.paris]\nrepos = ["blessed"]\n',
     ("[sites.paris] repos", "already a repo of site 'london'")),
    ('[sites.london]\nrepos = ["blessed"]\nowns = "Chair"\n', ("[sites.london] owns", "list")),
    ('[sites.london]\nrepos = ["blessed"]\nreview = "review"\n',
     ("[sites.london] review", "not one of the site's repos")),
    ('[sites.london]\nrepos = ["blessed"]\nfiles_remote = 5\n', ("[sites.london] files_remote",)),
    ('[sites.london]\nrepos = ["blessed"]\nmirror = true\n', ("[sites.london]", "unknown key 'mirror'")),
    ('[sites]\nlondon = 3\n', ("[sites] london", "must be a table")),
])
def test_bad_sites_are_one_line_errors(make_workspace: Any, run_cli: Any, text: str,
                                       fragments: tuple[str, ...]) -> None:
    ws = make_workspace()
    _with(ws, text)
    run_cli("-w", ws.root, "repo", "list").user_error(*fragments)


def test_the_current_site_must_be_configured(make_workspace: Any, run_cli: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_workspace()
    _with(ws, '[sites.london]\nrepos = ["blessed", "review"]\n', site="paris")
    run_cli("-w", ws.root, "repo", "list").user_error("[workspace] site", "'paris'", "london")
    ws.config.path.write_text(ws.config.path.read_text().replace('site = "paris"', 'site = "london"'))
    assert run_cli("-w", ws.root, "repo", "list").exit_code == 0
    monkeypatch.setenv("SETPIECE_SITE", "tokyo")
    run_cli("-w", ws.root, "install", "Chair").user_error("site 'tokyo'", "$SETPIECE_SITE",
                                                          "london")


def test_events_carry_the_workspace_site(make_workspace: Any, run_cli: Any) -> None:
    ws = make_workspace()
    _with(ws, '[sites.london]\nrepos = ["blessed", "review"]\n')
    assert run_cli("-w", ws.root, "create", "Chair").exit_code == 0
    r = run_cli("-w", ws.root, "events", "--json")
    assert r.exit_code == 0, r.err
    assert {json.loads(line)["site"] for line in r.out.splitlines()} == {"london"}


def test_an_owned_asset_is_published_only_by_its_site_or_to_a_review_repo(
        two_sites: Any, run_cli: Any) -> None:
    s = two_sites
    ws = s.mumbai
    ws.create("KitchenSet", version="2.0.0")
    r = run_cli("-w", ws.root, "publish", "KitchenSet", "--repo", "mumbai")
    r.user_error("KitchenSet is owned by site 'london'", "site 'mumbai'",
                 "--repo mumbai-review")
    assert not list(s.mumbai_repo.glob("*.whl"))
    r = run_cli("-w", ws.root, "publish", "KitchenSet", "--repo", "mumbai-review")
    assert r.exit_code == 0, r.err
    # london, the owner, publishes it anywhere; promote is held to the same rule
    run_cli("-w", ws.root, "promote", "KitchenSet==2.0.0", "--from", "mumbai-review", "--to",
            "mumbai").user_error("owned by site 'london'")
    assert run_cli("-w", s.london.root, "promote", "KitchenSet==2.0.0", "--from",
                   "mumbai-review", "--to", "london").exit_code == 0
    # an asset nobody owns: any site
    ws.create("Stool")
    assert run_cli("-w", ws.root, "publish", "Stool", "--repo", "mumbai").exit_code == 0
    # a workspace that does not say where it is cannot publish an owned asset
    text = ws.config.path.read_text().replace('site = "mumbai"\n', "", 1)
    ws.config.path.write_text(text)
    ws.output("KitchenSet").set_version("2.0.1")
    run_cli("-w", ws.root, "publish", "KitchenSet", "--repo", "mumbai-review").user_error(
        "owned by site 'london'", "does not say which site", "[workspace]")


def test_a_sync_is_no_way_around_owners(two_sites: Any, run_cli: Any) -> None:
    """mumbai's KitchenSet (in its review repo) reaches london's repo only when london, the
    owner, syncs it; london's own versions replicate anywhere."""
    s = two_sites
    assert run_cli("-w", s.mumbai.root, "repo", "sync", "london", "mumbai",
                   "KitchenSet[build]").exit_code == 0
    assert run_cli("-w", s.mumbai.root, "edit", "KitchenSet").exit_code == 0
    assert run_cli("-w", s.mumbai.root, "publish", "KitchenSet", "--repo",
                   "mumbai-review").exit_code == 0
    run_cli("-w", s.mumbai.root, "repo", "sync", "mumbai-review", "london",
            "KitchenSet==1.0.1").user_error("owned by site 'london'", "does not sync")
    assert not (s.london_repo / "kitchenset-1.0.1-py3-none-any.whl").exists()
    r = run_cli("-w", s.london.root, "repo", "sync", "mumbai-review", "london", "KitchenSet==1.0.1")
    assert r.exit_code == 0, r.err
    assert (s.london_repo / "kitchenset-1.0.1-py3-none-any.whl").exists()
