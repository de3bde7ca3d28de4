"""Table caching by fingerprint, reuse, and profiling logic with the timer replaced."""

from __future__ import annotations

import json

import pytest

from hadnas.exceptions import HadnasError
from hadnas.latency import (
    LatencyTable,
    _profile,
    ensure_table,
    fingerprint,
    load_table,
    predict_arch,
    profile_space,
    table_path,
)


@pytest.fixture
def fake_timer(monkeypatch):
    """Deterministic "timings": an op costs 1e-6·(flops + 10), a model the sum plus 0.01,
    and the reference 0.5 ms. Records how many op configurations were timed."""
    calls = {"ops": 0, "graphs": 0}

    def profile_ops(sites, spec, *, passes=3, progress=None, device="cpu"):
        calls["ops"] += len(sites)
        return {k: ((s.config.flops + 10) * 1e-6 / 0.5, s) for k, s in sites.items()}, [0.5]

    def measure_graphs(archs, spec, *, device="cpu", seed=0, relative=False):
        calls["graphs"] += len(archs)
        ms = [
            sum((c.flops + 10) * 1e-6 for c in _profile.graph_configs(a.graph, 1)) + 0.01
            for a in archs
        ]
        return [m / 0.5 for m in ms] + [0.5] if relative else ms

    monkeypatch.setattr(_profile, "profile_ops", profile_ops)
    monkeypatch.setattr(_profile, "measure_graphs", measure_graphs)
    return calls


def test_profile_saves_by_fingerprint_and_predicts(tiny_space, fast_spec, table_dir, fake_timer):
    table = profile_space(tiny_space, fast_spec, samples=20, calibrate=6)
    path = table_path(fingerprint(1), table_dir)
    assert table.path == path and path.exists()
    raw = json.loads(path.read_text())
    assert raw["fingerprint"]["id"] == fingerprint(1).id
    assert raw["settings"]["reference_ms"] == 0.5
    assert ["tiny", 1] in raw["settings"]["spaces"]
    assert len(raw["graphs"]) == 6 and fake_timer["graphs"] == 6
    arch = tiny_space.sample(123)
    truth = sum((c.flops + 10) * 1e-6 for c in _profile.graph_configs(arch.graph, 1)) + 0.01
    assert predict_arch(arch) == pytest.approx(truth, rel=1e-6)  # table=None: the cached one
    assert predict_arch(arch.graph, table) == pytest.approx(truth, rel=1e-6)
    assert table.coverage(tiny_space.sample(0).graph) == 1.0
    assert table.coverage(tiny_space.sample(0).graph, batch_size=7) == 0.0


def test_saved_table_round_trips(tiny_space, fast_spec, table_dir, fake_timer):
    table = profile_space(tiny_space, fast_spec, samples=10, calibrate=4)
    loaded = LatencyTable.from_dict(json.loads(table.path.read_text()))
    assert loaded.fingerprint == table.fingerprint
    assert loaded.data.ops == table.data.ops
    assert loaded.lut.calib == pytest.approx(table.lut.calib)
    for seed in range(5):
        g = tiny_space.sample(seed).graph
        assert loaded.predict(g) == pytest.approx(table.predict(g))
        assert loaded.flops_linear.predict(g) == pytest.approx(table.flops_linear.predict(g))


def test_reprofiling_reuses_the_table(tiny_space, fast_spec, table_dir, fake_timer):
    profile_space(tiny_space, fast_spec, samples=10, calibrate=4)
    first = fake_timer["ops"]
    assert first > 0
    table = profile_space(tiny_space, fast_spec, samples=10, calibrate=4)
    assert fake_timer["ops"] == first  # every configuration was already in the table
    assert fake_timer["graphs"] == 4 and len(table.data.graphs) == 4
    assert load_table(1) is load_table(1)  # memoised by path and mtime


def test_ensure_table_profiles_only_once(tiny_space, fast_spec, table_dir, fake_timer):
    ensure_table(tiny_space, fast_spec)
    timed = dict(fake_timer)
    ensure_table(tiny_space, fast_spec)
    assert fake_timer == timed


def test_max_configs_keeps_each_ops_extremes(tiny_space, fast_spec, table_dir, fake_timer):
    archs = _profile.architectures(tiny_space, 50)
    sites = _profile.enumerate_sites((a.graph for a in archs), 1)
    kept = _profile.select(sites, 8)
    ops = {s.config.op for s in sites.values()}
    assert {s.config.op for s in kept.values()} == ops
    for op in ops:
        flops = sorted(s.config.flops for s in sites.values() if s.config.op == op)
        got = [s.config.flops for s in kept.values() if s.config.op == op]
        assert min(got) == flops[0] and max(got) == flops[-1]
    assert _profile.select(sites, None) == sites


def test_missing_table_is_a_clear_error(tiny_space, table_dir):
    with pytest.raises(HadnasError, match="hadnas latency profile"):
        predict_arch(tiny_space.sample(0))


def test_wrong_format_is_rejected():
    with pytest.raises(HadnasError, match="format"):
        LatencyTable.from_dict({"format": 999})


def test_table_for_another_device_is_refused(tiny_space, fast_spec, table_dir, fake_timer):
    table = profile_space(tiny_space, fast_spec, samples=5, calibrate=0)
    with pytest.raises(ValueError, match="table is for"):
        profile_space(tiny_space, fast_spec.__class__(threads=2), samples=5, table=table)


def test_profile_ops_takes_the_median_ratio_over_passes(tiny_space, fast_spec, monkeypatch):
    sites = dict(list(_profile.enumerate_sites([tiny_space.sample(0).graph], 1).items())[:2])
    script = iter([([1.0, 2.0], 0.5), ([5.0, 2.2], 0.6), ([1.1, 1.9], 0.4)])  # pass 2 was odd
    monkeypatch.setattr(_profile, "_with_reference", lambda cands, *a: next(script))
    ratios, refs = _profile.profile_ops(sites, fast_spec, passes=3)
    assert [q for q, _ in ratios.values()] == [1.1, 2.0]
    assert refs == [0.5, 0.6, 0.4]
