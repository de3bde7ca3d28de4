"""What a trial produced, independent of the backend: values, constraints, a fail reason.

Both backends turn a :class:`TrialOutcome` into their own records, so a NaN objective, an
infeasible architecture or a timeout means the same thing under Optuna and under Ray.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hadnas.spec import ConstraintSpec, ObjectiveSpec

#: the closed set of ``fail_reason`` values a trial can carry
FAIL_REASONS = (
    "exception",
    "non_finite_loss",
    "non_finite_objective",
    "oom",
    "timeout",
    "stale",
    "preempted",
    "infeasible",
)
#: reasons after which the same parameters are retried once (the trial itself was not at fault)
RETRIED_REASONS = ("stale", "preempted")
#: metrics known before training (from the IR or a latency measurement of the untrained model)
PRE_TRAINING = ("params", "flops", "bytes", "latency_ms")
#: values recorded for training metrics of an infeasible (never trained) trial: pessimistic,
#: finite, and ignored by the constraint-aware samplers (tpe, nsga2), which rank infeasible
#: trials by their violation only
PLACEHOLDER = {"accuracy": 0.0, "r2": -1.0, "loss": 10.0, "latency_ms": 1000.0}


@dataclass
class TrialOutcome:
    """The result of running one architecture.

    ``state`` is ``complete``, ``pruned`` or ``fail``. An infeasible architecture is
    ``complete`` with ``fail_reason="infeasible"``, its constraint values > 0 and placeholder
    values, so constraint-aware samplers learn where the infeasible region is.
    """

    state: str
    values: list[float] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    constraints: dict[str, float] = field(default_factory=dict)
    fail_reason: str | None = None
    message: str = ""
    history: list[dict[str, float]] = field(default_factory=list)
    timing: dict[str, float] = field(default_factory=dict)
    fatal: bool = False  # a configuration error every trial would hit: stop the search

    @property
    def ok(self) -> bool:
        return self.state == "complete" and self.fail_reason is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "values": self.values,
            "fail_reason": self.fail_reason,
            "message": self.message,
            "metrics": self.metrics,
            "constraints": self.constraints,
            "history": self.history,
            "timing": self.timing,
        }


def failed(reason: str, message: str, metrics: dict[str, Any] | None = None) -> TrialOutcome:
    assert reason in FAIL_REASONS, reason
    return TrialOutcome("fail", fail_reason=reason, message=message, metrics=dict(metrics or {}))


def constraint_values(
    constraints: Sequence[ConstraintSpec], metrics: Mapping[str, Any]
) -> dict[str, float]:
    """One value per declared constraint (``<= 0`` feasible); 0.0 where the metric is unknown
    (e.g. latency not measured because params already ruled the architecture out)."""
    out = {}
    for c in constraints:
        value = metrics.get(c.metric)
        out[c.metric] = 0.0 if value is None else c.violation(float(value))
    return out


def is_feasible(constraints: Mapping[str, float]) -> bool:
    return all(v <= 0.0 for v in constraints.values())


def objective_values(
    objectives: Sequence[ObjectiveSpec], metrics: Mapping[str, Any], *, placeholder: bool = False
) -> list[float]:
    """The objective values in declared order.

    Raises:
        KeyError: an objective metric was not measured (e.g. ``accuracy`` on a regression task).
        ValueError: a value is NaN or infinite (the trial must fail as ``non_finite_objective``).
    """
    values = []
    for obj in objectives:
        value = metrics.get(obj.metric)
        if value is None and placeholder:
            value = PLACEHOLDER.get(obj.metric)
        if value is None:
            raise KeyError(obj.metric)
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"objective {obj.metric} is {value}")
        values.append(value)
    return values


def finish(
    objectives: Sequence[ObjectiveSpec],
    constraints: Sequence[ConstraintSpec],
    metrics: dict[str, Any],
    **extra: Any,
) -> TrialOutcome:
    """Turn a trained trial's metrics into a complete (or failed) outcome."""
    cons = constraint_values(constraints, metrics)
    try:
        values = objective_values(objectives, metrics)
    except KeyError as exc:
        known = ", ".join(sorted(k for k, v in metrics.items() if isinstance(v, (int, float))))
        out = failed(
            "exception",
            f"objective {exc.args[0]!r} was not measured for this task "
            f"(measured: {known}); choose an objective the task reports",
        )
        out.fatal = True
    except ValueError as exc:
        out = failed("non_finite_objective", f"{exc}; a non-finite objective fails the trial")
    else:
        return TrialOutcome("complete", values, metrics, cons, **extra)
    out.metrics, out.constraints = metrics, cons
    for key, value in extra.items():
        setattr(out, key, value)
    return out


def infeasible(
    objectives: Sequence[ObjectiveSpec],
    constraints: Sequence[ConstraintSpec],
    metrics: dict[str, Any],
) -> TrialOutcome:
    cons = constraint_values(constraints, metrics)
    violated = [
        f"{c.metric}={metrics[c.metric]:.6g} (bound {_bound(c)})"
        for c in constraints
        if cons[c.metric] > 0
    ]
    values = objective_values(objectives, metrics, placeholder=True)
    return TrialOutcome(
        "complete",
        values,
        {**metrics, "placeholder_values": True},
        cons,
        "infeasible",
        "violates " + ", ".join(violated),
    )


def _bound(c: ConstraintSpec) -> str:
    parts = [f"max {c.max:g}"] if c.max is not None else []
    parts += [f"min {c.min:g}"] if c.min is not None else []
    return ", ".join(parts)
