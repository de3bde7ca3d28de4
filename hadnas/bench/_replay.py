"""Replay a search on a table: real Optuna studies whose trials look their results up.

Each seed runs one in-memory study with the sampler hadnas would build for the space
(:func:`hadnas.search._samplers.make_sampler`, so ``tpe`` here is the TPE a search uses). A
trial asks the space for an architecture with ``space.suggest(trial)`` (the real parameter
names), then follows the trial runner's order: constraints on metrics known before training
(params, FLOPs, bytes, latency) are checked first, and a violating architecture is recorded
with ``trial.set_constraint`` and placeholder values, never "trained" (its accuracy is never
read). Otherwise the trained metrics come from the table.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hadnas.bench._hv import Scale, hv_curve, hypervolume, pareto_mask
from hadnas.bench._table import BenchTable
from hadnas.exceptions import HadnasError
from hadnas.search._outcome import (
    PRE_TRAINING,
    constraint_values,
    is_feasible,
    objective_values,
)
from hadnas.space import SearchSpace
from hadnas.spec import ConstraintSpec

SAMPLERS = ("tpe", "nsga2", "gp", "random")


@dataclass
class TrialRecord:
    """One replayed trial: which entry, whether it was feasible, "trained", or failed."""

    key: str
    values: list[float] | None
    feasible: bool
    trained: bool
    failed: bool = False


@dataclass
class SamplerRun:
    """All seeds of one sampler: ``trials[seed][t]`` plus the wall time they took."""

    sampler: str
    seeds: list[int]
    trials: list[list[TrialRecord]] = field(default_factory=list)
    seconds: float = 0.0


def parse_constraint(text: str) -> ConstraintSpec:
    """``"params<=3000"`` or ``"accuracy>=0.9"`` → a :class:`ConstraintSpec`."""
    for op, kind in (("<=", "max"), (">=", "min")):
        if op in text:
            metric, _, bound = text.partition(op)
            try:
                value = float(bound)
            except ValueError:
                break
            if kind == "max":
                return ConstraintSpec(metric.strip(), max=value)
            return ConstraintSpec(metric.strip(), min=value)
    raise HadnasError(
        f"cannot read constraint {text!r}; write METRIC<=VALUE or METRIC>=VALUE, "
        "e.g. params<=3000 or latency_ms<=0.05"
    )


def _space_for(table: BenchTable, sampler: str) -> SearchSpace:
    spec = table.space.spec
    search = dataclasses.replace(spec.search, sampler=sampler)
    return SearchSpace(dataclasses.replace(spec, search=search))


def replay(
    table: BenchTable,
    sampler: str,
    *,
    trials: int = 40,
    seeds: Sequence[int] = range(30),
    constraints: Sequence[ConstraintSpec] | None = None,
) -> SamplerRun:
    """Run one study per seed with ``sampler``; ``constraints`` default to the space's own."""
    import optuna
    import torch
    from optuna.exceptions import ExperimentalWarning
    from optuna.trial import TrialState

    from hadnas.search._samplers import make_sampler

    space = _space_for(table, sampler)
    cons = tuple(space.spec.constraints if constraints is None else constraints)
    known = set(table.entries[0].metrics) if table.entries else set()
    for c in cons:
        if c.metric not in known:
            raise HadnasError(
                f"constraint on {c.metric!r}: the table has no such metric "
                f"(it has: {', '.join(sorted(known))})"
            )
    pre = [c for c in cons if c.metric in PRE_TRAINING]
    directions: list[Any] = [o.direction for o in space.spec.objectives]
    run = SamplerRun(sampler, list(seeds))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    threads = torch.get_num_threads()
    # GPSampler fits its GPs with torch: one thread is ~8x faster than two on a busy 2-core box
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            for seed in seeds:
                study = optuna.create_study(
                    directions=directions, sampler=make_sampler(space, trials=trials, seed=seed)
                )
                records = []
                for _ in range(trials):
                    trial = study.ask()
                    record, values = _evaluate(table, space.suggest(trial), trial, pre, cons)
                    if values is None:
                        study.tell(trial, state=TrialState.FAIL)
                    else:
                        study.tell(trial, values)
                    records.append(record)
                run.trials.append(records)
    finally:
        torch.set_num_threads(threads)
    run.seconds = time.perf_counter() - start
    return run


def _evaluate(
    table: BenchTable,
    arch: Any,
    trial: Any,
    pre: Sequence[ConstraintSpec],
    cons: Sequence[ConstraintSpec],
) -> tuple[TrialRecord, list[float] | None]:
    """The trial runner's order on a table entry; ``None`` values fail the trial."""
    objectives = table.space.spec.objectives
    entry = table.lookup(arch.params)
    before = {k: v for k, v in entry.metrics.items() if k in PRE_TRAINING}
    if not is_feasible(constraint_values(pre, before)):  # never trained: accuracy unread
        for k, v in constraint_values(cons, before).items():
            trial.set_constraint(k, v)
        return TrialRecord(entry.key, None, False, False), objective_values(
            objectives, before, placeholder=True
        )
    if not entry.ok:  # training diverged when the table was built
        return TrialRecord(entry.key, None, False, True, failed=True), None
    after = constraint_values(cons, entry.metrics)
    for k, v in after.items():
        trial.set_constraint(k, v)
    values = objective_values(objectives, entry.metrics)
    return TrialRecord(entry.key, values, is_feasible(after), True), values


@dataclass(frozen=True)
class Reference:
    """The table's scale, its true (feasible) Pareto front and that front's hypervolume."""

    scale: Scale
    front: list[dict[str, Any]]
    hv: float
    feasible: int


def reference(table: BenchTable, constraints: Sequence[ConstraintSpec] | None = None) -> Reference:
    """Scale from every trained entry; true front from the entries meeting ``constraints``."""
    objectives = table.space.spec.objectives
    cons = tuple(table.space.spec.constraints if constraints is None else constraints)
    ok = [e for e in table.entries if e.ok]
    if not ok:
        raise HadnasError(f"table {table.name!r} has no trained entry")
    raw = np.array([[e.metrics[o.metric] for o in objectives] for e in ok])
    scale = Scale.fit([o.direction for o in objectives], raw)
    feas = [i for i, e in enumerate(ok) if is_feasible(constraint_values(cons, e.metrics))]
    if not feas:
        raise HadnasError("no architecture in the table meets the constraints; relax them")
    pts = scale(raw[feas])
    mask = pareto_mask(pts)
    front = [
        {"choices": dict(ok[feas[i]].choices), **dict(ok[feas[i]].metrics)}
        for i in np.flatnonzero(mask)
    ]
    front.sort(key=lambda f: [f[o.metric] for o in objectives])
    return Reference(scale, front, hypervolume(pts), len(feas))


def curves(run: SamplerRun, ref: Reference) -> np.ndarray:
    """Hypervolume after each trial, ``(seeds, trials)``; only feasible trained trials count."""
    return np.array(
        [
            hv_curve(
                [
                    ref.scale(np.array([r.values]))[0] if r.feasible and r.values else None
                    for r in records
                ]
            )
            for records in run.trials
        ]
    )
