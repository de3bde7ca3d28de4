"""Units: outcomes, constraint values, Pareto fronts, hypervolume, sampler checks."""

from __future__ import annotations

import math

import pytest

from hadnas.exceptions import SearchError
from hadnas.search._outcome import FAIL_REASONS, finish, infeasible, objective_values
from hadnas.search._pareto import hypervolume, pareto_indices
from hadnas.spec import ConstraintSpec, ObjectiveSpec

OBJ = (ObjectiveSpec("accuracy", "maximize"), ObjectiveSpec("latency_ms", "minimize"))
CON = (ConstraintSpec("latency_ms", max=1.0), ConstraintSpec("params", max=100))


def test_fail_reasons_are_a_closed_set() -> None:
    assert FAIL_REASONS == (
        "exception",
        "non_finite_loss",
        "non_finite_objective",
        "oom",
        "timeout",
        "stale",
        "preempted",
        "infeasible",
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_objective_fails(bad: float) -> None:
    out = finish(OBJ, CON, {"accuracy": bad, "latency_ms": 0.5, "params": 10})
    assert out.state == "fail" and out.fail_reason == "non_finite_objective"
    assert out.constraints == {"latency_ms": -0.5, "params": -90}


def test_complete_has_every_constraint() -> None:
    out = finish(OBJ, CON, {"accuracy": 0.9, "latency_ms": 2.0, "params": 10})
    assert out.state == "complete" and out.values == [0.9, 2.0]
    assert out.constraints == {"latency_ms": 1.0, "params": -90}


def test_infeasible_uses_placeholders_and_unknown_is_zero() -> None:
    out = infeasible(OBJ, CON, {"params": 150})
    assert out.fail_reason == "infeasible" and out.state == "complete"
    assert out.constraints == {"latency_ms": 0.0, "params": 50}
    assert out.values == [0.0, 1000.0] and "params=150" in out.message


def test_missing_objective_is_fatal() -> None:
    out = finish((ObjectiveSpec("r2", "maximize"),), (), {"accuracy": 0.5})
    assert out.fail_reason == "exception" and out.fatal and "'r2' was not measured" in out.message
    with pytest.raises(KeyError):
        objective_values((ObjectiveSpec("r2", "maximize"),), {})


def test_pareto_and_hypervolume() -> None:
    pts = [[0.9, 2.0], [0.8, 1.0], [0.7, 3.0], [0.9, 2.0]]
    dirs = ["maximize", "minimize"]
    assert pareto_indices(pts, dirs) == [0, 1, 3]
    # reference accuracy 0, latency 4: union of [0,0.9]x[2,4] and [0,0.8]x[1,4]
    assert hypervolume(pts, dirs, [0.0, 4.0]) == pytest.approx(0.9 * 2 + 0.8 * 1)
    assert hypervolume([], dirs, [0.0, 4.0]) == 0.0
    three = hypervolume([[1.0, 1.0, 1.0]], ["minimize"] * 3, [2.0, 2.0, 2.0])
    assert three == pytest.approx(1.0)


def test_grid_refuses_continuous_domains(write_space, tmp_path) -> None:
    import hadnas
    from hadnas.search._samplers import make_sampler

    space = hadnas.load_space(write_space(search="{sampler: grid, trials: 2}"))
    with pytest.raises(SearchError, match="task.lr are continuous"):
        make_sampler(space, trials=2, seed=0)
    fixed = hadnas.load_space(write_space("g.yaml", lr="1.0e-3", search="{sampler: grid}"))
    assert make_sampler(fixed, trials=2, seed=0) is not None


@pytest.mark.parametrize("sampler", ["tpe", "nsga2", "random", "gp", "qmc"])
def test_samplers_build(write_space, sampler: str) -> None:
    import hadnas
    from hadnas.search._samplers import make_sampler

    space = hadnas.load_space(
        write_space(objectives="{accuracy: max, params: min}", search=f"{{sampler: {sampler}}}")
    )
    assert make_sampler(space, trials=20, seed=1) is not None
