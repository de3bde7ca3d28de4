"""Registry-level checks: generated docs, the example spaces' op forms, and shape errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from hadnas.primitives import ShapeError, TensorSpec, get_primitive, list_primitives
from hadnas.primitives._docs import render_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "primitives.md"

DESIGN_OPS = """linear conv1d conv2d embedding layer_norm batch_norm activation dropout add concat
identity mean_pool flatten mlp attention hadamard poly_ccp poly_ncp mi_bilinear quadratic
linear_sum concat_mlp mlb mfb mutan block film glu_ffn se_gate sgu gated_rnn gated_conv
partial_conv mask gnconv focal_mod aft_simple aft_local aft_full linear_attention hyena
ssm_gate""".split()


def test_docs_table_is_generated_from_the_registry() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_table(), (
        "docs/primitives.md is stale: run `python -m hadnas.primitives._docs > docs/primitives.md`"
    )


def test_every_design_op_is_registered() -> None:
    assert set(DESIGN_OPS) <= set(list_primitives())


PAIR = (TensorSpec((64,)), TensorSpec((64,)))
SEQ = (TensorSpec((40, 64)),)
EXAMPLE_FORMS = [
    ({"op": "mlb", "mm_dim": 64}, PAIR),
    ({"op": "mfb", "mm_dim": 64, "factor": 3}, PAIR),
    ({"op": "mutan", "mm_dim": 64, "rank": 5}, PAIR),
    ({"op": "block", "mm_dim": 64, "chunks": 4, "rank": 4}, PAIR),
    ({"op": "concat_mlp"}, PAIR),
    ({"op": "linear_sum"}, PAIR),
    ({"op": "hadamard"}, PAIR),
    ({"op": "aft_simple", "causal": True}, SEQ),
    ({"op": "aft_full", "causal": True}, SEQ),
    ({"op": "hyena", "order": 2}, SEQ),
    ({"op": "hyena", "order": 3}, SEQ),
    ({"op": "attention", "heads": 4, "causal": True}, SEQ),
]


@pytest.mark.parametrize(("node", "ins"), EXAMPLE_FORMS, ids=[n["op"] for n, _ in EXAMPLE_FORMS])
def test_example_space_forms_build_and_keep_the_width(
    node: dict[str, Any], ins: tuple[TensorSpec, ...]
) -> None:
    hp = {k: v for k, v in node.items() if k != "op"}
    d = get_primitive(node["op"])(**hp)
    out = d.infer(ins)
    assert out == ins[0]
    module = d.create(ins)
    y = module(*(torch.randn(2, *s.shape) for s in ins))
    assert y.shape == (2, *out.shape) and torch.isfinite(y).all()
    assert d.num_params(ins) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("op", "hp", "ins", "match"),
    [
        ("mlb", {}, [TensorSpec((64,)), TensorSpec((5, 64))], r"\(B, 64\).*\(B, 5, 64\)"),
        ("hadamard", {}, [TensorSpec((64,)), TensorSpec((32,))], r"\(B, 64\).*\(B, 32\)"),
        ("attention", {"heads": 5}, [TensorSpec((40, 64))], "heads=5"),
        ("gnconv", {"order": 4}, [TensorSpec((12, 4, 4))], "divisible by 8"),
        ("block", {"mm_dim": 4, "chunks": 8}, [TensorSpec((6,)), TensorSpec((6,))], "chunks"),
        ("film", {}, [TensorSpec((4, 5)), TensorSpec((3, 2))], r"same T"),
        ("partial_conv", {}, [TensorSpec((2, 5, 5)), TensorSpec((1, 4, 4))], "mask"),
        ("conv1d", {"groups": 3}, [TensorSpec((7, 4))], "groups=3"),
        ("embedding", {"vocab": 5, "out": 3}, [TensorSpec((7,))], "int64"),
        ("poly_ccp", {}, [TensorSpec((7,), "int64")], "embedding"),
    ],
)
def test_shape_errors_name_the_shapes(op: str, hp: dict[str, Any], ins: Any, match: str) -> None:
    with pytest.raises(ShapeError, match=match):
        get_primitive(op)(**hp).infer(ins)


@pytest.mark.parametrize(
    ("op", "hp", "match"),
    [
        ("poly_ncp", {"skip": "none"}, "alpha"),
        ("film", {"use_gamma": False, "use_beta": False}, "use_gamma"),
        ("mask", {"target": "feature", "out": 3}, "out"),
        ("mfb", {"factor": 0}, "factor"),
        ("hyena", {"emb_dim": 4}, "emb_dim"),
        ("aft_full", {"causal": "yes"}, "causal"),
        ("mutan", {"rank": 2.5}, "rank"),
    ],
)
def test_invalid_hyper_parameters_are_refused(op: str, hp: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        get_primitive(op)(**hp)
