from __future__ import annotations

import math

import pytest

from hadnas.latency._stats import (
    rank,
    relative_iqr,
    rmspe,
    round_robin,
    share_agree,
    share_within,
    spearman,
    summarize,
)


def test_round_robin_visits_everyone_once_per_round_rotating_the_start() -> None:
    order = round_robin(3, 3)
    assert order == [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (1, 0), (2, 2), (2, 0), (2, 1)]
    for r in range(3):
        assert sorted(i for rr, i in order if rr == r) == [0, 1, 2]
    assert [i for rr, i in order if rr == 0][0] != [i for rr, i in order if rr == 1][0]


def test_round_robin_edge_cases() -> None:
    assert round_robin(0, 5) == []
    assert round_robin(1, 3) == [(0, 0), (1, 0), (2, 0)]
    with pytest.raises(ValueError, match="rounds"):
        round_robin(2, -1)


def test_summarize_takes_min_per_round_then_median() -> None:
    # round 2 was slow throughout (machine busy): the median over rounds ignores it
    ms, spread, minima = summarize([[3.0, 1.0, 2.0], [1.2, 5.0], [9.0, 8.0], [1.1]])
    assert minima == (1.0, 1.2, 8.0, 1.1)
    assert ms == pytest.approx(1.15)
    assert spread == pytest.approx(relative_iqr(minima))
    assert spread > 0


def test_relative_iqr() -> None:
    assert relative_iqr([2.0, 2.0, 2.0]) == 0.0
    assert relative_iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx((4 - 2) / 3)
    assert math.isnan(relative_iqr([]))


def test_rank_averages_ties() -> None:
    assert list(rank([10, 20, 20, 5])) == [2.0, 3.5, 3.5, 1.0]


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert math.isnan(spearman([1], [1]))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="length"):
        spearman([1, 2], [1])


def test_shares_and_rmspe() -> None:
    ref = [1.0, 2.0, 4.0, 10.0]
    pred = [1.05, 2.5, 4.0, 8.9]
    assert share_within(pred, ref) == 0.5  # 5 % and 0 % in, 25 % and 11 % out
    assert share_within([1.1], [1.0]) == 1.0  # the boundary counts as within
    assert share_agree([1.0, 1.0], [1.1, 1.3]) == 0.5
    assert rmspe([1.1, 0.9], [1.0, 1.0]) == pytest.approx(0.1)
    assert math.isnan(rmspe([], []))
