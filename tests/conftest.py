"""Fixtures shared by every test: a fixed seed, the tiny space, a file writer."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests._helpers import MINIMAL, TINY


@pytest.fixture(autouse=True)
def _seed_everything() -> Iterator[None]:
    """Every test starts from the same RNG state (Python, NumPy, torch)."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture
def tiny_text() -> str:
    return TINY


@pytest.fixture
def minimal_text() -> str:
    return MINIMAL


@pytest.fixture
def tiny_space() -> Any:  # a SearchSpace
    import hadnas

    return hadnas.load_space("tiny.yaml", text=TINY)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write("a.yaml", text)`` puts a file in the test's tmp dir and returns its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def quiet_optuna() -> Iterator[None]:
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)
