"""The Ray Tune backend: the same space, trial runner and run folder, trials on a Ray cluster.

The driver (this process) owns the study: :class:`~hadnas.search.ray_searcher.HadnasOptunaSearch`
asks Optuna for each architecture through the space's define-by-run function and records every
outcome in the run folder's storage, so ``hadnas report`` and ``hadnas export`` read a Ray run
exactly like an Optuna one. Trials run in Ray actors (:func:`hadnas_trial`); each actor keeps
one hadnas trial process (torch imported once) across the trials it runs (``reuse_actors``).

Nothing here imports Ray at module level: ``import hadnas`` works without it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hadnas.exceptions import SearchError
from hadnas.search._base import (
    BaseSearchBackend,
    SearchInterrupted,
    SearchResult,
    prepare_folder,
)
from hadnas.search._folder import RunFolder
from hadnas.search._samplers import TRAINING_METRICS, make_pruner, make_sampler
from hadnas.search.ray_cluster import check_address, ray_session
from hadnas.search.ray_trial import RaySetup, hadnas_trial

if TYPE_CHECKING:
    from hadnas.search._config import SearchConfig
    from hadnas.space import SearchSpace

log = logging.getLogger(__name__)

SCHEDULERS = ("asha", "hyperband")
#: seconds between Ray experiment checkpoints (what ``--resume`` restores); Ray's default
#: adapts to minutes on long runs, so a driver crash would re-run more trials
EXPERIMENT_CHECKPOINT_S = "2"


# -- the driver ------------------------------------------------------------------------------
class RayBackend(BaseSearchBackend):
    """Ray Tune with hadnas's searcher, trial runner and run folder."""

    name = "ray"
    #: keep trial actors (and their trial processes) across trials; benchmarks switch it off
    #: to measure what it saves
    reuse_actors: ClassVar[bool] = True

    def validate(self) -> None:
        spec, cfg = self.space.spec, self.config
        check_address(cfg.address)
        if cfg.cpus_per_trial is not None and not cfg.cpus_per_trial > 0:
            raise SearchError(f"--cpus-per-trial must be > 0, got {cfg.cpus_per_trial}")
        if cfg.max_failures < 0:
            raise SearchError(f"--max-failures must be >= 0, got {cfg.max_failures}")
        make_pruner(self.space)  # refuses pruning a multi-objective study
        make_sampler(self.space, trials=cfg.trials or spec.search.trials, seed=0)
        if cfg.scheduler is None:
            return
        if cfg.scheduler not in SCHEDULERS:
            raise SearchError(
                f"unknown --scheduler {cfg.scheduler!r} (Ray schedulers: {', '.join(SCHEDULERS)})"
            )
        if len(spec.objectives) > 1:
            raise SearchError(
                f"--scheduler {cfg.scheduler} stops trials on one reported value, but "
                f"{spec.file} declares {len(spec.objectives)} objectives; drop --scheduler "
                "(multi-objective studies are not pruned) or keep one objective"
            )
        if spec.objectives[0].metric not in TRAINING_METRICS:
            raise SearchError(
                f"--scheduler {cfg.scheduler} needs a per-epoch objective "
                f"({', '.join(TRAINING_METRICS)}), but {spec.file} optimises "
                f"{spec.objectives[0].metric}; drop --scheduler"
            )
        if spec.search.pruner != "none":
            raise SearchError(
                f"{spec.file} sets search.pruner: {spec.search.pruner}, which the ray backend "
                f"already applies to every trial; drop --scheduler {cfg.scheduler} or set "
                "search.pruner: none"
            )

    def run(self) -> SearchResult:
        import optuna

        self.validate()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        original = self._original_total()
        folder, info = prepare_folder(self.space, self.config, self.name)
        create_study(self.space, info)
        setup = make_setup(self.space, folder, info, self.config)
        from hadnas.search._progress import Progress

        progress = Progress(setup.trials, self.space.spec.objectives, enabled=self.config.progress)
        try:
            with ray_session(self.config.address, log_to_driver=log.isEnabledFor(logging.INFO)):
                stop = self._fit(setup, folder.path / "ray" / "tune", original, progress)
        finally:
            progress.close()
        return self._finish(folder, info, stop)

    def _original_total(self) -> int | None:
        """The total of the run being resumed, read before ``prepare_folder`` updates it."""
        if not self.config.resume:
            return None
        folder = RunFolder(Path(self.config.runs_dir) / (self.config.name or self.space.name))
        try:
            return int(folder.read_run()["trials"])
        except (SearchError, KeyError, ValueError):
            return None

    def _fit(
        self, setup: RaySetup, exp_dir: Path, original: int | None, progress: Any
    ) -> str | None:
        """Run a new Tuner or restore the run's one; returns why the searcher stopped early."""
        from ray import tune

        from hadnas.search import ray_searcher

        os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", EXPERIMENT_CHECKPOINT_S)
        os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # hadnas shows its own progress
        cpus = self.config.cpus_per_trial or float(setup.threads)
        trainable = tune.with_resources(
            tune.with_parameters(hadnas_trial, setup=setup), {"cpu": cpus}
        )
        restore = self.config.resume and tune.Tuner.can_restore(str(exp_dir))
        if restore and original is not None and setup.trials != original:
            raise SearchError(
                f"{setup.run_dir}: the ray backend resumes a run to its original total of "
                f"{original} trials; drop --trials, or search again with --name"
            )
        if not restore and exp_dir.exists():
            shutil.rmtree(exp_dir)  # a driver that died before Ray saved anything
        ray_searcher.attach(setup.run_dir, progress)
        try:
            with _sigterm_as_sigint():
                if restore:
                    log.info("restoring the Ray experiment in %s", exp_dir)
                    tune.Tuner.restore(
                        str(exp_dir), trainable, resume_unfinished=True, resume_errored=False
                    ).fit()
                    return ray_searcher.stop_reason(setup.run_dir)
                searcher = ray_searcher.HadnasOptunaSearch(setup)
                remaining = searcher.remaining()
                if remaining <= 0:
                    return None
                tune.Tuner(
                    trainable,
                    tune_config=tune.TuneConfig(
                        search_alg=searcher,
                        scheduler=ray_searcher.make_scheduler(
                            self.space, self.config.scheduler, searcher
                        ),
                        num_samples=remaining,
                        max_concurrent_trials=self.config.workers,
                        reuse_actors=self.reuse_actors,
                        trial_name_creator=trial_name,
                        trial_dirname_creator=trial_name,
                    ),
                    run_config=tune.RunConfig(
                        name=exp_dir.name,
                        storage_path=str(exp_dir.parent),
                        failure_config=tune.FailureConfig(max_failures=self.config.max_failures),
                        # keep every (tiny) epoch checkpoint while the search runs: with
                        # num_to_keep, a driver killed between deleting the previous one and
                        # saving the experiment state leaves that state pointing at nothing
                        checkpoint_config=tune.CheckpointConfig(num_to_keep=None),
                        verbose=0,
                    ),
                ).fit()
                return ray_searcher.stop_reason(setup.run_dir)
        finally:
            ray_searcher.detach(setup.run_dir)

    def _finish(self, folder: RunFolder, info: dict[str, Any], stop: str | None) -> SearchResult:
        import optuna

        from hadnas.search._storage import open_storage
        from hadnas.search._summary import write_summary
        from hadnas.search._worker import tally

        spec = self.space.spec
        study = optuna.load_study(
            study_name=info["study_name"], storage=open_storage(info["storage"])
        )
        summary = write_summary(study, self.space, folder, info)
        result = SearchResult(
            folder.path, info["study_name"], info["storage"], summary["counts"], summary["best"],
            summary,
        )  # fmt: skip
        t = tally(study.get_trials(deepcopy=False))
        if stop and stop.startswith("fatal:"):
            raise SearchError(stop[len("fatal:") :].strip())
        if stop == "budget":
            per = ", ".join(f"{k}: {v}" for k, v in sorted(t["failures"].items()))
            raise SearchError(
                f"stopped: {sum(t['failures'].values())} trials failed, the failure budget "
                f"(search.max_failed_trials={spec.search.max_failed_trials}) is spent ({per}); "
                f"see {folder.path}/trials/*/metrics.json"
            )
        if t["running"] or t["taken"] < int(info["trials"]):
            raise SearchInterrupted(
                f"search interrupted ({t['taken'] - t['running']} of {info['trials']} trials "
                f"done); continue it with: hadnas search {spec.file} --backend ray --resume "
                f"--name {info['study_name']}"
                + (f" --address {self.config.address}" if self.config.address else "")
            )
        _drop_checkpoints(folder.path / "ray" / "tune")  # finished: nothing will restore them
        if info["trials"] and not summary["counts"].get("complete"):
            per = ", ".join(f"{k}: {v}" for k, v in sorted(summary["counts"].items()))
            raise SearchError(f"no trial completed ({per}); see {folder.path}/trials/")
        return result


def create_study(space: SearchSpace, info: dict[str, Any]) -> None:
    """Create (or check) the study exactly as the Optuna backend does."""
    import optuna

    from hadnas.search._storage import open_storage

    directions = [o.direction for o in space.spec.objectives]
    study = optuna.create_study(
        study_name=info["study_name"],
        storage=open_storage(info["storage"]),
        directions=directions,  # type: ignore[arg-type]
        load_if_exists=True,
    )
    if [d.name.lower() for d in study.directions] != directions:
        raise SearchError(
            f"study {info['study_name']!r} in {info['storage']} optimises "
            f"{[d.name.lower() for d in study.directions]}, but the space declares "
            f"{directions}; use another --name"
        )
    study.set_user_attr("objectives", [o.metric for o in space.spec.objectives])


def make_setup(
    space: SearchSpace, folder: RunFolder, info: dict[str, Any], config: SearchConfig
) -> RaySetup:
    """The plain data the searcher and the trial actors of this run need."""
    return RaySetup(
        run_dir=str(folder.path.resolve()),
        storage=info["storage"],
        study_name=info["study_name"],
        space_file=info.get("space_file", str(folder.space_yaml)),
        space_text=folder.space_yaml.read_text("utf-8"),
        plugins=tuple(info.get("plugins", [])),
        trials=int(info["trials"]),
        workers=config.workers,
        timeout_s=config.timeout_per_trial,
        threads=max(1, int(config.cpus_per_trial or space.spec.search.threads)),
        stoppable=config.scheduler is not None or space.spec.search.pruner != "none",
    )


def _drop_checkpoints(exp_dir: Path) -> None:
    """Epoch checkpoints of a finished search (a restore of it adds no trial, resumes none)."""
    for path in exp_dir.glob("trial_*/checkpoint_*"):
        shutil.rmtree(path, ignore_errors=True)


def trial_name(trial: Any) -> str:
    """``trial_<number>``: the Ray trial folder and name match the run folder's trial."""
    return f"trial_{trial.config['hadnas']['trial']}"


@contextlib.contextmanager
def _sigterm_as_sigint() -> Iterator[None]:
    """SIGTERM stops Tune the way Ctrl-C does: gracefully, with the experiment saved."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


__all__ = ["RayBackend", "RaySetup", "hadnas_trial", "ray_session"]
