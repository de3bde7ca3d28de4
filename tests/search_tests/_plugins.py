"""Test-only datasets, imported by trial processes through ``"tests.search_tests._plugins:NAME"``.

``toy`` is a tiny, fast, learnable classification problem; its options make a trial hang (while
a marker file exists), sleep, or allocate too much memory, so tests can provoke timeouts, kills
and OOMs without slow real training.
"""

from __future__ import annotations

import os
import time

import numpy as np

from hadnas.tasks import Dataset


def toy(
    n: int = 240,
    features: int = 8,
    hang_while: str = "",
    sleep_s: float = 0.0,
    alloc_mb: int = 0,
    seed: int = 0,
) -> Dataset:
    """Two classes separated by the sign of the first feature plus noise."""
    while hang_while and os.path.exists(hang_while):
        time.sleep(0.05)
    if sleep_s:
        time.sleep(sleep_s)
    if alloc_mb:
        block = np.ones(alloc_mb * 2**20, dtype=np.uint8)  # raises MemoryError under the cap
        block[::4096] = 2
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    return Dataset(inputs={"x": x}, y=y, kind="classification", num_classes=2)


def toy_regression(n: int = 200, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, 0] * x[:, 1]).astype(np.float32)
    return Dataset(inputs={"x": x}, y=y, kind="regression")
