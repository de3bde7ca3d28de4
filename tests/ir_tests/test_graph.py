"""ArchGraph: lint, deterministic order, shape inference, analytic counts, serialisation."""

from __future__ import annotations

import json
from typing import Any

import pytest

import hadnas
from hadnas.exceptions import GraphError
from hadnas.ir import IR_VERSION, ArchGraph, NodeAttrs
from hadnas.primitives import TensorSpec
from tests._helpers import TINY


def inp(
    name: str, shape: tuple[int, ...] = (8,), index: int = 0, dtype: str = "float32"
) -> NodeAttrs:
    return NodeAttrs(name, "input", index=index, shape=shape, dtype=dtype)


def op(name: str, kind: str, inputs: tuple[str, ...], index: int, **hp: Any) -> NodeAttrs:
    return NodeAttrs(name, kind, inputs, tuple(hp.items()), index, path=f"nodes.{name}")


def messages(nodes: list[NodeAttrs], output: str) -> list[str]:
    with pytest.raises(GraphError) as info:
        ArchGraph(nodes, output, file="g.yaml")
    return [str(d) for d in info.value.diagnostics]


# -- lint ---------------------------------------------------------------------------------------
def test_lint_finds_dangling_references_unknown_ops_arity_and_a_bad_output() -> None:
    found = messages(
        [
            inp("x"),
            op("a", "linear", ("nope",), 1),
            op("b", "no_such_op", ("x",), 2),
            op("c", "linear", ("x", "x"), 3),
            op("d", "add", ("x",), 4),
        ],
        "a",
    )
    joined = "\n".join(found)
    assert "nodes.a: dangling reference 'nope'" in joined
    assert "nodes.b: unknown op 'no_such_op'" in joined
    assert "nodes.c: op 'linear' takes 1 input(s), got 2" in joined
    assert "nodes.d: op 'add' takes 2 to any number input(s), got 1" in joined
    assert messages([inp("x"), op("a", "linear", ("x",), 1)], "zz") == [
        "g.yaml:0:0: output: output 'zz' is not a node"
    ]


def test_lint_finds_cycles_and_names_the_earliest_node() -> None:
    (msg,) = messages(
        [
            inp("x"),
            op("a", "add", ("x", "c"), 1),
            op("b", "linear", ("a",), 2),
            op("c", "linear", ("b",), 3),
        ],
        "c",
    )
    assert "nodes.a: cycle: a → b → c → a" in msg


def test_unused_nodes_and_inputs_warn() -> None:
    g = ArchGraph(
        [inp("x"), inp("y", index=1), op("a", "linear", ("x",), 2), op("b", "linear", ("x",), 3)],
        "b",
    )
    assert sorted(w.path for w in g.warnings) == ["nodes.a", "y"]
    assert all(w.severity == "warning" for w in g.warnings)
    assert g.live_nodes() == ["b"]
    g.lint()
    assert len(g.warnings) == 2  # linting again does not duplicate warnings


# -- order --------------------------------------------------------------------------------------
def test_order_is_topological_with_declaration_order_for_ties() -> None:
    nodes = [
        inp("x"),
        op("late", "linear", ("early",), 1),
        op("early", "linear", ("x",), 2),
        op("z", "linear", ("x",), 3),
        op("sum", "add", ("late", "z"), 4),
    ]
    g = ArchGraph(nodes, "sum")
    assert g.order() == ["x", "early", "late", "z", "sum"]
    # the same graph from nodes given in another order
    assert ArchGraph(list(reversed(nodes)), "sum").order() == g.order()


# -- shapes -------------------------------------------------------------------------------------
def test_shapes_are_inferred_through_every_node() -> None:
    g = ArchGraph(
        [
            inp("tokens", (5,), dtype="int64"),
            op("emb", "embedding", ("tokens",), 1, vocab=11, out=6),
            op("mix", "linear", ("emb",), 2, out=4),
            op("pool", "mean_pool", ("mix",), 3),
        ],
        "pool",
    )
    assert g.specs["tokens"] == TensorSpec((5,), "int64")
    assert g.specs["emb"] == TensorSpec((5, 6))
    assert g.specs["mix"] == TensorSpec((5, 4))
    assert g.specs["pool"] == TensorSpec((4,))


def test_shape_errors_name_the_node_and_both_shapes_and_skip_dependents() -> None:
    found = messages(
        [
            inp("x"),
            op("a", "linear", ("x",), 1, out=4),
            op("b", "linear", ("x",), 2, out=6),
            op("c", "add", ("a", "b"), 3),
            op("d", "linear", ("c",), 4),  # downstream of the error: not reported again
            op("e", "embedding", ("x",), 5, vocab=3, out=2),  # independent: also reported
        ],
        "d",
    )
    assert len(found) == 2
    assert "nodes.c: add: input 0 has shape (B, 4) but input 1 has shape (B, 6)" in found[0]
    assert "[inputs: a (B, 4), b (B, 6)]" in found[0]
    assert "nodes.e: embedding needs integer token ids" in found[1]


def test_bad_hyper_parameters_are_located() -> None:
    with pytest.raises(GraphError) as info:
        ArchGraph([inp("x"), op("a", "linear", ("x",), 1, out=0)], "a")
    (msg,) = (str(d) for d in info.value.diagnostics)
    assert msg.startswith("<arch>:0:0: nodes.a: linear.out")
    assert "below the minimum" in msg


# -- counts -------------------------------------------------------------------------------------
def test_linear_counts_are_exact() -> None:
    g = ArchGraph([inp("x", (8,)), op("a", "linear", ("x",), 1, out=4, bias=True)], "a")
    (row,) = g.stats()
    assert (row.name, row.op, row.params) == ("a", "linear", 8 * 4 + 4)
    assert row.flops == 2 * 8 * 4  # a MAC counts 2
    assert row.bytes == 4 * (8 + 4 + 36)  # read x and the weights, write y (float32)
    assert g.totals() == {"params": 36, "flops": 64, "bytes": 192}


def test_element_wise_products_are_counted(tiny_space: hadnas.SearchSpace) -> None:
    g = ArchGraph([inp("x", (8,)), inp("y", (8,), 1), op("p", "hadamard", ("x", "y"), 2)], "p")
    assert g.stats()[0].flops >= 8  # torch's FlopCounterMode would say 0


def test_param_counts_match_the_built_model(tiny_space: hadnas.SearchSpace) -> None:
    for seed in range(6):
        arch = tiny_space.sample(seed)
        model = hadnas.build(arch)
        assert arch.graph.totals()["params"] == sum(p.numel() for p in model.parameters())


# -- serialisation ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_to_dict_from_dict_round_trip(seed: int) -> None:
    arch = hadnas.load_space("t.yaml", text=TINY).sample(seed)
    g = arch.graph
    data = g.to_dict()
    assert data["ir_version"] == IR_VERSION and list(data)[0] == "ir_version"
    again = ArchGraph.from_dict(json.loads(json.dumps(data)))
    assert again == g
    assert again.order() == g.order()
    assert again.specs == g.specs
    assert again.totals() == g.totals()
    assert again.to_dict() == data


def test_from_dict_refuses_another_version() -> None:
    data = hadnas.load_space("t.yaml", text=TINY).sample(0).graph.to_dict()
    data["ir_version"] = 99
    with pytest.raises(GraphError, match="unsupported IR version 99"):
        ArchGraph.from_dict(data)


def test_graphs_are_compared_by_content() -> None:
    space = hadnas.load_space("t.yaml", text=TINY)
    assert space.sample(1).graph == space.sample(1).graph
    assert space.sample(1).graph != space.sample(2).graph or space.sample(1) == space.sample(2)
    assert space.sample(1).graph != "graph"
