"""Asset files: big files versioned with dvc, never shipped in a wheel.

An asset package carries small dvc pointer files (``<path>.dvc``: md5, size, number of
files) beside the paths they stand for, inside the asset's package folder; the bytes live
in a content-addressed dvc cache (``[files] cache`` in ``setpiece.toml``, else
``.setpiece/files/cache`` in the workspace) and in each repo's files remote (a folder
repo's own folder by default: objects under ``<repo>/files/md5/``; any dvc remote URL with
``files_remote`` under ``[repos.NAME]``).

Modules: ``pointers`` (the ``.dvc`` files; no dvc import), ``store`` (dvc-data: hashing,
cache, links), ``remote`` (a repo's files remote), ``tracking`` (add, import), ``status``,
``pushing``, ``pulling`` (pull, prune), ``publishing`` (publish/promote hooks),
``excludes`` (keeps tracked data out of the wheel).

dvc is the ``files`` extra of setpiece-core and is imported only when files are handled:
``setpiece --help`` and every command that touches no tracked file never import it.
"""

from __future__ import annotations

import importlib.util

from setpiece.core.errors import Unavailable

INSTALL_HINT = 'pip install "setpiece-core[files]"'


def need_dvc() -> None:
    """Raise a one-line error when dvc (the ``files`` extra) is not installed."""
    if importlib.util.find_spec("dvc_data") is None or importlib.util.find_spec("dvc") is None:
        raise Unavailable(f"asset files need dvc, which is not installed: {INSTALL_HINT}")
