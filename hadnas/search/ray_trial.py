"""The Ray trainable: one hadnas trial in a Ray actor, with the shared trial runner.

Each actor keeps one :class:`~hadnas.search._runner.TrialRunner` (and so one trial process,
torch imported once) across the trials it runs with ``reuse_actors``. Results carry:

- every epoch: ``hadnas_objective`` (the first objective, for schedulers), ``hadnas_epoch``,
  ``metrics/*`` and a checkpoint naming the epoch;
- at the end: the full :class:`~hadnas.search._outcome.TrialOutcome` as JSON
  (``hadnas_outcome``), which the driver's searcher records.

Importing this module does not import Ray (workers import it to unpickle the trainable).
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hadnas.search._folder import RunFolder

if TYPE_CHECKING:
    from hadnas.search._outcome import TrialOutcome
    from hadnas.search._runner import TrialRunner
    from hadnas.space import SearchSpace

OBJECTIVE_KEY = "hadnas_objective"
EPOCH_KEY = "hadnas_epoch"
FINAL_KEY = "hadnas_final"
OUTCOME_KEY = "hadnas_outcome"
CHECKPOINT_FILE = "hadnas.json"
#: most epoch reports (each with a checkpoint) per trial: every epoch up to this many epochs,
#: then every k-th (always the last), so Ray's per-result cost stays small next to training
MAX_REPORTS = 25


@dataclass(frozen=True)
class RaySetup:
    """What the searcher (driver) and every trial actor need: plain data, cheap to pickle."""

    run_dir: str
    storage: str
    study_name: str
    space_file: str
    space_text: str
    plugins: tuple[str, ...]
    trials: int
    workers: int
    timeout_s: float | None
    threads: int = 1  # torch threads per trial: what Ray reserves, ``--cpus-per-trial``
    stoppable: bool = True  # a pruner or scheduler may stop trials: the trial process waits

    def load_space(self) -> SearchSpace:
        """The space as searched (plugins imported first, as in every trial process)."""
        import importlib

        from hadnas.space import load_space

        for module in self.plugins:
            importlib.import_module(module)
        return load_space(self.space_file, text=self.space_text, check=False)


_RUNNERS: dict[str, tuple[SearchSpace, TrialRunner]] = {}
#: starts every trial process: PR_SET_PDEATHSIG fires when the *thread* that started a child
#: exits, and Ray runs each trial in a new thread, so a child started there would die with
#: its first trial and actor reuse would save nothing
_OWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hadnas-trial-process")


def _runner(setup: RaySetup) -> tuple[SearchSpace, TrialRunner]:
    """The space and trial runner of this actor process, kept across reused trials."""
    key = f"{setup.run_dir}\0{setup.space_text}"
    if key not in _RUNNERS:
        import atexit

        from hadnas.search._runner import TrialRunner
        from hadnas.space import SearchSpace

        space = setup.load_space()
        search = dataclasses.replace(space.spec.search, threads=setup.threads)
        trained = SearchSpace(dataclasses.replace(space.spec, search=search))
        runner = TrialRunner(trained, timeout_s=setup.timeout_s, plugins=list(setup.plugins))
        atexit.register(runner.close)
        _RUNNERS[key] = (space, runner)
    space, runner = _RUNNERS[key]
    _OWNER.submit(runner.executor.spawn).result()  # no-op while the process is alive
    return space, runner


def _done_epochs(checkpoint: Any, number: int) -> int:
    """Epochs this trial reported before its actor died (0 for a fresh trial)."""
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as d:
        try:
            state = json.loads((Path(d) / CHECKPOINT_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return 0
    return int(state["epoch"]) if state.get("trial") == number else 0


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def hadnas_trial(config: dict[str, Any], setup: RaySetup) -> None:
    """Run one trial: rebuild the architecture from its parameters, run it, report.

    A restored trial (its actor died) replays its epochs with the same seed, so its result
    equals an uninterrupted run's, and reports only the epochs Ray does not have yet. When
    Ray stops the trial (scheduler or pruner), the trial process stops at once and the actor
    is free for the next trial.
    """
    import optuna
    from ray import tune

    from hadnas.search._outcome import failed

    h = config["hadnas"]
    number, seed = int(h["trial"]), int(h["seed"])
    space, runner = _runner(setup)
    first = space.spec.objectives[0].metric
    done = _done_epochs(tune.get_checkpoint(), number)
    stopped = False
    try:
        arch = space.suggest(optuna.trial.FixedTrial(dict(h["params"])))
    except Exception as exc:  # recorded like the optuna backend's invalid sample
        arch, outcome = None, failed("exception", f"the sampled architecture is invalid: {exc}")
    epochs = int(arch.task.get("epochs", 1)) if arch is not None else 1
    stride = max(1, math.ceil(epochs / MAX_REPORTS))

    def report(epoch: int, metrics: dict[str, float]) -> bool:
        nonlocal stopped
        if epoch <= done or (epoch % stride and epoch != epochs):
            return False
        values = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
        result = {
            OBJECTIVE_KEY: _as_float(values.get(first)),
            EPOCH_KEY: epoch,
            FINAL_KEY: False,
            "metrics": values,
        }
        with tempfile.TemporaryDirectory(prefix="hadnas-ckpt-") as d:
            Path(d, CHECKPOINT_FILE).write_text(json.dumps({"trial": number, "epoch": epoch}))
            try:
                tune.report(result, checkpoint=tune.Checkpoint.from_directory(d))
            except SystemExit:  # Ray stops this trial: stop the trial process too
                stopped = True
                if not setup.stoppable:  # it is not waiting for our answer: kill it
                    runner.executor.kill()
                return True
        return False

    if arch is not None:
        folder = RunFolder(setup.run_dir)
        trial_dir = folder.trial_dir(number) if folder.exists() else None  # shared FS only
        outcome = runner.run(
            arch, seed=seed, trial_dir=trial_dir, report=report, pruning=setup.stoppable
        )
    if stopped:
        raise SystemExit(0)  # what Ray's report raised: end this trial's thread
    final = {
        OBJECTIVE_KEY: outcome.values[0] if outcome.values else math.nan,
        EPOCH_KEY: int(outcome.metrics.get("epochs_run") or done),
        FINAL_KEY: True,
        OUTCOME_KEY: encode_outcome(outcome),
    }
    tune.report(final)


def encode_outcome(outcome: TrialOutcome) -> str:
    """JSON of an outcome (NaN and inf included: Python's json reads them back)."""
    return json.dumps({**outcome.to_dict(), "fatal": outcome.fatal}, default=str)


def decode_outcome(text: str) -> TrialOutcome:
    from hadnas.search._outcome import TrialOutcome

    data = json.loads(text)
    fields = set(TrialOutcome.__dataclass_fields__)
    return TrialOutcome(**{k: v for k, v in data.items() if k in fields})
