"""Fixtures for search tests: tiny spaces written to files, storages of both kinds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

TOY = "tests.search_tests._plugins:toy"


def space_text(
    *,
    name: str = "toy",
    dataset: str = TOY,
    task: str = "",
    objectives: str = "{accuracy: max}",
    constraints: str = "",
    search: str = "{sampler: random, trials: 4, seed: 0}",
    latency: str = "{batch_size: 1, threads: 1, warmup: 1, repeats: 3, rounds: 2}",
    lr: str = "{log: [1.0e-3, 1.0e-2]}",
) -> str:
    lines = [
        "hadnas: 1",
        f"name: {name}",
        f'task: {{dataset: "{dataset}", epochs: 2, batch_size: 64, lr: {lr}{task}}}',
        "inputs:",
        "  x: {shape: [8]}",
        "nodes:",
        "  stem: {op: linear, in: x, out: {choice: [8, 16]}}",
        "  mix:",
        "    choice:",
        "      - {op: glu_ffn, act: {choice: [gelu, silu]}}",
        "      - {op: linear, out: 16}",
        "  head: {op: linear, in: mix, out: 2}",
        "output: head",
        f"objectives: {objectives}",
        *([f"constraints: {constraints}"] if constraints else []),
        f"latency: {latency}",
        f"search: {search}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_space(tmp_path: Path) -> Callable[..., Path]:
    def write(filename: str = "space.yaml", **kwargs: str) -> Path:
        path = tmp_path / filename
        path.write_text(space_text(**kwargs), encoding="utf-8")
        return path

    return write


@pytest.fixture(params=["journal", "sqlite"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """``None`` (the default journal file) or a SQLite URL."""
    return None if request.param == "journal" else f"sqlite:///{tmp_path / 'study.db'}"


@pytest.fixture(params=["journal", pytest.param("sqlite", marks=pytest.mark.slow)])
def storage_slow_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Like ``storage``, with the SQLite case marked slow (SQLite runs ~2x slower here)."""
    return None if request.param == "journal" else f"sqlite:///{tmp_path / 'study.db'}"
