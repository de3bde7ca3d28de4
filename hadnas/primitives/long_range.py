"""Long-range gated mixers on sequences ``(B, T, d)`` (survey §4–5): Hyena's data-controlled
gating around implicit long convolutions, and Mamba-style selective state-space gating.

Both are causal by construction and sub-quadratic in T. Hyena's long convolution runs as a
direct causal convolution for short sequences (exact zeros from the future) and through the
FFT for long ones (O(T log T); causal up to floating-point round-off).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, TensorSpec, io_bytes
from hadnas.primitives._registry import register_primitive

#: sequences up to this length use the exact direct long convolution under ``long_conv: auto``
DIRECT_CONV_MAX_T = 128


class HyenaSin(nn.Module):
    """``sin(ω ⊙ x)`` with a learned frequency per channel (Hyena's filter activation)."""

    def __init__(self, dim: int, w: float = 1.0) -> None:
        super().__init__()
        self.freq = nn.Parameter(torch.full((1, dim), w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.freq * x)


class HyenaOperator(nn.Module):
    """Hyena operator of order N (Poli et al. 2023).

    ``(x₀, …, x_{N−1}, v) = split(ShortConv(Linear_{d→(N+1)d}(u)))`` (causal depthwise conv);
    for each of the N−1 filters: ``v ← h_n ∗ (v ⊙ x_n) + b_n ⊙ (v ⊙ x_n)`` (causal long conv);
    ``y = Linear(v ⊙ x₀)``. Filters ``h = FFN_sin(PosEmb(t)) ⊙ exp(−|δ| t)`` are implicit: a
    small MLP over positional features, with channel-wise exponential decay windows.
    """

    pos_emb: torch.Tensor
    decay: torch.Tensor

    def __init__(
        self,
        features: int,
        seq_len: int,
        order: int = 2,
        filter_order: int = 64,
        emb_dim: int = 3,
        short_kernel: int = 3,
        w: float = 1.0,
        modulate: bool = True,
        use_fft: bool = True,
    ) -> None:
        super().__init__()
        d, n = features, order
        self.features, self.order, self.use_fft = d, n, use_fft
        self.short_kernel = short_kernel
        self.in_proj = nn.Linear(d, (n + 1) * d)
        self.short_conv = nn.Conv1d((n + 1) * d, (n + 1) * d, short_kernel, groups=(n + 1) * d)
        act = HyenaSin(filter_order, w)
        self.filter_mlp = nn.Sequential(
            nn.Linear(emb_dim, filter_order),
            act,
            nn.Linear(filter_order, filter_order),
            act,
            nn.Linear(filter_order, filter_order),
            act,
            nn.Linear(filter_order, (n - 1) * d, bias=False),
        )
        self.filter_bias = nn.Parameter(torch.randn((n - 1) * d))
        self.out_proj = nn.Linear(d, d)
        # positional features [t, cos(2π f t), sin(2π f t)] for f = 1..(emb_dim-1)/2, t ∈ [0, 1)
        t = torch.arange(seq_len, dtype=torch.float32)[:, None] / seq_len  # (T, 1)
        f = torch.arange(1, (emb_dim - 1) // 2 + 1, dtype=torch.float32)[None]
        emb = torch.cat([t, torch.cos(2 * math.pi * f * t), torch.sin(2 * math.pi * f * t)], -1)
        self.register_buffer("pos_emb", emb, persistent=False)  # (T, emb_dim)
        # decay rates from fast (reaches 1e-2 at 30 % of T) to slow (at 150 % of T)
        fast, slow = math.log(1e-2) / 0.3, math.log(1e-2) / 1.5
        deltas = torch.linspace(slow, fast, d).abs()
        decay = torch.exp(-t * deltas[None]) if modulate else torch.ones(seq_len, d)
        self.register_buffer("decay", decay, persistent=False)  # (T, d)

    def filters(self) -> torch.Tensor:
        """The N−1 long filters, ``(N−1, d, T)``."""
        h = self.filter_mlp(self.pos_emb)  # (T, (N−1)·d)
        h = h.view(-1, self.order - 1, self.features) * self.decay[:, None, :]
        return h.permute(1, 2, 0)

    def long_conv(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Causal depthwise convolution of ``v: (B, d, T)`` with ``h: (d, T)``."""
        t = v.shape[-1]
        if self.use_fft:
            spec = torch.fft.rfft(v, n=2 * t) * torch.fft.rfft(h, n=2 * t)
            return torch.fft.irfft(spec, n=2 * t)[..., :t]
        kernel = h.flip(-1).unsqueeze(1)  # (d, 1, T): tap j multiplies input t − (T−1−j)
        return nn.functional.conv1d(nn.functional.pad(v, (t - 1, 0)), kernel, groups=v.shape[1])

    def forward(self, u: torch.Tensor) -> torch.Tensor:  # (B, T, d)
        t = u.shape[1]
        z = self.in_proj(u).transpose(1, 2)  # (B, (N+1)d, T)
        z = self.short_conv(nn.functional.pad(z, (self.short_kernel - 1, 0)))
        *xs, v = z.split(self.features, dim=1)
        h = self.filters()[..., :t]
        bias = self.filter_bias.view(self.order - 1, self.features, 1)
        for i in range(self.order - 1):
            v = v * xs[self.order - 1 - i]
            v = self.long_conv(v, h[i]) + bias[i] * v
        return self.out_proj((v * xs[0]).transpose(1, 2))


class SelectiveSSMGate(nn.Module):
    """Mamba-style selective state-space block with multiplicative gating (Gu & Dao 2023).

    ``x, z = split(in_proj(u))``; ``x = SiLU(CausalDWConv(x))``; ``Δ, B, C = x_proj(x)``,
    ``Δ = softplus(dt_proj(Δ))``; ``h_t = exp(Δ_t A) ⊙ h_{t−1} + Δ_t B_t x_t``,
    ``y_t = C_t · h_t + D ⊙ x_t``; ``out = out_proj(y ⊙ SiLU(z))``. The scan runs in chunks
    of ``chunk`` steps (0: √T), O(T·E·N) work and O(√T) sequential steps.
    """

    def __init__(
        self,
        features: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int = 4,
        chunk: int = 0,
    ) -> None:
        super().__init__()
        inner = expand * features
        self.d_state, self.dt_rank, self.d_conv, self.chunk = d_state, dt_rank, d_conv, chunk
        self.in_proj = nn.Linear(features, 2 * inner, bias=False)
        self.conv = nn.Conv1d(inner, inner, d_conv, groups=inner)
        self.x_proj = nn.Linear(inner, dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(dt_rank, inner)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1.0)).repeat(inner, 1))
        self.D = nn.Parameter(torch.ones(inner))
        self.out_proj = nn.Linear(inner, features, bias=False)
        with torch.no_grad():  # Δ starts log-uniform in [1e-3, 0.1] (S4D/Mamba practice)
            nn.init.uniform_(self.dt_proj.weight, -(dt_rank**-0.5), dt_rank**-0.5)
            dt = torch.exp(torch.rand(inner) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
            dt = dt.clamp_min(1e-4)
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # softplus⁻¹(dt)

    def scan(
        self, x: torch.Tensor, dt: torch.Tensor, bm: torch.Tensor, cm: torch.Tensor
    ) -> torch.Tensor:
        """``y_t = C_t · h_t`` for ``x, dt: (B, T, E)``, ``bm, cm: (B, T, N)``.

        Two-level scan over chunks of c ≈ √T steps, O(√T) sequential steps and no
        ``(B, T, E, N)`` tensor in inference: (1) the recurrence runs inside all chunks at once
        from a zero state, giving each chunk's end state and total decay; (2) the states
        entering each chunk are carried across chunks; (3) the recurrence re-runs inside all
        chunks from those states and reads out ``y``. Decay factors are ``exp(≤ 0)``, so
        nothing overflows, and no step reads the future.
        """
        b, t, e = x.shape
        c = self.chunk or max(1, math.isqrt(t))
        pad = -t % c  # zero padding at the end only reaches outputs that are cut off
        n_chunks = (t + pad) // c

        def chunked(v: torch.Tensor) -> torch.Tensor:  # (B, T, ·) -> (B, L, c, ·)
            return nn.functional.pad(v, (0, 0, 0, pad)).view(b, n_chunks, c, v.shape[-1])

        a = -torch.exp(self.A_log)  # (E, N)
        dt_c, dtx_c, bm_c, cm_c = chunked(dt), chunked(dt * x), chunked(bm), chunked(cm)

        def step(h: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
            decay = torch.exp(dt_c[:, :, i, :, None] * a)  # (B, L, E, N)
            return decay * h + dtx_c[:, :, i, :, None] * bm_c[:, :, i, None, :], decay

        h = x.new_zeros(b, n_chunks, e, self.d_state)
        total = torch.ones_like(h)
        for i in range(c):  # (1) inside every chunk, from a zero state
            h, decay = step(h, i)
            total = total * decay
        carry = x.new_zeros(b, e, self.d_state)
        carries = []
        for k in range(n_chunks):  # (2) the state entering chunk k
            carries.append(carry)
            carry = total[:, k] * carry + h[:, k]
        h = torch.stack(carries, dim=1)
        ys = []
        for i in range(c):  # (3) inside every chunk again, from the carried state
            h, _ = step(h, i)
            ys.append(torch.einsum("blen,bln->ble", h, cm_c[:, :, i]))
        return torch.stack(ys, dim=2).reshape(b, t + pad, e)[:, :t]

    def forward(self, u: torch.Tensor) -> torch.Tensor:  # (B, T, d)
        x, z = self.in_proj(u).chunk(2, dim=-1)  # (B, T, E) each
        x = self.conv(nn.functional.pad(x.transpose(1, 2), (self.d_conv - 1, 0)))
        x = nn.functional.silu(x.transpose(1, 2))
        dt, bm, cm = self.x_proj(x).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = nn.functional.softplus(self.dt_proj(dt))
        y = self.scan(x, dt, bm, cm) + self.D * x
        return self.out_proj(y * nn.functional.silu(z))


@register_primitive
class HyenaDef(PrimitiveDef):
    """Hyena operator (Poli et al., Hyena Hierarchy, ICML 2023).

    ``(B, T, d) → (B, T, d)``, causal. ``order`` N: N−1 rounds of element-wise gating and
    implicit long convolution; ``filter_order`` width of the filter MLP; ``emb_dim`` (odd)
    positional features it reads; ``short_kernel`` of the causal depthwise pre-convolution;
    ``w`` the initial sine frequency; ``modulate`` the exponential decay window; ``long_conv``
    ``direct`` (exact, O(T²·d)), ``fft`` (O(T log T·d)) or ``auto`` (direct for T ≤ 128).
    Params ``(N+1)d(d+1) + (k+1)(N+1)d + [e·f + f + 2(f²+f) + f + f(N−1)d] + (N−1)d + d(d+1)``.
    """

    op = "hyena"
    domain = "pairwise"
    layouts = frozenset({"S"})
    causal_capable = True
    hparams = {
        "order": Param(int, 2, low=2, high=6, doc="order N (N−1 gated long convolutions)"),
        "filter_order": Param(int, 64, low=2, high=512, doc="width f of the filter MLP"),
        "emb_dim": Param(int, 3, choices=(3, 5, 7, 9, 11), doc="positional features e (odd)"),
        "short_kernel": Param(int, 3, low=1, high=9, doc="short causal conv kernel k"),
        "w": Param(float, 1.0, low=0.0, high=100.0, doc="initial sine frequency of the filter"),
        "modulate": Param(bool, True, doc="exponential decay window on the filters"),
        "long_conv": Param(str, "auto", choices=("auto", "fft", "direct"), doc="long-conv path"),
    }
    module = HyenaOperator
    helpers = (HyenaSin,)
    formula = "v ← h_n ∗ (v ⊙ x_n) + b_n⊙(v ⊙ x_n); y = W(v ⊙ x₀)"
    complexity = "O(N·d·T log T + N·T·d²)"
    paper = "Poli et al., Hyena Hierarchy: Towards Larger Convolutional Language Models (2023)"
    examples = (
        ({"filter_order": 4}, (TensorSpec((6, 3)),)),
        ({"order": 3, "filter_order": 4, "emb_dim": 5, "short_kernel": 2}, (TensorSpec((5, 2)),)),
    )

    def use_fft(self, ins: Sequence[TensorSpec]) -> bool:
        mode = self.hp["long_conv"]
        return mode == "fft" or (mode == "auto" and ins[0].shape[0] > DIRECT_CONV_MAX_T)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        keys = ("order", "filter_order", "emb_dim", "short_kernel", "w", "modulate")
        return {
            "features": ins[0].features,
            "seq_len": ins[0].shape[0],
            **{k: self.hp[k] for k in keys},
            "use_fft": self.use_fft(ins),
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, n, f = ins[0].features, self.hp["order"], self.hp["filter_order"]
        e, k = self.hp["emb_dim"], self.hp["short_kernel"]
        ffn = e * f + f + 2 * (f * f + f) + f + f * (n - 1) * d
        return (n + 1) * d * (d + 1) + (k + 1) * (n + 1) * d + ffn + (n - 1) * d + d * (d + 1)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t, d = ins[0].shape
        n, f, e, k = (self.hp[x] for x in ("order", "filter_order", "emb_dim", "short_kernel"))
        proj = 2 * t * ((n + 1) * d * d + d * d) + 2 * t * k * (n + 1) * d
        filt = 2 * t * (e * f + 2 * f * f + f * (n - 1) * d) + 3 * t * f
        if self.use_fft(ins):
            conv = (n - 1) * d * (3 * 5 * 2 * t * max(1, math.ceil(math.log2(2 * t))) + 8 * t)
        else:
            conv = (n - 1) * d * t * (t + 1)
        flops = proj + filt + conv + 4 * (n - 1) * t * d + t * d
        interm = 4 * t * d * (2 * (n + 1) + 4 * (n - 1))
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + interm)


@register_primitive
class SSMGateDef(PrimitiveDef):
    """Mamba-style selective SSM with SiLU gating (Gu & Dao, Mamba, 2023).

    ``(B, T, d) → (B, T, d)``, causal, linear in T. ``d_state`` N of the diagonal state,
    ``d_conv`` kernel of the causal depthwise convolution, ``expand`` e (inner width E = e·d),
    ``dt_rank`` r of the input-dependent step Δ (default ⌈d/16⌉). A starts S4D-real
    (``A = −(1..N)``), D = 1, Δ log-uniform in [1e-3, 0.1].
    Params ``2dE + E·d_conv + E + E(r+2N) + rE + E + EN + E + Ed``.
    """

    op = "ssm_gate"
    domain = "pairwise"
    layouts = frozenset({"S"})
    causal_capable = True
    hparams = {
        "d_state": Param(int, 16, low=1, high=64, doc="state size N"),
        "d_conv": Param(int, 4, low=1, high=8, doc="causal depthwise conv kernel"),
        "expand": Param(int, 2, low=1, high=4, doc="inner width E = expand·d"),
        "dt_rank": Param(int, None, low=1, doc="rank of the Δ projection (default ⌈d/16⌉)"),
    }
    module = SelectiveSSMGate
    formula = "h_t = e^{Δ_t A} h_{t−1} + Δ_t B_t x_t; y = (C_t h_t + D x_t) ⊙ SiLU(z_t)"
    complexity = "O(T·E·(d + N))"
    paper = "Gu & Dao, Mamba: Linear-Time Sequence Modeling with Selective State Spaces (2023)"
    examples = (
        ({"d_state": 3, "d_conv": 2, "expand": 1}, (TensorSpec((6, 3)),)),
        ({"d_state": 2, "dt_rank": 2}, (TensorSpec((5, 2)),)),
    )

    def dt_rank(self, ins: Sequence[TensorSpec]) -> int:
        r = self.hp["dt_rank"]
        return int(r) if r is not None else math.ceil(ins[0].features / 16)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "features": ins[0].features,
            "d_state": self.hp["d_state"],
            "d_conv": self.hp["d_conv"],
            "expand": self.hp["expand"],
            "dt_rank": self.dt_rank(ins),
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, r = ins[0].features, self.dt_rank(ins)
        n, k, e = self.hp["d_state"], self.hp["d_conv"], self.hp["expand"] * ins[0].features
        return 2 * d * e + e * k + e + e * (r + 2 * n) + r * e + e + e * n + e + e * d

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t, d = ins[0].shape
        r, n, k = self.dt_rank(ins), self.hp["d_state"], self.hp["d_conv"]
        e = self.hp["expand"] * d
        proj = 2 * t * (2 * d * e + e * k + e * (r + 2 * n) + r * e + e * d)
        scan = 14 * t * e * n  # two passes of decay, drive and update, the readout
        flops = proj + scan + 10 * t * e
        interm = 4 * t * e * 8
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + interm)
