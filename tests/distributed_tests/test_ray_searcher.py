"""The Ray searcher without a cluster: Ray Tune calls these hooks; here the test does.

Checks that constraints, invalid objectives, pruning, errors and restores reach the run
folder's Optuna study exactly as the Optuna backend records them.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray.tune")

import hadnas  # noqa: E402
from hadnas.search import SearchConfig  # noqa: E402
from hadnas.search._base import prepare_folder  # noqa: E402
from hadnas.search._outcome import finish, infeasible  # noqa: E402
from hadnas.search._runner import trial_seed  # noqa: E402
from hadnas.search.ray_backend import create_study, make_setup  # noqa: E402
from hadnas.search.ray_trial import (  # noqa: E402
    EPOCH_KEY,
    FINAL_KEY,
    OBJECTIVE_KEY,
    OUTCOME_KEY,
    decode_outcome,
    encode_outcome,
)

pytestmark = pytest.mark.ray


def _searcher(tmp_path: Path, write_space: Callable[..., Path], **space: Any) -> Any:
    from hadnas.search.ray_searcher import HadnasOptunaSearch

    loaded = hadnas.load_space(write_space(**space))
    config = SearchConfig(backend="ray", runs_dir=str(tmp_path / "runs"))
    folder, info = prepare_folder(loaded, config, "ray")
    create_study(loaded, info)
    return HadnasOptunaSearch(make_setup(loaded, folder, info, config))


def _final(outcome: Any) -> dict[str, Any]:
    value = outcome.values[0] if outcome.values else math.nan
    return {
        OBJECTIVE_KEY: value,
        EPOCH_KEY: 2,
        FINAL_KEY: True,
        OUTCOME_KEY: encode_outcome(outcome),
    }


def _epoch(epoch: int, accuracy: float) -> dict[str, Any]:
    return {
        OBJECTIVE_KEY: accuracy,
        EPOCH_KEY: epoch,
        FINAL_KEY: False,
        "metrics/accuracy": accuracy,
        "metrics/loss": 1 - accuracy,
    }


def _frozen(searcher: Any, number: int) -> Any:
    return searcher._study.get_trials(deepcopy=False)[number]


def test_suggest_asks_the_run_study_and_writes_the_architecture(tmp_path, write_space):
    searcher = _searcher(tmp_path, write_space)
    config = searcher.suggest("a")["hadnas"]
    assert config["trial"] == 0
    assert config["seed"] == trial_seed(0, 0)
    assert config["params"] == _frozen(searcher, 0).params and config["params"]
    arch = tmp_path / "runs" / "dist" / "trials" / "0" / "arch.yaml"
    fixed = hadnas.load_space(arch, check=False).architecture()
    assert fixed.to_yaml() == searcher._space_obj.suggest(_ot_fixed(config["params"])).to_yaml()
    assert searcher.remaining() == 3


def _ot_fixed(params: dict[str, Any]) -> Any:
    import optuna

    return optuna.trial.FixedTrial(params)


def test_constraints_reach_the_sampler_before_tell(tmp_path, write_space):
    from hadnas.search._progress import trial_status

    searcher = _searcher(tmp_path, write_space, objectives="{accuracy: max}")
    spec = searcher._space_obj.spec
    from hadnas.spec._schema import ConstraintSpec

    cons = (ConstraintSpec("params", max=500.0),)
    searcher.suggest("bad")
    bad = infeasible(spec.objectives, cons, {"params": 514})
    searcher.on_trial_complete("bad", _final(bad))
    searcher.suggest("good")
    good = finish(spec.objectives, cons, {"params": 450, "accuracy": 0.75})
    searcher.on_trial_complete("good", _final(good))
    t0, t1 = _frozen(searcher, 0), _frozen(searcher, 1)
    assert t0.constraints == {"params": 14.0} and trial_status(t0) == "infeasible"
    assert t0.user_attrs["fail_reason"] == "infeasible"
    assert t1.constraints == {"params": -50.0} and t1.values == [0.75]
    assert trial_status(t1) == "complete"
    metrics = (tmp_path / "runs" / "dist" / "trials" / "1" / "metrics.json").read_text()
    assert '"accuracy": 0.75' in metrics


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (math.nan, "non_finite_objective"),
        (math.inf, "non_finite_objective"),
        (-math.inf, "non_finite_objective"),
        ("not a number", "non_finite_objective"),
        (None, "exception"),
    ],
)
def test_invalid_objectives_fail_as_in_the_optuna_backend(tmp_path, write_space, value, reason):
    searcher = _searcher(tmp_path, write_space)
    spec = searcher._space_obj.spec
    outcome = finish(spec.objectives, spec.constraints, {"accuracy": value})
    sent = decode_outcome(encode_outcome(outcome))  # through Ray's result as JSON
    assert sent.state == outcome.state and sent.fail_reason == outcome.fail_reason == reason
    searcher.suggest("x")
    searcher.on_trial_complete("x", _final(outcome))
    trial = _frozen(searcher, 0)
    assert trial.state.name == "FAIL" and trial.user_attrs["fail_reason"] == reason
    assert trial.values is None
    assert searcher._stop == (f"fatal: trial 0: {outcome.message}" if value is None else None)


def test_the_space_pruner_is_forwarded(tmp_path, write_space):
    from hadnas.search.ray_searcher import OptunaPrunerScheduler, make_scheduler

    searcher = _searcher(
        tmp_path, write_space, search="{sampler: random, trials: 6, pruner: median}"
    )
    scheduler = make_scheduler(searcher._space_obj, None, searcher)
    assert isinstance(scheduler, OptunaPrunerScheduler)
    spec = searcher._space_obj.spec
    for i in range(4):
        searcher.suggest(f"t{i}")
        for epoch in (1, 2):
            assert (
                scheduler.on_trial_result(None, _Trial(f"t{i}"), _epoch(epoch, 0.9)) == "CONTINUE"
            )
            searcher.on_trial_result(f"t{i}", _epoch(epoch, 0.9))
        done = finish(spec.objectives, spec.constraints, {"accuracy": 0.9})
        searcher.on_trial_complete(f"t{i}", _final(done))
    searcher.suggest("weak")
    assert scheduler.on_trial_result(None, _Trial("weak"), _epoch(1, 0.1)) == "STOP"
    searcher.on_trial_complete("weak", _epoch(1, 0.1))  # Ray hands over the last result
    weak = _frozen(searcher, 4)
    assert weak.state.name == "PRUNED" and weak.intermediate_values == {1: 0.1}
    record = (tmp_path / "runs" / "dist" / "trials" / "4" / "metrics.json").read_text()
    assert '"state": "pruned"' in record and '"epochs_run": 1' in record


class _Trial:
    def __init__(self, trial_id: str) -> None:
        self.trial_id = trial_id


def test_crashed_trials_fail_and_interrupted_ones_stay_running(tmp_path, write_space):
    searcher = _searcher(tmp_path, write_space)
    searcher.suggest("crashed")
    searcher.suggest("interrupted")
    searcher.on_trial_complete("crashed", None, error=True)
    searcher.on_trial_complete("interrupted", None)
    assert _frozen(searcher, 0).user_attrs["fail_reason"] == "exception"
    assert _frozen(searcher, 1).state.name == "RUNNING"
    searcher.on_trial_complete("crashed", None, error=True)  # a second report is ignored
    assert len(searcher._study.trials) == 2


def test_restore_fails_orphans_as_stale_and_retries_them_once(tmp_path, write_space):
    from hadnas.search.ray_searcher import HadnasOptunaSearch

    searcher = _searcher(tmp_path, write_space)
    searcher.suggest("a")
    searcher.suggest("b")
    state = pickle.dumps(searcher)  # what tuner.pkl holds: no study, storage or space inside
    assert b"JournalStorage" not in state and b"_study_cache" not in state
    searcher.save(str(tmp_path / "searcher.json"))
    orphan = searcher.suggest("asked-after-the-checkpoint")["hadnas"]
    # the driver dies here; Ray restores the searcher from tuner.pkl plus the checkpoint
    restored = pickle.loads(state)
    assert isinstance(restored, HadnasOptunaSearch)
    restored.restore(str(tmp_path / "searcher.json"))
    trials = restored._study.get_trials(deepcopy=False)
    assert [t.state.name for t in trials] == ["RUNNING", "RUNNING", "FAIL", "WAITING"]
    assert trials[2].user_attrs["fail_reason"] == "stale"
    assert restored.remaining() == 2  # 4 total - a, b (the stale one is retried, not counted)
    retry = restored.suggest("c")["hadnas"]
    assert retry["params"] == orphan["params"] and retry["trial"] == 3
    assert retry["seed"] == orphan["seed"]  # a retry trains with its original's seed
    restored.save(str(tmp_path / "again.json"))
    restored.restore(str(tmp_path / "again.json"))  # a second restore retries nothing more
    assert len(restored._study.get_trials(deepcopy=False)) == 4


def test_ray_schedulers_watch_the_per_epoch_objective(tmp_path, write_space):
    from ray.tune.schedulers import FIFOScheduler
    from ray.tune.schedulers.async_hyperband import ASHAScheduler
    from ray.tune.schedulers.hyperband import HyperBandScheduler

    from hadnas.search.ray_searcher import make_scheduler, max_epochs

    searcher = _searcher(tmp_path, write_space, epochs=5)
    space = searcher._space_obj
    assert type(make_scheduler(space, None, searcher)) is FIFOScheduler  # no pruner: none
    asha = make_scheduler(space, "asha", searcher)
    assert isinstance(asha, ASHAScheduler)
    # max_t one past the last epoch: Ray would cut off the final result of full-length trials
    expected = (OBJECTIVE_KEY, "max", EPOCH_KEY, 6)
    assert (asha.metric, asha._mode, asha._time_attr, asha._max_t) == expected
    assert isinstance(make_scheduler(space, "hyperband", searcher), HyperBandScheduler)
    path = write_space("searched.yaml", name="searched")
    path.write_text(path.read_text().replace("epochs: 2", "epochs: {int: [2, 7]}"))
    assert max_epochs(hadnas.load_space(path)) == 7


def test_cpus_per_trial_sets_the_torch_threads(tmp_path, write_space):
    loaded = hadnas.load_space(write_space())
    config = SearchConfig(backend="ray", runs_dir=str(tmp_path / "runs"), cpus_per_trial=3)
    folder, info = prepare_folder(loaded, config, "ray")
    assert make_setup(loaded, folder, info, config).threads == 3
    default = SearchConfig(backend="ray", runs_dir=str(tmp_path / "runs"))
    assert make_setup(loaded, folder, info, default).threads == loaded.spec.search.threads


def test_the_study_caps_the_total_whatever_ray_counts(tmp_path, write_space):
    """After a restore, Ray's sample count can miss trials the dead driver finished: the
    searcher stops at the study's own total."""
    from ray.tune.search import Searcher

    searcher = _searcher(tmp_path, write_space)  # 4 trials
    for i in range(4):
        assert searcher.suggest(f"t{i}") is not Searcher.FINISHED
    assert searcher.suggest("one-too-many") is Searcher.FINISHED
    assert len(searcher._study.get_trials(deepcopy=False)) == 4
