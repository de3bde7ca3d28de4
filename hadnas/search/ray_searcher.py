"""Ray Tune's ``OptunaSearch``, made to keep hadnas's contract (imports Ray: load lazily).

Stock ``OptunaSearch`` keeps its study in memory, tells Optuna only the final metric and drops
both constraints and pruning. :class:`HadnasOptunaSearch` instead:

- asks the run folder's study (journal file or RDB) through the space's define-by-run function,
  so the sampler, its seed and the trial numbers are those of the Optuna backend;
- records each outcome with the Optuna backend's own ``record`` (constraints via
  ``trial.set_constraint`` before ``tell``, ``fail_reason``, metrics, ``trials/<n>/``), so NaN,
  infeasible, timed-out and crashed trials read the same whichever backend ran them;
- forwards pruning: :class:`OptunaPrunerScheduler` reports each epoch to the Optuna trial and
  stops the Ray trial when the space's pruner says so;
- survives ``Tuner.restore``: it pickles only plain data and reopens the study, failing as
  ``stale`` (and retrying once) trials asked by a driver that died before Ray saved them.
"""

from __future__ import annotations

import json
import logging
import math
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.tune.schedulers import FIFOScheduler, TrialScheduler
from ray.tune.schedulers.async_hyperband import ASHAScheduler
from ray.tune.schedulers.hyperband import HyperBandScheduler
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from hadnas.search._folder import RunFolder
from hadnas.search._outcome import TrialOutcome, constraint_values, failed
from hadnas.search._worker import OptunaWorker
from hadnas.search.ray_trial import (
    EPOCH_KEY,
    FINAL_KEY,
    OBJECTIVE_KEY,
    OUTCOME_KEY,
    RaySetup,
    decode_outcome,
)

if TYPE_CHECKING:
    import optuna

    from hadnas.space import SearchSpace

log = logging.getLogger(__name__)

#: per-run objects of the driver that must not be pickled (progress bar, stop reason)
_ATTACHED: dict[str, dict[str, Any]] = {}


def attach(run_dir: str, progress: Any) -> None:
    _ATTACHED[run_dir] = {"progress": progress, "stop": None}


def detach(run_dir: str) -> None:
    _ATTACHED.pop(run_dir, None)


def stop_reason(run_dir: str) -> str | None:
    """``budget``, ``fatal: MESSAGE`` or None: why the searcher stopped suggesting."""
    return _ATTACHED.get(run_dir, {}).get("stop")


class _SyncWriter:
    """An executor that runs each job at once: the driver writes trial files before it moves
    on, so they are complete whenever Tune stops (the worker's own writer is a thread)."""

    def submit(self, fn: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn())
        except Exception as exc:
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True) -> None:
        pass


class _Recorder(OptunaWorker):
    """The Optuna backend's worker, reduced to what its ``record`` needs, so both backends
    record outcomes with the very same code."""

    def __init__(self, study: Any, folder: RunFolder, space: Any, worker_id: str) -> None:
        self.study, self.folder, self.space, self.worker_id = study, folder, space, worker_id
        self.writer = _SyncWriter()  # type: ignore[assignment]


class HadnasOptunaSearch(OptunaSearch):
    """``OptunaSearch`` over the run folder's study; see the module docstring."""

    def __init__(self, setup: RaySetup) -> None:
        self._setup = setup
        self._reset_handles()
        space = self._space_obj
        obj = space.spec.objectives[0]
        super().__init__(
            space="hadnas:define-by-run",  # type: ignore[arg-type]  # suggest() asks
            metric=OBJECTIVE_KEY,
            mode="max" if obj.direction == "maximize" else "min",
        )
        self._trial_ids: dict[str, int] = {}  # Ray trial id -> Optuna trial id
        self._histories: dict[str, list[dict[str, float]]] = {}
        self._stop: str | None = None
        self._reconcile()

    # -- handles that are reopened instead of pickled --------------------------------------
    def _reset_handles(self) -> None:
        self._study_cache: optuna.Study | None = None
        self._ot_trials = {}
        self._space_cache: SearchSpace | None = None

    def _setup_study(self, mode: Any) -> None:  # OptunaSearch.__init__ hook: opened lazily
        pass

    @property
    def _space_obj(self) -> SearchSpace:
        if self._space_cache is None:
            self._space_cache = self._setup.load_space()
        return self._space_cache

    @property
    def _study(self) -> optuna.Study:
        if self._study_cache is None:
            import optuna

            from hadnas.search._samplers import make_pruner, make_sampler
            from hadnas.search._storage import open_storage

            s, space = self._setup, self._space_obj
            study = optuna.load_study(
                study_name=s.study_name,
                storage=open_storage(s.storage, workers=s.workers),
                sampler=optuna.samplers.RandomSampler(),  # replaced below
                pruner=make_pruner(space) or optuna.pruners.NopPruner(),
            )
            # a fresh study gets the space's seed (the Optuna backend's sequence); a resumed
            # one a seed moved by its trial count, or a random sampler would repeat itself
            seed = space.spec.search.seed + len(study.get_trials(deepcopy=False))
            study.sampler = make_sampler(space, trials=s.trials, seed=seed, workers=s.workers)
            self._study_cache = study
        return self._study_cache

    def _trial(self, trial_id: str) -> optuna.Trial:
        if trial_id not in self._ot_trials:
            import optuna

            self._ot_trials[trial_id] = optuna.Trial(self._study, self._trial_ids[trial_id])
        return self._ot_trials[trial_id]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_study_cache", "_ot_trials", "_space_cache", "_sampler", "_storage"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._sampler = self._storage = None
        self._reset_handles()

    def save(self, checkpoint_path: str) -> None:
        """Plain JSON (no pickle): the study itself lives in the run folder's storage."""
        state = {
            "trial_ids": self._trial_ids,
            "completed": sorted(self._completed_trials),
            "histories": self._histories,
            "stop": self._stop,
        }
        Path(checkpoint_path).write_text(json.dumps(state), encoding="utf-8")

    def restore(self, checkpoint_path: str) -> None:
        state = json.loads(Path(checkpoint_path).read_text(encoding="utf-8"))
        self._trial_ids = {k: int(v) for k, v in state["trial_ids"].items()}
        self._completed_trials = set(state["completed"])
        self._histories = state["histories"]
        self._stop = state["stop"]
        if self._attached():
            self._attached()["stop"] = self._stop  # e.g. a budget spent before the restore
        self._reset_handles()
        self._reconcile()

    def _reconcile(self) -> None:
        """Fail as stale (and retry once) RUNNING trials no Ray trial will finish: asked by a
        driver that died before Ray checkpointed them."""
        from optuna.trial import TrialState

        from hadnas.search._lease import enqueue_retry, fail_trial

        known = set(self._trial_ids.values())
        for t in self._study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if t._trial_id in known:
                continue
            msg = "asked by a Ray driver that stopped before the trial was saved; retried once"
            if fail_trial(self._study, t, "stale", msg):
                log.warning(
                    "trial %d was left RUNNING by a stopped driver: failed as stale", t.number
                )
                enqueue_retry(self._study, t)

    # -- bookkeeping -----------------------------------------------------------------------
    def remaining(self) -> int:
        """Trials still to run to reach the study's total (the Tuner's ``num_samples``)."""
        from hadnas.search._worker import tally

        return self._setup.trials - tally(self._study.get_trials(deepcopy=False))["taken"]

    def _attached(self) -> dict[str, Any]:
        return _ATTACHED.get(self._setup.run_dir, {})

    # -- Searcher API ----------------------------------------------------------------------
    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        from hadnas.search._runner import trial_seed

        if self._stop or self.remaining() <= 0:
            # the study is the count that matters: after a restore, Ray's own count misses
            # the trials that finished after its last snapshot
            return Searcher.FINISHED  # type: ignore[return-value]
        ot = self._study.ask()
        self._trial_ids[trial_id] = ot._trial_id
        self._ot_trials[trial_id] = ot
        space = self._space_obj
        root = int(ot.user_attrs.get("retry_of", ot.number))
        seed = trial_seed(space.spec.search.seed, root)
        try:
            arch = space.suggest(ot)
        except Exception as exc:  # the trial actor fails it the same way, so it is counted
            log.debug("trial %d: invalid sample: %s", ot.number, exc)
        else:
            RunFolder(self._setup.run_dir).write_arch(ot.number, arch.to_yaml())
        return {"hadnas": {"trial": ot.number, "seed": seed, "params": dict(ot.params)}}

    def _report(self, trial_id: str, result: dict[str, Any]) -> bool:
        """Record an epoch result (history; Optuna's intermediate value). False if final."""
        if result.get(FINAL_KEY) or trial_id in self._completed_trials:
            return False
        epoch = int(result.get(EPOCH_KEY, 0))
        history = self._histories.setdefault(trial_id, [])
        if any(h["epoch"] == epoch for h in history):
            return True
        metrics = _prefixed(result, "metrics/")
        history.append({"epoch": epoch, **metrics})
        value = result.get(OBJECTIVE_KEY)
        if len(self._space_obj.spec.objectives) == 1 and _finite(value):
            self._trial(trial_id).report(float(value), epoch)  # type: ignore[arg-type]
        return True

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        self._report(trial_id, result)

    def should_prune(self, trial_id: str, result: dict[str, Any]) -> bool:
        """The space's Optuna pruner on this epoch (called by :class:`OptunaPrunerScheduler`)."""
        if not self._report(trial_id, result):
            return False
        return self._trial(trial_id).should_prune()

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        if trial_id in self._completed_trials or trial_id not in self._trial_ids:
            return
        trial = self._trial(trial_id)
        if self._study._storage.get_trial(trial._trial_id).state.is_finished():
            # a trial re-run after a restore that had finished just before the driver died
            self._completed_trials.add(trial_id)
            return
        outcome = self._outcome(trial_id, trial, result, error)
        if outcome is None:  # stopped without a result (the experiment was interrupted)
            return
        self._completed_trials.add(trial_id)
        self._record(trial, outcome, result or {})

    def _outcome(
        self, trial_id: str, trial: optuna.Trial, result: dict[str, Any] | None, error: bool
    ) -> TrialOutcome | None:
        if result and isinstance(result.get(OUTCOME_KEY), str):
            return decode_outcome(result[OUTCOME_KEY])
        history = self._histories.get(trial_id, [])
        if error:
            out = failed(
                "exception",
                "the Ray trial failed (its actor crashed or raised) more often than "
                "--max-failures allows; see error.txt in the Ray trial folder under ray/tune/",
            )
            out.history = history
            return out
        if not result:
            return None
        self._report(trial_id, result)  # the epoch that got the trial stopped
        history = self._histories.get(trial_id, [])
        metrics = {**self._static_metrics(trial), **_prefixed(result, "metrics/")}
        metrics["epochs_run"] = int(result.get(EPOCH_KEY, 0))
        constraints = constraint_values(self._space_obj.spec.constraints, metrics)
        return TrialOutcome("pruned", metrics=metrics, constraints=constraints, history=history)

    def _static_metrics(self, trial: optuna.Trial) -> dict[str, Any]:
        """Params/FLOPs/bytes of a trial's architecture (what the runner checks first)."""
        import optuna

        try:
            arch = self._space_obj.suggest(optuna.trial.FixedTrial(dict(trial.params)))
            return dict(arch.graph.totals())
        except Exception:
            return {}

    def _record(self, trial: optuna.Trial, outcome: TrialOutcome, result: dict[str, Any]) -> None:
        from hadnas.search._runner import trial_seed
        from hadnas.search._worker import tally

        space = self._space_obj
        seed = trial_seed(
            space.spec.search.seed, int(trial.user_attrs.get("retry_of", trial.number))
        )
        worker = f"ray:{result.get('hostname', '?')}:{result.get('pid', '?')}"  # the actor
        _Recorder(self._study, RunFolder(self._setup.run_dir), space, worker).record(
            trial, outcome, seed
        )
        trials = self._study.get_trials(deepcopy=False)
        budget = space.spec.search.max_failed_trials
        if outcome.fatal:
            self._stop = f"fatal: trial {trial.number}: {outcome.message}"
        elif budget is not None and sum(tally(trials)["failures"].values()) >= budget:
            self._stop = "budget"
        attached = self._attached()
        if attached:
            attached["stop"] = self._stop
            if attached.get("progress") is not None:
                attached["progress"].update(trials)


class OptunaPrunerScheduler(FIFOScheduler):
    """Runs trials in order and stops one when the space's Optuna pruner prunes it."""

    def __init__(self, searcher: HadnasOptunaSearch) -> None:
        super().__init__()
        self._searcher = searcher

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        if self._searcher.should_prune(trial.trial_id, result):
            return TrialScheduler.STOP
        return TrialScheduler.CONTINUE


def make_scheduler(
    space: SearchSpace, name: str | None, searcher: HadnasOptunaSearch
) -> TrialScheduler:
    """``asha``/``hyperband`` (Ray's, on the per-epoch objective) or the space's pruner."""
    if name is None:
        if space.spec.search.pruner == "none":
            return FIFOScheduler()
        return OptunaPrunerScheduler(searcher)
    obj = space.spec.objectives[0]
    mode = "max" if obj.direction == "maximize" else "min"
    # one above the last epoch: at max_t Ray stops a trial outright, which would cut off the
    # final result of every trial that trained to the end
    max_t = max_epochs(space) + 1
    if name == "asha":
        return ASHAScheduler(
            time_attr=EPOCH_KEY, metric=OBJECTIVE_KEY, mode=mode, max_t=max_t, grace_period=1
        )
    return HyperBandScheduler(time_attr=EPOCH_KEY, metric=OBJECTIVE_KEY, mode=mode, max_t=max_t)


def max_epochs(space: SearchSpace) -> int:
    """The most epochs any architecture of the space trains for (a searched value's top)."""
    from hadnas.search._samplers import probe_domains

    epochs = space.spec.task.epochs
    if isinstance(epochs, int):
        return max(1, epochs)
    domains = probe_domains(space)
    values = [v for k, (_, vs) in domains.items() if k.endswith("epochs") for v in vs]
    return max(1, int(max(values))) if values else 100


def _prefixed(result: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in result.items() if k.startswith(prefix)}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
