"""Higher-order correlation (survey §2): element-wise products and polynomial networks.

Every module here computes a polynomial of its input(s) when its activation is ``none``; the
conformance tests check the degree with finite differences. Products of many terms explode or
vanish, so the multiplicative paths start small (CCP ``init_scale``), gated at zero (NCP ``α``)
or switched off (quadratic ``start_linear``), and ``norm: layer`` normalises the product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, ShapeError, TensorSpec, io_bytes
from hadnas.primitives._functional import make_activation, same_padding
from hadnas.primitives._registry import register_primitive
from hadnas.primitives._shapes import broadcast

POLY_ACTS = ("none", "relu", "tanh", "gelu", "silu")


class Hadamard(nn.Module):
    """Element-wise product of two or more tensors (broadcasting)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class PolyCCP(nn.Module):
    """Π-net CCP block: a degree-N polynomial of the input without any activation.

    ``x₁ = U₁ z``; ``xₙ = act((Uₙ z) ⊙ xₙ₋₁ + xₙ₋₁)`` for n = 2..N; ``y = C norm(x_N) + β``.
    The ``Uₙ`` for n ≥ 2 start at ``init_scale`` times the default init, so the block starts
    close to linear and the higher-degree terms grow during training (Π-net practice).
    Images ``(B, C, H, W)`` are treated per pixel (a 1×1-convolution CCP).
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
        act: str = "none",
    ) -> None:
        super().__init__()
        self.degree = degree
        self.U = nn.ModuleList(nn.Linear(in_features, rank, bias=bias) for _ in range(degree))
        self.C = nn.Linear(rank, out_features)
        self.norm = nn.LayerNorm(rank) if norm == "layer" else nn.Identity()
        self.act = make_activation(act)
        with torch.no_grad():
            for p in self.U[1:].parameters():
                p.mul_(init_scale)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 4:  # (B, C, H, W): per pixel, channels last
            return self.poly(z.movedim(1, -1)).movedim(-1, 1)
        return self.poly(z)

    def poly(self, z: torch.Tensor) -> torch.Tensor:
        x = self.act(self.U[0](z))
        for layer in list(self.U)[1:]:
            x = self.act(layer(z) * x + x)
        return self.C(self.norm(x))


class PolyNCP(nn.Module):
    """Π-net NCP block (nested coupled CP) with optional skip and start-linear gate.

    ``x₁ = (A₁ z) ⊙ b₁``; ``pₙ = (Aₙ z) ⊙ (Sₙ xₙ₋₁ + bₙ)``;
    ``xₙ = act(skip(xₙ₋₁) + αₙ pₙ)`` with ``skip`` ∈ {none: 0 and α ≡ 1, identity: xₙ₋₁,
    learned: Vₙ xₙ₋₁ (Vₙ initialised to the identity)}; ``y = C norm(x_N) + β``.
    With ``alpha`` the αₙ are learned scalars that start at 0, so the block starts linear in z
    (Π-net ``use_alpha``) and the degree grows as training moves αₙ away from 0.
    """

    def __init__(
        self,
        in_features: int,
        rank: int,
        out_features: int,
        degree: int,
        skip: str = "learned",
        alpha: bool = True,
        norm: str = "none",
        act: str = "none",
    ) -> None:
        super().__init__()
        self.skip = skip
        self.A = nn.ModuleList(nn.Linear(in_features, rank, bias=False) for _ in range(degree))
        self.b1 = nn.Parameter(torch.ones(rank))
        self.S = nn.ModuleList(nn.Linear(rank, rank) for _ in range(degree - 1))
        self.V = nn.ModuleList(
            nn.Linear(rank, rank, bias=False)
            for _ in range(degree - 1 if skip == "learned" else 0)
        )
        self.alpha = nn.Parameter(torch.zeros(degree - 1)) if alpha else None
        self.C = nn.Linear(rank, out_features)
        self.norm = nn.LayerNorm(rank) if norm == "layer" else nn.Identity()
        self.act = make_activation(act)
        with torch.no_grad():
            for p in self.V.parameters():
                p.copy_(torch.eye(rank))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 4:  # (B, C, H, W): per pixel, channels last
            return self.poly(z.movedim(1, -1)).movedim(-1, 1)
        return self.poly(z)

    def poly(self, z: torch.Tensor) -> torch.Tensor:
        x = self.act(self.A[0](z) * self.b1)
        for n in range(1, len(self.A)):
            p = self.A[n](z) * self.S[n - 1](x)
            if self.alpha is not None:
                p = self.alpha[n - 1] * p
            if self.skip == "identity":
                p = p + x
            elif self.skip == "learned":
                p = p + self.V[n - 1](x)
            x = self.act(p)
        return self.C(self.norm(x))


class MultiplicativeInteraction(nn.Module):
    """Multiplicative interaction ``f(x, z) = zᵀ𝕎x + Uz + Vx + b`` (Jayakumar et al. 2020).

    ``rank = 0``: full 3-way tensor ``𝕎: (out, d_z, d_x)``; ``rank = r``: the low-rank form
    ``P_o((P_z z) ⊙ (P_x x))``. ``linear_terms`` adds ``Uz + Vx``; ``bias`` adds ``b``.
    """

    def __init__(
        self,
        x_features: int,
        z_features: int,
        out_features: int,
        rank: int = 0,
        linear_terms: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.rank = rank
        if rank == 0:
            std = 1.0 / math.sqrt(x_features * z_features)
            self.W = nn.Parameter(torch.randn(out_features, z_features, x_features) * std)
        else:
            self.Px = nn.Linear(x_features, rank, bias=False)
            self.Pz = nn.Linear(z_features, rank, bias=False)
            self.Po = nn.Linear(rank, out_features, bias=False)
        self.U = nn.Linear(z_features, out_features, bias=False) if linear_terms else None
        self.V = nn.Linear(x_features, out_features, bias=False) if linear_terms else None
        self.b = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if self.rank == 0:
            y = torch.einsum("...j,oji,...i->...o", z, self.W, x)
        else:
            y = self.Po(self.Pz(z) * self.Px(x))
        if self.U is not None and self.V is not None:
            y = y + self.U(z) + self.V(x)
        if self.b is not None:
            y = y + self.b
        return y


class Quadratic(nn.Module):
    """Quadratic neuron ``y = act((W_r x + b_r) ⊙ (W_g x + b_g) + W_b (x ⊙ x) + c)``.

    Linear maps for vectors/sequences, ``kernel × kernel`` "same" convolutions for images
    (Fan et al.'s QAE form). ``start_linear`` sets ``W_g = 0, b_g = 1, W_b = 0`` so the neuron
    starts as the linear map ``W_r x + b_r + c``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        act: str = "none",
        start_linear: bool = True,
        image: bool = False,
        kernel: int = 1,
    ) -> None:
        super().__init__()
        self.pad = same_padding(kernel) * 2
        self.image = image

        def make() -> nn.Linear | nn.Conv2d:
            if image:
                return nn.Conv2d(in_features, out_features, kernel)
            return nn.Linear(in_features, out_features)

        self.r, self.g, self.sq = make(), make(), make()
        self.act = make_activation(act)
        if start_linear:
            with torch.no_grad():
                self.g.weight.zero_()
                self.sq.weight.zero_()
                if self.g.bias is not None:
                    self.g.bias.fill_(1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.image:
            x = nn.functional.pad(x, self.pad)
        return self.act(self.r(x) * self.g(x) + self.sq(x * x))


@register_primitive
class HadamardDef(PrimitiveDef):
    """n-ary element-wise (Hadamard) product ``y = x₁ ⊙ x₂ ⊙ …`` with broadcasting.

    The atom every multiplicative interaction reduces to; lets a search place products between
    any two branches (Π-net style skip-products) and offers a multiplicative merge next to
    ``add`` and ``concat`` at every join. Inputs of equal rank, each dimension equal or 1.
    No parameters; ``(n-1)·numel`` multiplications.
    """

    op = "hadamard"
    domain = "higher_order"
    arity = (2, None)
    module = Hadamard
    formula = "y = x₁ ⊙ x₂ ⊙ …"
    complexity = "O(n·numel)"
    paper = "Chrysos et al., Hadamard product in deep learning (TPAMI 2025)"
    examples = (
        ({}, (TensorSpec((6,)), TensorSpec((6,)))),
        ({}, (TensorSpec((4, 5)), TensorSpec((1, 5)), TensorSpec((4, 5)))),
        ({}, (TensorSpec((3, 4, 4)), TensorSpec((3, 1, 1)))),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return broadcast(self.op, ins)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost((len(ins) - 1) * out.numel, io_bytes(ins, out, 0))


class _PolyDef(PrimitiveDef):
    domain = "higher_order"
    layouts = frozenset({"V", "S", "I"})

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return ins[0].with_features(self.out_width(ins))

    def tokens(self, out: TensorSpec) -> int:
        return out.numel // out.features


@register_primitive
class PolyCCPDef(_PolyDef):
    """Π-net CCP polynomial (Chrysos et al., CVPR 2020 / TPAMI 2021).

    ``z: (B, d)``, ``(B, T, d)`` or ``(B, C, H, W)`` (per pixel); ``Uₙ: (d, k)``; ``C: (k, o)``.
    ``x₁ = U₁ᵀz``, ``xₙ = (Uₙᵀz) ⊙ xₙ₋₁ + xₙ₋₁``, ``y = C x_N + β``: a polynomial of degree
    ``degree`` in ``z`` when ``act`` is ``none``. Hyper-parameters: ``degree`` N (number of
    multiplicative steps), ``rank`` k (hidden width), ``out`` o, ``bias`` of the factors,
    ``norm: layer`` on the degree-N term (helps at high degree), ``init_scale`` of ``U₂..U_N``
    (0 = start linear), ``act`` after every step (``none`` = pure polynomial).
    Params ``N(dk + k·bias) + ko + o`` (+ ``2k`` with ``norm: layer``).
    """

    op = "poly_ccp"
    hparams = {
        "degree": Param(int, 2, low=1, high=16, doc="polynomial degree N"),
        "rank": Param(int, 32, low=1, doc="hidden width k of the factor matrices"),
        "out": Param(int, None, low=1, doc="output width (default: input width)"),
        "bias": Param(bool, True, doc="biases in the factor projections"),
        "norm": Param(str, "none", choices=("none", "layer"), doc="normalise the product"),
        "init_scale": Param(float, 0.1, low=0.0, doc="scale of U₂..U_N at init (0 = linear)"),
        "act": Param(str, "none", choices=POLY_ACTS, doc="activation after each step"),
    }
    module = PolyCCP
    helpers = (make_activation,)
    formula = "xₙ = (Uₙᵀz) ⊙ xₙ₋₁ + xₙ₋₁; y = C x_N + β"
    complexity = "O(N·d·k + k·out)"
    paper = "Chrysos et al., Π-nets: Deep Polynomial Neural Networks (CVPR 2020)"
    examples = (
        ({"degree": 3, "rank": 6}, (TensorSpec((5,)),)),
        ({"degree": 2, "rank": 4, "norm": "layer", "out": 3}, (TensorSpec((4, 5)),)),
        ({"degree": 2, "rank": 4, "act": "tanh", "bias": False}, (TensorSpec((3, 3, 3)),)),
    )

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "in_features": ins[0].features,
            "rank": self.hp["rank"],
            "out_features": self.out_width(ins),
            "degree": self.hp["degree"],
            "bias": self.hp["bias"],
            "norm": self.hp["norm"],
            "init_scale": self.hp["init_scale"],
            "act": self.hp["act"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, k, o, n = ins[0].features, self.hp["rank"], self.out_width(ins), self.hp["degree"]
        norm = 2 * k if self.hp["norm"] == "layer" else 0
        return n * (d * k + (k if self.hp["bias"] else 0)) + k * o + o + norm

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d, k, o, n = ins[0].features, self.hp["rank"], out.features, self.hp["degree"]
        flops = self.tokens(out) * (2 * n * d * k + 2 * k * o + 2 * (n - 1) * k)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class PolyNCPDef(_PolyDef):
    """Π-net NCP / NCP-Skip polynomial (Chrysos et al., TPAMI 2021).

    ``z: (B, d)``, ``(B, T, d)`` or ``(B, C, H, W)`` (per pixel); ``Aₙ: (d, k)``,
    ``Sₙ, Vₙ: (k, k)``. ``x₁ = (A₁ᵀz) ⊙ b₁``,
    ``xₙ = skip(xₙ₋₁) + αₙ·(Aₙᵀz) ⊙ (Sₙᵀxₙ₋₁ + bₙ)``, ``y = C x_N + β``: degree ``degree``
    in ``z`` when ``act`` is ``none``. ``skip``: ``none`` (plain NCP, αₙ ≡ 1),
    ``identity`` or ``learned`` (NCP-Skip ``Vₙ xₙ₋₁``, ``Vₙ`` starts as the identity);
    ``alpha`` learns αₙ from 0 so the block starts linear (Π-net ``use_alpha``); ``norm: layer``
    on the degree-N term; ``act`` after every step.
    Params ``N·d·k + (N−1)(k²+k) + k + ko + o`` (NCP), ``+ (N−1)k²`` with ``skip: learned``,
    ``+ (N−1)`` with ``alpha``, ``+ 2k`` with ``norm: layer``.
    """

    op = "poly_ncp"
    hparams = {
        "degree": Param(int, 2, low=1, high=16, doc="polynomial degree N"),
        "rank": Param(int, 32, low=1, doc="hidden width k"),
        "out": Param(int, None, low=1, doc="output width (default: input width)"),
        "skip": Param(
            str, "learned", choices=("none", "identity", "learned"), doc="skip path of each step"
        ),
        "alpha": Param(bool, True, doc="gate each product by a learned α starting at 0"),
        "norm": Param(str, "none", choices=("none", "layer"), doc="normalise the product"),
        "act": Param(str, "none", choices=POLY_ACTS, doc="activation after each step"),
    }
    module = PolyNCP
    helpers = (make_activation,)
    formula = "xₙ = Vₙxₙ₋₁ + αₙ(Aₙᵀz) ⊙ (Sₙᵀxₙ₋₁ + bₙ); y = C x_N + β"
    complexity = "O(N·(d·k + k²) + k·out)"
    paper = "Chrysos et al., Deep Polynomial Neural Networks (TPAMI 2021)"
    examples = (
        ({"degree": 3, "rank": 5}, (TensorSpec((4,)),)),
        ({"degree": 2, "rank": 4, "skip": "none", "alpha": False}, (TensorSpec((3, 4)),)),
        ({"degree": 2, "rank": 3, "skip": "identity", "norm": "layer"}, (TensorSpec((2, 3, 3)),)),
    )

    def __init__(self, **hp: Any) -> None:
        super().__init__(**hp)
        if self.hp["alpha"] and self.hp["skip"] == "none":
            raise ValueError(
                "poly_ncp: alpha: true needs a skip path (α starts at 0, which would zero the "
                "output); set skip: identity or learned, or alpha: false"
            )

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "in_features": ins[0].features,
            "rank": self.hp["rank"],
            "out_features": self.out_width(ins),
            "degree": self.hp["degree"],
            "skip": self.hp["skip"],
            "alpha": self.hp["alpha"],
            "norm": self.hp["norm"],
            "act": self.hp["act"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, k, o, n = ins[0].features, self.hp["rank"], self.out_width(ins), self.hp["degree"]
        total = n * d * k + (n - 1) * (k * k + k) + k + k * o + o
        total += (n - 1) * k * k if self.hp["skip"] == "learned" else 0
        total += (n - 1) if self.hp["alpha"] else 0
        return total + (2 * k if self.hp["norm"] == "layer" else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d, k, o, n = ins[0].features, self.hp["rank"], out.features, self.hp["degree"]
        skip = self.hp["skip"] == "learned"
        macs = n * d * k + (n - 1) * k * k * (2 if skip else 1) + k * o
        flops = self.tokens(out) * (2 * macs + 4 * n * k)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class MIBilinearDef(PrimitiveDef):
    """Multiplicative interaction layer (Jayakumar et al., ICLR 2020).

    Two inputs ``x: (B, d_x)`` and context ``z: (B, d_z)`` (or per token ``(B, T, ·)``):
    ``f(x, z) = zᵀ𝕎x + Uz + Vx + b``, ``𝕎: (d_z, d_x, o)``; gating, hyper-networks and
    dynamic weights are special cases, and it replaces concatenation when fusing streams.
    ``rank: 0`` keeps the full tensor, ``rank: r`` uses ``P_o((P_z z) ⊙ (P_x x))``;
    ``linear_terms`` adds ``Uz + Vx``; ``bias`` adds ``b``. Without them the op is bilinear.
    Params full ``d_z d_x o + d_z o + d_x o + o``; low-rank ``r(d_z+d_x+o) + d_z o + d_x o + o``.
    """

    op = "mi_bilinear"
    domain = "higher_order"
    arity = (2, 2)
    layouts = frozenset({"V", "S"})
    hparams = {
        "rank": Param(int, 0, low=0, doc="0 = full 3-way tensor, r > 0 = rank-r factors"),
        "out": Param(int, None, low=1, doc="output width (default: width of x)"),
        "linear_terms": Param(bool, True, doc="add the linear terms Uz + Vx"),
        "bias": Param(bool, True, doc="add a bias b"),
    }
    module = MultiplicativeInteraction
    formula = "y = zᵀ𝕎x + Uz + Vx + b"
    complexity = "O(d_z·d_x·out) | O(r·(d_z+d_x+out))"
    paper = "Jayakumar et al., Multiplicative Interactions and Where to Find Them (ICLR 2020)"
    examples = (
        ({}, (TensorSpec((4,)), TensorSpec((3,)))),
        ({"rank": 3, "out": 5}, (TensorSpec((2, 4)), TensorSpec((2, 3)))),
        ({"linear_terms": False, "bias": False}, (TensorSpec((4,)), TensorSpec((4,)))),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        x, z = ins
        if x.shape[:-1] != z.shape[:-1]:
            raise ShapeError(
                f"mi_bilinear: x {x} and z {z} must agree on every axis but the features"
            )
        return x.with_features(self.out_width(ins))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "x_features": ins[0].features,
            "z_features": ins[1].features,
            "out_features": self.out_width(ins),
            "rank": self.hp["rank"],
            "linear_terms": self.hp["linear_terms"],
            "bias": self.hp["bias"],
        }

    def _macs(self, ins: Sequence[TensorSpec]) -> int:
        dx, dz, o, r = ins[0].features, ins[1].features, self.out_width(ins), self.hp["rank"]
        bilinear = dz * dx * o + dx * o if r == 0 else r * (dz + dx + o)
        return bilinear + ((dz + dx) * o if self.hp["linear_terms"] else 0)

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        dx, dz, o, r = ins[0].features, ins[1].features, self.out_width(ins), self.hp["rank"]
        total = dz * dx * o if r == 0 else r * (dz + dx + o)
        total += (dz + dx) * o if self.hp["linear_terms"] else 0
        return total + (o if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        tokens = out.numel // out.features
        flops = tokens * (2 * self._macs(ins) + 3 * out.features + self.hp["rank"])
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class QuadraticDef(PrimitiveDef):
    """Quadratic neuron (Fan, Cong & Wang, 2018; QAE).

    ``y = act((W_r x + b_r) ⊙ (W_g x + b_g) + W_b (x ⊙ x) + c)`` per feature vector
    ``(B, d)``/``(B, T, d)``, or with ``kernel × kernel`` convolutions on images ``(B, C, H, W)``.
    ``start_linear`` initialises ``W_g = 0, b_g = 1, W_b = 0`` so the neuron starts linear;
    ``act`` is applied last (``none`` = a degree-2 polynomial); ``kernel`` (odd) for images.
    Params ``3(d·o + o)`` (images ``3(k²·C·o + o)``).
    """

    op = "quadratic"
    domain = "higher_order"
    hparams = {
        "out": Param(int, None, low=1, doc="output width (default: input width)"),
        "act": Param(str, "none", choices=POLY_ACTS, doc="output activation"),
        "start_linear": Param(bool, True, doc="W_g = 0, b_g = 1, W_b = 0 at init"),
        "kernel": Param(int, 1, choices=(1, 3, 5, 7), doc="convolution kernel (images only)"),
    }
    module = Quadratic
    helpers = (make_activation, same_padding)
    formula = "y = act((W_r x + b_r) ⊙ (W_g x + b_g) + W_b(x ⊙ x) + c)"
    complexity = "O(3·d·out)"
    paper = "Fan, Cong & Wang, A new type of neurons for machine learning (2018)"
    examples = (
        ({"start_linear": False}, (TensorSpec((5,)),)),
        ({"out": 3, "act": "relu"}, (TensorSpec((4, 5)),)),
        ({"kernel": 3, "start_linear": False}, (TensorSpec((2, 4, 4)),)),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        if self.hp["kernel"] != 1 and ins[0].layout != "I":
            raise ShapeError(
                f"quadratic: kernel {self.hp['kernel']} needs an image input, got {ins[0]}"
            )
        return ins[0].with_features(self.out_width(ins))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "in_features": ins[0].features,
            "out_features": self.out_width(ins),
            "act": self.hp["act"],
            "start_linear": self.hp["start_linear"],
            "image": ins[0].layout == "I",
            "kernel": self.hp["kernel"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, o, k = ins[0].features, self.out_width(ins), self.hp["kernel"]
        return 3 * (k * k * d * o + o)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d, o, k = ins[0].features, out.features, self.hp["kernel"]
        positions = out.numel // o
        flops = positions * (6 * k * k * d * o + 4 * o) + ins[0].numel
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))
