"""The predictors on synthetic profile data: no timing at all."""

from __future__ import annotations

import pytest

import hadnas
from hadnas.latency import FlopsLinearModel, GraphSample, LUTModel, OpEntry, ProfileData
from hadnas.latency._keys import graph_configs
from hadnas.latency._models import fit_linear


def _data(cost, graphs):
    """Ops from ``cost(op, flops)``; whole-graph ms from ``graphs`` [(configs, ms)]."""
    ops, samples = {}, []
    for configs, ms in graphs:
        for c in configs:
            ops[c.key] = OpEntry(c.op, cost(c.op, c.flops), c.flops, c.bytes)
        samples.append(GraphSample([(c.key, c.flops, c.bytes) for c in configs], ms))
    return ProfileData(ops, samples)


def _archs(tiny_space, n=12):
    return [tiny_space.sample(s) for s in range(n)]


def test_lut_sums_the_table_and_recovers_a_known_overhead(tiny_space) -> None:
    def cost(op, flops):
        return {"linear": 0.01, "add": 0.002}.get(op, 0.005) + flops * 1e-7

    archs = _archs(tiny_space)
    configs = [graph_configs(a.graph) for a in archs]
    raw = [sum(cost(c.op, c.flops) for c in cs) for cs in configs]
    # the "measured" whole model: 0.9·Σ + 0.02 + 0.001·nodes
    data = _data(cost, [(cs, 0.9 * r + 0.02 + 0.001 * len(cs)) for cs, r in zip(configs, raw)])
    model = LUTModel().fit(data)
    assert model.calib == pytest.approx((0.9, 0.02, 0.001), rel=1e-6, abs=1e-9)
    for a, r, cs in zip(archs, raw, configs):
        assert model.predict(a.graph) == pytest.approx(0.9 * r + 0.02 + 0.001 * len(cs))


def test_lut_without_calibration_is_the_plain_sum(tiny_space) -> None:
    archs = _archs(tiny_space, 3)
    data = _data(lambda op, f: 1.0, [(graph_configs(a.graph), 1.0) for a in archs])
    data.graphs = []
    model = LUTModel().fit(data)
    assert model.calib == (1.0, 0.0, 0.0)
    assert model.predict(archs[0].graph) == pytest.approx(len(archs[0].graph.live_nodes()))


def test_lut_interpolates_missing_configurations_per_op() -> None:
    # linear cost = 0.01 + 1e-6·flops; profile widths 8, 32, 128 only, then ask for 64
    def fixed(width: int):
        text = f"""\
hadnas: 1
name: w{width}
task: {{dataset: digits}}
inputs: {{x: {{shape: [64]}}}}
nodes: {{a: {{op: linear, out: {width}}}}}
output: a
"""
        return hadnas.load_space("w.yaml", text=text).architecture().graph

    data = ProfileData()
    for w in (8, 32, 128):
        (c,) = graph_configs(fixed(w))
        data.ops[c.key] = OpEntry("linear", 0.01 + 1e-6 * c.flops, c.flops, c.bytes)
    model = LUTModel().fit(data)
    (c64,) = graph_configs(fixed(64))
    assert not model.covers(c64.key)
    assert model.predict(fixed(64)) == pytest.approx(0.01 + 1e-6 * c64.flops, rel=1e-3)
    assert model.predict(fixed(32)) == pytest.approx(data.ops[graph_configs(fixed(32))[0].key].ms)


def test_unknown_ops_use_the_all_ops_fallback() -> None:
    model = LUTModel().fit(ProfileData({"a|{}|1x1:float32": OpEntry("a", 2.0, 10, 10)}))
    assert model.node_cost("zz|{}|1x1:float32", "zz", 10, 10) == pytest.approx(2.0)


def test_flops_linear_baseline(tiny_space) -> None:
    archs = _archs(tiny_space)
    configs = [graph_configs(a.graph) for a in archs]
    data = _data(lambda op, f: 0.003 + 2e-7 * f, [(cs, 1.0) for cs in configs])
    data.graphs = []
    model = FlopsLinearModel().fit(data)
    assert (model.alpha, model.beta) == pytest.approx((0.003, 2e-7), rel=1e-6)
    flops = sum(c.flops for c in configs[0])
    n = len(configs[0])
    assert model.predict(archs[0].graph) == pytest.approx(0.003 * n + 2e-7 * flops)


def test_fit_linear_drops_negative_coefficients() -> None:
    import numpy as np

    x = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    y = np.array([3.0, 2.0, 1.0])  # a negative slope is not a cost
    coef = fit_linear(x, y)
    assert coef[1] == 0.0 and coef[0] > 0


def test_predictions_are_floored_positive(tiny_space) -> None:
    model = LUTModel()
    model.calib = (1.0, -100.0, 0.0)
    assert model.predict(tiny_space.sample(0).graph) > 0
