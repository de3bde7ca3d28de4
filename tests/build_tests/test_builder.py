"""The builder: readable deterministic parameter names, seeded init, a generated forward."""

from __future__ import annotations

import copy
import io
import linecache
import pickle
import traceback

import pytest
import torch

import hadnas
from hadnas.build import forward_source
from hadnas.space import SearchSpace
from tests._helpers import MINIMAL, space_yaml


def _arch(space: SearchSpace, repeat: int) -> hadnas.Architecture:
    return next(
        a for a in (space.sample(s) for s in range(50)) if a.params["body.repeat"] == repeat
    )


def test_parameter_names_read_like_the_yaml(tiny_space: SearchSpace) -> None:
    arch = _arch(tiny_space, 2)
    model = hadnas.build(arch)
    keys = list(model.state_dict())
    assert keys[:2] == ["stem.weight", "stem.bias"]
    assert any(k.startswith("body.0.mix.") for k in keys)
    assert any(k.startswith("body.1.norm.") for k in keys)
    assert keys[-2:] == ["head.weight", "head.bias"]
    assert not any(k.startswith("body.2.") for k in keys)
    # the same architecture always gives the same names in the same order
    assert list(hadnas.build(arch).state_dict()) == keys
    assert list(hadnas.build(tiny_space.sample(0)).state_dict()) == list(
        hadnas.build(tiny_space.sample(0)).state_dict()
    )


def test_seed_makes_initialisation_reproducible(tiny_space: SearchSpace) -> None:
    arch = tiny_space.sample(4)
    a, b = hadnas.build(arch, seed=7), hadnas.build(arch, seed=7)
    c = hadnas.build(arch, seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)


def test_seeded_build_leaves_the_global_rng_alone(tiny_space: SearchSpace) -> None:
    arch = tiny_space.sample(4)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    hadnas.build(arch, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_forward_is_generated_code_without_dispatch(tiny_space: SearchSpace) -> None:
    arch = _arch(tiny_space, 2)
    model = hadnas.build(arch)
    src = model.source
    assert src.startswith("def forward(self, x):")
    assert "for " not in src and "getattr" not in src and "[" not in src.split("\n", 2)[2]
    assert src.strip().endswith("return head")
    assert "body_0, body_1 = self.body" in src
    assert "# (B, 3)" in src  # shape comments
    assert forward_source(arch.graph)[1] == ["x"]


def test_tracebacks_point_into_the_generated_forward(tiny_space: SearchSpace) -> None:
    model = hadnas.build(tiny_space.sample(0))
    with pytest.raises(RuntimeError) as info:
        model(torch.randn(2, 5))  # wrong width
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<hadnas-forward-")]
    assert generated and generated[0].line  # linecache knows the source line
    assert linecache.getline(generated[0].filename, 1).startswith("def forward(")


def test_inputs_are_taken_in_declared_order() -> None:
    text = space_yaml(
        {
            "a": {"op": "linear", "in": "right", "out": 3},
            "b": {"op": "linear", "in": "left", "out": 3},
            "c": {"op": "concat", "in": ["a", "b"]},
        },
        inputs={"left": {"shape": [2]}, "right": {"shape": [5]}},
    )
    arch = hadnas.load_space("t.yaml", text=text).architecture()
    model = hadnas.build(arch)
    assert model.input_names == ("left", "right")
    assert model(torch.randn(4, 2), torch.randn(4, 5)).shape == (4, 6)


def test_dead_nodes_are_not_built() -> None:
    text = space_yaml({"dead": {"op": "linear", "out": 4}, "a": {"op": "linear", "in": "x"}})
    model = hadnas.build(hadnas.load_space("t.yaml", text=text).architecture())
    assert not hasattr(model, "dead") and "dead" not in model.source


@pytest.mark.parametrize("from_graph", [False, True], ids=["arch", "graph"])
def test_pickle_round_trip(tiny_space: SearchSpace, from_graph: bool) -> None:
    arch = _arch(tiny_space, 3)
    model = hadnas.build(arch.graph if from_graph else arch, seed=0).eval()
    x = torch.randn(3, 12)
    again = pickle.loads(pickle.dumps(model))
    assert isinstance(again, hadnas.HadnasModel) and not again.training
    assert torch.equal(again(x), model(x))
    assert list(again.state_dict()) == list(model.state_dict())
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert torch.equal(loaded(x), model(x))
    assert torch.equal(copy.deepcopy(model)(x), model(x))


def test_build_accepts_an_arch_graph() -> None:
    arch = hadnas.load_space("t.yaml", text=MINIMAL).architecture()
    a, b = hadnas.build(arch, seed=0), hadnas.build(arch.graph, seed=0)
    x = torch.randn(2, 8)
    assert torch.equal(a(x), b(x))


def test_generated_code_never_sees_hostile_names() -> None:
    """Names reach code only after validation; the namespace sanitises what it emits anyway."""
    from hadnas.build._codegen import Namespace, module_access

    ns = Namespace()
    assert ns.create("x=open('/etc/passwd')") == "x_open___etc_passwd__"
    assert ns.create("class") == "class_"
    assert ns.create("print") == "print_"
    assert ns.create("1a") == "_1a"
    assert ns.create("other", "class") == "class__1"
    assert module_access("body.1.mix") == "self.body[1].mix"
