"""Multimodal fusion (survey §3): two views ``x₀: (B, d₀)``, ``x₁: (B, d₁)`` → ``(B, out)``.

Written from the formulas of Cadene's block.bootstrap fusions (LinearSum, ConcatMLP, MLB,
MFB/MFH, Mutan, Block) and of FiLM. Two deliberate departures from that reference:

* no output activation by default (``out_act: none``): the reference ends every fusion in a
  ReLU, which in front of a classifier head cut accuracy from ~0.97 to ~0.55–0.69 in a check;
* ``mm_dim`` (and ``concat_mlp``'s ``hidden``) default to the first input's width, so every
  fusion has about the parameters of the ``linear_sum`` baseline at the same width.

Sequences ``(B, T, d)`` are fused per token when both views have the same ``T``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, ShapeError, TensorSpec, io_bytes
from hadnas.primitives._functional import (
    ACT_NAMES,
    chunk_sizes,
    make_activation,
    signed_sqrt_l2,
)
from hadnas.primitives._registry import register_primitive

PAPER_BLOCK = "Ben-younes et al., BLOCK: Bilinear Superdiagonal Fusion (AAAI 2019)"


class ProjectedFusion(nn.Module):
    """``out_act(W_o · norm(act(W₀x₀) ∘ act(W₁x₁)))`` with ∘ = ``+`` (sum) or ``⊙`` (product)."""

    def __init__(
        self,
        x0_features: int,
        x1_features: int,
        mm_dim: int,
        out_features: int,
        mode: str = "product",
        act: str = "relu",
        normalize: bool = False,
        dropout: float = 0.0,
        bias: bool = True,
        out_act: str = "none",
    ) -> None:
        super().__init__()
        self.mode = mode
        self.normalize = normalize
        self.lin0 = nn.Linear(x0_features, mm_dim, bias=bias)
        self.lin1 = nn.Linear(x1_features, mm_dim, bias=bias)
        self.lin_out = nn.Linear(mm_dim, out_features, bias=bias)
        self.act = make_activation(act)
        self.out_act = make_activation(out_act)
        self.drop = nn.Dropout(dropout)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        a = self.act(self.lin0(self.drop(x0)))
        b = self.act(self.lin1(self.drop(x1)))
        z = a * b if self.mode == "product" else a + b
        if self.normalize:
            z = signed_sqrt_l2(z)
        return self.out_act(self.lin_out(z))


class ConcatMLPFusion(nn.Module):
    """``MLP([x₀; x₁])``: ``layers`` hidden ``Linear → act`` stages and a linear output."""

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int,
        layers: int = 1,
        act: str = "relu",
        dropout: float = 0.0,
        bias: bool = True,
        out_act: str = "none",
    ) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Dropout(dropout)]
        width = in_features
        for _ in range(layers):
            mods += [nn.Linear(width, hidden, bias=bias), make_activation(act)]
            width = hidden
        mods += [nn.Linear(width, out_features, bias=bias), make_activation(out_act)]
        self.net = nn.Sequential(*mods)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x0, x1], dim=-1))


class MFHFusion(nn.Module):
    """Multi-modal factorised bilinear (MFB, ``order = 1``) and high-order pooling (MFH).

    ``s₁ = act(W₀¹x₀) ⊙ act(W₁¹x₁)``, ``sₚ = act(W₀ᵖx₀) ⊙ act(W₁ᵖx₁) ⊙ sₚ₋₁`` (width m·k);
    ``zₚ = norm(sum-pool_k(sₚ))`` (width m); ``y = out_act(W_o [z₁; …; z_P])``.
    """

    def __init__(
        self,
        x0_features: int,
        x1_features: int,
        mm_dim: int,
        out_features: int,
        factor: int = 2,
        order: int = 1,
        act: str = "relu",
        normalize: bool = True,
        dropout: float = 0.0,
        bias: bool = True,
        out_act: str = "none",
    ) -> None:
        super().__init__()
        self.mm_dim, self.factor, self.normalize = mm_dim, factor, normalize
        width = mm_dim * factor
        self.lin0 = nn.ModuleList(nn.Linear(x0_features, width, bias=bias) for _ in range(order))
        self.lin1 = nn.ModuleList(nn.Linear(x1_features, width, bias=bias) for _ in range(order))
        self.lin_out = nn.Linear(order * mm_dim, out_features, bias=bias)
        self.act = make_activation(act)
        self.out_act = make_activation(out_act)
        self.drop = nn.Dropout(dropout)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        x0, x1 = self.drop(x0), self.drop(x1)
        zs, s = [], None
        for lin0, lin1 in zip(self.lin0, self.lin1):
            p = self.act(lin0(x0)) * self.act(lin1(x1))
            s = p if s is None else p * s
            z = s.unflatten(-1, (self.mm_dim, self.factor)).sum(-1)  # (..., m)
            zs.append(signed_sqrt_l2(z) if self.normalize else z)
        return self.out_act(self.lin_out(torch.cat(zs, dim=-1)))


class BlockFusion(nn.Module):
    """Block-superdiagonal Tucker fusion (BLOCK); one chunk is Mutan.

    ``x̃ᵢ = act(Wᵢxᵢ)`` (width m) split into ``chunks`` pieces of width s_c; per chunk
    ``z_c = Σ_{r≤R} (M₀ᶜʳ x̃₀ᶜ) ⊙ (M₁ᶜʳ x̃₁ᶜ)`` (rank-R slices of the core tensor), normalised per
    chunk when ``normalize``; ``y = out_act(W_o [z_1; …; z_C])``.
    """

    def __init__(
        self,
        x0_features: int,
        x1_features: int,
        mm_dim: int,
        out_features: int,
        chunks: int = 1,
        rank: int = 4,
        act: str = "none",
        normalize: bool = False,
        dropout: float = 0.0,
        bias: bool = True,
        out_act: str = "none",
    ) -> None:
        super().__init__()
        self.sizes = chunk_sizes(mm_dim, chunks)
        self.rank, self.normalize = rank, normalize
        self.lin0 = nn.Linear(x0_features, mm_dim, bias=bias)
        self.lin1 = nn.Linear(x1_features, mm_dim, bias=bias)
        self.merge0 = nn.ModuleList(nn.Linear(s, s * rank, bias=bias) for s in self.sizes)
        self.merge1 = nn.ModuleList(nn.Linear(s, s * rank, bias=bias) for s in self.sizes)
        self.lin_out = nn.Linear(mm_dim, out_features, bias=bias)
        self.act = make_activation(act)
        self.out_act = make_activation(out_act)
        self.drop = nn.Dropout(dropout)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        a = self.act(self.lin0(self.drop(x0))).split(self.sizes, dim=-1)
        b = self.act(self.lin1(self.drop(x1))).split(self.sizes, dim=-1)
        zs = []
        for ac, bc, m0, m1, s in zip(a, b, self.merge0, self.merge1, self.sizes):
            z = (m0(ac) * m1(bc)).unflatten(-1, (self.rank, s)).sum(-2)  # (..., s)
            zs.append(signed_sqrt_l2(z) if self.normalize else z)
        return self.out_act(self.lin_out(torch.cat(zs, dim=-1)))


class FiLM(nn.Module):
    """Feature-wise linear modulation ``y = (γ₀ + Δγ(c)) ⊙ x + β(c)``, broadcast over T or H, W.

    The generator is one linear map of the condition with tiny weights and zero bias, so with
    ``gamma_baseline = 1`` the layer starts as the identity (FiLM's γ = 1 + Δγ).
    """

    def __init__(
        self,
        features: int,
        cond_features: int,
        gamma_baseline: float = 1.0,
        use_gamma: bool = True,
        use_beta: bool = True,
    ) -> None:
        super().__init__()
        self.gamma_baseline = gamma_baseline
        self.use_gamma, self.use_beta = use_gamma, use_beta
        n = int(use_gamma) + int(use_beta)
        self.gen = nn.Linear(cond_features, n * features)
        with torch.no_grad():
            nn.init.normal_(self.gen.weight, std=1e-2)
            nn.init.zeros_(self.gen.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        gb = self.gen(c)  # (B, n·C) or (B, T, n·C)
        if x.dim() == 4:  # image: broadcast over H, W
            gb = gb[:, :, None, None]
        elif x.dim() == 3 and c.dim() == 2:  # sequence with one condition per sample
            gb = gb[:, None, :]
        dim = 1 if x.dim() == 4 else -1
        parts = gb.chunk(int(self.use_gamma) + int(self.use_beta), dim=dim)
        y = (self.gamma_baseline + parts[0]) * x if self.use_gamma else self.gamma_baseline * x
        if self.use_beta:
            y = y + parts[-1]
        return y


_COMMON = {
    "mm_dim": Param(int, None, low=1, doc="width of the joint space (default: width of x₀)"),
    "out": Param(int, None, low=1, doc="output width (default: width of x₀)"),
    "dropout": Param(float, 0.0, low=0.0, high=0.95, doc="dropout on both inputs"),
    "bias": Param(bool, True, doc="biases in every projection"),
    "out_act": Param(
        str, "none", choices=ACT_NAMES, doc="activation after the output projection (ref: relu)"
    ),
}


def _act(default: str) -> Param:
    return Param(str, default, choices=ACT_NAMES, doc="activation of the input projections")


def _normalize(default: bool) -> Param:
    return Param(bool, default, doc="signed square root + L2 normalisation of the fused code")


_PAIR_V = (TensorSpec((6,)), TensorSpec((4,)))
_PAIR_S = (TensorSpec((3, 5)), TensorSpec((3, 4)))


class _FusionDef(PrimitiveDef):
    domain = "fusion"
    arity = (2, 2)
    layouts = frozenset({"V", "S"})

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        a, b = ins
        if a.shape[:-1] != b.shape[:-1]:
            raise ShapeError(
                f"{self.op}: input 0 has shape {a} but input 1 has shape {b}; fusion needs two "
                "vectors, or two sequences of the same length (only the widths may differ)"
            )
        return a.with_features(self.out_width(ins))

    def mm(self, ins: Sequence[TensorSpec]) -> int:
        return self.out_width(ins, "mm_dim")

    def base_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        kw = {
            "x0_features": ins[0].features,
            "x1_features": ins[1].features,
            "mm_dim": self.mm(ins),
            "out_features": self.out_width(ins),
        }
        keys = ("act", "normalize", "dropout", "bias", "out_act")
        return kw | {k: self.hp[k] for k in keys if k in self.hp}

    def macs(self, ins: Sequence[TensorSpec]) -> int:
        """Multiply-accumulates per token; the default counts ``num_params`` once each."""
        return self.num_params(ins)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        tokens = out.numel // out.features
        flops = tokens * (2 * self.macs(ins) + 4 * self.mm(ins))
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


class _ProjectedDef(_FusionDef):
    mode = "product"
    hparams = {**_COMMON, "act": _act("relu"), "normalize": _normalize(False)}
    module = ProjectedFusion
    helpers = (make_activation, signed_sqrt_l2)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return self.base_kwargs(ins) | {"mode": self.mode}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d0, d1, m, o = ins[0].features, ins[1].features, self.mm(ins), self.out_width(ins)
        return (d0 + d1) * m + m * o + ((2 * m + o) if self.hp["bias"] else 0)


@register_primitive
class LinearSumDef(_ProjectedDef):
    """Additive fusion baseline ``y = W_o(act(W₀x₀) + act(W₁x₁))`` (Cadene's LinearSum).

    ``mm_dim`` m is the joint width; ``act`` the input activation; ``normalize`` applies signed
    square root + L2 to the sum. Params ``(d₀+d₁)m + mo`` (+ ``2m + o`` with bias).
    """

    op = "linear_sum"
    mode = "sum"
    formula = "y = W_o(act(W₀x₀) + act(W₁x₁))"
    complexity = "O((d₀+d₁)·m + m·out)"
    paper = PAPER_BLOCK
    examples = (({}, _PAIR_V), ({"mm_dim": 3, "out": 2, "normalize": True}, _PAIR_S))


@register_primitive
class MLBDef(_ProjectedDef):
    """Multimodal low-rank bilinear pooling ``y = W_o(act(W₀x₀) ⊙ act(W₁x₁))``.

    Kim et al. use ``tanh``; Cadene's default (kept here) is ``relu``. ``mm_dim`` m is the
    rank of the bilinear map; ``normalize`` applies signed square root + L2 to the product.
    Params ``(d₀+d₁)m + mo`` (+ ``2m + o`` with bias).
    """

    op = "mlb"
    formula = "y = W_o(act(W₀x₀) ⊙ act(W₁x₁))"
    complexity = "O((d₀+d₁)·m + m·out)"
    paper = "Kim et al., Hadamard Product for Low-rank Bilinear Pooling (ICLR 2017)"
    examples = (({}, _PAIR_V), ({"mm_dim": 3, "act": "tanh", "normalize": True}, _PAIR_S))


@register_primitive
class ConcatMLPDef(_FusionDef):
    """Concatenation fusion baseline ``y = MLP([x₀; x₁])`` (Cadene's ConcatMLP).

    ``layers`` hidden layers of width ``hidden`` (default: width of x₀) with activation ``act``,
    then a linear output. Params ``(d₀+d₁)h + (layers−1)h² + ho`` (+ ``layers·h + o``).
    """

    op = "concat_mlp"
    hparams = {
        "hidden": Param(int, None, low=1, doc="hidden width (default: width of x₀)"),
        "layers": Param(int, 1, low=1, high=4, doc="number of hidden layers"),
        "act": Param(str, "relu", choices=ACT_NAMES, doc="hidden activation"),
        **{k: v for k, v in _COMMON.items() if k != "mm_dim"},
    }
    module = ConcatMLPFusion
    helpers = (make_activation,)
    formula = "y = MLP([x₀; x₁])"
    complexity = "O((d₀+d₁)·h + h·out)"
    paper = PAPER_BLOCK
    examples = (({}, _PAIR_V), ({"hidden": 3, "layers": 2, "act": "gelu"}, _PAIR_S))

    def mm(self, ins: Sequence[TensorSpec]) -> int:
        return self.out_width(ins, "hidden")

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        keys = ("layers", "act", "dropout", "bias", "out_act")
        return {
            "in_features": ins[0].features + ins[1].features,
            "hidden": self.mm(ins),
            "out_features": self.out_width(ins),
        } | {k: self.hp[k] for k in keys}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, h, o = ins[0].features + ins[1].features, self.mm(ins), self.out_width(ins)
        n = self.hp["layers"]
        weights = d * h + (n - 1) * h * h + h * o
        return weights + ((n * h + o) if self.hp["bias"] else 0)


@register_primitive
class MFBDef(_FusionDef):
    """Multi-modal factorised bilinear pooling (MFB) and its high-order cascade (MFH).

    ``s₁ = act(W₀¹x₀) ⊙ act(W₁¹x₁)`` of width ``mm_dim·factor``, ``z₁ = sum-pool_factor(s₁)``;
    with ``order`` p > 1 each further ``sₚ = act(W₀ᵖx₀) ⊙ act(W₁ᵖx₁) ⊙ sₚ₋₁`` is pooled too
    (MFH) and ``y = W_o[z₁; …; z_p]``. ``normalize`` (default on, as in MFB) applies signed
    square root + L2 to each ``zₚ``, which keeps the high-order products in range.
    Params ``p[(d₀+d₁)mk + 2mk] + pmo + o``.
    """

    op = "mfb"
    hparams = {
        **_COMMON,
        "factor": Param(int, 2, low=1, high=16, doc="factor k summed by the pooling"),
        "order": Param(int, 1, low=1, high=4, doc="1 = MFB, p > 1 = MFH with p cascaded blocks"),
        "act": _act("relu"),
        "normalize": _normalize(True),
    }
    module = MFHFusion
    helpers = (make_activation, signed_sqrt_l2)
    formula = "zₚ = pool_k(act(W₀ᵖx₀) ⊙ act(W₁ᵖx₁) ⊙ sₚ₋₁); y = W_o[z₁;…;z_p]"
    complexity = "O(p·(d₀+d₁)·m·k + p·m·out)"
    paper = (
        "Yu et al., Beyond Bilinear: Generalized Multimodal Factorized High-order Pooling (2018)"
    )
    examples = (
        ({"mm_dim": 3, "factor": 2}, _PAIR_V),
        ({"mm_dim": 2, "factor": 3, "order": 2, "normalize": False}, _PAIR_S),
    )

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return self.base_kwargs(ins) | {"factor": self.hp["factor"], "order": self.hp["order"]}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d0, d1, m, o = ins[0].features, ins[1].features, self.mm(ins), self.out_width(ins)
        k, p, b = self.hp["factor"], self.hp["order"], int(self.hp["bias"])
        return p * ((d0 + d1) * m * k + b * 2 * m * k) + p * m * o + b * o


class _BlockBaseDef(_FusionDef):
    module = BlockFusion
    helpers = (make_activation, signed_sqrt_l2, chunk_sizes)

    def chunks(self) -> int:
        return 1

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        out = super().infer(ins)
        if self.chunks() > self.mm(ins):
            raise ShapeError(
                f"{self.op}: chunks={self.chunks()} exceeds mm_dim={self.mm(ins)} (inputs "
                f"{ins[0]} and {ins[1]}); lower chunks or raise mm_dim"
            )
        return out

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return self.base_kwargs(ins) | {"chunks": self.chunks(), "rank": self.hp["rank"]}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d0, d1, m, o = ins[0].features, ins[1].features, self.mm(ins), self.out_width(ins)
        r, b = self.hp["rank"], int(self.hp["bias"])
        core = sum(2 * (s * s * r + b * s * r) for s in chunk_sizes(m, self.chunks()))
        return (d0 + d1) * m + b * 2 * m + core + m * o + b * o


@register_primitive
class MutanDef(_BlockBaseDef):
    """MUTAN: Tucker fusion with a rank-R core (Ben-younes et al., ICCV 2017).

    ``x̃ᵢ = act(Wᵢxᵢ)`` (width m), ``z = Σ_{r≤R} (M₀ʳx̃₀) ⊙ (M₁ʳx̃₁)``, ``y = W_o z``; ``rank`` R
    trades expressiveness for ``2m²R`` parameters. Params ``(d₀+d₁)m + 2m + 2(m²R + mR) + mo + o``.
    """

    op = "mutan"
    hparams = {
        **_COMMON,
        "rank": Param(int, 5, low=1, high=64, doc="rank R of the Tucker core"),
        "act": _act("none"),
        "normalize": _normalize(False),
    }
    formula = "z = Σ_r (M₀ʳ W₀x₀) ⊙ (M₁ʳ W₁x₁); y = W_o z"
    complexity = "O((d₀+d₁)·m + 2·m²·R + m·out)"
    paper = "Ben-younes et al., MUTAN: Multimodal Tucker Fusion for VQA (ICCV 2017)"
    examples = (({"mm_dim": 4, "rank": 2}, _PAIR_V), ({"mm_dim": 3, "rank": 3}, _PAIR_S))


@register_primitive
class BlockDef(_BlockBaseDef):
    """BLOCK: block-superdiagonal tensor fusion (Ben-younes et al., AAAI 2019).

    ``mm_dim`` m is split into ``chunks`` C blocks (sizes differ by at most one); each block
    is a rank-``rank`` Mutan product, normalised per block when ``normalize``; the blocks are
    concatenated and projected. Params ``(d₀+d₁)m + 2m + Σ_c 2(s_c²R + s_cR) + mo + o``.
    """

    op = "block"
    hparams = {
        **_COMMON,
        "chunks": Param(int, 4, low=1, high=64, doc="number of blocks C"),
        "rank": Param(int, 4, low=1, high=64, doc="rank R of each block's core"),
        "act": _act("none"),
        "normalize": _normalize(False),
    }
    formula = "z = [Σ_r (M₀ᶜʳx̃₀ᶜ) ⊙ (M₁ᶜʳx̃₁ᶜ)]_c; y = W_o z"
    complexity = "O((d₀+d₁)·m + 2·m²·R/C + m·out)"
    paper = PAPER_BLOCK
    examples = (
        ({"mm_dim": 5, "chunks": 2, "rank": 2}, _PAIR_V),
        ({"mm_dim": 4, "chunks": 4, "rank": 2, "normalize": True}, _PAIR_S),
    )

    def chunks(self) -> int:
        return int(self.hp["chunks"])


@register_primitive
class FiLMDef(PrimitiveDef):
    """FiLM: feature-wise linear modulation (Perez et al., AAAI 2018).

    ``x``: vector ``(B, C)``, sequence ``(B, T, C)`` or image ``(B, C, H, W)``; condition ``c``:
    ``(B, d_c)`` (broadcast over T or H, W) or, for a sequence, ``(B, T, d_c)`` per token.
    ``(Δγ, β) = W c + b``; ``y = (gamma_baseline + Δγ) ⊙ x + β``. ``gamma_baseline: 1`` with a
    tiny generator makes the layer start as the identity; ``use_gamma``/``use_beta`` drop a
    term. Params ``n(d_c·C + C)`` with n = number of terms used (2 by default).
    """

    op = "film"
    domain = "fusion"
    arity = (2, 2)
    hparams = {
        "gamma_baseline": Param(float, 1.0, choices=(0.0, 1.0), doc="γ = baseline + Δγ(c)"),
        "use_gamma": Param(bool, True, doc="multiplicative term"),
        "use_beta": Param(bool, True, doc="additive term"),
    }
    module = FiLM
    formula = "y = (γ₀ + Δγ(c)) ⊙ x + β(c)"
    complexity = "O(d_c·C + numel)"
    paper = "Perez et al., FiLM: Visual Reasoning with a General Conditioning Layer (AAAI 2018)"
    examples = (
        ({}, (TensorSpec((5,)), TensorSpec((3,)))),
        ({"use_beta": False}, (TensorSpec((4, 5)), TensorSpec((3,)))),
        ({"gamma_baseline": 0.0}, (TensorSpec((4, 5)), TensorSpec((4, 2)))),
        ({}, (TensorSpec((3, 4, 4)), TensorSpec((2,)))),
    )

    def __init__(self, **hp: Any) -> None:
        super().__init__(**hp)
        if not (self.hp["use_gamma"] or self.hp["use_beta"]):
            raise ValueError("film: use_gamma and use_beta cannot both be false")

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        x, c = ins
        per_token = x.layout == "S" and c.layout == "S" and c.shape[0] == x.shape[0]
        if c.layout != "V" and not per_token:
            raise ShapeError(
                f"film: the condition (input 1) has shape {c} but x has shape {x}; the "
                "condition must be a vector (B, d_c), or a sequence with the same T as x"
            )
        return x

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "features": ins[0].features,
            "cond_features": ins[1].features,
            "gamma_baseline": self.hp["gamma_baseline"],
            "use_gamma": self.hp["use_gamma"],
            "use_beta": self.hp["use_beta"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        n = int(self.hp["use_gamma"]) + int(self.hp["use_beta"])
        return n * (ins[1].features * ins[0].features + ins[0].features)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        cond_tokens = ins[1].numel // ins[1].features
        flops = 2 * cond_tokens * self.num_params(ins) + 2 * out.numel
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))
