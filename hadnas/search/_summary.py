"""``summary.json`` and ``pareto.png``: the run folder's overview, rebuilt from the study.

Infeasible trials (constraint values > 0) and failed ones never enter the best list or the
front; their placeholder values exist only so constraint-aware samplers can learn from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hadnas.search._folder import RunFolder, write_json
from hadnas.search._pareto import pareto_indices, plot_front
from hadnas.search._progress import counts, trial_status

if TYPE_CHECKING:
    import optuna

    from hadnas.space import SearchSpace


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append(
            {
                "number": t.number,
                "status": trial_status(t),
                "values": list(t.values) if t.values else None,
                "params": dict(t.params),
                "metrics": t.user_attrs.get("metrics", {}),
                "fail_reason": t.user_attrs.get("fail_reason"),
                "retry_of": t.user_attrs.get("retry_of"),
                "constraints": t.constraints,
                "duration_s": t.duration.total_seconds() if t.duration else None,
            }
        )
    return rows


def best_rows(
    rows: list[dict[str, Any]], objectives: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The best trial (one objective) or the Pareto front (several), feasible trials only."""
    ok = [r for r in rows if r["status"] == "complete" and r["values"]]
    dirs = [o["direction"] for o in objectives]
    if not ok:
        return []
    if len(dirs) == 1:
        sign = 1 if dirs[0] == "maximize" else -1
        return [max(ok, key=lambda r: sign * r["values"][0])]
    front = [ok[i] for i in pareto_indices([r["values"] for r in ok], dirs)]
    return sorted(front, key=lambda r: r["values"][0], reverse=dirs[0] == "maximize")


def write_summary(
    study: optuna.Study, space: SearchSpace, folder: RunFolder, info: dict[str, Any]
) -> dict[str, Any]:
    spec = space.spec
    objectives = [{"metric": o.metric, "direction": o.direction} for o in spec.objectives]
    rows = trial_rows(study)
    best = best_rows(rows, objectives)
    for r in best:
        r["objectives"] = dict(zip((o["metric"] for o in objectives), r["values"]))
    summary = {
        "name": spec.name,
        "study_name": info["study_name"],
        "storage": info["storage"],
        "trials_target": info["trials"],
        "objectives": objectives,
        "constraints": {c.metric: {"max": c.max, "min": c.min} for c in spec.constraints},
        "sampler": spec.search.sampler,
        "seed": spec.search.seed,
        "counts": counts(study.get_trials(deepcopy=False)),
        "best": best,
        "trials": rows,
    }
    write_json(folder.summary_json, summary)
    ok = [r for r in rows if r["status"] == "complete" and r["values"]]
    plot_front(
        folder.pareto_png,
        ok,
        objectives,
        f"{info['study_name']}: {len(ok)} feasible of {len(rows)} trials",
    )
    return summary
