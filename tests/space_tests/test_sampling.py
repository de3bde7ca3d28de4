"""Sampling and define-by-run: stable parameter names, Optuna trials, and the YAML round trip."""

from __future__ import annotations

from typing import Any

import optuna
import pytest

import hadnas
from hadnas.exceptions import GraphError, SpecError
from hadnas.space import Architecture, SearchSpace
from hadnas.space._trial import ExtremeTrial, RandomTrial
from tests._helpers import MINIMAL, TINY, space_yaml


def load(text: str, **kw: Any) -> SearchSpace:
    return hadnas.load_space("s.yaml", text=text, **kw)


def round_trip(arch: Architecture) -> Architecture:
    return load(arch.to_yaml()).architecture()


# -- names --------------------------------------------------------------------------------------
def test_parameter_names_are_stable_and_readable(tiny_space: SearchSpace) -> None:
    names: set[str] = set()
    for seed in range(30):
        names |= set(tiny_space.sample(seed).params)
    assert {
        "width",
        "task.lr",
        "body.repeat",
        "body.0.mix.choice",
        "body.2.mix.choice",
        "body.1.mix.poly_ccp.degree",
        "body.1.mix.poly_ccp.rank",
        "body.0.mix.glu_ffn.act",
    } <= names
    assert all(not n.startswith("body.3") for n in names)  # repeat is at most 3
    # a node parameter that is fixed is no parameter at all
    assert not any(n.endswith(".linear.out") for n in names)


def test_the_design_names_appear_for_the_example_space() -> None:
    space = hadnas.load_space("search_spaces/digits_gated_poly.yaml")
    seen: set[str] = set()
    for seed in range(40):
        seen |= set(space.sample(seed).params)
    assert {
        "width",
        "task.lr",
        "body.repeat",
        "body.1.mix.choice",
        "body.1.mix.poly_ccp.degree",
    } <= seen


def test_params_are_in_suggestion_order(tiny_space: SearchSpace) -> None:
    params = list(tiny_space.sample(1).params)
    assert params[:3] == ["width", "task.lr", "body.repeat"]


def test_repeated_ops_in_a_choice_get_numbered_labels() -> None:
    text = space_yaml(
        {
            "a": {
                "choice": [
                    {"op": "linear", "out": {"choice": [4, 8]}},
                    {"op": "linear", "out": 16},
                ]
            }
        }
    )
    params: dict[str, Any] = {}
    for seed in range(10):
        params.update(load(text).sample(seed).params)
    assert set(params) == {"a.choice", "a.linear_1.out"}
    assert params["a.choice"] in ("linear_1", "linear_2")


def test_input_choices_are_parameters() -> None:
    text = space_yaml(
        {
            "a": {"op": "linear", "in": "x", "out": 8},
            "b": {"op": "linear", "in": "x", "out": 8},
            "c": {"op": "add", "in": {"choice": [["a", "b"], ["b", "x"]]}},
        },
        inputs={"x": {"shape": [8]}},
    )
    seen = {load(text).sample(s).params["c.in"] for s in range(20)}
    assert seen == {"a,b", "b,x"}


# -- reproducibility ----------------------------------------------------------------------------
def test_sample_is_deterministic_per_seed(tiny_space: SearchSpace) -> None:
    a, b = tiny_space.sample(3), tiny_space.sample(3)
    assert a == b and dict(a.params) == dict(b.params)
    assert len({tiny_space.sample(s).to_yaml() for s in range(10)}) > 3


def test_sample_does_not_touch_the_global_rng(tiny_space: SearchSpace) -> None:
    import random

    state = random.getstate()
    tiny_space.sample(5)
    assert random.getstate() == state


def test_random_trial_respects_every_domain() -> None:
    trial = RandomTrial(0)
    for _ in range(200):
        assert trial.suggest_int("i", 1, 9, step=2) in (1, 3, 5, 7, 9)
        assert 1 <= trial.suggest_int("l", 1, 64, log=True) <= 64
        v = trial.suggest_float("f", 0.001, 0.01, step=0.001)
        assert 0.001 <= v <= 0.01 and abs(round(v / 0.001) * 0.001 - v) < 1e-12
        assert 0.0 <= trial.suggest_float("g", 0.0, 1.0, step=0.3) <= 0.9 + 1e-12
        assert 1e-4 <= trial.suggest_float("h", 1e-4, 1e-1, log=True) <= 1e-1


def test_extremes() -> None:
    low, high = ExtremeTrial(False), ExtremeTrial(True)
    assert (low.suggest_int("i", 1, 10, step=4), high.suggest_int("i", 1, 10, step=4)) == (1, 9)
    assert (low.suggest_categorical("c", [3, 1]), high.suggest_categorical("c", [3, 1])) == (3, 1)


# -- optuna -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("quiet_optuna")
def test_suggest_with_a_real_optuna_trial_and_fixed_trial_reproduces(
    tiny_space: SearchSpace,
) -> None:
    archs: dict[int, Architecture] = {}

    def objective(trial: optuna.Trial) -> float:
        arch = tiny_space.suggest(trial)
        archs[trial.number] = arch
        return float(len(arch.nodes))

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=8)
    for t in study.trials:
        arch = archs[t.number]
        assert dict(arch.params) == t.params  # every suggestion recorded, same names
        again = tiny_space.suggest(optuna.trial.FixedTrial(dict(arch.params)))
        assert again == arch
    dists = study.trials[0].distributions
    assert isinstance(dists["width"], optuna.distributions.CategoricalDistribution)
    assert dists["task.lr"].log  # type: ignore[attr-defined]


@pytest.mark.usefixtures("quiet_optuna")
def test_define_by_run_is_what_the_backends_call(tiny_space: SearchSpace) -> None:
    arch = tiny_space.sample(2)
    assert (
        hadnas.define_by_run(tiny_space.spec, optuna.trial.FixedTrial(dict(arch.params))) == arch
    )


# -- round trip ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(10))
def test_to_yaml_loads_back_as_the_same_architecture(tiny_space: SearchSpace, seed: int) -> None:
    arch = tiny_space.sample(seed)
    again_space = load(arch.to_yaml())
    assert again_space.is_fixed
    again = again_space.architecture()
    assert again == arch
    assert dict(again.params) == dict(arch.params)  # provenance kept under `sampled:`
    assert again_space.sample(seed + 1) == arch  # nothing left to choose
    assert again.to_yaml() == arch.to_yaml()  # a fixed point


def test_round_trip_of_nested_blocks_input_choices_and_zero_repeats() -> None:
    text = """\
hadnas: 1
name: nested
task: {dataset: digits, lr: {float: [0.001, 0.01], step: 0.001}}
inputs:
  x: {shape: [8]}
  y: {shape: [8]}
vars:
  w: {choice: [4, 8]}
nodes:
  stem: {op: linear, in: x, out: $w}
  side: {op: linear, in: y, out: $w}
  outer:
    repeat: {int: [0, 2]}
    nodes:
      pre: {op: add, in: {choice: [[$in, stem], [$in, side]]}}
      inner:
        repeat: {choice: [1, 2]}
        nodes:
          m: {op: linear}
          r: {op: add, in: [m, $in]}
      post: {op: layer_norm}
  head: {op: linear, in: outer, out: 3}
output: head
"""
    space = load(text)
    repeats = set()
    for seed in range(12):
        arch = space.sample(seed)
        repeats.add(arch.params["outer.repeat"])
        assert round_trip(arch) == arch
    assert repeats == {0, 1, 2}


def test_an_infeasible_architecture_still_loads_back() -> None:
    space = load(TINY.replace("max: 100000", "max: 2000"), check=False)
    arch = max((space.sample(s) for s in range(10)), key=lambda a: a.graph.totals()["params"])
    assert arch.graph.totals()["params"] > 2000
    fixed = load(arch.to_yaml())  # a warning, not an error: show/draw/export still work on it
    warnings = fixed.check()
    assert any("violates the constraint" in str(w) for w in warnings)


def test_architecture_defaults_and_resolution() -> None:
    arch = load(MINIMAL).architecture()
    (node,) = arch.nodes
    assert node.inputs == ("x",)  # the only input is the default
    assert node.params == {"out": 4, "bias": True}  # op defaults are filled in
    assert arch.output == "a" and arch.input_names == ("x",)
    assert arch.task["dataset"] == "digits" and arch.ops() == {"linear": 1}


def test_block_reference_means_its_last_node(tiny_space: SearchSpace) -> None:
    arch = tiny_space.sample(0)
    head = next(n for n in arch.nodes if n.name == "head")
    k = arch.params["body.repeat"] - 1
    assert head.inputs == (f"body.{k}.res",)
    first_mix = next(n for n in arch.nodes if n.name == "body.0.mix")
    assert first_mix.inputs == ("stem",)  # $in of copy 0 is the block input


def test_architecture_of_a_space_with_choices_is_an_error(tiny_space: SearchSpace) -> None:
    assert not tiny_space.is_fixed
    with pytest.raises(SpecError, match="still has choices"):
        tiny_space.architecture()


# -- check --------------------------------------------------------------------------------------
def test_check_reports_shape_errors_of_some_samples_once_per_place() -> None:
    text = space_yaml(
        {
            "stem": {"op": "linear", "out": 16},
            "body": {
                "repeat": {"int": [1, 3]},
                "nodes": {
                    "mix": {"op": "linear", "out": {"choice": [8, 16]}},
                    "res": {"op": "add", "in": ["mix", "$in"]},
                },
            },
        }
    )
    with pytest.raises(GraphError) as info:
        load(text)
    (diag,) = info.value.diagnostics
    assert diag.path == "nodes.body.nodes.res"
    assert diag.message.startswith("node 'body.")  # which copy: the path alone cannot say
    assert "(in some sampled architectures)" in diag.message
    assert "(B, 8)" in diag.message and "(B, 16)" in diag.message


def test_check_refuses_an_impossible_constraint() -> None:
    with pytest.raises(SpecError, match="no probed architecture"):
        load(TINY.replace("max: 100000", "max: 10"))


def test_check_warns_about_unused_nodes() -> None:
    space = load(space_yaml({"a": {"op": "linear", "out": 4}, "b": {"op": "linear", "in": "x"}}))
    warnings = space.check()
    assert [w.path for w in warnings] == ["nodes.a"]
    assert "does not reach the output" in str(warnings[0])


def test_num_choices(tiny_space: SearchSpace) -> None:
    assert tiny_space.num_choices() == len(tiny_space.sample(0).params)
    assert load(MINIMAL).num_choices() == 0
