"""Many ``hadnas search`` workers on one PostgreSQL study (reliability scenarios 1 and 3).

Each worker is a separate ``hadnas search`` command with its own ``--runs-dir``, as on separate
machines: the only thing they share is the database. The server is a throw-away PostgreSQL on
127.0.0.1 started by the ``postgres_server`` fixture and stopped by pid.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.distributed_tests.conftest import run_hadnas, start_hadnas

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(900)]


def _trials(url: str, name: str) -> list[Any]:
    import optuna

    return optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)


@pytest.mark.slow
def test_three_workers_share_one_study_exactly(pg_url, write_space, tmp_path):
    """3 workers x 2 trials: exactly 6 unique, complete trials, proposed with distinct seeds."""
    space = write_space(name="shared", search="{sampler: random, trials: 6, seed: 0}")
    procs = [
        start_hadnas(
            "search",
            str(space),
            "--storage",
            pg_url,
            "--runs-dir",
            str(tmp_path / f"m{i}"),
            log=tmp_path / f"log{i}",
        )  # fmt: skip
        for i in range(3)
    ]
    codes = [p.wait(timeout=600) for p in procs]
    assert codes == [0, 0, 0], [(tmp_path / f"log{i}").read_text()[-2000:] for i in range(3)]
    trials = _trials(pg_url, "shared")
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state.name == "COMPLETE" for t in trials)
    ran = [len(list((tmp_path / f"m{i}" / "shared" / "trials").glob("*/metrics.json")))
           for i in range(3)]  # fmt: skip
    assert sum(ran) == 6  # each trial ran on exactly one "machine"
    # separate launchers seed their samplers apart: no architecture proposed twice by all
    params = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(params)) > 2
    # any machine reports the whole study from the database
    assert run_hadnas("report", str(tmp_path / "m0" / "shared")).returncode == 0


def test_a_killed_worker_trial_is_failed_and_retried_by_another(pg_url, write_space, tmp_path):
    """SIGKILL worker A mid-trial; worker B notices by the database heartbeat and retries it."""
    hold = tmp_path / "hold"
    hold.write_text("")
    space = write_space(
        name="killed", task=f", hold: {hold}", search="{sampler: random, trials: 3, seed: 0}"
    )
    lease = ("--lease", "4")
    a = start_hadnas(
        "search", str(space), "--storage", pg_url, "--runs-dir", str(tmp_path / "a"), *lease,
        log=tmp_path / "log-a",
    )  # fmt: skip
    held = Path(f"{hold}.held")
    deadline = time.monotonic() + 240
    while not held.exists():
        assert a.poll() is None, (tmp_path / "log-a").read_text()[-3000:]
        assert time.monotonic() < deadline, "worker A never started its first trial"
        time.sleep(0.2)
    assert int(held.read_text()) == a.pid  # the trial process's parent is worker A
    os.killpg(a.pid, signal.SIGKILL)
    a.wait()
    hold.unlink()
    killed_at = time.monotonic()
    b = run_hadnas("search", str(space), "--storage", pg_url, "--runs-dir", str(tmp_path / "b"),
                   *lease)  # fmt: skip
    assert b.returncode == 0, b.stdout + b.stderr
    trials = _trials(pg_url, "killed")
    dead = trials[0]
    assert dead.state.name == "FAIL" and dead.user_attrs["fail_reason"] == "stale"
    retries = [t for t in trials if t.user_attrs.get("retry_of") == 0]
    assert len(retries) == 1 and retries[0].params == dead.params
    assert retries[0].state.name == "COMPLETE"
    assert sum(t.state.name == "COMPLETE" for t in trials) == 3
    assert len(trials) == 4
    assert time.monotonic() - killed_at < 300
