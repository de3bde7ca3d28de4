"""The validator: raw YAML data → frozen SpaceSpec; every problem located, all at once."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hadnas.exceptions import SpecError
from hadnas.spec import (
    BlockSpec,
    Choice,
    FloatRange,
    IntRange,
    NodeSpec,
    SpaceSpec,
    VarRef,
    load_spec,
)
from tests._helpers import MINIMAL, TINY, space_yaml


def spec_of(text: str) -> SpaceSpec:
    return load_spec("s.yaml", text=text)


def problems(text: str) -> list[str]:
    """Every diagnostic as ``LINE:COL: PATH: message`` (file name dropped)."""
    with pytest.raises(SpecError) as info:
        spec_of(text)
    return [str(d).split(":", 1)[1] for d in info.value.diagnostics]


def one_problem(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def node(**fields: Any) -> str:
    return space_yaml({"a": fields})


# -- what comes out ---------------------------------------------------------------------------
def test_tiny_space_validates_into_frozen_typed_objects() -> None:
    spec = spec_of(TINY)
    assert spec.name == "tiny" and spec.version == 1
    assert spec.vars["width"] == Choice((8, 16))
    assert spec.task.lr == FloatRange(1e-3, 1e-1, log=True)
    assert spec.task.epochs == 1 and spec.task.batch_size == 64  # default
    stem, body, head = spec.nodes
    assert isinstance(stem, NodeSpec) and stem.inputs == ("x",)
    assert stem.options[0].params["out"] == VarRef("width")
    assert isinstance(body, BlockSpec) and body.repeat == IntRange(1, 3)
    mix = body.nodes[0]
    assert isinstance(mix, NodeSpec) and mix.is_choice and mix.inputs == ("$in",)
    assert [o.label for o in mix.options] == ["poly_ccp", "glu_ffn", "linear"]
    assert mix.options[0].params == {"degree": IntRange(2, 3), "rank": Choice((4, 8))}
    assert head.inputs == ("body",) and spec.output == "head"
    assert [(o.metric, o.direction) for o in spec.objectives] == [
        ("accuracy", "maximize"),
        ("params", "minimize"),
    ]
    assert spec.constraints[0].max == 100000 and spec.search.sampler == "random"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.vars["width"] = 3  # type: ignore[index]
    with pytest.raises(TypeError):
        mix.options[0].params["rank"] = 3  # type: ignore[index]


def test_minimal_space_gets_the_documented_defaults() -> None:
    spec = spec_of(MINIMAL)
    assert spec.nodes[0].inputs is None  # resolved later: the only input
    assert [(o.metric, o.direction) for o in spec.objectives] == [("accuracy", "maximize")]
    assert spec.constraints == ()
    assert (spec.latency.batch_size, spec.latency.threads, spec.latency.mode) == (1, 1, "measure")
    assert (spec.search.sampler, spec.search.trials, spec.search.seed) == ("tpe", 20, 0)
    assert spec.task.optimizer == "adamw" and spec.task.val_fraction == 0.2


def test_equal_files_give_equal_specs() -> None:
    assert spec_of(TINY) == spec_of(TINY)
    assert spec_of(TINY) != spec_of(TINY.replace("out: 3", "out: 4"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"choice": [1, 2, 3]}, Choice((1, 2, 3))),
        ({"choice": ["a", True, None, 1.5]}, Choice(("a", True, None, 1.5))),
        ({"int": [1, 9], "step": 2}, IntRange(1, 9, 2)),
        ({"int": [1, 64], "log": True}, IntRange(1, 64, 1, True)),
        ({"float": [0.0, 1.0]}, FloatRange(0.0, 1.0)),
        ({"float": [0, 1], "step": 0.25}, FloatRange(0.0, 1.0, step=0.25)),
        ({"float": [0.1, 1.0], "log": True}, FloatRange(0.1, 1.0, log=True)),
        ({"log": [1.0e-4, 1.0e-1]}, FloatRange(1e-4, 1e-1, log=True)),
        ({"int": [3, 3]}, IntRange(3, 3)),
    ],
)
def test_domains(raw: dict[str, Any], expected: Any) -> None:
    spec = spec_of(
        space_yaml({"a": {"op": "linear", "out": 4}}, before_nodes={"vars": {"v": raw}})
    )
    assert spec.vars["v"] == expected


def test_node_choice_labels_repeated_ops() -> None:
    spec = spec_of(
        node(choice=[{"op": "linear", "out": 4}, {"op": "linear", "out": 8}, {"op": "identity"}])
    )
    assert [o.label for o in spec.nodes[0].options] == ["linear_1", "linear_2", "identity"]


def test_input_choice_and_joins() -> None:
    spec = spec_of(
        space_yaml(
            {
                "a": {"op": "linear", "in": "x", "out": 8},
                "b": {"op": "linear", "in": "x", "out": 8},
                "c": {"op": "add", "in": {"choice": [["a", "b"], ["b", "x"]]}},
            }
        )
    )
    assert spec.nodes[2].inputs == Choice((("a", "b"), ("b", "x")))


def test_repeat_forms() -> None:
    def block(repeat: Any) -> BlockSpec:
        spec = spec_of(
            space_yaml(
                {"b": {"repeat": repeat, "nodes": {"m": {"op": "linear"}}}},
                before_nodes={"vars": {"n": {"choice": [1, 2]}}},
            )
        )
        b = spec.nodes[0]
        assert isinstance(b, BlockSpec)
        return b

    assert block(2).repeat == 2
    assert block(0).repeat == 0
    assert block({"int": [1, 4]}).repeat == IntRange(1, 4)
    assert block({"choice": [1, 3]}).repeat == Choice((1, 3))
    assert block("$n").repeat == VarRef("n")


def test_copies_block() -> None:
    spec = spec_of(
        space_yaml(
            {"b": {"copies": [{"m": {"op": "linear", "out": 4}}, {"m": {"op": "identity"}}]}}
        )
    )
    b = spec.nodes[0]
    assert isinstance(b, BlockSpec) and b.repeat == 2 and b.copies is not None
    assert [c[0].options[0].op for c in b.copies] == ["linear", "identity"]


def test_task_options_and_searched_task_scalars() -> None:
    spec = spec_of(
        space_yaml(
            {"e": {"op": "embedding", "vocab": 20, "out": 8}},
            inputs={"tokens": {"shape": [40], "dtype": "int64"}},
            task={
                "dataset": "assoc_recall",
                "vocab": 20,
                "seq_len": 40,
                "batch_size": {"choice": [16, 32]},
                "optimizer": {"choice": ["adamw", "sgd"]},
            },
        )
    )
    assert dict(spec.task.options) == {"vocab": 20, "seq_len": 40}
    assert spec.task.batch_size == Choice((16, 32))
    assert spec.inputs[0].dtype == "int64"


# -- errors -----------------------------------------------------------------------------------
def test_all_errors_are_reported_at_once_in_file_order() -> None:
    text = """\
hadnas: 1
name: t
search: {sampler: tpee}
task: {dataset: digits, epoch: 3}
inputs:
  x: {shape: [8]}
nodes:
  a: {op: linaer, out: 4}
  b: {op: linear, outt: 4}
  c: {op: linear, in: nope}
output: c
objectives: {acuracy: max}
"""
    found = problems(text)
    lines = [int(p.split(":")[0]) for p in found]
    assert lines == sorted(lines) and len(found) == 6, found
    joined = "\n".join(found)
    assert "did you mean 'tpe'?" in joined
    assert "did you mean 'epochs'?" in joined
    assert "unknown op 'linaer'; did you mean 'linear'" in joined
    assert "no parameter 'outt'; did you mean 'out'?" in joined
    assert "dangling reference 'nope'" in joined
    assert "unknown metric 'acuracy'; did you mean 'accuracy'?" in joined


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ({"int": [8, 4]}, "low <= high must hold, got low=8, high=4"),
        ({"float": [1.0, 0.5]}, "low <= high must hold"),
        ({"log": [0, 1]}, "a log domain needs low > 0, got low=0"),
        ({"float": [-1.0, 1.0], "log": True}, "a log domain needs low > 0"),
        ({"choice": []}, "choice needs a non-empty list"),
        ({"choice": "abc"}, "choice needs a non-empty list"),
        ({"choice": [1, 1]}, "choice options must be distinct"),
        ({"choice": [[1], [2]]}, "choice options must be scalars"),
        ({"int": [1.5, 4]}, "int bounds must be integers"),
        ({"int": [1, 4], "step": 0}, "step must be an integer >= 1"),
        ({"int": [1, 4], "log": True, "step": 2}, "cannot have a step"),
        ({"int": [1]}, "int needs [low, high] numbers"),
        ({"float": [0.0, ".inf"]}, "float needs [low, high] numbers"),
        ({"float": [0.0, 1.0], "step": -1}, "step must be a positive number"),
        ({"choice": [1], "int": [1, 2]}, "a domain has exactly one of"),
        ({"int": [1, 2], "stpe": 1}, "unknown key 'stpe'; did you mean 'step'?"),
    ],
)
def test_bad_domains(domain: dict[str, Any], message: str) -> None:
    text = space_yaml({"a": {"op": "linear", "out": 4}}, before_nodes={"vars": {"v": domain}})
    assert message in one_problem(text)


def test_domain_values_are_checked_against_the_op_schema() -> None:
    assert "the domain allows 'relux', but glu_ffn.act 'relux' is not one of" in one_problem(
        node(op="glu_ffn", act={"choice": ["silu", "relux"]})
    )
    assert "the domain allows 1.0, but linear.out expected int" in one_problem(
        node(op="linear", out={"float": [1.0, 2.0]})
    )
    text = space_yaml(
        {"a": {"op": "linear", "out": "$w"}}, before_nodes={"vars": {"w": {"choice": [4, "wide"]}}}
    )
    assert "$w can be 'wide', but linear.out expected int" in one_problem(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"op": "linear", "out": 3.5}, "linear.out expected int, got float 3.5"),
        ({"op": "linear", "out": True}, "expected int, got bool True"),
        ({"op": "linear", "out": 0}, "below the minimum"),
        ({"op": "linear", "out": [4]}, "expected a scalar or a domain"),
        ({"op": "embedding", "out": 4}, "op 'embedding' needs parameter 'vocab'"),
        ({"op": 3}, "op must be a primitive name"),
        ({"op": "linear", "choice": [{"op": "linear"}]}, "either `op` or `choice`"),
        ({"in": "x"}, "a node needs `op:`"),
        ({"choice": []}, "choice needs a non-empty list of options"),
        ({"choice": [{"op": "linear", "in": "x"}]}, "'in' belongs to the node"),
        ({"choice": [{"op": "linear"}], "out": 4}, "put parameters inside each option"),
        ({"op": "linear", "in": []}, "`in` needs at least one reference"),
        ({"op": "linear", "in": 3}, "a reference must be a node or input name"),
        ({"op": "linear", "in": "$in"}, "$in is only defined inside a repeat block"),
        ({"op": "linear", "out": "$in"}, "$in may only be used in `in:`"),
        ({"op": "linear", "out": "$nope"}, "unknown variable $nope"),
        ({"op": "linear", "in": {"choice": []}}, "an input choice needs a non-empty list"),
        ({"op": "linear", "in": None}, "`in:` is empty (null)"),
        ({"op": "linear", "in": True}, "got True (YAML reads unquoted yes/no/on/off/true/false"),
    ],
)
def test_bad_nodes(fields: dict[str, Any], message: str) -> None:
    assert message in one_problem(node(**fields))


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"repeat": 2}, "needs a non-empty `nodes:` mapping"),
        ({"repeat": 2, "nodes": {}}, "needs a non-empty `nodes:` mapping"),
        ({"repeat": -1, "nodes": {"m": {"op": "linear"}}}, "integer in [0, 64]"),
        ({"repeat": 65, "nodes": {"m": {"op": "linear"}}}, "integer in [0, 64]"),
        ({"repeat": {"float": [1.0, 2.0]}, "nodes": {"m": {"op": "linear"}}}, "int domain"),
        ({"repeat": 1, "copies": [], "nodes": {"m": {"op": "linear"}}}, "either `copies`"),
        ({"copies": {"m": {"op": "linear"}}}, "copies must be a list"),
        ({"copies": [{}]}, "a copy needs at least one node"),
        ({"copies": [3]}, "a copy must be a mapping"),
        ({"repeat": 1, "nodes": {"m": {"op": "linear"}}, "in": ["x", "x"]}, "exactly one input"),
        ({"repeat": 1, "nodes": {"m": {"op": "linear"}}, "in": {"choice": [["x"]]}}, "choice"),
        ({"repeat": 1, "nodes": {"m": {"op": "linear"}}, "reps": 1}, "unknown key 'reps'"),
    ],
)
def test_bad_blocks(block: dict[str, Any], message: str) -> None:
    found = problems(space_yaml({"b": block}))
    assert any(message in p for p in found), found


@pytest.mark.parametrize(
    ("top", "message"),
    [
        ({"hadnas": 2}, "`hadnas: 1` (the DSL version) is required, got 2"),
        ({"name": "Bad Name"}, "name must match [a-z0-9][a-z0-9_-]*"),
        ({"description": 3}, "description must be a string"),
        ({"task": {"epochs": 3}}, "task.dataset is required"),
        ({"task": {"dataset": "digits", "val_fraction": 1.5}}, "val_fraction must be in (0, 1)"),
        ({"task": {"dataset": "digits", "lr": -1.0}}, "must be a positive number"),
        ({"task": {"dataset": "digits", "optimizer": "adamm"}}, "adamm"),
        ({"task": {"dataset": "nosuchset"}}, "nosuchset"),
        ({"task": {"dataset": "assoc_recall", "vocabb": 3}}, "did you mean 'vocab'?"),
        ({"inputs": {}}, "declare at least one input"),
        ({"inputs": {"x": {"shape": [0]}}}, "shape must be a list of 1 to 3 positive integers"),
        ({"inputs": {"x": {"shape": [1, 2, 3, 4]}}}, "1 to 3 positive integers"),
        ({"inputs": {"x": {"shape": [8], "dtype": "float16"}}}, "dtype 'float16' is not one of"),
        ({"inputs": {"x": {"shape": [8]}, "a": {"shape": [8]}}}, "same name as an input"),
        ({"output": "nope"}, "output must name a top-level node, got 'nope'"),
        ({"objectives": {}}, "declare at least one objective"),
        ({"objectives": {"accuracy": "up"}}, "direction must be max or min"),
        ({"constraints": {"params": {}}}, "needs `max:` and/or `min:`"),
        ({"constraints": {"params": {"max": "big"}}}, "finite numbers"),
        ({"constraints": {"parms": {"max": 1}}}, "did you mean 'params'?"),
        ({"latency": {"mode": "guess"}}, "mode 'guess' is not one of"),
        ({"latency": {"threads": 0}}, "threads must be an integer >= 1"),
        ({"search": {"trials": 0}}, "trials must be an integer >= 1"),
        ({"search": {"pruner": "medain"}}, "did you mean 'median'?"),
        ({"search": {"trial_timeout_s": -1}}, "must be a positive number"),
        ({"sampled": [1]}, "sampled must be a mapping"),
        ({"vars": {"v": "$w", "w": 1}}, "cannot refer to another variable"),
        ({"vars": {"v": {"nested": 1}}}, "a variable is a scalar or a domain"),
        ({"vars": {"class": 1}}, "variable name 'class' is a Python keyword"),
        ({"extra": 1}, "unknown key 'extra'"),
    ],
)
def test_bad_sections(top: dict[str, Any], message: str) -> None:
    nodes = {"a": {"op": "linear", "out": 4}}
    fields = {"task": {"dataset": "digits"}, "inputs": {"x": {"shape": [8]}}, "output": "a"}
    fields.update(top)
    inputs = fields.pop("inputs")
    if "a" in inputs:
        nodes = {"a": {"op": "linear", "in": "x", "out": 4}}
    before = {"vars": fields.pop("vars")} if "vars" in fields else {}
    text = space_yaml(nodes, inputs, before_nodes=before, **fields)
    found = problems(text)
    assert any(message in p for p in found), found


def test_non_mapping_sections() -> None:
    found = problems("hadnas: 1\nname: t\ntask: digits\ninputs: [x]\nnodes: [a]\noutput: a\n")
    joined = "\n".join(found)
    assert "task must be a mapping" in joined
    assert "inputs must be a mapping" in joined
    assert "nodes must be a non-empty mapping" in joined


def test_a_broken_node_does_not_also_break_output() -> None:
    found = problems(node(op="linaer"))
    assert len(found) == 1 and "unknown op" in found[0]


def test_error_lines_point_at_the_offending_value() -> None:
    text = space_yaml({"a": {"op": "linear", "out": 4}, "b": {"op": "linear", "in": "zz"}})
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "zz" in t)
    assert one_problem(text).startswith(f"{line}:")
