"""Progress of a search: a rich bar on a terminal, one plain line per trial otherwise.

Counts come from the study itself, so with several workers the bar shows everyone's trials.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hadnas.search._outcome import RETRIED_REASONS, is_feasible

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from hadnas.spec import ObjectiveSpec


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def trial_status(t: FrozenTrial) -> str:
    """complete, infeasible, pruned, running, waiting, or the fail_reason."""
    state = t.state.name.lower()
    reason = t.user_attrs.get("fail_reason")
    if state == "complete":
        return "infeasible" if reason == "infeasible" or not is_feasible(t.constraints) else state
    if state == "fail":
        return str(reason or "exception")
    return state


def best_text(trials: Sequence[FrozenTrial], objectives: Sequence[ObjectiveSpec]) -> str:
    ok = [t for t in trials if trial_status(t) == "complete" and t.values]
    if not ok:
        return "-"
    if len(objectives) == 1:
        sign = 1 if objectives[0].direction == "maximize" else -1
        best = max(ok, key=lambda t: sign * t.values[0])
        return f"{objectives[0].metric}={_fmt(best.values[0])} (#{best.number})"
    parts = []
    for i, obj in enumerate(objectives):
        pick = max if obj.direction == "maximize" else min
        parts.append(f"{obj.metric} {pick(t.values[i] for t in ok):.4g}")
    return "best " + ", ".join(parts)


def counts(trials: Sequence[FrozenTrial]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in trials:
        key = trial_status(t)
        out[key] = out.get(key, 0) + 1
    return out


class Progress:
    """``update(trials)`` after each trial; ``close()`` at the end."""

    def __init__(
        self,
        total: int,
        objectives: Sequence[ObjectiveSpec],
        *,
        enabled: bool = True,
        stream: Any = None,
    ) -> None:
        self.total, self.objectives, self.enabled = total, objectives, enabled
        self.stream = stream or sys.stderr
        self.seen: set[int] = set()
        self._bar: Any = None
        if enabled and self.stream.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]search"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[info]}"),
                transient=False,
            )
            self._task = self._bar.add_task("search", total=total, info="")
            self._bar.start()

    def update(self, trials: Sequence[FrozenTrial]) -> None:
        if not self.enabled:
            return
        c = counts(trials)
        done = sum(v for k, v in c.items() if k not in ("running", "waiting"))
        done -= sum(
            1
            for t in trials
            if t.user_attrs.get("fail_reason") in RETRIED_REASONS and t.state.name == "FAIL"
        )
        failed = sum(
            v
            for k, v in c.items()
            if k not in ("complete", "infeasible", "pruned", "running", "waiting")
        )
        info = (
            f"{best_text(trials, self.objectives)} | infeasible {c.get('infeasible', 0)} "
            f"| failed {failed} | pruned {c.get('pruned', 0)}"
        )
        if self._bar is not None:
            self._bar.update(self._task, completed=min(done, self.total), info=info)
            return
        for t in trials:
            if t.number in self.seen or t.state.name in ("RUNNING", "WAITING"):
                continue
            self.seen.add(t.number)
            status = trial_status(t)
            vals = ", ".join(
                f"{o.metric}={_fmt(v)}" for o, v in zip(self.objectives, t.values or [])
            )
            shown = vals if status == "complete" else status
            print(
                f"trial {t.number}: {shown} ({done}/{self.total}; {info})",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
