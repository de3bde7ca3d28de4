from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from hadnas.latency import LatencyResult, make_inputs, measure_arch, measure_many
from hadnas.latency._measure import plan_repeats
from hadnas.spec._schema import LatencySpec


class Recorder:
    """A candidate that logs each call (no timing involved)."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def __call__(self, *xs: torch.Tensor) -> torch.Tensor:
        self.log.append(self.name)
        return xs[0]


def test_measure_many_warms_up_then_interleaves_round_robin() -> None:
    log: list[str] = []
    spec = LatencySpec(warmup=2, repeats=2, rounds=3)
    x = [torch.zeros(4, 3)]
    results = measure_many([(Recorder("a", log), x), (Recorder("b", log), x)], spec, budget_s=None)
    warm, timed = log[:4], log[4:]
    assert warm == ["a", "a", "b", "b"]
    # each round runs `repeats` calls of every candidate, the first candidate rotating
    assert timed == ["a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b"]
    assert [r.rounds for r in results] == [3, 3]
    assert all(len(r.round_ms) == 3 for r in results)
    assert results[0].batch_size == 4


def test_measure_many_restores_threads_and_gc() -> None:
    import gc

    before = torch.get_num_threads()
    spec = LatencySpec(threads=1, warmup=0, repeats=1, rounds=1)
    measure_many([(Recorder("a", []), [torch.zeros(1)])], spec)
    assert torch.get_num_threads() == before
    assert gc.isenabled()


def test_measure_many_rejects_bad_specs() -> None:
    with pytest.raises(ValueError, match="rounds"):
        measure_many([], LatencySpec(rounds=0))


def test_plan_repeats_caps_slow_candidates() -> None:
    assert plan_repeats(1e-5, rounds=5, repeats=30, budget_s=2.0) == 30
    assert plan_repeats(0.1, rounds=5, repeats=30, budget_s=2.0) == 4
    assert plan_repeats(10.0, rounds=5, repeats=30, budget_s=2.0) == 3  # never below 3
    assert plan_repeats(10.0, rounds=5, repeats=2, budget_s=2.0) == 2
    assert plan_repeats(10.0, rounds=5, repeats=30, budget_s=None) == 30


def test_measure_arch_result_fields(tiny_space, fast_spec) -> None:
    res = measure_arch(tiny_space.sample(0), spec=fast_spec)
    assert isinstance(res, LatencyResult)
    assert res.clock == "thread_cpu" and res.threads == 1 and res.device == "cpu"
    assert res.batch_size == 1 and res.rounds == 2 and res.repeats == 2
    for value in (res.ms, res.cpu_ms, res.wall_ms):
        assert math.isfinite(value) and value > 0
    assert res.ms == res.cpu_ms  # one thread: the CPU clock is the reported statistic
    assert res.fingerprint.threads == 1
    data = res.to_dict()
    assert data["fingerprint"]["id"] == res.fingerprint.id
    with pytest.raises(AttributeError):
        res.ms = 1.0  # type: ignore[misc]


def test_measure_arch_reports_wall_clock_with_more_threads(tiny_space, fast_spec) -> None:
    res = measure_arch(tiny_space.sample(0), spec=replace(fast_spec, threads=2, batch_size=3))
    assert res.clock == "wall" and res.threads == 2 and res.batch_size == 3
    assert res.ms == res.wall_ms


def test_measure_arch_defaults_to_the_space_latency_block(tiny_space) -> None:
    arch = tiny_space.sample(1)
    res = measure_arch(arch, budget_s=0.05)
    assert res.rounds == arch.spec.latency.rounds
    assert res.batch_size == arch.spec.latency.batch_size


def test_make_inputs_respects_vocab_and_order() -> None:
    import hadnas

    text = """\
hadnas: 1
name: toks
task: {dataset: digits}
inputs:
  a: {shape: [5]}
  ids: {shape: [7], dtype: int64}
nodes:
  emb: {op: embedding, in: ids, vocab: 3, out: 4}
  pool: {op: mean_pool, in: emb}
  join: {op: concat, in: [a, pool]}
output: join
"""
    graph = hadnas.load_space("t.yaml", text=text).architecture().graph
    xs = make_inputs(graph, batch_size=50, seed=1)
    assert xs[0].shape == (50, 5) and xs[0].dtype == torch.float32
    assert xs[1].shape == (50, 7) and xs[1].dtype == torch.int64
    assert int(xs[1].min()) >= 0 and int(xs[1].max()) < 3
    assert torch.equal(make_inputs(graph, 50, seed=1)[1], xs[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_path(tiny_space, fast_spec) -> None:  # pragma: no cover - no GPU in CI
    res = measure_arch(tiny_space.sample(0), spec=fast_spec, device="cuda")
    assert res.clock == "cuda" and res.device == "cuda" and res.ms > 0
    assert res.fingerprint.device.startswith("cuda")


def test_cuda_requested_without_cuda_fails_clearly(fast_spec) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        measure_many([(Recorder("a", []), [torch.zeros(1)])], fast_spec, device="cuda")
