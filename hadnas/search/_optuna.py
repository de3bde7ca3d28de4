"""The Optuna backend: one study in an embedded journal (or an RDB), N local worker processes.

The launching process is worker 0 and shows the progress; ``--workers N`` adds N-1 worker
processes (``python -m hadnas.search._worker``) on the same storage. SIGTERM/SIGINT stop every
worker cleanly: running trials are failed as ``preempted`` and enqueued again for a resume.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Any

from hadnas.exceptions import SearchError
from hadnas.search._base import (
    BaseSearchBackend,
    SearchInterrupted,
    SearchResult,
    prepare_folder,
)
from hadnas.search._progress import Progress
from hadnas.search._samplers import make_pruner, make_sampler
from hadnas.search._storage import open_storage
from hadnas.search._summary import write_summary
from hadnas.search._worker import (
    STOP,
    OptunaWorker,
    install_signal_handlers,
    restore_signal_handlers,
    tally,
)

log = logging.getLogger(__name__)


class OptunaBackend(BaseSearchBackend):
    """Optuna with hadnas's leases, hard limits and run folder."""

    name = "optuna"

    def validate(self) -> None:
        spec = self.space.spec
        make_pruner(self.space)  # refuses pruning a multi-objective study
        make_sampler(self.space, trials=self.config.trials or spec.search.trials, seed=0)
        if self.config.address:
            raise SearchError(
                "--address is for --backend ray; the optuna backend shares a "
                "study through --storage"
            )

    def run(self) -> SearchResult:
        import optuna

        self.validate()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        folder, info = prepare_folder(self.space, self.config, self.name)
        spec = self.space.spec
        storage = open_storage(info["storage"], workers=self.config.workers)
        directions: list[Any] = [o.direction for o in spec.objectives]
        study = optuna.create_study(
            study_name=info["study_name"],
            storage=storage,
            directions=directions,
            load_if_exists=True,
        )
        if [d.name.lower() for d in study.directions] != directions:
            raise SearchError(
                f"study {info['study_name']!r} in {info['storage']} optimises "
                f"{[d.name.lower() for d in study.directions]}, but the space "
                f"declares {directions}; use another --name"
            )
        study.set_user_attr("objectives", [o.metric for o in spec.objectives])
        total = int(info["trials"])
        progress = Progress(total, spec.objectives, enabled=self.config.progress)
        STOP.clear()
        old = install_signal_handlers()
        procs: list[subprocess.Popen[bytes]] = []
        status = "done"
        try:
            if tally(study.get_trials(deepcopy=False))["taken"] < total:
                procs = [self._spawn(folder.path, i) for i in range(1, self.config.workers)]
            worker = OptunaWorker(self.space, folder, info, progress=progress)
            status = worker.loop()
            codes = self._wait(procs, worker)
        finally:
            for proc in procs:  # only left running if we are unwinding from an error
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait()
            progress.update(study.get_trials(deepcopy=False))
            progress.close()
            restore_signal_handlers(old)
        summary = write_summary(study, self.space, folder, info)
        result = SearchResult(
            folder.path,
            info["study_name"],
            info["storage"],
            summary["counts"],
            summary["best"],
            summary,
        )
        if status == "preempted" or STOP.is_set() or 143 in codes:
            raise SearchInterrupted(
                f"search interrupted; running trials were failed as "
                f"preempted and will be retried by: hadnas search "
                f"{spec.file} --resume --name {info['study_name']}"
            )
        failures = tally(study.get_trials(deepcopy=False))["failures"]
        if status == "budget":
            per = ", ".join(f"{k}: {v}" for k, v in sorted(failures.items()))
            raise SearchError(
                f"stopped: {sum(failures.values())} trials failed, the failure "
                f"budget (search.max_failed_trials={spec.search.max_failed_trials})"
                f" is spent ({per}); see {folder.path}/trials/*/metrics.json"
            )
        if any(c not in (0, 143) for c in codes):
            raise SearchError(f"a worker process exited with code {max(codes)}; see its output")
        if total and not summary["counts"].get("complete"):
            per = ", ".join(f"{k}: {v}" for k, v in sorted(summary["counts"].items()))
            raise SearchError(f"no trial completed ({per}); see {folder.path}/trials/")
        return result

    def _spawn(self, run_dir: Any, index: int) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        return subprocess.Popen(
            [sys.executable, "-m", "hadnas.search._worker", str(run_dir), str(index)],
            env=env,
            stdin=subprocess.DEVNULL,
        )

    def _wait(self, procs: list[subprocess.Popen[bytes]], worker: OptunaWorker) -> list[int]:
        """Wait for the extra workers, forwarding a stop request, updating the progress."""
        forwarded = False
        while any(p.poll() is None for p in procs):
            if STOP.is_set() and not forwarded:
                for p in procs:
                    if p.poll() is None:
                        p.send_signal(signal.SIGTERM)
                forwarded = True
            worker._update(worker.study.get_trials(deepcopy=False))
            for p in procs:
                try:
                    p.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        return [p.returncode for p in procs]
