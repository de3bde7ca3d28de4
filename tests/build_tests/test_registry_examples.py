"""Generated from the registry: each primitive's ``examples``, written as a one-node YAML space,
loads, builds and runs forward and backward through the whole pipeline. (The deep per-primitive
conformance suite is tests/primitives_tests; this checks that the DSL can express every op.)"""

from __future__ import annotations

import pytest
import torch

import hadnas
from hadnas.primitives import get_primitive, list_primitives
from tests._helpers import one_node_yaml

CASES = [(op, k) for op in list_primitives() for k in range(len(get_primitive(op).examples))]


@pytest.mark.parametrize(("op", "k"), CASES, ids=[f"{op}-{k}" for op, k in CASES])
def test_example_as_a_one_node_space(op: str, k: int) -> None:
    hp, ins = get_primitive(op).examples[k]
    text = one_node_yaml(op, hp, ins)
    arch = hadnas.load_space(f"{op}.yaml", text=text).architecture()
    assert hadnas.load_space("again.yaml", text=arch.to_yaml()).architecture() == arch
    model = hadnas.build(arch, seed=0)
    graph = arch.graph
    inputs = graph.defs["node"].sample_inputs(ins, batch=2)
    out = model(*inputs)
    assert tuple(out.shape) == (2, *graph.specs["node"].shape)
    if out.is_floating_point() and out.requires_grad:
        out.float().square().mean().backward()
    assert torch.isfinite(out.float()).all()
