"""Shared timing helpers for benchmarks: pinned threads, warm-up, interleaved rounds, medians.

This machine is shared and noisy, so benchmarks compare things measured side by side in the
same run (round-robin) and report medians and ratios, never absolute thresholds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence


def interleaved(
    fns: Sequence[Callable[[], object]], *, rounds: int = 15, repeats: int = 50, warmup: int = 20
) -> list[list[float]]:
    """Per-candidate lists of per-call times (seconds), one min-of-round value per round.

    Candidates run round-robin (A, B, A, B, ...) so drifting machine load hits both alike.
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn()
                best = min(best, time.perf_counter() - t0)
            samples[i].append(best)
    return samples


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1e3


def ratio_ci(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Median of per-round ratios a/b with the 25th and 75th percentiles."""
    ratios = sorted(x / y for x, y in zip(a, b))
    q = statistics.quantiles(ratios, n=4) if len(ratios) >= 4 else [ratios[0], 0, ratios[-1]]
    return statistics.median(ratios), q[0], q[-1]
