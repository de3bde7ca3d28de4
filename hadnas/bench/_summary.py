"""Search-quality figures from replayed runs: hypervolume gap, trials to reach a target,
infeasible share. One :class:`SamplerStats` per sampler; random search is the yardstick."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hadnas.bench._replay import Reference, SamplerRun, curves


@dataclass(frozen=True)
class SamplerStats:
    """Figures of one sampler over its seeds (``gap`` as a fraction of the true hypervolume).

    ``reach`` holds, per seed, the first trial (1-based) whose hypervolume reaches the target
    (random search's mean final hypervolume), or ``None`` if the budget ran out first.
    """

    sampler: str
    trials: int
    seeds: int
    hv_mean: float
    gap_mean: float
    gap_std: float
    gap_median: float
    reach: tuple[int | None, ...]
    infeasible_share: float
    infeasible_trained: int
    failed: int
    seconds: float
    curve_median: tuple[float, ...]
    curve_q25: tuple[float, ...]
    curve_q75: tuple[float, ...]

    @property
    def reach_median(self) -> float:
        """Median of ``reach`` with unreached seeds counted as never (``inf``)."""
        vals = [float(r) if r is not None else float("inf") for r in self.reach]
        return float(np.median(vals)) if vals else float("inf")

    @property
    def reach_share(self) -> float:
        return sum(r is not None for r in self.reach) / max(len(self.reach), 1)


def stats(
    runs: Mapping[str, SamplerRun], ref: Reference, target: float | None = None
) -> dict[str, SamplerStats]:
    """Figures per sampler; ``target`` defaults to the ``random`` run's mean final hypervolume
    (``None`` reach figures when there is neither)."""
    hv = {name: curves(run, ref) for name, run in runs.items()}
    if target is None and "random" in hv:
        target = float(hv["random"][:, -1].mean())
    out = {}
    for name, run in runs.items():
        c = hv[name]
        gaps = 1.0 - c[:, -1] / ref.hv
        rel = 1.0 - c / ref.hv
        reach: list[int | None] = []
        for row in c:
            hit = np.flatnonzero(row >= target - 1e-12) if target is not None else np.array([])
            reach.append(int(hit[0]) + 1 if len(hit) else None)
        records = [r for seed in run.trials for r in seed]
        out[name] = SamplerStats(
            sampler=name,
            trials=c.shape[1],
            seeds=c.shape[0],
            hv_mean=float(c[:, -1].mean()),
            gap_mean=float(gaps.mean()),
            gap_std=float(gaps.std()),
            gap_median=float(np.median(gaps)),
            reach=tuple(reach),
            infeasible_share=sum(not r.feasible and not r.failed for r in records)
            / max(len(records), 1),
            infeasible_trained=sum(r.trained and not r.feasible for r in records),
            failed=sum(r.failed for r in records),
            seconds=run.seconds,
            curve_median=tuple(np.median(rel, axis=0)),
            curve_q25=tuple(np.quantile(rel, 0.25, axis=0)),
            curve_q75=tuple(np.quantile(rel, 0.75, axis=0)),
        )
    return out


def goal_check(s: Mapping[str, SamplerStats], default: str = "tpe") -> dict[str, bool] | None:
    """The issue's goals for the default sampler: gap <= 0.85 x random's, and random's final
    hypervolume reached within 85 % of the budget (median over seeds)."""
    if default not in s or "random" not in s:
        return None
    d, r = s[default], s["random"]
    return {
        "gap": d.gap_mean <= 0.85 * r.gap_mean,
        "reach": d.reach_median <= 0.85 * d.trials,
    }


def fmt_reach(st: SamplerStats) -> str:
    med = st.reach_median
    text = f"{med:.0f}" if np.isfinite(med) else f">{st.trials}"
    return f"{text} ({st.reach_share:.0%} of seeds)"


def table_rows(s: Mapping[str, SamplerStats], constrained: bool = False) -> list[list[str]]:
    """Rows for a text or Markdown table, one per sampler."""
    rows = []
    for st in s.values():
        row = [
            st.sampler,
            f"{st.gap_mean:.1%} ± {st.gap_std:.1%}",
            f"{st.gap_median:.1%}",
            fmt_reach(st),
        ]
        if constrained:
            row += [f"{st.infeasible_share:.1%}", str(st.infeasible_trained)]
        row.append(f"{st.seconds:.1f}")
        rows.append(row)
    return rows


def headers(constrained: bool = False) -> list[str]:
    cols = ["sampler", "HV gap (mean ± sd)", "HV gap (median)", "trials to random's final HV"]
    if constrained:
        cols += ["trials on infeasible archs", "infeasible archs trained"]
    return [*cols, "replay s"]


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
