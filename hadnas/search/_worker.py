"""One worker of an Optuna study: claim a trial, run it, record it; repeat until the total.

Several workers (processes of ``--workers N``, or ``hadnas search`` runs on other machines)
share one storage. Claiming happens under the run folder's lock, so the study reaches exactly
its total; before claiming, a worker fails trials whose lease expired and retries them once.
``python -m hadnas.search._worker RUN_DIR INDEX`` runs an extra worker of a run folder.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hadnas.exceptions import HadnasError, SearchError
from hadnas.search._folder import RunFolder
from hadnas.search._lease import Heartbeat, enqueue_retry, recover, retried_numbers
from hadnas.search._outcome import RETRIED_REASONS, TrialOutcome, failed
from hadnas.search._pg import claim_lock, launcher_slot
from hadnas.search._progress import Progress
from hadnas.search._runner import TrialRunner, trial_seed
from hadnas.search._samplers import make_pruner, make_sampler
from hadnas.search._storage import open_storage
from hadnas.space import SearchSpace, load_space

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)

#: set by SIGTERM/SIGINT: running trials are failed as ``preempted`` and the worker exits
STOP = threading.Event()


def install_signal_handlers() -> dict[int, Any]:
    """Turn SIGTERM/SIGINT into :data:`STOP` (main thread only); returns the old handlers."""
    old: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            old[sig] = signal.signal(sig, lambda *_: STOP.set())
    return old


def restore_signal_handlers(old: dict[int, Any]) -> None:
    for sig, handler in old.items():
        signal.signal(sig, handler)


def tally(trials: list[optuna.trial.FrozenTrial]) -> dict[str, Any]:
    """``taken`` counts toward the total (a retried stale/preempted original does not)."""
    retried = retried_numbers(trials)
    taken = running = 0
    failures: dict[str, int] = {}
    for t in trials:
        state = t.state.name
        reason = t.user_attrs.get("fail_reason")
        if state == "WAITING" or (
            state == "FAIL" and reason in RETRIED_REASONS and t.number in retried
        ):
            continue
        taken += 1
        running += state == "RUNNING"
        if state == "FAIL":
            failures[reason or "exception"] = failures.get(reason or "exception", 0) + 1
    return {"taken": taken, "running": running, "failures": failures}


def _scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = str(v)
        elif isinstance(v, (int, float, str, bool)):
            out[k] = v
    return out


class OptunaWorker:
    """Claims and runs trials of one study until it reaches ``target`` trials."""

    def __init__(
        self,
        space: SearchSpace,
        folder: RunFolder,
        info: dict[str, Any],
        *,
        index: int = 0,
        progress: Progress | None = None,
        runner: TrialRunner | None = None,
    ) -> None:
        import optuna

        config = info.get("config", {})
        self.space, self.folder, self.index = space, folder, index
        self.target = int(info["trials"])
        self.lease_s = float(config.get("lease_s", 60.0))
        self.budget = space.spec.search.max_failed_trials
        workers = int(config.get("workers", 1))
        self.storage = open_storage(info["storage"], workers=workers, lease_s=self.lease_s)
        self.pruner = make_pruner(space)
        sampler = make_sampler(
            space, trials=self.target, seed=space.spec.search.seed + index, workers=workers
        )
        self.study = optuna.load_study(
            study_name=info["study_name"],
            storage=self.storage,
            sampler=sampler,
            pruner=self.pruner,
        )
        slot = launcher_slot(self.study)  # distinct seeds for launchers sharing a database
        if slot is not None:
            seed = space.spec.search.seed + slot
            self.study.sampler = make_sampler(
                space, trials=self.target, seed=seed, workers=workers
            )
        self.runner = runner or TrialRunner(
            space, timeout_s=config.get("timeout_per_trial"), plugins=info.get("plugins")
        )
        self.runner.prepare()
        # trial files are written off the critical path, while the next trial trains
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hadnas-files")
        self.progress = progress
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.fatal: str | None = None

    # -- the loop ----------------------------------------------------------------------------
    def loop(self) -> str:
        """Run trials; returns ``done``, ``budget`` (failure budget spent) or ``preempted``."""
        try:
            while True:
                if STOP.is_set():
                    return "preempted"
                with self.folder.lock(), claim_lock(self.storage, self.study.study_name):
                    recover(self.study, self.lease_s)
                    trials = self.study.get_trials(deepcopy=False)
                    t = tally(trials)
                    if self.budget is not None and sum(t["failures"].values()) >= self.budget:
                        return "budget"
                    trial = None
                    if t["taken"] < self.target:
                        trial = self.study.ask()
                        beat = Heartbeat(
                            self.storage,
                            trial._trial_id,
                            self.lease_s,
                            self.worker_id,
                            self._ticker(trial.number),
                        )
                    elif not t["running"]:
                        return "done"
                if trial is None:  # others are still running: wait (and recover their trials)
                    self._update(trials)
                    STOP.wait(min(1.0, self.lease_s / 4))
                    continue
                try:
                    self.run_trial(trial)
                finally:
                    beat.stop()
                self._update(self.study.get_trials(deepcopy=False))
                if self.fatal:
                    raise SearchError(self.fatal)
        finally:
            self.writer.shutdown(wait=True)
            self.runner.close()

    def _update(self, trials: list[Any]) -> None:
        if self.progress is not None:
            self.progress.update(trials)

    # -- one trial ---------------------------------------------------------------------------
    def run_trial(self, trial: optuna.Trial) -> None:
        number = trial.number
        root = int(trial.user_attrs.get("retry_of", number))
        seed = trial_seed(self.space.spec.search.seed, root)
        arch = None
        try:
            arch = self.space.suggest(trial)
            trial_dir = self.folder.trial_dir(number)
            self._background(lambda a=arch: self.folder.write_arch(number, a.to_yaml()))
        except Exception as exc:  # an invalid sample fails its trial, not the search
            outcome = failed("exception", f"the sampled architecture is invalid: {exc}")
        else:
            outcome = self.runner.run(
                arch,
                seed=seed,
                trial_dir=trial_dir,
                report=self._reporter(trial),
                pruning=self.pruner is not None,
                should_stop=STOP.is_set,
            )
        t0 = time.perf_counter()
        self.record(trial, outcome, seed)
        outcome.timing["record_seconds"] = time.perf_counter() - t0
        if outcome.fatal:
            self.fatal = f"trial {number}: {outcome.message}"

    def _ticker(self, number: int) -> Any:
        """While our trial runs, fail other workers' expired trials (recovery within a lease,
        not only between trials)."""

        def tick() -> None:
            with self.folder.lock():
                recover(self.study, self.lease_s, own={number})

        return tick

    def _background(self, fn: Any) -> None:
        def done(fut: Future[Any]) -> None:
            if fut.exception() is not None:
                log.warning("could not write trial files: %s", fut.exception())

        self.writer.submit(fn).add_done_callback(done)

    def _reporter(self, trial: optuna.Trial) -> Any:
        if self.pruner is None:
            return None
        metric = self.space.spec.objectives[0].metric

        def report(epoch: int, metrics: dict[str, float]) -> bool:
            value = metrics.get(metric)
            if value is None or not math.isfinite(value):
                return False
            trial.report(float(value), epoch)
            return trial.should_prune()

        return report

    def record(self, trial: optuna.Trial, out: TrialOutcome, seed: int) -> None:
        """Tell the study (constraints, fail reason, metrics, state); trial files follow in the
        background and are all written when the worker's loop returns."""
        from optuna.trial import TrialState

        for key, value in out.constraints.items():
            trial.set_constraint(key, value)
        if out.fail_reason:
            trial.set_user_attr("fail_reason", out.fail_reason)
            if out.message:
                trial.set_user_attr("fail_message", out.message[:2000])
        trial.set_user_attr("metrics", {**_scalars(out.metrics), "worker": self.worker_id})
        retry_of = trial.user_attrs.get("retry_of")
        names = [o.metric for o in self.space.spec.objectives]
        data = {
            "number": trial.number,
            **out.to_dict(),
            "params": dict(trial.params),
            "objectives": dict(zip(names, out.values or [])),
            "seed": seed,
            "worker": self.worker_id,
            "retry_of": retry_of,
        }
        self._background(lambda: self._write_files(trial.number, dict(trial.params), out, data))
        try:
            if out.state == "complete":
                self.study.tell(trial, out.values)
            elif out.state == "pruned":
                self.study.tell(trial, state=TrialState.PRUNED)
            else:
                self.study.tell(trial, state=TrialState.FAIL)
        except Exception as exc:  # failed as stale by another worker meanwhile
            log.warning(
                "trial %d could not be recorded (%s): another worker failed it as "
                "stale; raise --lease if trials are legitimately slow",
                trial.number,
                exc,
            )
            return
        if out.fail_reason == "preempted":
            with self.folder.lock():
                enqueue_retry(self.study, self.study.get_trials(deepcopy=False)[trial.number])

    def _write_files(
        self, number: int, params: dict[str, Any], out: TrialOutcome, data: dict[str, Any]
    ) -> None:
        from hadnas.search._tb import write_trial_events

        self.folder.write_metrics(number, data)
        try:
            status = out.fail_reason or out.state
            write_trial_events(
                self.folder.trial_dir(number), params, out.metrics, out.history, status
            )
        except Exception as exc:  # TensorBoard files are a convenience, never a failure
            log.warning("trial %d: could not write TensorBoard events: %s", number, exc)


def main(argv: list[str]) -> int:
    """Entry of an extra worker process: ``RUN_DIR INDEX``."""
    import importlib

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    folder, index = RunFolder(Path(argv[0])), int(argv[1])
    parent = os.getppid()
    try:  # stop (as preempted) when the launching process dies
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    install_signal_handlers()
    if os.getppid() != parent:
        return 143
    info = folder.read_run()
    for module in info.get("plugins", []):
        importlib.import_module(module)
    text = folder.space_yaml.read_text("utf-8")
    space = load_space(info.get("space_file", folder.space_yaml), text=text, check=False)
    try:
        status = OptunaWorker(space, folder, info, index=index).loop()
    except HadnasError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 143 if status == "preempted" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
