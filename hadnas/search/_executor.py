"""The parent's side of the trial process: start it, hand it jobs, enforce the hard limits.

The wall-clock limit is enforced here, not in the child: a hung trial (a dead lock, a
``sleep(3600)`` in a dataset function) is SIGKILLed and reaped at its deadline, and the next
trial gets a fresh process. ``should_stop`` is polled a few times a second so a SIGTERM to the
worker preempts a running trial within a fraction of a second.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from hadnas.exceptions import SearchError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 300.0
POLL_S = 0.1


@dataclass
class JobResult:
    """``kind``: done, pruned, skipped, error, timeout, died or preempted."""

    kind: str
    metrics: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    message: str = ""
    history: list[dict[str, float]] = field(default_factory=list)


class TrialExecutor:
    """One long-lived trial process per worker, restarted only when it had to be killed."""

    def __init__(
        self, *, memory_limit_mb: int | None = None, plugins: list[str] | None = None
    ) -> None:
        self.memory_limit_mb = memory_limit_mb or 0
        self.plugins = list(plugins or [])
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.started = 0
        self.ready = False

    # -- lifecycle ---------------------------------------------------------------------------
    def spawn(self) -> None:
        """Start the trial process without waiting for it (it imports torch meanwhile)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.kill()
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        args = [
            sys.executable,
            "-m",
            "hadnas.search._child",
            str(theirs.fileno()),
            json.dumps(self.plugins),
            str(self.memory_limit_mb),
        ]
        self.proc = subprocess.Popen(
            args, pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.started += 1
        self.ready = False

    def start(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Start the trial process (unless running) and wait until it is ready for jobs."""
        self.spawn()
        if self.ready:
            return
        assert self.proc is not None and self.conn is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.conn.poll(POLL_S):
            if self.proc.poll() is not None or time.monotonic() > deadline or should_stop():
                code = self.proc.poll()
                self.kill()
                if should_stop():
                    return
                raise SearchError(
                    f"the trial process failed to start (exit code {code}); "
                    "run with -v to see its output"
                )
        try:
            self.conn.recv()
        except EOFError:
            self.kill()
            raise SearchError("the trial process exited while starting") from None
        self.ready = True

    def kill(self) -> None:
        """SIGKILL and reap the trial process (no zombie is left behind)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.conn is not None:
            self.conn.close()
        self.proc, self.conn, self.ready = None, None, False

    def close(self) -> None:
        """Stop the trial process. It holds nothing worth a graceful exit (weights are saved
        before a job reports), and a torch interpreter can take seconds to shut down."""
        self.kill()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    # -- one job -----------------------------------------------------------------------------
    def run(
        self,
        job: dict[str, Any],
        *,
        timeout_s: float,
        on_pre: Callable[[dict[str, Any]], bool] | None = None,
        on_epoch: Callable[[int, dict[str, float]], bool] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> JobResult:
        """Run ``job``; ``on_pre(metrics) -> go?``, ``on_epoch(n, metrics) -> prune?``."""
        self.start(should_stop)
        if self.conn is None:
            return JobResult("preempted")
        history: list[dict[str, float]] = []
        t0 = time.monotonic()
        deadline = t0 + timeout_s
        conn, proc = self.conn, self.proc
        assert proc is not None
        try:
            conn.send(("job", job))
        except OSError:
            return self._died(history)
        while True:
            if should_stop():
                self.kill()
                return JobResult("preempted", history=history)
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return JobResult(
                    "timeout",
                    {"job_seconds": time.monotonic() - t0},
                    history=history,
                    message=f"killed at its wall-clock limit of {timeout_s:g} s",
                )
            try:
                ready = conn.poll(min(POLL_S, left))
                msg = conn.recv() if ready else None
            except (EOFError, OSError):
                return self._died(history)
            if msg is None:
                if proc.poll() is not None:
                    return self._died(history)
                continue
            kind = msg[0]
            if kind == "pre":
                go = on_pre(msg[1]) if on_pre is not None else True
                conn.send(("go",) if go else ("skip",))
            elif kind == "epoch":
                history.append({"epoch": msg[1], **msg[2]})
                prune = on_epoch(msg[1], msg[2]) if on_epoch is not None else False
                if job.get("pruning"):
                    conn.send(("prune",) if prune else ("continue",))
            elif kind == "error":
                return JobResult("error", msg[3], msg[1], msg[2], history)
            else:
                return JobResult(kind, msg[1], history=history)

    def _died(self, history: list[dict[str, float]]) -> JobResult:
        proc = self.proc
        code = proc.wait() if proc is not None else None
        self.kill()
        if code == -signal.SIGKILL:
            return JobResult(
                "error",
                reason="oom",
                history=history,
                message="the trial process was SIGKILLed, most likely by the "
                "kernel's out-of-memory killer",
            )
        return JobResult(
            "error",
            reason="exception",
            history=history,
            message=f"the trial process died (exit code {code})",
        )
