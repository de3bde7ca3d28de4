"""``hadnas latency check``: how far to trust measurements and predictions on this device.

Held-out architectures (distinct, from seeds calibration never uses) are measured in two
separate interleaved passes, each with the profiling reference module alongside, and predicted
once. Measurement self-agreement compares the passes; the predictors are compared with the
mean of the two passes, as measured and also rescaled to the table's reference speed — the
machine may be in a slower phase now than when it was profiled, and the caption says by how
much (``speed``: the reference's time now over its time in the table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hadnas.latency._keys import graph_keys
from hadnas.latency._measure import load_average
from hadnas.latency._profile import CHECK_SEED, distinct, measure_graphs
from hadnas.latency._stats import rmspe, share_agree, share_within, spearman

if TYPE_CHECKING:
    from hadnas.latency._table import LatencyTable
    from hadnas.space import Architecture, SearchSpace
    from hadnas.spec._schema import LatencySpec


@dataclass
class Row:
    """One line of the check table."""

    name: str
    within_10: float
    spearman: float
    rmspe: float
    n: int


@dataclass
class CheckReport:
    """The rows plus the raw numbers behind them (ms per architecture, in order)."""

    rows: list[Row]
    pass1: list[float]
    pass2: list[float]
    lut: list[float]
    flops_linear: list[float]
    coverage: float
    load: tuple[float, float]
    fingerprint: str
    speed: tuple[float, float] = (1.0, 1.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.name.startswith(name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.__dict__ for r in self.rows],
            "pass1": self.pass1,
            "pass2": self.pass2,
            "lut": self.lut,
            "flops_linear": self.flops_linear,
            "coverage": self.coverage,
            "load": list(self.load),
            "speed": list(self.speed),
            "fingerprint": self.fingerprint,
            **self.extra,
        }


def _row(name: str, pred: list[float], ref: list[float]) -> Row:
    return Row(name, share_within(pred, ref), spearman(pred, ref), rmspe(pred, ref), len(ref))


def compare(
    pass1: list[float],
    pass2: list[float],
    lut: list[float],
    flops: list[float],
    speed: tuple[float, float] | None = None,
) -> list[Row]:
    """The table's rows from raw numbers (pure; tested without timing). With ``speed`` (the
    machine's slowdown per pass against the table), two rows compare the predictors with the
    passes divided by it."""
    ref = [(a + b) / 2 for a, b in zip(pass1, pass2)]
    rows = [
        Row(
            "measurement (pass 2 vs 1)",
            share_agree(pass1, pass2),
            spearman(pass1, pass2),
            rmspe(pass2, pass1),
            len(ref),
        ),
        _row("predictor (LUT)", lut, ref),
        _row("FLOPs-linear baseline", flops, ref),
    ]
    if speed is not None:
        s1, s2 = speed
        at_table = [(a / s1 + b / s2) / 2 for a, b in zip(pass1, pass2)]
        rows += [
            _row("predictor (LUT), at table speed", lut, at_table),
            _row("FLOPs-linear, at table speed", flops, at_table),
        ]
    return rows


def held_out(space: SearchSpace, samples: int, seed0: int = CHECK_SEED) -> list[Architecture]:
    """Distinct architectures from seeds no calibration uses (fewer in very small spaces)."""
    if space.is_fixed:
        return [space.architecture()]
    return [a for _, a in distinct(space, samples, seed0)]


def check_archs(
    archs: list[Architecture], table: LatencyTable, spec: LatencySpec, *, device: str = "cpu"
) -> CheckReport:
    """Measure ``archs`` twice (with the reference), predict them once, and compare."""
    load0 = load_average()
    *q1, ref1 = measure_graphs(archs, spec, device=device, relative=True)
    *q2, ref2 = measure_graphs(archs, spec, device=device, relative=True)
    nominal = float(table.settings.get("reference_ms") or ref1)
    pass1, pass2 = [q * ref1 for q in q1], [q * ref2 for q in q2]
    speed = (ref1 / nominal, ref2 / nominal)
    batch = spec.batch_size
    lut = [table.lut.predict(a.graph, batch) for a in archs]
    flops = [table.flops_linear.predict(a.graph, batch) for a in archs]
    keys = [k for a in archs for k in graph_keys(a.graph, batch)]
    coverage = sum(table.lut.covers(k) for k in keys) / max(len(keys), 1)
    rows = compare(pass1, pass2, lut, flops, speed)
    return CheckReport(
        rows,
        pass1,
        pass2,
        lut,
        flops,
        coverage,
        (load0, load_average()),
        table.fingerprint.id,
        speed,
    )


def check_space(
    space: SearchSpace,
    table: LatencyTable,
    samples: int = 40,
    spec: LatencySpec | None = None,
    *,
    device: str = "cpu",
) -> CheckReport:
    spec = spec or space.spec.latency
    return check_archs(held_out(space, samples), table, spec, device=device)


def render(report: CheckReport, title: str = "latency check") -> Any:
    """A rich Table of the report (one row per method)."""
    from rich.table import Table

    caption = (
        f"n={report.rows[0].n}; table coverage {report.coverage:.0%}; machine speed vs table "
        f"×{report.speed[0]:.2f} / ×{report.speed[1]:.2f} (pass 1 / 2); load "
        f"{report.load[0]:.2f}→{report.load[1]:.2f}; {report.fingerprint}"
    )
    t = Table(title=title, caption=caption)
    t.add_column("method")
    t.add_column("within ±10 %", justify="right")
    t.add_column("Spearman", justify="right")
    t.add_column("RMSPE", justify="right")
    for r in report.rows:
        t.add_row(r.name, f"{r.within_10:.0%}", f"{r.spearman:.3f}", f"{r.rmspe:.1%}")
    return t
