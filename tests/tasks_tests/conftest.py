"""Fixtures for the tasks tests: keep the dataset registry and entry-point cache unpolluted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hadnas.tasks import _registry


@pytest.fixture(autouse=True)
def _restore_registry() -> Iterator[None]:
    saved = dict(_registry._REGISTRY)
    _registry._reset_entry_points()
    yield
    _registry._REGISTRY.clear()
    _registry._REGISTRY.update(saved)
    _registry._reset_entry_points()


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Tiny models train fastest on one thread; several threads thrash a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
