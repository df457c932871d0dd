"""Hooks: how the usd and hosts layers join core's operations without core importing them.

Each hook group is an entry point group; every function registered in it is called
with keyword arguments, in entry point name order:

* ``setpiece.scaffold``       ``fn(ws, package_dir, name, version, kind)`` after ``create``
  writes a new asset project (setpiece-usd writes ``asset.usda``);
* ``setpiece.version_changed`` ``fn(ws, package_dir, name, version)`` after ``bump`` or
  ``edit`` sets a new version (setpiece-usd stamps ``assetInfo.version``);
* ``setpiece.renamed``        ``fn(ws, package_dir, old_name, name, version)`` after ``clone``
  copies an asset's package under a new name (setpiece-usd renames ``asset.usda``'s
  ``assetInfo``);
* ``setpiece.before_publish`` ``fn(ws, package_dir, name, version)`` before a publish
  pushes or builds anything: raise ``SetpieceError`` to refuse it (setpiece-usd checks
  that the asset's ``.usda`` layers parse);
* ``setpiece.demo.asset``     ``fn(ws, asset)`` before the demo publishes a sample asset;
* ``setpiece.demo``           ``fn(ws, report)`` after the demo installed its sample set;
* ``setpiece.publish_resume`` ``fn(ws, name, repo)``: ``setpiece publish NAME --resume``
  finishes an interrupted in-app publish from its staging folder (setpiece-hosts; one
  provider: :func:`provider`).
* ``setpiece.template_form``  ``fn(creator, name, given) -> {param: text}``: the Qt form of
  ``setpiece create NAME --template T --form`` (setpiece-hosts; one provider).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any


def run(group: str, **kwargs: Any) -> None:
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        ep.load()(**kwargs)


def provider(group: str) -> Callable[..., Any] | None:
    """The function registered in ``group`` (the first by entry point name), or None when
    no installed distribution provides one."""
    found = sorted(entry_points(group=group), key=lambda e: e.name)
    if not found:
        return None
    fn: Callable[..., Any] = found[0].load()
    return fn
