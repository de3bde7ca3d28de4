"""``hadnas search`` then ``hadnas report`` end to end; the plugin example runs."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import optuna

from tests.search_tests._util import ROOT, load_study, run


def test_search_then_report(write_space, tmp_path: Path) -> None:
    space = write_space(
        objectives="{accuracy: max, latency_ms: min}",
        search="{sampler: nsga2, trials: 3, seed: 0}",
    )
    res = run("search", str(space), "--runs-dir", str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    run_dir = tmp_path / "toy"
    assert "trial 2:" in res.stderr  # plain progress lines when not a terminal
    assert "Pareto front" in res.stdout
    rep = run("report", str(run_dir))
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "accuracy (max)" in rep.stdout and "in top" in rep.stdout
    assert (run_dir / "pareto.png").stat().st_size > 1000
    js = run("report", str(run_dir), "--json")
    summary = json.loads(js.stdout)
    assert summary["counts"]["complete"] == 3 and len(summary["trials"]) == 3


def test_user_errors_exit_2_without_traceback(write_space, tmp_path: Path) -> None:
    space = write_space(search="{sampler: random, trials: 1}")
    res = run("search", str(space), "--runs-dir", str(tmp_path), "--resume")
    assert res.returncode == 2 and "nothing to resume" in res.stderr
    assert "Traceback" not in res.stderr
    res = run("report", str(tmp_path / "nope"))
    assert res.returncode == 2 and "not a hadnas run folder" in res.stderr
    bad = write_space(
        "bad.yaml",
        objectives="{accuracy: max, params: min}",
        search="{sampler: tpe, pruner: median}",
    )
    res = run("search", str(bad), "--runs-dir", str(tmp_path))
    assert res.returncode == 2 and "cannot prune" in res.stderr and "Traceback" not in res.stderr


def test_resume_repairs_a_torn_journal_tail(write_space, tmp_path: Path) -> None:
    space = write_space(search="{sampler: random, trials: 2, seed: 0}")
    args = ["-q", "search", str(space), "--runs-dir", str(tmp_path)]
    assert run(*args).returncode == 0
    journal = tmp_path / "toy" / "journal.log"
    good = journal.stat().st_size
    with open(journal, "ab") as fh:
        fh.write(b'{"op_code":4,"worker_id":"dead","study_id":0,"datetime_st')
    res = run(*args[1:], "--resume", "--trials", "3")  # not -q: the repair is a warning
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"byte offset {good}" in res.stderr
    trials = load_study(tmp_path / "toy").get_trials()
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 3


def test_plugin_example_runs() -> None:
    module = runpy.run_path(str(ROOT / "examples" / "own_objective.py"))
    study = module["main"](trials=2, epochs=1)
    assert len(study.trials) == 2
    assert all("params" in t.constraints for t in study.trials)
    assert 0.0 <= study.best_value <= 1.0
