"""Robust statistics for noisy timings: the interleaving schedule, per-round minima, medians,
relative spreads, and the agreement metrics ``hadnas latency check`` reports.

Pure Python/numpy on purpose: the protocol's logic is tested without timing anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def round_robin(n: int, rounds: int) -> list[tuple[int, int]]:
    """The interleaved measurement order as ``(round, candidate)`` pairs.

    Every round visits every candidate once; round ``r`` starts at candidate ``r mod n`` so no
    candidate always runs first (right after a cold cache or a context switch).
    """
    if n < 0 or rounds < 0:
        raise ValueError(f"n and rounds must be >= 0, got {n=}, {rounds=}")
    return [(r, (r + k) % n) for r in range(rounds) for k in range(n)]


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (numpy's default method); NaN for no values."""
    if not len(values):
        return math.nan
    return float(np.quantile(np.asarray(values, dtype=float), q))


def median(values: Sequence[float]) -> float:
    return quantile(values, 0.5)


def relative_iqr(values: Sequence[float]) -> float:
    """Inter-quartile range over the median: 0 for perfectly repeatable rounds."""
    mid = median(values)
    if not mid or math.isnan(mid):
        return math.nan if math.isnan(mid) else 0.0
    return (quantile(values, 0.75) - quantile(values, 0.25)) / mid


def summarize(per_round: Sequence[Sequence[float]]) -> tuple[float, float, tuple[float, ...]]:
    """``(median of per-round minima, relative IQR of them, the minima)``.

    The minimum within a round discards calls slowed by interference (preemption, another
    process on the core); the median across rounds discards rounds that were slow throughout.
    """
    minima = tuple(min(r) for r in per_round if len(r))
    return median(minima), relative_iqr(minima), minima


def rank(values: Sequence[float]) -> np.ndarray:
    """Ranks starting at 1, ties averaged (as Spearman's coefficient needs)."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        tied = x == v
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation; NaN with fewer than two points or a constant side."""
    if len(a) != len(b):
        raise ValueError(f"length mismatch: {len(a)} vs {len(b)}")
    if len(a) < 2:
        return math.nan
    ra, rb = rank(a), rank(b)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def share_within(pred: Sequence[float], ref: Sequence[float], tol: float = 0.10) -> float:
    """Share of pairs with ``|pred - ref| <= tol * ref``."""
    if not len(ref):
        return math.nan
    p, r = np.asarray(pred, dtype=float), np.asarray(ref, dtype=float)
    return float(np.mean(np.abs(p - r) <= tol * np.abs(r) + 1e-12))


def share_agree(a: Sequence[float], b: Sequence[float], tol: float = 0.10) -> float:
    """Symmetric self-agreement of two passes: ``|a - b| <= tol * mean(a, b)``."""
    if not len(a):
        return math.nan
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.mean(np.abs(x - y) <= tol * (x + y) / 2 + 1e-12))


def rmspe(pred: Sequence[float], ref: Sequence[float]) -> float:
    """Root-mean-square percentage error, as a fraction (0.1 = 10 %)."""
    if not len(ref):
        return math.nan
    p, r = np.asarray(pred, dtype=float), np.asarray(ref, dtype=float)
    return float(np.sqrt(np.mean(((p - r) / r) ** 2)))
