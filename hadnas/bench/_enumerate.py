"""Every architecture of a finite space, by depth-first search over the define-by-run tree.

The space is walked with the same :func:`~hadnas.space.define_by_run` that search uses, so the
parameter dicts of the enumerated architectures are exactly those a sampler produces, and a
conditional parameter (``l1.poly_ccp.degree``) appears only where its branch is taken.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

from hadnas.exceptions import HadnasError
from hadnas.space import Architecture, SearchSpace


class _PathTrial:
    """Answers the k-th decision with ``path[k]`` (0 past its end) and records each fan-out."""

    def __init__(self, path: Sequence[int]) -> None:
        self.path = list(path)
        self.taken: list[int] = []
        self.sizes: list[int] = []

    def _pick(self, name: str, n: int) -> int:
        k = len(self.taken)
        index = self.path[k] if k < len(self.path) else 0
        self.taken.append(index)
        self.sizes.append(n)
        return index

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        choices = list(choices)
        return choices[self._pick(name, len(choices))]

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        values = range(low, high + 1, step)
        return values[self._pick(name, len(values))]

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        if step is None:
            raise HadnasError(
                f"parameter {name!r} is a continuous range [{low}, {high}]; a tabular "
                "benchmark needs finite domains: use {choice: [...]} or a float step"
            )
        n = int(math.floor((high - low) / step + 1e-9)) + 1
        return min(high, low + step * self._pick(name, n))


def choice_key(params: dict[str, Any]) -> str:
    """The canonical key of an architecture: its Optuna parameters as sorted JSON."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def enumerate_architectures(
    space: SearchSpace, *, limit: int | None = None
) -> Iterator[Architecture]:
    """Yield every architecture of ``space`` once, in a deterministic (odometer) order.

    Raises:
        HadnasError: a continuous parameter, or more than ``limit`` architectures.
    """
    path: list[int] = []
    seen: set[str] = set()
    count = 0
    while True:
        trial = _PathTrial(path)
        arch = space.suggest(trial)
        key = choice_key(dict(arch.params))
        if key not in seen:  # distinct paths always differ; this guards odd spaces
            seen.add(key)
            count += 1
            if limit is not None and count > limit:
                raise HadnasError(
                    f"space {space.name!r} has more than {limit} architectures; shrink it "
                    "(fewer choices) or raise the limit (--max-archs)"
                )
            yield arch
        taken, sizes = trial.taken, trial.sizes
        k = len(taken) - 1
        while k >= 0 and taken[k] + 1 >= sizes[k]:
            k -= 1
        if k < 0:
            return
        path = [*taken[:k], taken[k] + 1]


def count_architectures(space: SearchSpace, limit: int = 100_000) -> int:
    """How many architectures :func:`enumerate_architectures` yields (no training)."""
    return sum(1 for _ in enumerate_architectures(space, limit=limit))
