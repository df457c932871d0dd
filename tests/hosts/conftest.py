"""Fixtures the host adapter tests share (tests/hosts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from setpiece.hosts.selftest import SampleScene, write_sample_scene


@pytest.fixture
def sample(tmp_path: Path) -> SampleScene:
    """The selftest's sample set (a Chair 1.0.0 with a 2.0.0 beside it, a Table 1.0.0)."""
    return write_sample_scene(tmp_path / "sample")
