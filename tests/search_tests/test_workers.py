"""Several workers, killed workers, preemption (scenarios 1–5 and 8 of reliability.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from hadnas.search._lease import LEASE_ATTR
from tests.search_tests._util import ROOT, load_study, popen, run, running, wait_for

TrialState = optuna.trial.TrialState


def started(run_dir: Path) -> list[optuna.trial.FrozenTrial]:
    """RUNNING trials whose architecture is sampled and written (the trial process has it)."""
    return [
        t
        for t in running(run_dir)
        if t.params and (run_dir / "trials" / str(t.number) / "arch.yaml").exists()
    ]


def _args(space: Path, runs: Path, storage: str | None, *extra: str) -> list[str]:
    args = ["-q", "search", str(space), "--runs-dir", str(runs), *extra]
    return args + (["--storage", storage] if storage else [])


@pytest.mark.parametrize("n", [3])
def test_two_workers_lose_and_duplicate_nothing(
    write_space, tmp_path: Path, storage_slow_sqlite, n
) -> None:
    storage = storage_slow_sqlite
    marker = tmp_path / "hold"
    marker.touch()
    space = write_space(
        task=f', hang_while: "{marker}"', search="{sampler: tpe, trials: 4, seed: 0}"
    )
    proc = popen(*_args(space, tmp_path, storage, "--workers", "2", "--trials", str(2 * n)))
    try:  # hold both workers' first trials until each worker has one, then let them go
        wait_for(lambda: len(started(tmp_path / "toy")) == 2, what="a trial per worker")
    finally:
        marker.unlink()
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    trials = load_study(tmp_path / "toy").get_trials()
    assert sorted(t.number for t in trials) == list(range(2 * n))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["metrics"]["worker"] for t in trials}) == 2
    for t in trials:  # values are those the trial folder recorded
        m = json.loads((tmp_path / "toy" / "trials" / str(t.number) / "metrics.json").read_text())
        assert m["values"] == t.values and m["params"] == t.params


def test_sigkill_then_resume_retries_the_trial_once(
    write_space, tmp_path: Path, storage_slow_sqlite
) -> None:
    import hadnas
    from hadnas.search import SearchConfig

    storage = storage_slow_sqlite
    marker = tmp_path / "hold"
    marker.touch()
    space = write_space(
        task=f', hang_while: "{marker}"', search="{sampler: random, trials: 3, seed: 0}"
    )
    args = _args(space, tmp_path, storage, "--lease", "2")
    proc = popen(*args)
    wait_for(lambda: len(started(tmp_path / "toy")) == 1, what="trial 0 in training")
    (victim,) = running(tmp_path / "toy")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = time.time()
    marker.unlink()
    t0 = time.monotonic()
    cfg = SearchConfig(
        runs_dir=str(tmp_path), storage=storage, resume=True, lease_s=2, progress=False
    )
    hadnas.search(space, cfg)
    trials = load_study(tmp_path / "toy").get_trials()
    killed = trials[victim.number]
    assert killed.state == TrialState.FAIL and killed.user_attrs["fail_reason"] == "stale"
    # recovered within the lease (2 s) + 5 s, plus slack for a loaded 2-core machine
    assert killed.datetime_complete.timestamp() - killed_at < 2 + 5 + 3
    retries = [t for t in trials if t.user_attrs.get("retry_of") == victim.number]
    assert len(retries) == 1 and retries[0].params == killed.params
    assert retries[0].state == TrialState.COMPLETE
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 3
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert time.monotonic() - t0 < 120


def test_sigterm_preempts_cleanly(write_space, tmp_path: Path, storage) -> None:
    marker = tmp_path / "hold"
    marker.touch()
    space = write_space(
        task=f', hang_while: "{marker}"', search="{sampler: random, trials: 2, seed: 0}"
    )
    proc = popen(*_args(space, tmp_path, storage))
    wait_for(lambda: len(started(tmp_path / "toy")) == 1, what="trial 0 in training")
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 5 + 5  # a fresh process reads the study too
    assert proc.returncode == 143, out
    assert "Traceback" not in out
    trials = load_study(tmp_path / "toy").get_trials()
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert trials[0].state == TrialState.FAIL
    assert trials[0].user_attrs["fail_reason"] == "preempted"
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    assert len(waiting) == 1 and waiting[0].user_attrs["retry_of"] == 0


RECOVER = """
import sys, time, pathlib, optuna
from hadnas.search._lease import recover
from hadnas.search._storage import open_storage
storage, barrier = sys.argv[1], pathlib.Path(sys.argv[2])
study = optuna.load_study(study_name="race", storage=open_storage(storage))
while not barrier.exists():
    time.sleep(0.001)
print(recover(study, 1.0))
"""


def test_two_concurrent_recoverers_make_one_retry(tmp_path: Path, storage, request) -> None:
    from hadnas.search._storage import open_storage, resolve

    if storage is not None:  # known defect, see docs/search.md "Storage"
        request.applymarker(pytest.mark.xfail(
            reason="SQLite has no row locks: two recoverers racing on one stale trial can both "
            "fail it and retry it (seen 1 in ~5 runs); the journal (lock file) and PostgreSQL "
            "(advisory lock) are exact. Use one process per SQLite study.",
            strict=False))  # fmt: skip

    url = resolve(storage, tmp_path)
    study = optuna.create_study(study_name="race", storage=open_storage(url))
    trial = study.ask()
    trial.suggest_int("x", 0, 9)
    study._storage.set_trial_system_attr(trial._trial_id, LEASE_ATTR, {"t": 0.0, "s": 1.0})
    barrier = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RECOVER, url, str(barrier)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(3)  # both have loaded the study and wait at the barrier
    barrier.touch()
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outs) == ["0", "1"]
    trials = study.get_trials()
    assert trials[0].state == TrialState.FAIL
    assert [t.user_attrs.get("retry_of") for t in trials[1:]] == [0]
    assert trials[1].state == TrialState.WAITING
    assert trials[1].system_attrs["fixed_params"] == trials[0].params


@pytest.mark.slow
def test_enqueued_architectures_run_once_across_workers(write_space, tmp_path: Path) -> None:
    import hadnas
    from hadnas.search import SearchConfig

    space_path = write_space(search="{sampler: random, trials: 1, seed: 0}")
    hadnas.search(space_path, SearchConfig(runs_dir=str(tmp_path), progress=False))
    study = load_study(tmp_path / "toy")
    space = hadnas.load_space(space_path)
    wanted = [dict(space.sample(seed).params) for seed in range(100, 106)]
    for params in wanted:
        study.enqueue_trial(params)
    res = run(*_args(space_path, tmp_path, None, "--resume", "--workers", "2", "--trials", "7"))
    assert res.returncode == 0, res.stdout + res.stderr
    trials = load_study(tmp_path / "toy").get_trials()
    assert len(trials) == 7 and all(t.state == TrialState.COMPLETE for t in trials)
    for params in wanted:
        assert sum(t.params == params for t in trials[1:]) >= 1
    assert len({t.number for t in trials}) == 7
