"""Journal repair, stale locks and the storage matrix (scenarios 6–8 of reliability.md)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import optuna
import pytest

from hadnas.exceptions import SearchError
from hadnas.search._storage import check_journal, open_storage, resolve

FRAGMENT = b'{"op_code":4,"worker_id":"dead","study_id":0,"datetime_st'


def _study_with_trials(path: Path, n: int = 3) -> None:
    study = optuna.create_study(study_name="s", storage=open_storage(str(path)))
    for i in range(n):
        study.enqueue_trial({"x": i})
        t = study.ask()
        study.tell(t, t.suggest_int("x", 0, 9) / 10)


def test_torn_tail_is_cut_under_the_lock(tmp_path: Path, caplog) -> None:
    path = tmp_path / "journal.log"
    _study_with_trials(path)
    good = path.stat().st_size
    with open(path, "ab") as fh:
        fh.write(FRAGMENT)
    with caplog.at_level(logging.WARNING, logger="hadnas.search._storage"):
        study = optuna.load_study(study_name="s", storage=open_storage(str(path)))
    assert f"byte offset {good}" in caplog.text
    assert path.stat().st_size == good
    assert [t.value for t in study.get_trials()] == [0.0, 0.1, 0.2]
    t = study.ask()  # the study goes on: no JSONDecodeError, no AttributeError later
    study.tell(t, 1.0)
    assert len(optuna.load_study(study_name="s", storage=open_storage(str(path))).trials) == 4
    assert not Path(str(path) + ".lock").exists()


def test_torn_line_in_the_middle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    _study_with_trials(path)
    data = path.read_bytes()
    lines = data.split(b"\n")
    offset = len(lines[0]) + 1 + len(lines[1]) + 1
    lines[2] = lines[2][: len(lines[2]) // 2]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(SearchError, match=rf"line 3 \(byte offset {offset}\)") as err:
        check_journal(path)
    assert str(path) in str(err.value) and "truncate -s" in str(err.value)
    assert path.read_bytes() == b"\n".join(lines)  # untouched


def test_stale_lock_of_a_dead_writer_does_not_deadlock(tmp_path: Path, caplog) -> None:
    path = tmp_path / "journal.log"
    _study_with_trials(path, 1)
    os.symlink(str(path), str(path) + ".lock")  # left by a writer that died holding it
    optuna.logging.enable_propagation()
    try:
        storage = open_storage(str(path), grace_period=3)
        study = optuna.load_study(study_name="s", storage=storage)
        t0 = time.monotonic()
        with caplog.at_level(logging.WARNING):
            study.tell(study.ask(), 0.5)
        assert time.monotonic() - t0 < 3 + 2
        assert "Forcibly releasing" in caplog.text
    finally:
        optuna.logging.disable_propagation()


def test_resolve_and_bad_url(tmp_path: Path) -> None:
    assert resolve(None, tmp_path) == str((tmp_path / "journal.log").resolve())
    assert resolve("sqlite:///x.db", tmp_path) == "sqlite:///x.db"
    with pytest.raises(SearchError, match="cannot open storage"):
        open_storage("nosuchdb://host/x")


def test_sqlite_with_workers_warns(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="hadnas.search._storage"):
        open_storage(f"sqlite:///{tmp_path / 'x.db'}", workers=2)
    assert "SQLite serialises all writers" in caplog.text
