"""Latency fixtures: a fast timing spec and an isolated table directory.

No test asserts on a measured duration; timings only need to be positive and finite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hadnas.spec._schema import LatencySpec

FAST = LatencySpec(batch_size=1, threads=1, warmup=1, repeats=2, rounds=2)


@pytest.fixture
def fast_spec() -> LatencySpec:
    return FAST


@pytest.fixture
def table_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Tables go to a temporary directory (also for ``predict_arch(table=None)``)."""
    root = tmp_path / "latency"
    monkeypatch.setenv("HADNAS_LATENCY_DIR", str(root))
    yield root
