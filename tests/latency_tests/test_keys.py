from __future__ import annotations

import hadnas
from hadnas.latency import graph_keys, node_key, op_key
from hadnas.primitives import TensorSpec, get_primitive
from tests._helpers import space_yaml


def _graph(nodes: dict, **kw):
    return hadnas.load_space("k.yaml", text=space_yaml(nodes, **kw)).architecture().graph


def test_same_config_same_key_across_architectures() -> None:
    g1 = _graph({"a": {"op": "linear", "out": 16}, "b": {"op": "glu_ffn", "act": "silu"}})
    g2 = _graph(
        {
            "z": {"op": "linear", "out": 16},
            "y": {"op": "layer_norm"},
            "w": {"op": "glu_ffn", "act": "silu"},
        }
    )
    k1, k2 = graph_keys(g1), graph_keys(g2)
    assert k1[0] == k2[0] and k1[1] == k2[2]


def test_defaults_are_resolved() -> None:
    explicit = _graph({"a": {"op": "linear", "out": 16, "bias": True}})
    implicit = _graph({"a": {"op": "linear", "out": 16}})
    assert graph_keys(explicit) == graph_keys(implicit)


def test_shapes_batch_dtype_and_hp_change_the_key() -> None:
    d = get_primitive("linear")(out=8)
    base = node_key(d, [TensorSpec((16,))], 1)
    assert node_key(d, [TensorSpec((32,))], 1) != base
    assert node_key(d, [TensorSpec((4, 16))], 1) != base
    assert node_key(d, [TensorSpec((16,))], 2) != base
    assert node_key(d, [TensorSpec((16,), "float64")], 1) != base
    assert node_key(get_primitive("linear")(out=9), [TensorSpec((16,))], 1) != base
    assert node_key(get_primitive("linear")(out=8), [TensorSpec((16,))], 1) == base


def test_key_is_readable_and_order_independent() -> None:
    a = op_key("linear", {"out": 8, "bias": True}, [TensorSpec((16,))], 4)
    b = op_key("linear", {"bias": True, "out": 8}, [TensorSpec((16,))], 4)
    assert a == b == 'linear|{"bias":true,"out":8}|4x16:float32'


def test_list_valued_hyperparameters_are_hashable() -> None:
    key = op_key("x", {"k": [1, [2, 3]], "m": {"b": 1}}, [TensorSpec((2, 3))], 1)
    assert key.startswith('x|{"k":[1,[2,3]],"m":[["b",1]]}|1x2x3:float32')


def test_only_live_nodes_are_keyed() -> None:
    g = _graph(
        {
            "a": {"op": "linear", "out": 4},
            "dead": {"op": "linear", "in": "x", "out": 3},
            "b": {"op": "layer_norm", "in": "a"},
        },
        output="b",
    )
    assert [k.split("|")[0] for k in graph_keys(g)] == ["linear", "layer_norm"]
