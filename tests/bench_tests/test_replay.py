"""Replaying samplers on a (synthetic) table: real studies, real parameter names, constraints
honoured before "training", figures that compare samplers."""

from __future__ import annotations

import numpy as np
import pytest

from hadnas.bench import (
    BenchTable,
    curves,
    goal_check,
    parse_constraint,
    reference,
    replay,
    stats,
)
from hadnas.exceptions import HadnasError
from hadnas.spec import ConstraintSpec
from tests.bench_tests.conftest import N_ARCHS, make_table


def test_replay_runs_one_study_per_seed_and_looks_up_every_trial(table: BenchTable) -> None:
    run = replay(table, "tpe", trials=12, seeds=range(3))
    assert len(run.trials) == 3 and all(len(seed) == 12 for seed in run.trials)
    index = {e.key: e for e in table.entries}
    for rec in run.trials[0]:
        entry = index[rec.key]
        assert rec.trained and rec.feasible
        assert rec.values == [entry.metrics["accuracy"], entry.metrics["latency_ms"]]
    ref = reference(table)
    hv = curves(run, ref)
    assert hv.shape == (3, 12)
    assert np.all(np.diff(hv, axis=1) >= 0)  # hypervolume never decreases
    assert np.all(hv <= ref.hv + 1e-12)


def test_replay_is_reproducible_per_seed(table: BenchTable) -> None:
    a = replay(table, "tpe", trials=12, seeds=[5])
    b = replay(table, "tpe", trials=12, seeds=[5])
    assert [r.key for r in a.trials[0]] == [r.key for r in b.trials[0]]


def test_infeasible_architectures_are_never_trained(table: BenchTable) -> None:
    cons = [parse_constraint("latency_ms<=0.03")]
    for sampler in ("tpe", "random"):
        run = replay(table, sampler, trials=15, seeds=range(2), constraints=cons)
        records = [r for seed in run.trials for r in seed]
        assert any(not r.feasible for r in records)  # the constraint bites
        assert not any(r.trained and not r.feasible for r in records)
        index = {e.key: e for e in table.entries}
        for r in records:
            assert (index[r.key].metrics["latency_ms"] <= 0.03) == r.feasible


def test_failed_entry_fails_its_trial() -> None:
    table = make_table()
    key = table.entries[0].key
    table = make_table(failed_key=key)
    run = replay(table, "random", trials=N_ARCHS * 3, seeds=[0])
    failed = [r for r in run.trials[0] if r.failed]
    assert failed and all(r.key == key and r.values is None for r in failed)


def test_stats_compare_samplers_against_random(table: BenchTable) -> None:
    runs = {s: replay(table, s, trials=20, seeds=range(4)) for s in ("tpe", "random")}
    ref = reference(table)
    figures = stats(runs, ref)
    r = figures["random"]
    assert 0.0 <= r.gap_mean <= 1.0 and len(r.reach) == 4
    assert r.infeasible_share == 0.0 and r.infeasible_trained == 0
    assert len(r.curve_median) == 20
    assert set(goal_check(figures)) == {"gap", "reach"}
    assert ref.front and ref.front == sorted(
        ref.front, key=lambda f: (f["accuracy"], f["latency_ms"])
    )


def test_constraint_parsing_and_errors(table: BenchTable) -> None:
    assert parse_constraint("params<=3000") == ConstraintSpec("params", max=3000.0)
    assert parse_constraint("accuracy >= 0.9") == ConstraintSpec("accuracy", min=0.9)
    with pytest.raises(HadnasError, match="METRIC<=VALUE"):
        parse_constraint("params<3000")
    with pytest.raises(HadnasError, match="no such metric"):
        replay(table, "tpe", trials=2, seeds=[0], constraints=[parse_constraint("flops<=1")])
    with pytest.raises(HadnasError, match="relax"):
        reference(table, [parse_constraint("latency_ms<=0")])


def test_table_round_trips_through_json(table: BenchTable, tmp_path) -> None:
    from hadnas.bench import load_table

    path = table.save(tmp_path / "synth.json")
    back = load_table(path)
    assert back.entries == table.entries and back.space_yaml == table.space_yaml
    assert back.lookup(table.entries[3].choices) == table.entries[3]
    with pytest.raises(HadnasError, match="not in the table"):
        back.lookup({"width": 8})
