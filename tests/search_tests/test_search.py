"""End-to-end searches through the Python API (scenarios 12–16 of reliability.md)."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import optuna
import pytest

import hadnas
from hadnas.exceptions import SearchError
from hadnas.search import SearchConfig
from hadnas.search._executor import JobResult
from hadnas.search.report import open_run


def trials_of(run_dir: Path) -> list[optuna.trial.FrozenTrial]:
    return open_run(run_dir)[3].get_trials()


def children_of(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of the live or zombie children of ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append((int(entry), fields[0]))
    return out


def test_search_writes_the_run_folder(write_space, tmp_path: Path) -> None:
    space = write_space(
        objectives="{accuracy: max, latency_ms: min}",
        constraints="{params: {max: 600}}",
        search="{sampler: nsga2, trials: 6, seed: 0}",
    )
    steps_log = tmp_path / "steps.log"
    os.environ["HADNAS_STEP_LOG"] = str(steps_log)
    try:
        result = hadnas.search(
            space, SearchConfig(runs_dir=str(tmp_path / "runs"), progress=False)
        )
    finally:
        del os.environ["HADNAS_STEP_LOG"]
    run = result.run_dir
    for name in ("run.json", "space.yaml", "journal.log", "summary.json", "pareto.png"):
        assert (run / name).is_file(), name
    assert (run / "space.yaml").read_text() == space.read_text()
    trials = trials_of(run)
    assert len(trials) == 6
    summary = json.loads((run / "summary.json").read_text())
    assert summary["counts"].get("complete", 0) + summary["counts"].get("infeasible", 0) == 6
    started = [
        json.loads(line) for line in steps_log.read_text().splitlines() if '"first_step"' in line
    ]
    for t in trials:
        folder = run / "trials" / str(t.number)
        metrics = json.loads((folder / "metrics.json").read_text())
        assert (folder / "arch.yaml").is_file()
        assert set(t.constraints) == {"params"}  # every trial carries its constraint value
        if t.user_attrs.get("fail_reason") == "infeasible":
            # never trained: no optimizer step, no weights, constraint violated
            assert metrics["metrics"].get("steps", 0) == 0
            assert not (folder / "model.safetensors").exists()
            assert t.constraints["params"] > 0
        else:
            assert t.state == optuna.trial.TrialState.COMPLETE
            assert metrics["metrics"]["steps"] > 0
            assert (folder / "model.safetensors").is_file()
            assert metrics["metrics"]["latency_ms"] > 0 and "latency_spread" in metrics["metrics"]
    n_trained = sum(1 for t in trials if t.user_attrs.get("fail_reason") != "infeasible")
    assert len(started) == n_trained  # infeasible trials took no training step anywhere
    # the best list holds feasible trials only
    infeasible = {t.number for t in trials if t.user_attrs.get("fail_reason") == "infeasible"}
    assert not infeasible & {r["number"] for r in summary["best"]}


def test_infeasible_architecture_is_never_trained(write_space, tmp_path: Path) -> None:
    # latency of the untrained model is measured in the trial process, then training is skipped
    space = write_space(
        constraints="{latency_ms: {max: 1.0e-6}}", search="{sampler: tpe, trials: 3, seed: 0}"
    )
    with pytest.raises(SearchError, match="no trial completed"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))
    for t in trials_of(tmp_path / "toy"):
        assert t.user_attrs["fail_reason"] == "infeasible"
        assert t.state == optuna.trial.TrialState.COMPLETE and t.constraints["latency_ms"] > 0
        metrics = json.loads(
            (tmp_path / "toy" / "trials" / str(t.number) / "metrics.json").read_text()
        )
        assert metrics["metrics"]["steps"] == 0 and not metrics["history"]
        assert metrics["metrics"]["latency_ms"] > 1e-6


def test_tensorboard_files_are_readable(write_space, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    space = write_space(search="{sampler: random, trials: 2, seed: 3}")
    run = hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False)).run_dir
    acc = EventAccumulator(str(run / "trials" / "0"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"val/accuracy", "val/loss", "train/loss", "hparam/accuracy"} <= set(tags)
    assert [e.step for e in acc.Scalars("val/accuracy")] == [1, 2]
    assert "hparams" in acc.PluginTagToContent("hparams") or acc.PluginTagToContent("hparams")


def test_resume_of_a_finished_study_adds_nothing(write_space, tmp_path: Path) -> None:
    space = write_space(search="{sampler: random, trials: 2, seed: 0}")
    cfg = SearchConfig(runs_dir=str(tmp_path), progress=False)
    hadnas.search(space, cfg)
    with pytest.raises(SearchError, match="already holds a run"):
        hadnas.search(space, cfg)
    hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False, resume=True))
    assert len(trials_of(tmp_path / "toy")) == 2
    hadnas.search(
        space, SearchConfig(runs_dir=str(tmp_path), progress=False, resume=True, trials=3)
    )
    assert len(trials_of(tmp_path / "toy")) == 3


def test_same_seed_same_search(write_space, tmp_path: Path) -> None:
    space = write_space(search="{sampler: tpe, trials: 3, seed: 7}")
    runs = []
    for name in ("a", "b"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), name=name, progress=False))
        runs.append([(t.params, t.values) for t in trials_of(tmp_path / name)])
    assert runs[0] == runs[1]


def test_hung_trial_is_killed_at_its_limit(write_space, tmp_path: Path) -> None:
    marker = tmp_path / "hang"
    marker.touch()
    space = write_space(
        task=f', hang_while: "{marker}"',
        search="{sampler: random, trials: 2, seed: 0, trial_timeout_s: 2}",
    )
    t0 = time.monotonic()
    with pytest.raises(SearchError, match="no trial completed"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))
    trials = trials_of(tmp_path / "toy")
    assert [t.user_attrs["fail_reason"] for t in trials] == ["timeout", "timeout"]
    for t in trials:  # killed within T + 2 s of the job's start
        metrics = json.loads(
            (tmp_path / "toy" / "trials" / str(t.number) / "metrics.json").read_text()
        )
        assert 2 <= metrics["metrics"]["job_seconds"] < 2 + 2
    assert time.monotonic() - t0 < 120
    assert [c for c in children_of(os.getpid()) if c[1] == "Z"] == []  # no zombie left


def test_memory_limit_fails_the_trial_as_oom(write_space, tmp_path: Path) -> None:
    space = write_space(
        task=", alloc_mb: 4096",
        search="{sampler: random, trials: 1, seed: 0, memory_limit_mb: 256}",
    )
    with pytest.raises(SearchError, match="no trial completed"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))
    (t,) = trials_of(tmp_path / "toy")
    assert t.state == optuna.trial.TrialState.FAIL and t.user_attrs["fail_reason"] == "oom"


def test_diverging_loss_fails_the_trial(write_space, tmp_path: Path) -> None:
    space = write_space(
        lr="1.0e+12", task=", optimizer: sgd", search="{sampler: random, trials: 2, seed: 0}"
    )
    with pytest.raises(SearchError, match="no trial completed"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))
    for t in trials_of(tmp_path / "toy"):
        assert t.state == optuna.trial.TrialState.FAIL
        assert t.user_attrs["fail_reason"] == "non_finite_loss"
        m = json.loads((tmp_path / "toy" / "trials" / str(t.number) / "metrics.json").read_text())
        assert (
            m["metrics"]["step"] >= 1
            and not (tmp_path / "toy" / "trials" / str(t.number) / "model.safetensors").exists()
        )


class FakeExecutor:
    """Stands in for the trial process: returns scripted metrics (NaN, ±inf, then finite)."""

    script = [math.nan, math.inf, -math.inf, 0.5, 0.25]

    def __init__(self, **_: Any) -> None:
        self.i = 0

    def run(self, job: dict[str, Any], **_: Any) -> JobResult:
        value = self.script[self.i % len(self.script)]
        self.i += 1
        return JobResult("done", {"accuracy": value, "loss": 0.1, "steps": 1})

    def close(self) -> None:
        pass


def test_non_finite_objectives_fail_and_best_is_finite(
    write_space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hadnas.search._runner.TrialExecutor", FakeExecutor)
    space = write_space(search="{sampler: random, trials: 5, seed: 0}")
    result = hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))
    trials = trials_of(result.run_dir)
    reasons = [t.user_attrs.get("fail_reason") for t in trials]
    assert reasons == ["non_finite_objective"] * 3 + [None, None]
    assert all(t.state == optuna.trial.TrialState.FAIL for t in trials[:3])
    study = open_run(result.run_dir)[3]
    assert study.best_value == 0.5 and math.isfinite(study.best_value)
    assert result.best[0]["number"] == 3


def test_failure_budget_stops_the_study(
    write_space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Raising(FakeExecutor):
        def run(self, job: dict[str, Any], **_: Any) -> JobResult:
            return JobResult("error", {}, "exception", "RuntimeError: boom")

    monkeypatch.setattr("hadnas.search._runner.TrialExecutor", Raising)
    space = write_space(search="{sampler: random, trials: 10, seed: 0, max_failed_trials: 3}")
    with pytest.raises(SearchError, match=r"3 trials failed.*exception: 3"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))
    assert len(trials_of(tmp_path / "toy")) == 3


def test_pruning_is_refused_for_several_objectives(write_space, tmp_path: Path) -> None:
    space = write_space(
        objectives="{accuracy: max, params: min}",
        search="{sampler: tpe, trials: 2, pruner: median}",
    )
    with pytest.raises(SearchError, match="cannot prune a study with 2 objectives"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))
    assert not (tmp_path / "toy").exists()


def test_cmaes_is_refused_for_several_objectives(write_space, tmp_path: Path) -> None:
    space = write_space(
        objectives="{accuracy: max, params: min}", search="{sampler: cmaes, trials: 2}"
    )
    with pytest.raises(SearchError, match="cmaes optimises one objective"):
        hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False))


def test_pruning_single_objective_reports_epochs(
    write_space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = write_space(search="{sampler: random, trials: 2, seed: 0, pruner: median}")
    run = hadnas.search(space, SearchConfig(runs_dir=str(tmp_path), progress=False)).run_dir
    for t in trials_of(run):
        assert sorted(t.intermediate_values) == [1, 2]
