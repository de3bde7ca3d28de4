"""PostgreSQL (and MySQL) studies, shared by ``hadnas search`` workers on many machines.

The journal-file design relies on one machine: a file lock orders the workers' claims, and the
lease of a running trial is stamped with the worker's own clock. Across machines both move
into the database:

- **Liveness by the database's clock.** The storage is opened with Optuna's RDB heartbeat
  (``heartbeat_interval`` = lease/4, ``grace_period`` = lease); workers stamp a running trial
  with the server's ``now()``, so machines with skewed clocks neither fail healthy trials nor
  miss dead ones. Stale trials are then failed and retried once by hadnas's own recovery
  (``fail_reason="stale"``, one retry with ``retry_of``), not by Optuna's
  ``RetryHeartbeatStaleTrialCallback``: that callback runs after the trial is already FAIL,
  when its ``fail_reason`` can no longer be written, and marks retries differently from the
  other storages.
- **A study-wide claim lock** (a PostgreSQL advisory lock, MySQL ``GET_LOCK``) held while a
  worker counts the study's trials and asks for one, so workers on different machines reach
  exactly the study's total. The server drops it when a worker's connection dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

SERVER_SCHEMES = ("postgresql", "postgres", "mysql")


def is_server_url(url: str) -> bool:
    """A database server URL (``postgresql://``, ``postgresql+psycopg2://``, ``mysql://``)."""
    return "://" in url and url.split("://", 1)[0].split("+", 1)[0] in SERVER_SCHEMES


def open_server_storage(url: str, *, lease_s: float | None) -> optuna.storages.RDBStorage:
    """An RDB storage on a server; with ``lease_s``, with heartbeats: a running trial is stale
    after ``lease_s`` without one (workers pass it; readers such as ``report`` do not)."""
    import optuna
    from optuna.exceptions import ExperimentalWarning

    beats: dict[str, int] = {}
    if lease_s is not None:
        interval = max(1, int(lease_s / 4))
        beats = {
            "heartbeat_interval": interval,
            "grace_period": max(2 * interval, math.ceil(lease_s)),
        }
        # hadnas stamps heartbeats itself (ask/tell workers), not through Study.optimize
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
    with warnings.catch_warnings(), _schema_lock(url):
        warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeats: stable since 2.9
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs={"pool_pre_ping": True},  # survive a server restart between trials
            **beats,  # type: ignore[arg-type]
        )


@contextlib.contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """Optuna creates its tables on first use, and two workers doing so at once collide
    (``duplicate key ... CREATE TYPE``): let one create them while the others wait."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with _locked(engine, "schema"):
            yield
    finally:
        engine.dispose()


def _heartbeat_enabled(storage: Any) -> bool:
    from optuna.storages._heartbeat import BaseHeartbeat

    return isinstance(storage, BaseHeartbeat) and storage.get_heartbeat_interval() is not None


def record_heartbeat(storage: Any, trial_id: int) -> None:
    """Stamp a running trial with the database's clock (no-op without RDB heartbeats)."""
    if _heartbeat_enabled(storage):
        storage.record_heartbeat(trial_id)


def stale_trial_ids(study: optuna.Study) -> set[int] | None:
    """Ids of RUNNING trials whose last heartbeat is older than the grace period, by the
    database's clock; ``None`` when the storage has no heartbeats (use the lease instead)."""
    storage: Any = study._storage
    if not _heartbeat_enabled(storage):
        return None
    return set(storage._get_stale_trial_ids(study._study_id))


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(f"hadnas:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def claim_lock(storage: Any, study_name: str) -> Iterator[None]:
    """Serialise claims on ``study_name`` across machines (no-op for other storages)."""
    engine = getattr(getattr(storage, "_backend", storage), "engine", None)
    with _locked(engine, f"study:{study_name}"):
        yield


@contextlib.contextmanager
def _locked(engine: Any, name: str) -> Iterator[None]:
    """A server-wide named lock (PostgreSQL advisory lock, MySQL ``GET_LOCK``), held by one
    connection and dropped by the server if that connection dies; no-op elsewhere."""
    dialect = getattr(getattr(engine, "dialect", None), "name", "")
    if dialect not in ("postgresql", "mysql"):
        yield
        return
    from sqlalchemy import text

    if dialect == "postgresql":
        lock, unlock = "SELECT pg_advisory_lock(:k)", "SELECT pg_advisory_unlock(:k)"
        args: dict[str, Any] = {"k": _lock_key(name)}
    else:
        lock, unlock = "SELECT GET_LOCK(:k, -1)", "SELECT RELEASE_LOCK(:k)"
        args = {"k": f"hadnas:{name}"[:64]}
    with engine.connect() as conn:
        conn.execute(text(lock), args)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text(unlock), args)
            conn.commit()


def launcher_slot(study: optuna.Study) -> int | None:
    """A number unique to this worker among all that joined ``study`` on a database server
    (0, 1, 2... in joining order), or ``None`` for other storages.

    Workers started by separate ``hadnas search`` commands all have index 0; seeding their
    samplers alike would make every machine propose the same architectures.
    """
    storage = study._storage
    if not _heartbeat_enabled(storage):
        return None
    with claim_lock(storage, study.study_name):
        slot = int(storage.get_study_system_attrs(study._study_id).get("hadnas:launchers", 0))
        storage.set_study_system_attr(study._study_id, "hadnas:launchers", slot + 1)
    return slot
