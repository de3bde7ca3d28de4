"""Errors raised while training: a trial runner maps each to a ``fail_reason``."""

from __future__ import annotations

import math

from hadnas.exceptions import HadnasError


class NonFiniteLoss(HadnasError):
    """A training loss, gradient or validation loss was NaN or infinite.

    Raised within one step of the first non-finite value, *before* the optimizer applies it, so
    the model's weights are those of the last finite step. ``step`` counts optimizer steps from 1
    (the step whose loss or gradient was non-finite); ``epoch`` counts from 1.
    """

    fail_reason = "non_finite_loss"

    def __init__(self, step: int, epoch: int, value: float, what: str = "loss") -> None:
        self.step = step
        self.epoch = epoch
        self.value = value
        self.what = what
        super().__init__(
            f"non-finite {what} ({_fmt(value)}) at step {step} (epoch {epoch}); lower the "
            f"learning rate or choose a numerically safer architecture"
        )

    def __reduce__(self) -> tuple[type, tuple[int, int, float, str]]:
        # Exceptions are re-created from ``args`` when unpickled (e.g. sent by a child process).
        return (type(self), (self.step, self.epoch, self.value, self.what))


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return repr(value)
