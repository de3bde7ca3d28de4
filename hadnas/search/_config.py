"""SearchConfig: how to run a search. The space file says *what* to search; this says *where*.

Fields are added only on purpose (Ray's ``TuneConfig`` discipline): sampler, seed, pruner,
trial budget defaults, time and memory limits all live in the space's ``search:`` block.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from hadnas.exceptions import SearchError

DEFAULT_LEASE_S = 60.0


@dataclass(frozen=True)
class SearchConfig:
    """Where and how a search runs.

    Attributes:
        trials: Total number of trials the study should reach (default: ``search.trials`` of
            the space). With ``resume`` the study continues up to this total.
        backend: ``"optuna"`` (default, embedded storage) or ``"ray"``.
        workers: Worker processes sharing the study's storage on this machine.
        storage: An Optuna storage URL (``sqlite:///x.db``, ``postgresql://...``) or a journal
            file path; default ``RUN_DIR/journal.log``.
        runs_dir: Parent folder of run folders.
        name: Run folder and study name (default: the space's ``name``).
        resume: Continue an existing run folder instead of refusing to overwrite it.
        timeout_per_trial: Hard wall-clock limit of one trial in seconds (default:
            ``search.trial_timeout_s``).
        address: Ray cluster address (``--backend ray`` only).
        cpus_per_trial: CPUs Ray reserves per trial, and the torch threads it trains with
            (``--backend ray``; default ``search.threads``).
        scheduler: ``"asha"`` or ``"hyperband"``: a Ray scheduler stops weak trials
            (``--backend ray``, one objective; default: the space's ``search.pruner``).
        max_failures: Times Ray restarts a trial whose actor crashed, from its last
            epoch checkpoint (``--backend ray``).
        lease_s: A RUNNING trial whose worker has not renewed its lease for this long is
            failed as ``stale`` and retried once.
        progress: Show a progress bar (plain lines when stderr is not a terminal).
    """

    trials: int | None = None
    backend: str = "optuna"
    workers: int = 1
    storage: str | None = None
    runs_dir: str = "runs"
    name: str | None = None
    resume: bool = False
    timeout_per_trial: float | None = None
    address: str | None = None
    cpus_per_trial: float | None = None
    scheduler: str | None = None
    max_failures: int = 1
    lease_s: float = DEFAULT_LEASE_S
    progress: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.trials is not None and self.trials < 0:
            problems.append(f"trials must be >= 0, got {self.trials=}")
        if self.workers < 1:
            problems.append(f"workers must be >= 1, got {self.workers=}")
        if self.timeout_per_trial is not None and not self.timeout_per_trial > 0:
            problems.append(
                f"timeout_per_trial must be > 0 seconds, got {self.timeout_per_trial=}"
            )
        if not self.lease_s > 0:
            problems.append(f"lease_s must be > 0 seconds, got {self.lease_s=}")
        if problems:
            raise SearchError("invalid search configuration: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
