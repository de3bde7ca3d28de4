"""Leases: how a trial of a killed worker is noticed, failed and retried once.

Optuna's journal storage has no heartbeat, so a trial whose worker was SIGKILLed stays RUNNING
forever. While a trial runs, its worker renews a lease (a trial system attribute holding the
time and the lease length) every ``lease/4`` seconds. Any worker, before asking for a new
trial, fails RUNNING trials whose lease expired (``fail_reason="stale"``) and enqueues one
retry with the same parameters (user attribute ``retry_of``). The state change is the
arbiter between concurrent recoverers: Optuna refuses to finish a trial twice, and only the
process whose change landed enqueues the retry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hadnas.search._pg import record_heartbeat, stale_trial_ids

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

log = logging.getLogger(__name__)

LEASE_ATTR = "hadnas:lease"
RETRY_ATTR = "retry_of"


class Heartbeat:
    """Renews the lease of one running trial from a background thread."""

    def __init__(
        self,
        storage: Any,
        trial_id: int,
        lease_s: float,
        worker: str = "",
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.storage, self.trial_id, self.lease_s = storage, trial_id, lease_s
        self.worker, self.tick = worker, tick
        self._stop = threading.Event()
        self.renew()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="hadnas-lease")
        self._thread.start()

    def renew(self) -> None:
        record_heartbeat(self.storage, self.trial_id)  # database clock (server RDBs only)
        self.storage.set_trial_system_attr(
            self.trial_id, LEASE_ATTR, {"t": time.time(), "s": self.lease_s, "worker": self.worker}
        )

    def _loop(self) -> None:
        while not self._stop.wait(self.lease_s / 4):
            try:
                self.renew()
                if self.tick is not None:  # e.g. recover other workers' stale trials meanwhile
                    self.tick()
            except Exception as exc:  # finished meanwhile, or storage hiccup: try again later
                log.debug("lease renewal of trial id %s failed: %s", self.trial_id, exc)

    def stop(self) -> None:
        """Stop renewing (the thread exits at its next wake-up; a late renewal of a finished
        trial is refused by the storage and ignored)."""
        self._stop.set()


def expired(trial: FrozenTrial, now: float, default_lease_s: float) -> bool:
    lease = trial.system_attrs.get(LEASE_ATTR)
    if isinstance(lease, dict):
        return now - float(lease["t"]) > float(lease.get("s", default_lease_s))
    start = trial.datetime_start.timestamp() if trial.datetime_start else now
    return now - start > default_lease_s


def fail_trial(study: optuna.Study, trial: FrozenTrial, reason: str, message: str) -> bool:
    """Fail a RUNNING trial of any worker; False if someone else finished it first."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage
    try:
        storage.set_trial_user_attr(trial._trial_id, "fail_reason", reason)
        storage.set_trial_user_attr(trial._trial_id, "fail_message", message)
        # the storage refuses to finish a trial twice: the arbiter between recoverers (and safe
        # from the lease thread, unlike Study.tell, which also runs the sampler's hooks)
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    except (UpdateFinishedTrialError, ValueError, RuntimeError):
        return False
    except Exception:  # e.g. SQLite refused the losing writer: did someone else win?
        current = storage.get_trial(trial._trial_id)
        if current.state != TrialState.RUNNING:
            return False
        raise
    return True


def enqueue_retry(study: optuna.Study, trial: FrozenTrial) -> bool:
    """Enqueue one retry of ``trial`` with the same parameters, unless it is itself a retry."""
    if RETRY_ATTR in trial.user_attrs:
        log.warning(
            "trial %d was already a retry of trial %s: not retried again",
            trial.number,
            trial.user_attrs[RETRY_ATTR],
        )
        return False
    study.enqueue_trial(dict(trial.params), user_attrs={RETRY_ATTR: trial.number})
    log.warning("trial %d is retried once with the same parameters", trial.number)
    return True


def recover(study: optuna.Study, default_lease_s: float, *, own: set[int] | None = None) -> int:
    """Fail RUNNING trials whose lease expired as ``stale`` and retry each once.

    Only the recoverer whose FAIL landed enqueues the retry, so two recoverers racing on the
    same trial produce exactly one retry. Returns the number of trials failed here.
    """
    from optuna.trial import TrialState

    now = time.time()
    stale = stale_trial_ids(study)  # by the database's clock where it keeps heartbeats
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        gone = expired(t, now, default_lease_s) if stale is None else t._trial_id in stale
        if own and t.number in own or not gone:
            continue
        if fail_trial(
            study,
            t,
            "stale",
            "its worker stopped renewing the trial's lease "
            "(killed or lost); failed by another worker",
        ):
            log.warning("trial %d was RUNNING with an expired lease: failed as stale", t.number)
            enqueue_retry(study, t)
            n += 1
    return n


def retried_numbers(trials: list[FrozenTrial]) -> set[int]:
    """Numbers of trials that already have a retry."""
    return {int(t.user_attrs[RETRY_ATTR]) for t in trials if RETRY_ATTR in t.user_attrs}
