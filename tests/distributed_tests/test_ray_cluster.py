"""``hadnas search --backend ray`` against a real Ray head (reliability scenarios 9, 10, 12, 25).

The head is started by the ``ray_head`` fixture (``ray start --head --block`` on its own port
and temp dir, stopped by pid). hadnas runs as a separate process, as a user would run it, so
the tests can kill its driver or one of its trial actors mid-trial.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.distributed_tests._services import group_alive
from tests.distributed_tests.conftest import run_hadnas, start_hadnas

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(900)]


def _wait_for(predicate: Any, timeout_s: float, what: str, proc: Any = None) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"hadnas exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)


def _summary(run: Path) -> dict[str, Any]:
    return json.loads((run / "summary.json").read_text())


def _study_trials(run: Path) -> list[Any]:
    import optuna

    from hadnas.search._storage import open_storage

    info = json.loads((run / "run.json").read_text())
    study = optuna.load_study(study_name=info["study_name"], storage=open_storage(info["storage"]))
    return study.get_trials(deepcopy=False)


def _ray_results(run: Path, number: int, missing_ok: bool = False) -> list[dict[str, Any]]:
    path = run / "ray" / "tune" / f"trial_{number}" / "result.json"
    if missing_ok and not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip().endswith("}")]


def test_search_by_address_then_report_and_export(ray_head, write_space, tmp_path):
    runs = tmp_path / "runs"
    space = write_space(name="byaddress")
    r = run_hadnas(
        "search", str(space), "--backend", "ray", "--address", ray_head.address, "--workers", "2",
        "--runs-dir", str(runs), env=ray_head.env,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    run = runs / "byaddress"
    summary = _summary(run)
    assert summary["counts"] == {"complete": 4}
    assert sorted(t["number"] for t in summary["trials"]) == [0, 1, 2, 3]
    for t in summary["trials"]:
        folder = run / "trials" / str(t["number"])
        assert {"arch.yaml", "metrics.json", "model.safetensors"} <= {
            p.name for p in folder.iterdir()
        }
        assert any(p.name.startswith("events.out.tfevents") for p in folder.iterdir())
        assert len(json.loads((folder / "metrics.json").read_text())["history"]) == 2
    assert (run / "pareto.png").is_file()
    assert run_hadnas("report", str(run)).returncode == 0
    out = tmp_path / "export"
    r = run_hadnas("export", str(run), "--best", "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(out.rglob("*.py"))


def test_invalid_objectives_are_recorded_like_the_optuna_backend(ray_head, write_space, tmp_path):
    """Scenario 12: NaN, +inf, -inf and a string fail the trial on both backends alike."""
    runs = tmp_path / "runs"
    space = write_space(
        name="invalid",
        lr="{choice: [0.001, 0.002, 0.003, 0.004, 0.005]}",
        task=", objective: by_lr",  # see _plugins.BY_LR: nan, inf, -inf, "not a number", 0.5
        nodes="  stem: {op: linear, in: x, out: 8}\n  head: {op: linear, in: stem, out: 2}\n",
        search="{sampler: grid, trials: 5, seed: 0}",
    )
    common = ("--runs-dir", str(runs))
    r = run_hadnas("search", str(space), "--name", "opt", *common)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_hadnas(
        "search", str(space), "--name", "ray", "--backend", "ray", "--address", ray_head.address,
        "--workers", "2", *common, env=ray_head.env,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr

    def by_lr(name: str) -> dict[float, tuple[str, Any]]:
        rows = _summary(runs / name)["trials"]
        return {r["params"]["task.lr"]: (r["status"], r["values"]) for r in rows}

    assert (
        by_lr("ray")
        == by_lr("opt")
        == {
            0.001: ("non_finite_objective", None),
            0.002: ("non_finite_objective", None),
            0.003: ("non_finite_objective", None),
            0.004: ("non_finite_objective", None),
            0.005: ("complete", [0.5]),
        }
    )
    for name in ("opt", "ray"):
        assert [b["values"] for b in _summary(runs / name)["best"]] == [[0.5]]


def _held_search(ray_head: Any, space: Path, runs: Path, log: Path, *extra: str) -> Any:
    return start_hadnas(
        "search", str(space), "--backend", "ray", "--address", ray_head.address,
        "--runs-dir", str(runs), *extra, log=log, env=ray_head.env,
    )  # fmt: skip


def test_a_killed_trial_actor_recovers_from_its_checkpoint(ray_head, write_space, tmp_path):
    """Scenario 9: SIGKILL the Ray actor running a trial after its first epoch checkpoint."""
    runs, hold = tmp_path / "runs", tmp_path / "hold"
    hold.write_text("")
    space = write_space(
        name="crash", epochs=3, task=f", hold: {hold}", search="{sampler: random, trials: 1}"
    )
    proc = _held_search(ray_head, space, runs, tmp_path / "log", "--max-failures", "1")
    held, run = Path(f"{hold}.held"), runs / "crash"
    _wait_for(held.exists, 240, "the trial to hold after epoch 1", proc)
    # Ray has epoch 1 and its checkpoint once the driver logged the result
    _wait_for(lambda: _ray_results(run, 0, missing_ok=True), 60, "epoch 1 at the driver", proc)
    os.kill(int(held.read_text()), signal.SIGKILL)  # the actor: parent of the trial process
    hold.unlink()
    assert proc.wait(timeout=300) == 0, (tmp_path / "log").read_text()[-3000:]
    (trial,) = _study_trials(run)  # told once: one trial, complete
    assert trial.state.name == "COMPLETE"
    record = json.loads((run / "trials" / "0" / "metrics.json").read_text())
    assert [h["epoch"] for h in record["history"]] == [1, 2, 3]
    results = _ray_results(run, 0)
    # resumed from the epoch-1 checkpoint: no result twice, the iterations of a run without crash
    assert [r["training_iteration"] for r in results] == [1, 2, 3, 4]
    assert [r["hadnas_epoch"] for r in results] == [1, 2, 3, 3]
    assert "Failure # 1" in (run / "ray" / "tune" / "trial_0" / "error.txt").read_text()
    # the replayed trial gives what an uninterrupted run gives (same seed, deterministic)
    r = run_hadnas("search", str(space), "--runs-dir", str(runs), "--name", "plain")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _summary(runs / "plain")["trials"][0]["values"] == [trial.values[0]]


def test_without_retries_a_killed_actor_fails_its_trial(ray_head, write_space, tmp_path):
    runs, hold = tmp_path / "runs", tmp_path / "hold"
    hold.write_text("")
    space = write_space(name="nore", task=f", hold: {hold}", search="{sampler: random, trials: 1}")
    proc = _held_search(ray_head, space, runs, tmp_path / "log", "--max-failures", "0")
    held = Path(f"{hold}.held")
    _wait_for(held.exists, 240, "the trial to hold after epoch 1", proc)
    os.kill(int(held.read_text()), signal.SIGKILL)
    hold.unlink()
    assert proc.wait(timeout=300) == 2  # no trial completed
    (trial,) = _study_trials(runs / "nore")
    assert trial.state.name == "FAIL" and trial.user_attrs["fail_reason"] == "exception"


def test_a_killed_driver_resumes_to_exactly_the_requested_trials(ray_head, write_space, tmp_path):
    """Scenario 10 and 25a: kill -9 the driver mid-search, resume, resume again."""
    from hadnas.search._worker import tally

    runs = tmp_path / "runs"
    space = write_space(name="resume", search="{sampler: random, trials: 6, seed: 0}")
    args = ("search", str(space), "--backend", "ray", "--address", ray_head.address,
            "--workers", "2", "--runs-dir", str(runs))  # fmt: skip
    proc = start_hadnas(*args, log=tmp_path / "log", env=ray_head.env)
    run = runs / "resume"
    _wait_for(lambda: len(list(run.glob("trials/*/metrics.json"))) >= 2, 300, "2 trials", proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    r = run_hadnas(*args, "--resume", env=ray_head.env)
    assert r.returncode == 0, r.stdout + r.stderr
    trials = _study_trials(run)
    t = tally(trials)
    assert t["taken"] == 6 and t["running"] == 0 and not t["failures"]
    complete = [x for x in trials if x.state.name == "COMPLETE"]
    assert len(complete) == 6 and len({x.number for x in complete}) == 6
    stale = [x for x in trials if x.state.name == "FAIL"]
    for x in stale:  # asked by the dead driver but not saved by Ray: retried exactly once
        assert x.user_attrs["fail_reason"] == "stale"
        retries = [y for y in trials if y.user_attrs.get("retry_of") == x.number]
        assert len(retries) == 1
        # the driver may die while the trial's parameters are still being suggested: the retry
        # replays every parameter the stale trial had and samples the rest
        assert {k: retries[0].params.get(k) for k in x.params} == x.params
    assert len(trials) == 6 + len(stale)
    r = run_hadnas(*args, "--resume", env=ray_head.env)  # a finished run: adds nothing
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(_study_trials(run)) == len(trials)


def _listeners() -> list[tuple[str, set[int]]]:
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            rows.append((parts[3], {int(p) for p in re.findall(r"pid=(\d+)", line)}))
    return rows


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


def test_a_private_instance_listens_on_loopback_only(write_space, tmp_path):
    """Scenario 25b: without --address, Ray binds 127.0.0.1 only and is gone afterwards."""
    if shutil.which("ss") is None:
        pytest.skip("needs `ss` (iproute2) to list listening sockets")
    runs, hold = tmp_path / "runs", tmp_path / "hold"
    hold.write_text("")
    space = write_space(
        name="private", task=f", hold: {hold}", search="{sampler: random, trials: 1}"
    )
    proc = start_hadnas("search", str(space), "--backend", "ray", "--runs-dir", str(runs),
                        log=tmp_path / "log")  # fmt: skip
    _wait_for(Path(f"{hold}.held").exists, 300, "the trial to start", proc)
    ours = _descendants(proc.pid) | {proc.pid}
    mine = [(addr, pids) for addr, pids in _listeners() if pids & ours]
    hold.unlink()
    assert proc.wait(timeout=300) == 0, (tmp_path / "log").read_text()[-3000:]
    assert mine, "expected the private Ray instance to listen somewhere"
    exposed = [a for a, _ in mine if not a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:"))]
    assert not exposed, exposed
    _wait_for(lambda: not group_alive(proc.pid), 30, "the private instance to stop")
    assert not [p for p in ours if Path(f"/proc/{p}").exists() and p != proc.pid]
