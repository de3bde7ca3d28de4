"""Study storage: the embedded journal file (default) or an RDB URL, opened safely.

Optuna's journal file wedges for good after a torn (half-written) last line, e.g. when a worker
is SIGKILLed inside a write. Before opening a journal, hadnas scans it: a torn *tail* is cut off
under the journal's own lock (so no writer is mid-write) and the byte offset is logged; a bad
line in the *middle* is refused with the file, line and offset, because cutting there would
silently drop later trials.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from hadnas.exceptions import SearchError

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.log"
#: seconds after which a journal lock left by a dead writer is broken (Optuna's own mechanism)
JOURNAL_LOCK_GRACE_S = 30
#: SQLite busy timeout, so concurrent writers wait for the lock instead of failing
SQLITE_TIMEOUT_S = 60


def is_url(storage: str) -> bool:
    return "://" in storage


def resolve(storage: str | None, run_dir: Path) -> str:
    """The storage string recorded in ``run.json``: a URL, or an absolute journal path."""
    if storage is None:
        return str((run_dir / JOURNAL_NAME).resolve())
    if is_url(storage):
        return storage
    return str(Path(storage).expanduser().resolve())


def open_storage(
    storage: str,
    *,
    workers: int = 1,
    grace_period: int = JOURNAL_LOCK_GRACE_S,
    lease_s: float | None = None,
) -> BaseStorage:
    """Open ``storage`` (from :func:`resolve`) for a study shared by ``workers`` processes.

    ``lease_s``: a worker's lease; a database server then tracks it with heartbeats.
    """
    import optuna

    if is_url(storage):
        from hadnas.search._pg import is_server_url, open_server_storage

        if is_server_url(storage):
            try:
                return open_server_storage(storage, lease_s=lease_s)
            except Exception as exc:  # bad URL, driver missing, server down
                raise SearchError(f"cannot open storage {storage!r}: {exc}") from exc
        kwargs: dict[str, object] = {}
        if storage.startswith("sqlite"):
            if workers > 1:
                log.warning(
                    "SQLite serialises all writers: with %d workers expect lock waits; "
                    "use the default journal file or PostgreSQL for parallel "
                    "workers",
                    workers,
                )
            kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT_S}
        try:
            return optuna.storages.RDBStorage(storage, engine_kwargs=kwargs)
        except Exception as exc:  # bad URL, driver missing, server down
            raise SearchError(f"cannot open storage {storage!r}: {exc}") from exc
    from optuna.storages.journal import JournalFileSymlinkLock, JournalStorage

    path = Path(storage)
    path.parent.mkdir(parents=True, exist_ok=True)
    check_journal(path, grace_period=grace_period)
    lock = JournalFileSymlinkLock(str(path), grace_period=grace_period)
    return JournalStorage(_backend_class()(str(path), lock_obj=lock))


#: journal operations after which the file is fsynced: study/trial creation and state changes
_SYNC_OPS = frozenset({0, 1, 4, 6, 10})


def _backend_class() -> type:
    """Optuna's JournalFileBackend, fsyncing at trial boundaries instead of after every entry.

    Optuna fsyncs after each attribute, ~10 times per trial (tens of ms on a plain disk). A write
    reaches the page cache either way, so a killed process loses nothing; only an OS crash can
    drop the unsynced attributes of a trial that is still running, which its lease then fails
    and retries. Each creation or state change (ask, tell) is still fsynced, with all before it.
    """
    from optuna.storages.journal import JournalFileBackend

    try:
        from optuna.storages.journal._file import get_lock_file
    except ImportError:  # a future Optuna moved it: keep its own, fully synced behaviour
        return JournalFileBackend

    class TrialSyncedJournalFileBackend(JournalFileBackend):
        def append_logs(self, logs: list[dict[str, object]]) -> None:
            data = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
            with get_lock_file(self._lock):
                with open(self._file_path, "ab") as f:
                    f.write(data.encode("utf-8"))
                    f.flush()
                    if any(log.get("op_code") in _SYNC_OPS for log in logs):
                        os.fsync(f.fileno())

    return TrialSyncedJournalFileBackend


def _scan(data: bytes, path: Path, start: int = 0) -> int:
    """Check every complete line from ``start``; return the offset just past the last one."""
    offset = start
    line_no = data.count(b"\n", 0, start)
    while True:
        end = data.find(b"\n", offset)
        if end < 0:
            return offset
        line_no += 1
        try:
            json.loads(data[offset:end])
        except ValueError:
            raise SearchError(
                f"{path}: line {line_no} (byte offset {offset}) is not a valid journal entry, "
                "and later lines follow it, so it is not a torn tail that can be cut off. "
                "Restore the journal from a backup, or keep only the trials before it with "
                f"`truncate -s {offset} {path}`"
            ) from None
        offset = end + 1


def check_journal(path: Path, *, grace_period: int = JOURNAL_LOCK_GRACE_S) -> int | None:
    """Refuse a corrupt journal; cut a torn tail. Returns the offset cut at, if any."""
    if not path.exists():
        return None
    data = path.read_bytes()
    good = _scan(data, path)
    if good == len(data):
        return None
    from optuna.storages.journal import JournalFileSymlinkLock

    lock = JournalFileSymlinkLock(str(path), grace_period=grace_period)
    lock.acquire()
    try:  # re-check under the lock: only a write that died half-way leaves a fragment now
        data = path.read_bytes()
        good = _scan(data, path, start=min(good, len(data)))
        if good == len(data):
            return None
        with open(path, "r+b") as fh:
            fh.truncate(good)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        lock.release()
    log.warning(
        "%s: cut a torn journal tail of %d bytes at byte offset %d (a write that died "
        "half-way); all complete entries are kept",
        path,
        len(data) - good,
        good,
    )
    return good
