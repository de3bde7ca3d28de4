"""``latency_ms`` for a trial: a thin adapter over :mod:`hadnas.latency`.

``measure`` times the untrained model (same latency as trained) with the latency package's
protocol; ``predict`` asks its predictor; ``both`` measures and records the prediction too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hadnas.exceptions import SearchError

if TYPE_CHECKING:
    from torch import nn

    from hadnas.space import Architecture


def latency_metrics(arch: Architecture, model: nn.Module) -> dict[str, Any]:
    """``latency_ms`` plus its spread and clocks, per the architecture's ``latency:`` block."""
    spec = arch.spec.latency
    out: dict[str, Any] = {}
    if spec.mode in ("predict", "both"):
        out["latency_predicted_ms"] = _predict(arch)
    if spec.mode in ("measure", "both"):
        from hadnas.latency import measure_arch

        res = measure_arch(arch, model, spec)
        out.update(
            latency_ms=res.ms,
            latency_spread=res.spread,
            latency_cpu_ms=res.cpu_ms,
            latency_wall_ms=res.wall_ms,
            latency_clock=res.clock,
        )
    else:
        out["latency_ms"] = out["latency_predicted_ms"]
    if not math.isfinite(out["latency_ms"]):
        raise ValueError(f"latency_ms is {out['latency_ms']}")
    return out


def _predict(arch: Architecture) -> float:
    import hadnas.latency as lat

    predict = getattr(lat, "predict_arch", None)
    if predict is None:
        raise SearchError(
            "latency mode 'predict' needs hadnas.latency.predict_arch, which this "
            "installation lacks; use `latency: {mode: measure}`"
        )
    return float(predict(arch))
