"""The trial runner shared by every backend: build → check constraints → train → evaluate.

Constraints that need no training (params, FLOPs, bytes from the IR; latency of the untrained
model) are checked first, so a violating architecture costs no training time. Training runs in
the worker's trial process (:class:`~hadnas.search._executor.TrialExecutor`) under a hard
wall-clock limit and a memory cap. Everything a trial produced comes back as a
:class:`~hadnas.search._outcome.TrialOutcome` with a ``fail_reason`` from a closed set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hadnas.exceptions import HadnasError
from hadnas.search._executor import JobResult, TrialExecutor
from hadnas.search._outcome import (
    PRE_TRAINING,
    TrialOutcome,
    constraint_values,
    failed,
    finish,
    infeasible,
    is_feasible,
)
from hadnas.space import Architecture, SearchSpace

#: ``report(epoch, metrics) -> prune?``: per-epoch callback of the backend
Reporter = Callable[[int, dict[str, float]], bool]


def trial_seed(base: int, root_number: int) -> int:
    """The seed of a trial (init, shuffling): a retry reuses its original's seed."""
    return (int(base) * 1_000_003 + int(root_number) * 7919 + 17) % (2**31 - 1)


class TrialRunner:
    """Runs architectures of one space; owns the worker's trial process.

    Args:
        space: The space searched (its objectives, constraints, latency and search blocks).
        executor: The trial process; ``None`` starts one with the space's memory limit.
        timeout_s: Hard per-trial wall-clock limit (default ``search.trial_timeout_s``).
        plugins: Modules the trial process imports first (user primitives and datasets).
        save_weights: Write ``model.safetensors`` into each complete trial's folder.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        executor: TrialExecutor | None = None,
        timeout_s: float | None = None,
        plugins: list[str] | None = None,
        save_weights: bool = True,
    ) -> None:
        spec = space.spec
        self.space = space
        self.objectives = spec.objectives
        self.constraints = spec.constraints
        self.timeout_s = float(timeout_s or spec.search.trial_timeout_s)
        self.executor = executor or TrialExecutor(
            memory_limit_mb=spec.search.memory_limit_mb, plugins=plugins
        )
        self.save_weights = save_weights
        metrics = {o.metric for o in spec.objectives} | {c.metric for c in spec.constraints}
        self.need_latency = "latency_ms" in metrics
        self.latency_constrained = any(c.metric == "latency_ms" for c in spec.constraints)
        source = Path(spec.file)
        self.source = str(source)
        self.base_dir = str(source.parent) if source.is_file() else None
        self.space_text = _file_text(space)

    def prepare(self) -> None:
        """Start the trial process early, so its imports overlap the caller's setup."""
        spawn = getattr(self.executor, "spawn", None)
        if spawn is not None:
            spawn()

    def close(self) -> None:
        self.executor.close()

    def run(
        self,
        arch: Architecture,
        *,
        seed: int,
        trial_dir: Path | None = None,
        arch_yaml: str | None = None,
        report: Reporter | None = None,
        pruning: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> TrialOutcome:
        t0 = time.perf_counter()
        outcome = self._run(arch, arch_yaml, seed, trial_dir, report, pruning, should_stop)
        outcome.metrics["ops"] = arch.ops()
        timing = outcome.timing
        timing["total_seconds"] = time.perf_counter() - t0
        m = outcome.metrics
        for key in (
            "train_seconds",
            "latency_seconds",
            "build_seconds",
            "data_seconds",
            "save_seconds",
        ):
            if isinstance(m.get(key), (int, float)):
                timing[key] = float(m[key])
        return outcome

    def _run(
        self,
        arch: Architecture,
        arch_yaml: str | None,
        seed: int,
        trial_dir: Path | None,
        report: Reporter | None,
        pruning: bool,
        should_stop: Callable[[], bool],
    ) -> TrialOutcome:
        try:
            metrics: dict[str, Any] = dict(arch.graph.totals())
        except HadnasError as exc:
            return failed("exception", f"the sampled architecture is invalid: {exc}")
        static = [c for c in self.constraints if c.metric in PRE_TRAINING and c.metric in metrics]
        if not is_feasible(constraint_values(static, metrics)):
            return infeasible(self.objectives, self.constraints, metrics)

        def on_pre(pre: dict[str, Any]) -> bool:
            metrics.update(pre)
            known = [c for c in self.constraints if c.metric in PRE_TRAINING]
            return is_feasible(constraint_values(known, metrics))

        by_params = self.space_text is not None and arch.spec is self.space.spec
        job = {
            "source": self.source,
            "base_dir": self.base_dir,
            # the child re-resolves the parameters in the space (0.3 ms instead of a YAML
            # round trip); an architecture of another space travels as YAML
            "space_text": self.space_text if by_params else None,
            "params": dict(arch.params),
            "arch_yaml": None if by_params else (arch_yaml or arch.to_yaml()),
            "seed": seed,
            "data_seed": self.space.spec.search.seed,
            "threads": self.space.spec.search.threads,
            "latency": self.need_latency,
            "wait_pre": self.latency_constrained,
            "pruning": pruning,
            "weights": str(trial_dir / "model.safetensors")
            if trial_dir and self.save_weights
            else None,
        }
        res = self.executor.run(
            job, timeout_s=self.timeout_s, on_pre=on_pre, on_epoch=report, should_stop=should_stop
        )
        metrics.update({k: v for k, v in res.metrics.items() if k != "fatal"})
        return self._outcome(res, metrics)

    def _outcome(self, res: JobResult, metrics: dict[str, Any]) -> TrialOutcome:
        history = res.history
        if res.kind == "done":
            return finish(self.objectives, self.constraints, metrics, history=history)
        if res.kind == "skipped":
            out = infeasible(self.objectives, self.constraints, metrics)
        elif res.kind == "pruned":
            out = TrialOutcome(
                "pruned", metrics=metrics, constraints=constraint_values(self.constraints, metrics)
            )
        elif res.kind in ("timeout", "preempted"):
            out = failed(res.kind, res.message or "the worker was asked to stop", metrics)
        else:
            out = failed(res.reason or "exception", res.message, metrics)
            out.fatal = bool(res.metrics.get("fatal"))
        out.history = history
        out.constraints = out.constraints or constraint_values(self.constraints, metrics)
        return out


def _file_text(space: SearchSpace) -> str | None:
    """The space's file text if it still describes the space (else trials travel as YAML)."""
    from hadnas.spec import load_spec

    path = Path(space.spec.file)
    if not path.is_file():
        return None
    text = path.read_text("utf-8")
    try:
        return text if load_spec(path, text=text) == space.spec else None
    except HadnasError:
        return None
