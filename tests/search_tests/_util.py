"""Helpers for tests that drive ``hadnas search`` as separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

ROOT = Path(__file__).resolve().parents[2]


def hadnas_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hadnas.cli", *args]


def popen(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        hadnas_cmd(*args),
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **kwargs,
    )


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        hadnas_cmd(*args), cwd=ROOT, env=env, text=True, capture_output=True, timeout=timeout
    )


def load_study(run_dir: Path) -> optuna.Study:
    from hadnas.search.report import open_run

    return open_run(run_dir)[3]


def wait_for(predicate: Callable[[], bool], timeout: float = 300, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the run folder or the study may not exist yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def running(run_dir: Path) -> list[optuna.trial.FrozenTrial]:
    study = load_study(run_dir)
    return study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
