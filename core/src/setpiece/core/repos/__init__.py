"""Repos: where published assets live. A folder (the default) or a package index server."""

from __future__ import annotations

from setpiece.core.repos.base import Repo, open_repo

__all__ = ["Repo", "open_repo"]
