"""Conformance suite every primitive must pass (optuna/testing style).

Use it for your own primitives by subclassing :class:`BasicPrimitiveTestCase` in a pytest
module and providing a ``case`` fixture that returns a :class:`PrimitiveCase`::

    import pytest
    from hadnas.testing import BasicPrimitiveTestCase, PrimitiveCase, registry_cases

    @pytest.fixture(params=registry_cases("my_op*"), ids=lambda c: c.id)
    def case(request):
        return request.param

    class TestMyOps(BasicPrimitiveTestCase):
        pass

The cases come from each primitive's ``examples``: tiny configurations, one per layout.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

from hadnas.primitives import PrimitiveDef, ShapeError, TensorSpec, get_primitive, list_primitives

#: the imports an exported ``model.py`` starts with; primitive modules may use nothing else
STANDALONE_HEADER = (
    "from __future__ import annotations\n"
    "import math\n"
    "import torch\n"
    "import torch.nn.functional as F\n"
    "from torch import nn\n"
)

_LAYOUT_SPECS = {"V": (6,), "S": (4, 6), "I": (6, 4, 4)}


@dataclass(frozen=True)
class PrimitiveCase:
    """One configuration of one primitive: hyper-parameters and per-sample input specs."""

    op: str
    hp: Mapping[str, Any]
    ins: tuple[TensorSpec, ...]
    index: int = 0
    batch: int = field(default=2, compare=False)

    @property
    def id(self) -> str:
        return f"{self.op}-{self.index}"

    def make_def(self) -> PrimitiveDef:
        return get_primitive(self.op)(**dict(self.hp))

    def build(
        self, seed: int = 0, dtype: torch.dtype = torch.float32, batch: int | None = None
    ) -> tuple[PrimitiveDef, nn.Module, list[torch.Tensor]]:
        """The def, a freshly seeded module and seeded random inputs."""
        d = self.make_def()
        torch.manual_seed(seed)
        module = d.create(self.ins).to(dtype)
        gen = torch.Generator().manual_seed(seed + 1)
        inputs = d.sample_inputs(self.ins, batch or self.batch, dtype=dtype, generator=gen)
        return d, module, inputs


def registry_cases(pattern: str = "*") -> list[PrimitiveCase]:
    """Every example of every registered primitive matching ``pattern``."""
    cases = []
    for op in list_primitives(pattern):
        for k, (hp, ins) in enumerate(get_primitive(op).examples):
            cases.append(PrimitiveCase(op, dict(hp), tuple(ins), k))
    return cases


def seeded_call(module: nn.Module, inputs: Sequence[torch.Tensor], seed: int = 0) -> torch.Tensor:
    """Forward with the global RNG reseeded, so stochastic ops (dropout) repeat exactly."""
    torch.manual_seed(seed)
    return module(*inputs)


def is_causal_case(d: PrimitiveDef, ins: Sequence[TensorSpec]) -> bool:
    """Causal sequence configurations: the op can be causal and ``causal`` is not switched off."""
    return d.causal_capable and ins[0].layout == "S" and bool(d.hp.get("causal", True))


def _differentiable(d: PrimitiveDef, inputs: Sequence[torch.Tensor]) -> list[bool]:
    return [
        x.is_floating_point() and i not in d.nondifferentiable_inputs for i, x in enumerate(inputs)
    ]


def _bad_value(param: Any) -> list[Any]:
    """Values ``param.check`` must refuse."""
    bad: list[Any] = [object()]
    if param.choices is not None:
        bad.append("__not_a_choice__" if param.type is str else -12345)
    if param.low is not None:
        bad.append(param.type(param.low - 1))
    if param.high is not None:
        bad.append(param.type(param.high + 1))
    return bad


class BasicPrimitiveTestCase:
    """Tests every primitive must pass; subclasses provide the ``case`` fixture."""

    # -- shapes -------------------------------------------------------------------------------
    def test_infer_matches_forward(self, case: PrimitiveCase) -> None:
        d, module, inputs = case.build()
        out_spec = d.infer(case.ins)
        y = seeded_call(module, inputs)
        assert tuple(y.shape) == (case.batch, *out_spec.shape), (
            f"{case.id}: forward gave {tuple(y.shape)}, infer said (B, {out_spec.shape})"
        )

    def test_bad_layouts_and_arity_rejected(self, case: PrimitiveCase) -> None:
        d = case.make_def()
        lo, hi = d.arity
        for layout, shape in _LAYOUT_SPECS.items():
            if layout in d.layouts:
                continue
            spec = TensorSpec(shape, case.ins[0].dtype)
            with pytest.raises(ShapeError, match=r"\(B, "):
                d.infer([spec] * max(lo, 1))
        if hi is not None:
            with pytest.raises(ShapeError, match="input"):
                d.infer([case.ins[0]] * (hi + 1))
        if lo > 1:
            with pytest.raises(ShapeError, match="input"):
                d.infer([case.ins[0]])

    # -- numerics -----------------------------------------------------------------------------
    def test_forward_backward_finite(self, case: PrimitiveCase) -> None:
        d, module, inputs = case.build()
        flags = _differentiable(d, inputs)
        for x, flag in zip(inputs, flags):
            x.requires_grad_(flag)
        y = seeded_call(module, inputs)
        assert torch.isfinite(y).all(), f"{case.id}: output has NaN/Inf"
        y.square().mean().backward()
        for name, p in module.named_parameters():
            assert p.grad is None or torch.isfinite(p.grad).all(), f"{case.id}: grad {name}"
        for i, (x, flag) in enumerate(zip(inputs, flags)):
            if flag:
                assert x.grad is not None and torch.isfinite(x.grad).all(), f"{case.id}: in {i}"

    def test_deterministic_under_seed(self, case: PrimitiveCase) -> None:
        _, m1, x1 = case.build(seed=3)
        _, m2, x2 = case.build(seed=3)
        for (n1, p1), (_, p2) in zip(m1.state_dict().items(), m2.state_dict().items()):
            assert torch.equal(p1, p2), f"{case.id}: {n1} differs between seeded builds"
        assert torch.equal(seeded_call(m1, x1), seeded_call(m2, x2))

    def test_gradcheck_float64(self, case: PrimitiveCase) -> None:
        d, module, inputs = case.build(dtype=torch.float64)
        params = {n: p.detach().clone().requires_grad_() for n, p in module.named_parameters()}
        buffers = dict(module.named_buffers())
        names = list(params)
        flags = _differentiable(d, inputs)
        for x, flag in zip(inputs, flags):
            x.requires_grad_(flag)

        def fn(*args: torch.Tensor) -> torch.Tensor:
            torch.manual_seed(0)
            state = {**buffers, **dict(zip(names, args[: len(names)]))}
            return functional_call(module, state, tuple(args[len(names) :]))

        args = (*params.values(), *inputs)
        assert torch.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=True)

    def test_causal_no_future_leak(self, case: PrimitiveCase) -> None:
        d = case.make_def()
        if not is_causal_case(d, case.ins):
            pytest.skip("not a causal sequence configuration")
        _, module, (x,) = case.build(dtype=torch.float64, batch=1)
        with torch.no_grad():  # move every parameter off its (possibly zero) init
            for p in module.parameters():
                p.add_(0.3 * torch.randn_like(p))
        jac = torch.autograd.functional.jacobian(lambda z: seeded_call(module, [z])[0], x)[:, :, 0]
        t = x.shape[1]
        future = torch.ones(t, t, dtype=torch.bool).triu(1)  # [t_out, t_in] with t_in > t_out
        leak = jac.permute(0, 2, 1, 3)[future]
        assert torch.count_nonzero(leak) == 0, f"{case.id}: max leak {leak.abs().max():.3e}"
        past = jac.permute(0, 2, 1, 3)[future.T]
        assert torch.count_nonzero(past) > 0, f"{case.id}: no dependence on the past at all"

    # -- counts -------------------------------------------------------------------------------
    def test_num_params_matches_module(self, case: PrimitiveCase) -> None:
        d, module, _ = case.build()
        counted = sum(p.numel() for p in module.parameters())
        assert d.num_params(case.ins) == counted, f"{case.id}: formula vs module"

    def test_cost_is_sane(self, case: PrimitiveCase) -> None:
        d, module, inputs = case.build()
        out = d.infer(case.ins)
        cost = d.cost(case.ins, out)
        assert isinstance(cost.flops, int) and isinstance(cost.bytes, int)
        assert cost.flops >= 0 and cost.bytes >= 0
        params = d.num_params(case.ins)
        if params:
            assert cost.flops + cost.bytes > 0, f"{case.id}: a parametrised op costs nothing"
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            seeded_call(module, inputs)
        counted = counter.get_total_flops() / case.batch
        assert cost.flops >= 0.9 * counted, (
            f"{case.id}: analytic {cost.flops} FLOPs < matmul/conv FLOPs {counted:.0f}"
        )
        elementwise = sum(s.numel for s in case.ins) + out.numel + params
        assert cost.flops <= 4 * counted + 200 * elementwise + 10_000, (
            f"{case.id}: analytic {cost.flops} FLOPs far above measured {counted:.0f}"
        )

    # -- hyper-parameters ---------------------------------------------------------------------
    def test_hparam_validation(self, case: PrimitiveCase) -> None:
        cls = get_primitive(case.op)
        with pytest.raises(ValueError, match="unknown"):
            cls(**dict(case.hp), __bogus__=1)
        for name, param in cls.hparams.items():
            if param.required:
                hp = {k: v for k, v in case.hp.items() if k != name}
                with pytest.raises(ValueError, match=name):
                    cls(**hp)
            for value in _bad_value(param):
                with pytest.raises(ValueError, match=name):
                    cls(**{**dict(case.hp), name: value})

    def test_module_kwargs_are_plain(self, case: PrimitiveCase) -> None:
        plain = (bool, int, float, str, type(None))

        def ok(v: Any) -> bool:
            if isinstance(v, (list, tuple)):
                return all(ok(x) for x in v)
            return isinstance(v, plain)

        kwargs = case.make_def().module_kwargs(case.ins)
        assert all(ok(v) for v in kwargs.values()), f"{case.id}: {kwargs}"

    # -- export -------------------------------------------------------------------------------
    def test_module_source_is_standalone(self, case: PrimitiveCase) -> None:
        d, module, inputs = case.build()
        cls = d.module_class(case.ins)
        if cls.__module__.startswith("torch"):
            pytest.skip("a torch class: the exporter imports it")
        sources = [textwrap.dedent(inspect.getsource(h)) for h in d.helpers]
        sources.append(textwrap.dedent(inspect.getsource(cls)))
        namespace: dict[str, Any] = {"__name__": "hadnas_export_check"}
        exec(compile(STANDALONE_HEADER + "\n\n".join(sources), "<export>", "exec"), namespace)
        clone = namespace[cls.__name__](**d.module_kwargs(case.ins))
        clone.load_state_dict(module.state_dict())
        module.eval()
        clone.eval()
        with torch.no_grad():
            assert torch.allclose(module(*inputs), clone(*inputs), atol=1e-6)
