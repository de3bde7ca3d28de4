"""Token mixers on sequences ``(B, T, d)`` (survey §5): softmax attention, the baseline, and the
element-wise "attention-free" operators AFT (simple, local, full) and linear attention.

With ``causal: true`` every mixer is exactly causal: output ``t`` has an exactly-zero gradient
with respect to inputs ``t' > t`` (the conformance suite checks it). AFT subtracts a detached
maximum before every ``exp`` (the reference code overflows without it); that shift cancels in
the ratio, so it changes neither the value nor the gradient.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, ShapeError, TensorSpec, io_bytes
from hadnas.primitives._registry import register_primitive


class MultiHeadAttention(nn.Module):
    """Softmax multi-head self-attention ``softmax(QKᵀ/√D [+ causal mask]) V`` then ``W_o``."""

    def __init__(
        self, features: int, heads: int, head_dim: int, causal: bool = False, bias: bool = True
    ) -> None:
        super().__init__()
        self.heads, self.head_dim, self.causal = heads, head_dim, causal
        self.qkv = nn.Linear(features, 3 * heads * head_dim, bias=bias)
        self.proj = nn.Linear(heads * head_dim, features, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d)
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        return self.proj(y.transpose(1, 2).reshape(b, t, -1))  # (B, T, d)


class AFTSimple(nn.Module):
    """AFT-simple: ``Y_t = σ(Q_t) ⊙ Σ_{t'} softmax_{t'}(K)_{t'} ⊙ V_{t'}`` (per channel), then
    ``W_o``. ``causal`` restricts the sum to ``t' ≤ t`` with prefix sums; O(T·h)."""

    def __init__(self, features: int, hidden: int, causal: bool = False) -> None:
        super().__init__()
        self.causal = causal
        self.q = nn.Linear(features, hidden)
        self.k = nn.Linear(features, hidden)
        self.v = nn.Linear(features, hidden)
        self.out = nn.Linear(hidden, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d)
        q, k, v = self.q(x), self.k(x), self.v(x)  # (B, T, h)
        w = torch.exp(k - k.amax(dim=1, keepdim=True).detach())
        if self.causal:
            num, den = torch.cumsum(w * v, dim=1), torch.cumsum(w, dim=1)
        else:
            num, den = (w * v).sum(1, keepdim=True), w.sum(1, keepdim=True)
        y = torch.sigmoid(q) * num / den.clamp_min(torch.finfo(den.dtype).tiny)
        return self.out(y)


class AFTFull(nn.Module):
    """AFT-full / AFT-local with a learned pair-wise position bias ``w: (T, T)``.

    ``Y_t = σ(Q_t) ⊙ Σ_{t'} exp(K_{t'} + w_{t,t'}) ⊙ V_{t'} / Σ_{t'} exp(K_{t'} + w_{t,t'})``,
    computed as ``exp(w) @ (exp(K) ⊙ V)`` (O(T²·h) time, O(T² + T·h) memory). ``window`` s > 0
    zeroes w outside ``|t − t'| < s`` (AFT-local); ``causal`` drops ``t' > t``; ``pos_rank`` r > 0
    factorises ``w = u vᵀ``. The full bias starts at 0, i.e. as AFT-simple.
    """

    band: torch.Tensor
    allowed: torch.Tensor

    def __init__(
        self,
        features: int,
        hidden: int,
        seq_len: int,
        causal: bool = False,
        window: int = 0,
        pos_rank: int = 0,
    ) -> None:
        super().__init__()
        self.causal, self.window, self.pos_rank = causal, window, pos_rank
        self.q = nn.Linear(features, hidden)
        self.k = nn.Linear(features, hidden)
        self.v = nn.Linear(features, hidden)
        self.out = nn.Linear(hidden, features)
        if pos_rank > 0:
            self.pos_u = nn.Parameter(torch.randn(seq_len, pos_rank) * 0.01)
            self.pos_v = nn.Parameter(torch.randn(seq_len, pos_rank) * 0.01)
        else:
            self.pos_w = nn.Parameter(torch.zeros(seq_len, seq_len))
        t = torch.arange(seq_len)
        offset = t[:, None] - t[None, :]  # t - t'
        self.register_buffer("band", (offset.abs() < window).float(), persistent=False)
        self.register_buffer("allowed", offset >= 0, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d)
        q, k, v = self.q(x), self.k(x), self.v(x)  # (B, T, h)
        w = self.pos_u @ self.pos_v.T if self.pos_rank > 0 else self.pos_w  # (T, T)
        if self.window > 0:
            w = w * self.band
        if self.causal:
            w = w.masked_fill(~self.allowed, float("-inf"))
        ew = torch.exp(w - w.amax(dim=1, keepdim=True).detach())  # (T, T)
        ek = torch.exp(k - k.amax(dim=1, keepdim=True).detach())  # (B, T, h)
        num = torch.matmul(ew, ek * v)
        den = torch.matmul(ew, ek).clamp_min(torch.finfo(k.dtype).tiny)
        return self.out(torch.sigmoid(q) * num / den)


class LinearAttention(nn.Module):
    """Linear attention (Katharopoulos et al. 2020) with the ``elu + 1`` feature map φ:
    ``y_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / (φ(q_i)ᵀ Σ_j φ(k_j))`` per head, then ``W_o``.

    ``causal`` sums over ``j ≤ i`` chunk by chunk: masked quadratic inside a chunk of ``chunk``
    tokens plus a running ``D × D`` state across chunks; O(T·(chunk + D)·d) time.
    """

    def __init__(
        self, features: int, heads: int = 1, causal: bool = False, chunk: int = 64
    ) -> None:
        super().__init__()
        self.heads, self.causal, self.chunk = heads, causal, chunk
        self.q = nn.Linear(features, features)
        self.k = nn.Linear(features, features)
        self.v = nn.Linear(features, features)
        self.out = nn.Linear(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d)
        b, t, d = x.shape

        def split(y: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, H, T, D)
            return y.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        q = split(nn.functional.elu(self.q(x)) + 1.0)
        k = split(nn.functional.elu(self.k(x)) + 1.0)
        v = split(self.v(x))
        eps = 1e-6
        if not self.causal:
            kv = k.transpose(-1, -2) @ v  # (B, H, D, D)
            den = q @ k.sum(dim=2, keepdim=True).transpose(-1, -2)  # (B, H, T, 1)
            y = (q @ kv) / (den + eps)
        else:
            state = q.new_zeros(b, self.heads, d // self.heads, d // self.heads)
            norm = q.new_zeros(b, self.heads, d // self.heads, 1)
            outs = []
            for s in range(0, t, self.chunk):
                qc, kc, vc = (
                    q[:, :, s : s + self.chunk],
                    k[:, :, s : s + self.chunk],
                    v[:, :, s : s + self.chunk],
                )
                a = torch.tril(qc @ kc.transpose(-1, -2))  # (B, H, c, c), j ≤ i only
                num = a @ vc + qc @ state
                den = a.sum(dim=-1, keepdim=True) + qc @ norm
                outs.append(num / (den + eps))
                state = state + kc.transpose(-1, -2) @ vc
                norm = norm + kc.sum(dim=2, keepdim=True).transpose(-1, -2)
            y = torch.cat(outs, dim=2)
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class _MixerDef(PrimitiveDef):
    domain = "pairwise"
    layouts = frozenset({"S"})
    causal_capable = True

    def hidden(self, ins: Sequence[TensorSpec]) -> int:
        return self.out_width(ins, "hidden")


def _causal() -> Param:
    return Param(bool, False, doc="output t sees inputs t' ≤ t only")


@register_primitive
class AttentionDef(_MixerDef):
    """Softmax multi-head self-attention (Vaswani et al., 2017): the quadratic baseline.

    ``(B, T, d) → (B, T, d)``: ``heads`` H heads of width ``head_dim`` D (default d/H);
    ``causal`` masks the future. Runs on torch's fused ``scaled_dot_product_attention`` (O(T²·d)
    time, O(T·d) memory on CPU). Params ``4(d·HD) + 3HD + d`` with bias (``4(d²+d)`` at HD = d).
    """

    op = "attention"
    domain = "control"
    hparams = {
        "heads": Param(int, 1, low=1, high=64, doc="number of heads H"),
        "head_dim": Param(int, None, low=1, doc="width D of a head (default d/H)"),
        "causal": _causal(),
        "bias": Param(bool, True, doc="biases in the projections"),
    }
    module = MultiHeadAttention
    formula = "y = W_o softmax(QKᵀ/√D) V"
    complexity = "O(T²·d + T·d²)"
    paper = "Vaswani et al., Attention Is All You Need (NeurIPS 2017)"
    examples = (
        ({"heads": 2}, (TensorSpec((5, 4)),)),
        ({"heads": 2, "causal": True, "head_dim": 3, "bias": False}, (TensorSpec((6, 4)),)),
    )

    def head_dim(self, ins: Sequence[TensorSpec]) -> int:
        if self.hp["head_dim"] is not None:
            return int(self.hp["head_dim"])
        return ins[0].features // self.hp["heads"]

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        if self.hp["head_dim"] is None and ins[0].features % self.hp["heads"]:
            raise ShapeError(
                f"attention: heads={self.hp['heads']} must divide the width of input {ins[0]} "
                "(or set head_dim)"
            )
        return ins[0]

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "features": ins[0].features,
            "heads": self.hp["heads"],
            "head_dim": self.head_dim(ins),
            "causal": self.hp["causal"],
            "bias": self.hp["bias"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, inner = ins[0].features, self.hp["heads"] * self.head_dim(ins)
        return 4 * d * inner + ((3 * inner + d) if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t, d = ins[0].shape
        h, inner = self.hp["heads"], self.hp["heads"] * self.head_dim(ins)
        pairs = t * (t + 1) // 2 if self.hp["causal"] else t * t
        flops = 2 * t * 4 * d * inner + 4 * pairs * inner + 5 * pairs * h
        interm = 4 * 4 * t * inner
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + interm)


class _AFTDef(_MixerDef):
    hparams_common = {
        "hidden": Param(int, None, low=1, doc="width h of Q, K, V (default d)"),
        "causal": _causal(),
    }

    def proj_params(self, ins: Sequence[TensorSpec]) -> int:
        d, h = ins[0].features, self.hidden(ins)
        return 3 * (d * h + h) + h * d + d

    def proj_flops(self, ins: Sequence[TensorSpec]) -> int:
        t, d = ins[0].shape
        return 2 * t * 4 * d * self.hidden(ins) + 8 * t * self.hidden(ins)


@register_primitive
class AFTSimpleDef(_AFTDef):
    """AFT-simple (Zhai et al., An Attention Free Transformer, 2021).

    ``(B, T, d) → (B, T, d)``: ``Y_t = σ(Q_t) ⊙ Σ_{t'} softmax_{t'}(K) ⊙ V_{t'}``, an element-wise
    gate on one global context (prefix contexts with ``causal``). ``hidden`` h is the width of
    Q, K, V. Linear in T, any length. Params ``3(dh + h) + hd + d``.
    """

    op = "aft_simple"
    hparams = dict(_AFTDef.hparams_common)
    module = AFTSimple
    formula = "Y_t = σ(Q_t) ⊙ Σ_{t'≤t} softmax_{t'}(K) ⊙ V_{t'}"
    complexity = "O(T·d·h)"
    paper = "Zhai et al., An Attention Free Transformer (2021)"
    examples = (
        ({}, (TensorSpec((5, 4)),)),
        ({"causal": True, "hidden": 3}, (TensorSpec((6, 4)),)),
    )

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "features": ins[0].features,
            "hidden": self.hidden(ins),
            "causal": self.hp["causal"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return self.proj_params(ins)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t, h = ins[0].shape[0], self.hidden(ins)
        flops = self.proj_flops(ins) + 6 * t * h
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + 4 * 4 * t * h)


@register_primitive
class AFTFullDef(_AFTDef):
    """AFT-full (Zhai et al., 2021): AFT with a learned pair-wise position bias ``w: (T, T)``.

    ``Y_t = σ(Q_t) ⊙ Σ_{t'} exp(K_{t'} + w_{t,t'}) ⊙ V_{t'} / Σ_{t'} exp(K_{t'} + w_{t,t'})``.
    T is fixed at build time (from the input spec). ``pos_rank`` r > 0 factorises
    ``w = u vᵀ`` (2Tr parameters instead of T²); ``causal`` masks ``t' > t``. Quadratic in T.
    Params ``3(dh + h) + hd + d + T²`` (or ``+ 2Tr``).
    """

    op = "aft_full"
    hparams = {
        **_AFTDef.hparams_common,
        "pos_rank": Param(int, 0, low=0, doc="0 = full T×T bias, r > 0 = rank-r factors"),
    }
    module = AFTFull
    formula = "Y_t = σ(Q_t) ⊙ Σ_{t'} e^{K_{t'}+w_{tt'}} V_{t'} / Σ_{t'} e^{K_{t'}+w_{tt'}}"
    complexity = "O(T²·h)"
    paper = "Zhai et al., An Attention Free Transformer (2021)"
    examples: ClassVar[tuple[tuple[Mapping[str, Any], tuple[TensorSpec, ...]], ...]] = (
        ({}, (TensorSpec((5, 4)),)),
        ({"causal": True, "hidden": 3}, (TensorSpec((6, 4)),)),
        ({"causal": True, "pos_rank": 2}, (TensorSpec((6, 4)),)),
    )

    def window(self) -> int:
        return 0

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "features": ins[0].features,
            "hidden": self.hidden(ins),
            "seq_len": ins[0].shape[0],
            "causal": self.hp["causal"],
            "window": self.window(),
            "pos_rank": self.hp["pos_rank"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        t, r = ins[0].shape[0], self.hp["pos_rank"]
        return self.proj_params(ins) + (2 * t * r if r > 0 else t * t)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t, h, r = ins[0].shape[0], self.hidden(ins), self.hp["pos_rank"]
        flops = self.proj_flops(ins) + 4 * t * t * h + 4 * t * t + 2 * t * t * r + 6 * t * h
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + 8 * t * t + 16 * t * h)


@register_primitive
class AFTLocalDef(AFTFullDef):
    """AFT-local (Zhai et al., 2021): AFT-full whose position bias is zeroed outside the window
    ``|t − t'| < window`` (outside it every position still contributes with bias 0).

    Same formula, parameters (``3(dh + h) + hd + d + T²``) and O(T²·h) cost as ``aft_full``;
    ``window`` s sets the local band.
    """

    op = "aft_local"
    hparams = {
        **AFTFullDef.hparams,
        "window": Param(int, 8, low=1, doc="half-width s of the learned-bias band"),
    }
    formula = "AFT-full with w_{t,t'} = 0 for |t − t'| ≥ s"
    examples = (
        ({"window": 2}, (TensorSpec((5, 4)),)),
        ({"causal": True, "window": 3, "hidden": 3}, (TensorSpec((6, 4)),)),
    )

    def window(self) -> int:
        return int(self.hp["window"])


@register_primitive
class LinearAttentionDef(_MixerDef):
    """Linear attention (Katharopoulos et al., Transformers are RNNs, ICML 2020).

    ``(B, T, d) → (B, T, d)``: ``y_i = φ(Q_i)ᵀ Σ_j φ(K_j)V_jᵀ / φ(Q_i)ᵀ Σ_j φ(K_j)``, φ = elu + 1,
    ``heads`` H heads of width D = d/H; ``causal`` sums over ``j ≤ i`` (chunked prefix sums, an
    exact RNN). Linear in T. Params ``4(d² + d)``.
    """

    op = "linear_attention"
    hparams = {
        "heads": Param(int, 1, low=1, high=64, doc="number of heads H (must divide d)"),
        "causal": _causal(),
    }
    module = LinearAttention
    formula = "y_i = φ(Q_i)ᵀ Σ_j φ(K_j)V_jᵀ / φ(Q_i)ᵀ Σ_j φ(K_j)"
    complexity = "O(T·d²/H)"
    paper = "Katharopoulos et al., Transformers are RNNs (ICML 2020)"
    chunk = 64
    examples = (({"heads": 2}, (TensorSpec((5, 4)),)), ({"causal": True}, (TensorSpec((6, 4)),)))

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        if ins[0].features % self.hp["heads"]:
            raise ShapeError(
                f"linear_attention: heads={self.hp['heads']} must divide the width of input "
                f"{ins[0]}"
            )
        return ins[0]

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "features": ins[0].features,
            "heads": self.hp["heads"],
            "causal": self.hp["causal"],
            "chunk": self.chunk,
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d = ins[0].features
        return 4 * (d * d + d)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t, d = ins[0].shape
        head = d // self.hp["heads"]
        mix = 4 * t * d * head + 2 * t * d
        if self.hp["causal"]:
            mix += 4 * t * min(t, self.chunk) * d
        flops = 2 * t * 4 * d * d + mix + 6 * t * d
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + 4 * 4 * t * d)
