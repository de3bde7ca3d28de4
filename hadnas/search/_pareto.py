"""Pareto fronts, hypervolume and the front picture (matplotlib Agg, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _as_min(values: Sequence[float], directions: Sequence[str]) -> list[float]:
    return [-v if d == "maximize" else v for v, d in zip(values, directions)]


def pareto_indices(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices of the non-dominated points (duplicates all kept)."""
    mins = [_as_min(p, directions) for p in points]
    front = []
    for i, a in enumerate(mins):
        dominated = any(
            all(x <= y for x, y in zip(b, a)) and any(x < y for x, y in zip(b, a))
            for j, b in enumerate(mins)
            if j != i
        )
        if not dominated:
            front.append(i)
    return front


def hypervolume(
    points: Sequence[Sequence[float]], directions: Sequence[str], reference: Sequence[float]
) -> float:
    """Hypervolume dominated by ``points`` and bounded by ``reference`` (same units/directions).

    Exact sweep for two objectives; Optuna's implementation for more.
    """
    ref = _as_min(reference, directions)
    mins = [_as_min(p, directions) for p in points]
    mins = [p for p in mins if all(x < r for x, r in zip(p, ref))]
    if not mins:
        return 0.0
    if len(ref) == 2:
        area, best_y = 0.0, ref[1]
        for x, y in sorted(mins):
            if y < best_y:
                area += (ref[0] - x) * (best_y - y)
                best_y = y
        return area
    import numpy as np
    from optuna._hypervolume import compute_hypervolume

    return float(compute_hypervolume(np.asarray(mins), np.asarray(ref)))


def plot_front(
    path: Path, rows: Sequence[dict[str, Any]], objectives: Sequence[dict[str, str]], title: str
) -> None:
    """``rows``: feasible complete trials (``number``, ``values``). Two or more objectives: the
    first two as a scatter with the front highlighted; one objective: value and best-so-far."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    names = [o["metric"] for o in objectives]
    dirs = [o["direction"] for o in objectives]
    if not rows:
        ax.text(0.5, 0.5, "no feasible complete trial yet", ha="center", va="center")
    elif len(objectives) == 1:
        nums = [r["number"] for r in rows]
        vals = [r["values"][0] for r in rows]
        pick = max if dirs[0] == "maximize" else min
        best = [pick(vals[: i + 1]) for i in range(len(vals))]
        ax.scatter(nums, vals, s=14, color="0.55", label="trial")
        ax.step(nums, best, where="post", color="tab:red", label="best so far")
        ax.set_xlabel("trial")
        ax.set_ylabel(f"{names[0]} ({dirs[0][:3]})")
        ax.legend(loc="best")
    else:
        pts = [r["values"] for r in rows]
        front = sorted(pareto_indices(pts, dirs), key=lambda i: pts[i][1])
        ax.scatter([p[1] for p in pts], [p[0] for p in pts], s=14, color="0.6", label="trial")
        fx, fy = [pts[i][1] for i in front], [pts[i][0] for i in front]
        ax.step(fx, fy, where="post", color="tab:red", lw=1)
        ax.scatter(fx, fy, s=28, color="tab:red", label="Pareto front", zorder=3)
        for i in front:
            ax.annotate(
                f"#{rows[i]['number']}",
                (pts[i][1], pts[i][0]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xlabel(f"{names[1]} ({dirs[1][:3]})")
        ax.set_ylabel(f"{names[0]} ({dirs[0][:3]})")
        ax.legend(loc="best")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
