"""Trial-like objects: the define-by-run function only calls ``suggest_*`` on them.

:class:`RandomTrial` samples without Optuna (``space.sample(seed=)``); :class:`ExtremeTrial`
always picks the first/lowest or last/highest value (used to probe a space's bounds);
:class:`Recorder` wraps any trial and keeps what was suggested, in order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any


class RandomTrial:
    """Uniform (or log-uniform) sampling with a private ``random.Random(seed)``."""

    def __init__(self, seed: int | None = 0) -> None:
        self.rng = random.Random(seed)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self.rng.choice(list(choices))

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        if log:
            value = math.exp(self.rng.uniform(math.log(low), math.log(high + 1)))
            return int(min(high, max(low, math.floor(value))))
        return self.rng.randrange(low, high + 1, step)

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        if log:
            return math.exp(self.rng.uniform(math.log(low), math.log(high)))
        if step:
            # Optuna's grid: low + k·step up to high (high rounded down onto the grid)
            n = int(math.floor((high - low) / step + 1e-9))
            return min(high, low + step * self.rng.randint(0, n))
        return self.rng.uniform(low, high)


class ExtremeTrial:
    """Always the first option / low end (``high=False``) or the last option / high end."""

    def __init__(self, high: bool = False) -> None:
        self.high = high

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return list(choices)[-1 if self.high else 0]

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return low + ((high - low) // step) * step if self.high else low

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        return high if self.high else low


class Recorder:
    """Forwards ``suggest_*`` to a trial and records every parameter it returns."""

    def __init__(self, trial: Any) -> None:
        self.trial = trial
        self.params: dict[str, Any] = {}

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        value = self.trial.suggest_categorical(name, list(choices))
        self.params[name] = value
        return value

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        value = self.trial.suggest_int(name, low, high, step=step, log=log)
        self.params[name] = value
        return int(value)

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        if step is not None:
            value = self.trial.suggest_float(name, low, high, step=step)
        else:
            value = self.trial.suggest_float(name, low, high, log=log)
        self.params[name] = value
        return float(value)
