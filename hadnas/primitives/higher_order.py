"""Higher-order correlation (survey §2): element-wise products and polynomial networks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, TensorSpec, io_bytes
from hadnas.primitives._registry import register_primitive
from hadnas.primitives._shapes import broadcast


class Hadamard(nn.Module):
    """Element-wise product of two or more tensors (broadcasting)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class PolyCCP(nn.Module):
    """Π-net CCP block: a degree-N polynomial of the input without any activation.

    ``x₁ = U₁ z``; ``xₙ = (Uₙ z) ⊙ xₙ₋₁ + xₙ₋₁`` for n = 2..N; ``y = C x_N + β``.
    The ``Uₙ`` for n ≥ 2 start at ``init_scale`` times the default init, so the block starts
    close to linear and the higher-degree terms grow during training (Π-net practice).
    """

    def __init__(
        self,
        in_features: int,
        rank: int,
        out_features: int,
        degree: int,
        bias: bool = True,
        norm: str = "none",
        init_scale: float = 0.1,
    ) -> None:
        super().__init__()
        self.degree = degree
        self.U = nn.ModuleList(nn.Linear(in_features, rank, bias=bias) for _ in range(degree))
        self.C = nn.Linear(rank, out_features)
        self.norm = nn.LayerNorm(rank) if norm == "layer" else nn.Identity()
        with torch.no_grad():
            for layer in list(self.U)[1:]:
                layer.weight.mul_(init_scale)
                if layer.bias is not None:
                    layer.bias.mul_(init_scale)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.U[0](z)
        for layer in list(self.U)[1:]:
            x = layer(z) * x + x
        return self.C(self.norm(x))


@register_primitive
class HadamardDef(PrimitiveDef):
    """n-ary element-wise (Hadamard) product ``y = x₁ ⊙ x₂ ⊙ …`` with broadcasting.

    The atom every multiplicative interaction reduces to; lets a search place products between
    any two branches (Π-net style skip-products). No parameters.
    """

    op = "hadamard"
    domain = "higher_order"
    arity = (2, None)
    module = Hadamard
    formula = "y = x₁ ⊙ x₂ ⊙ …"
    paper = "Chrysos et al., Hadamard product in deep learning (TPAMI 2025)"

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return broadcast(self.op, ins)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost((len(ins) - 1) * out.numel, io_bytes(ins, out, 0))


@register_primitive
class PolyCCPDef(PrimitiveDef):
    """Π-net CCP polynomial (Chrysos et al., CVPR 2020 / TPAMI 2021).

    ``z: (B, d)`` or ``(B, T, d)``; ``Uₙ: (d, k)``; ``C: (k, o)``. Output is a polynomial of
    degree ``degree`` in ``z`` with no activation. Hyper-parameters: ``degree`` N (number of
    multiplicative steps), ``rank`` k (hidden width), ``out`` o, ``bias``, ``norm`` applied to the
    degree-N term (``layer`` helps at high degree), ``init_scale`` of ``U₂..U_N``.
    Params: ``N(dk + k·bias) + ko + o`` (+ ``2k`` with ``norm: layer``).
    """

    op = "poly_ccp"
    domain = "higher_order"
    layouts = frozenset({"V", "S"})
    hparams = {
        "degree": Param(int, 2, low=1, high=16, doc="polynomial degree N"),
        "rank": Param(int, 32, low=1, doc="hidden width k of the factor matrices"),
        "out": Param(int, None, low=1, doc="output width (default: input width)"),
        "bias": Param(bool, True, doc="biases in the factor projections"),
        "norm": Param(str, "none", choices=("none", "layer"), doc="normalise the product"),
        "init_scale": Param(float, 0.1, low=0.0, doc="scale of U₂..U_N at init (0 = linear)"),
    }
    module = PolyCCP
    formula = "xₙ = (Uₙᵀz) ⊙ xₙ₋₁ + xₙ₋₁; y = C x_N + β"
    paper = "Chrysos et al., Π-nets: Deep Polynomial Neural Networks (CVPR 2020)"

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return ins[0].with_features(self.out_width(ins))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "in_features": ins[0].features,
            "rank": self.hp["rank"],
            "out_features": self.out_width(ins),
            "degree": self.hp["degree"],
            "bias": self.hp["bias"],
            "norm": self.hp["norm"],
            "init_scale": self.hp["init_scale"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, k, o, n = ins[0].features, self.hp["rank"], self.out_width(ins), self.hp["degree"]
        norm = 2 * k if self.hp["norm"] == "layer" else 0
        return n * (d * k + (k if self.hp["bias"] else 0)) + k * o + o + norm

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d, k, o, n = ins[0].features, self.hp["rank"], out.features, self.hp["degree"]
        tokens = out.numel // o
        flops = tokens * (2 * n * d * k + 2 * k * o + 2 * (n - 1) * k)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))
