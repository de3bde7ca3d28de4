"""Hypervolume with a fixed reference point, so numbers compare across samplers and seeds.

Every objective is turned into one to minimise and scaled by the table: 0 is the best value
any architecture reaches, 1 the worst; the reference point is 1.1 in every coordinate. The
true Pareto front, and so the largest reachable hypervolume, is computed from the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

REF = 1.1  # reference point, in scaled units, in every coordinate


@dataclass(frozen=True)
class Scale:
    """Maps raw objective vectors to scaled, minimised ones (``0`` best, ``1`` worst)."""

    signs: np.ndarray  # +1 minimise, -1 maximise
    low: np.ndarray  # best (smallest signed) value over the table
    span: np.ndarray  # worst - best, 1 where all equal

    @classmethod
    def fit(cls, directions: Sequence[str], values: np.ndarray) -> Scale:
        signs = np.array([1.0 if d.startswith("min") else -1.0 for d in directions])
        signed = np.asarray(values, dtype=float) * signs
        low, high = signed.min(axis=0), signed.max(axis=0)
        span = np.where(high - low > 0, high - low, 1.0)
        return cls(signs, low, span)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=float) * self.signs - self.low) / self.span


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """True for the non-dominated rows of ``points`` (minimisation); duplicates all kept."""
    pts = np.asarray(points, dtype=float)
    mask = np.ones(len(pts), dtype=bool)
    for i, p in enumerate(pts):
        dominated = np.all(pts <= p, axis=1) & np.any(pts < p, axis=1)
        mask[i] = not dominated.any()
    return mask


def hypervolume(points: np.ndarray, ref: float = REF) -> float:
    """Hypervolume dominated by scaled, minimised ``points`` up to ``(ref, ..., ref)``."""
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        return 0.0
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    d = pts.shape[1]
    if d == 1:
        return float(ref - pts.min())
    if d == 2:
        pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
        volume, best_y = 0.0, ref
        for x, y in pts:
            if y < best_y:
                volume += (ref - x) * (best_y - y)
                best_y = y
        return float(volume)
    from optuna._hypervolume import compute_hypervolume

    front = pts[pareto_mask(pts)]
    return float(compute_hypervolume(front, np.full(d, ref)))


def hv_curve(scaled: Sequence[np.ndarray | None]) -> np.ndarray:
    """Hypervolume after each trial; ``None`` marks a trial that adds no feasible point."""
    out = np.zeros(len(scaled))
    kept: list[np.ndarray] = []
    volume = 0.0
    for t, point in enumerate(scaled):
        if point is not None:
            kept.append(point)
            volume = hypervolume(np.array(kept))
        out[t] = volume
    return out
