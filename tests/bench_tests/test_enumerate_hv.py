"""Enumeration of finite spaces and the hypervolume arithmetic the benchmark relies on."""

from __future__ import annotations

import numpy as np
import pytest

from hadnas.bench import (
    Scale,
    choice_key,
    count_architectures,
    enumerate_architectures,
    hv_curve,
    hypervolume,
    pareto_mask,
)
from hadnas.exceptions import HadnasError
from hadnas.space import load_space
from tests._helpers import TINY
from tests.bench_tests.conftest import N_ARCHS, SPACE


def test_enumerates_every_architecture_once_with_real_parameter_names() -> None:
    space = load_space("synth.yaml", text=SPACE)
    archs = list(enumerate_architectures(space))
    keys = {choice_key(dict(a.params)) for a in archs}
    assert len(archs) == len(keys) == N_ARCHS == count_architectures(space)
    ccp = [a.params for a in archs if a.params["l1.choice"] == "poly_ccp"]
    assert {p["l1.poly_ccp.degree"] for p in ccp} == {1, 2, 3, 4}
    # a conditional parameter appears only on its branch, as a sampler would produce it
    others = [a.params for a in archs if a.params["l1.choice"] != "poly_ccp"]
    assert others and all("l1.poly_ccp.degree" not in p for p in others)
    assert {"width": 8, "l1.choice": "linear"} in [dict(a.params) for a in archs]


def test_continuous_domain_and_too_many_are_refused() -> None:
    space = load_space("tiny.yaml", text=TINY)  # has task.lr: {log: [...]}
    with pytest.raises(HadnasError, match="continuous range"):
        list(enumerate_architectures(space))
    with pytest.raises(HadnasError, match="more than 5 architectures"):
        list(enumerate_architectures(load_space("synth.yaml", text=SPACE), limit=5))


def test_hypervolume_2d_and_1d() -> None:
    assert hypervolume(np.array([[0.0, 0.0]]), ref=1.0) == pytest.approx(1.0)
    pts = np.array([[0.0, 0.5], [0.5, 0.0], [0.6, 0.6]])  # the last one is dominated
    assert hypervolume(pts, ref=1.0) == pytest.approx(0.75)
    assert hypervolume(np.array([[1.2, 0.0]]), ref=1.1) == 0.0  # beyond the reference
    assert hypervolume(np.array([[0.25]]), ref=1.0) == pytest.approx(0.75)
    assert list(pareto_mask(pts)) == [True, True, False]
    curve = hv_curve([None, np.array([0.5, 0.5]), None, np.array([0.0, 0.0])])
    assert list(curve) == pytest.approx([0.0, 0.36, 0.36, 1.21])


def test_scale_maps_best_to_zero_and_worst_to_one() -> None:
    raw = np.array([[0.9, 3.0], [0.5, 1.0]])  # accuracy (max), latency (min)
    scale = Scale.fit(["maximize", "minimize"], raw)
    assert scale(raw).tolist() == [[0.0, 1.0], [1.0, 0.0]]
