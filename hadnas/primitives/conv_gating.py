"""Convolutional gating and masking (survey §4): gated and partial convolutions, HorNet's
recursive gated convolution and FocalNet's focal modulation.

All take channels-first images ``(B, C, H, W)``; ``gated_conv`` also takes sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, ShapeError, TensorSpec, io_bytes
from hadnas.primitives._functional import make_activation, same_padding
from hadnas.primitives._registry import register_primitive


class GatedConv(nn.Module):
    """``y = act(W_f ⋆ x) ⊙ σ(W_g ⋆ x)`` with one convolution of ``2·out`` channels, split.

    Images use a "same" 2-D convolution; sequences ``(B, T, C)`` a 1-D one along T (``causal``
    pads on the left only, as in Dauphin et al.'s gated convolutional language model).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 3,
        dilation: int = 1,
        act: str = "elu",
        image: bool = True,
        causal: bool = False,
    ) -> None:
        super().__init__()
        self.image = image
        left, right = same_padding(kernel, dilation, causal)
        self.pad = (left, right, left, right) if image else (left, right)
        conv = nn.Conv2d if image else nn.Conv1d
        self.conv = conv(in_channels, 2 * out_channels, kernel, dilation=dilation)
        self.act = make_activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.image else x.transpose(1, 2)
        f, g = self.conv(nn.functional.pad(h, self.pad)).chunk(2, dim=1)
        y = self.act(f) * torch.sigmoid(g)
        return y if self.image else y.transpose(1, 2)


class PartialConv2d(nn.Module):
    """Partial convolution (Liu et al. 2018): convolve only valid pixels and renormalise.

    ``x' = W(X ⊙ M)·(|window| / sum(M)) + b`` where ``sum(M) > 0``, else 0. The mask M is
    ``(B, 1, H, W)`` or ``(B, C, H, W)`` (``multi_channel``) of 0/1; without a mask it is all
    ones, and the zero padding is what gets renormalised (partial-convolution padding).
    The updated mask ``1[sum(M) > 0]`` is not returned.
    """

    window: torch.Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 3,
        stride: int = 1,
        dilation: int = 1,
        bias: bool = True,
        multi_channel: bool = False,
    ) -> None:
        super().__init__()
        self.stride, self.dilation, self.multi_channel = stride, dilation, multi_channel
        left, right = same_padding(kernel, dilation)
        self.pad = (left, right, left, right)
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel, stride, dilation=dilation, bias=False
        )
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        window = torch.ones(1, in_channels if multi_channel else 1, kernel, kernel)
        self.register_buffer("window", window, persistent=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            c = x.shape[1] if self.multi_channel else 1
            mask = x.new_ones(x.shape[0], c, x.shape[2], x.shape[3])
        pad = nn.functional.pad
        with torch.no_grad():
            count = nn.functional.conv2d(
                pad(mask, self.pad), self.window, stride=self.stride, dilation=self.dilation
            )  # (B, 1, H', W'): valid inputs under each window
            valid = count.clamp(0.0, 1.0)
            ratio = self.window.numel() / (count + 1e-8) * valid
        out = self.conv(pad(x * mask, self.pad)) * ratio
        if self.bias is not None:
            out = (out + self.bias[None, :, None, None]) * valid
        return out


class GnConv(nn.Module):
    """Recursive gated convolution gnConv (HorNet): an order-n spatial interaction.

    ``[p₀, q] = split(proj_in(x))``; ``q = s·DWConv_k(q)`` split into widths
    ``C_j = C/2^{n−1−j}``; ``p₁ = p₀ ⊙ q₀``, ``p_{j+1} = g_j(p_j) ⊙ q_j`` (1×1 convs
    ``C_j → C_{j+1}``); ``y = γ ⊙ proj_out(p_n)`` with layer-scale γ when ``layer_scale > 0``.
    """

    def __init__(
        self,
        channels: int,
        order: int = 3,
        kernel: int = 7,
        scale: float = 1.0 / 3.0,
        layer_scale: float = 0.0,
    ) -> None:
        super().__init__()
        self.dims = [channels // 2 ** (order - 1 - j) for j in range(order)]
        self.scale = scale
        total = sum(self.dims)
        self.proj_in = nn.Conv2d(channels, 2 * channels, 1)
        self.dwconv = nn.Conv2d(total, total, kernel, padding=kernel // 2, groups=total)
        self.pws = nn.ModuleList(
            nn.Conv2d(self.dims[j], self.dims[j + 1], 1) for j in range(order - 1)
        )
        self.proj_out = nn.Conv2d(channels, channels, 1)
        self.gamma = (
            nn.Parameter(torch.full((channels,), layer_scale)) if layer_scale > 0 else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        p, q = self.proj_in(x).split([self.dims[0], sum(self.dims)], dim=1)
        qs = (self.dwconv(q) * self.scale).split(self.dims, dim=1)
        p = p * qs[0]
        for j, pw in enumerate(self.pws):
            p = pw(p) * qs[j + 1]
        y = self.proj_out(p)
        return y if self.gamma is None else y * self.gamma[:, None, None]


class FocalModulation(nn.Module):
    """Focal modulation (FocalNet): ``y = proj(q ⊙ h(Σ_ℓ ctx_ℓ ⊙ g_ℓ + ctx_glob ⊙ g_L))``.

    ``[q, ctx, g] = f(x)`` (1×1, C → 2C+L+1); ``ctx_ℓ = GELU(DWConv_{k_ℓ}(ctx_{ℓ−1}))`` with
    ``k_ℓ = factor·ℓ + window``; ``ctx_glob = GELU(mean_{H,W}(ctx_L))``. ``normalize_modulator``
    divides the aggregate by L+1; ``post_ln`` normalises ``q ⊙ m``; layer-scale γ when > 0.
    """

    def __init__(
        self,
        channels: int,
        levels: int = 2,
        window: int = 3,
        factor: int = 2,
        normalize_modulator: bool = False,
        post_ln: bool = False,
        layer_scale: float = 0.0,
    ) -> None:
        super().__init__()
        self.channels, self.levels = channels, levels
        self.normalize_modulator = normalize_modulator
        self.f = nn.Conv2d(channels, 2 * channels + levels + 1, 1)
        self.focal = nn.ModuleList()
        for lvl in range(levels):
            k = factor * lvl + window
            self.focal.append(
                nn.Conv2d(channels, channels, k, padding=k // 2, groups=channels, bias=False)
            )
        self.h = nn.Conv2d(channels, channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        self.post_ln = nn.LayerNorm(channels) if post_ln else None
        self.gamma = (
            nn.Parameter(torch.full((channels,), layer_scale)) if layer_scale > 0 else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W)
        c, n = self.channels, self.levels
        q, ctx, gates = self.f(x).split([c, c, n + 1], dim=1)
        ctx_all = torch.zeros_like(q)
        for lvl, conv in enumerate(self.focal):
            ctx = nn.functional.gelu(conv(ctx))
            ctx_all = ctx_all + ctx * gates[:, lvl : lvl + 1]
        ctx_glob = nn.functional.gelu(ctx.mean(dim=(2, 3), keepdim=True))
        ctx_all = ctx_all + ctx_glob * gates[:, n:]
        if self.normalize_modulator:
            ctx_all = ctx_all / (n + 1)
        y = q * self.h(ctx_all)
        if self.post_ln is not None:
            y = self.post_ln(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        y = self.proj(y)
        return y if self.gamma is None else y * self.gamma[:, None, None]


_LAYER_SCALE = Param(
    float, 0.0, low=0.0, high=1.0, doc="layer-scale init γ (0 = off; 1e-6 in residual blocks)"
)


@register_primitive
class GatedConvDef(PrimitiveDef):
    """Gated convolution (Yu et al., DeepFill v2, ICCV 2019; Dauphin et al. 2017 for 1-D).

    ``y = act(W_f ⋆ x) ⊙ σ(W_g ⋆ x)``: a learned soft mask per pixel and channel. Images
    ``(B, C, H, W)`` ("same" 2-D conv) or sequences ``(B, T, C)`` (1-D along T; ``causal``
    pads left). ``act`` of the feature branch (DeepFill default elu), ``kernel``, ``dilation``.
    Params ``k^D·C·2·out + 2·out`` (D = 2 for images, 1 for sequences).
    """

    op = "gated_conv"
    domain = "modulation"
    layouts = frozenset({"S", "I"})
    causal_capable = True
    hparams = {
        "out": Param(int, None, low=1, doc="output channels (default: input channels)"),
        "kernel": Param(int, 3, low=1, high=15, doc="kernel size"),
        "dilation": Param(int, 1, low=1, high=16, doc="dilation rate"),
        "act": Param(
            str, "elu", choices=("elu", "relu", "gelu", "silu", "identity"), doc="feature act"
        ),
        "causal": Param(bool, False, doc="sequences: left padding only"),
    }
    module = GatedConv
    helpers = (make_activation, same_padding)
    formula = "y = φ(W_f ⋆ x) ⊙ σ(W_g ⋆ x)"
    complexity = "O(HW·k²·C·2out)"
    paper = "Yu et al., Free-Form Image Inpainting with Gated Convolution (ICCV 2019)"
    examples = (
        ({"out": 3}, (TensorSpec((2, 5, 5)),)),
        ({"kernel": 2, "causal": True, "act": "identity"}, (TensorSpec((6, 3)),)),
        ({"dilation": 2}, (TensorSpec((5, 3)),)),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        if self.hp["causal"] and ins[0].layout == "I":
            raise ShapeError(f"gated_conv: causal applies to sequences, got image {ins[0]}")
        return ins[0].with_features(self.out_width(ins))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "in_channels": ins[0].features,
            "out_channels": self.out_width(ins),
            "kernel": self.hp["kernel"],
            "dilation": self.hp["dilation"],
            "act": self.hp["act"],
            "image": ins[0].layout == "I",
            "causal": self.hp["causal"],
        }

    def _taps(self, ins: Sequence[TensorSpec]) -> int:
        return self.hp["kernel"] ** (2 if ins[0].layout == "I" else 1)

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        c, o = ins[0].features, self.out_width(ins)
        return self._taps(ins) * c * 2 * o + 2 * o

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        macs = out.numel * 2 * ins[0].features * self._taps(ins)
        return Cost(2 * macs + 6 * out.numel, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class PartialConvDef(PrimitiveDef):
    """Partial convolution (Liu et al., Image Inpainting for Irregular Holes, ECCV 2018).

    Inputs: image ``x: (B, C, H, W)`` and optionally a 0/1 mask ``(B, 1, H, W)`` or
    ``(B, C, H, W)`` (per-channel, NVIDIA's ``multi_channel``). Only valid pixels are
    convolved and the result is rescaled by ``|window| / sum(M)``; windows with no valid pixel
    output 0. Without a mask, the zero padding is treated as holes (partial-conv padding).
    Params ``k²·C·out + out`` (a plain convolution's).
    """

    op = "partial_conv"
    domain = "modulation"
    arity = (1, 2)
    layouts = frozenset({"I"})
    nondifferentiable_inputs = frozenset({1})
    hparams = {
        "out": Param(int, None, low=1, doc="output channels (default: input channels)"),
        "kernel": Param(int, 3, low=1, high=15, doc="kernel size"),
        "stride": Param(int, 1, low=1, high=4, doc="stride"),
        "dilation": Param(int, 1, low=1, high=8, doc="dilation"),
        "bias": Param(bool, True, doc="add a bias on valid windows"),
    }
    module = PartialConv2d
    helpers = (same_padding,)
    formula = "x' = W(X ⊙ M)·|win|/ΣM + b if ΣM > 0 else 0"
    complexity = "O(HW·k²·C·out)"
    paper = "Liu et al., Image Inpainting for Irregular Holes Using Partial Convolutions (2018)"
    examples = (
        ({"out": 3}, (TensorSpec((2, 5, 5)), TensorSpec((1, 5, 5)))),
        ({"stride": 2, "kernel": 2}, (TensorSpec((2, 5, 5)), TensorSpec((2, 5, 5)))),
        ({"bias": False}, (TensorSpec((2, 4, 4)),)),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        x = ins[0]
        if len(ins) == 2:
            m = ins[1]
            if m.shape[1:] != x.shape[1:] or m.shape[0] not in (1, x.shape[0]):
                raise ShapeError(
                    f"partial_conv: the mask (input 1) has shape {m} but x has shape {x}; "
                    f"the mask must be (B, 1, H, W) or (B, C, H, W) with x's H and W"
                )
        c, h, w = x.shape
        s = self.hp["stride"]
        return TensorSpec((self.out_width(ins), (h - 1) // s + 1, (w - 1) // s + 1))

    def sample_inputs(
        self,
        ins: Sequence[TensorSpec],
        batch: int = 2,
        dtype: torch.dtype = torch.float32,
        generator: torch.Generator | None = None,
    ) -> list[torch.Tensor]:
        xs = super().sample_inputs(ins, batch, dtype, generator)
        if len(xs) == 2:
            xs[1] = (torch.rand(xs[1].shape, generator=generator) < 0.7).to(dtype)
        return xs

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        multi = len(ins) == 2 and ins[1].shape[0] > 1
        return {
            "in_channels": ins[0].features,
            "out_channels": self.out_width(ins),
            "kernel": self.hp["kernel"],
            "stride": self.hp["stride"],
            "dilation": self.hp["dilation"],
            "bias": self.hp["bias"],
            "multi_channel": multi,
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        c, o, k = ins[0].features, self.out_width(ins), self.hp["kernel"]
        return k * k * c * o + (o if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        c, k = ins[0].features, self.hp["kernel"]
        positions = out.numel // out.features
        mask_c = ins[1].features if len(ins) == 2 else 1
        macs = out.numel * c * k * k + positions * mask_c * k * k
        flops = 2 * macs + ins[0].numel + 4 * out.numel
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class GnConvDef(PrimitiveDef):
    """Recursive gated convolution gnConv (Rao et al., HorNet, NeurIPS 2022).

    ``(B, C, H, W) → (B, C, H, W)``: ``order`` n recursive gating steps between 1×1 projections
    and a depthwise ``kernel × kernel`` convolution; channels halve per step, so C must be a
    multiple of ``2^{n−1}``. ``scale`` s multiplies the depthwise output (HorNet uses 1/3);
    ``layer_scale`` adds γ (init value, e.g. 1e-6 in a residual block).
    Params ``2C² + 2C + k²S + S + Σ_j(C_jC_{j+1} + C_{j+1}) + C² + C`` (+ C), ``S = Σ_j C_j``.
    """

    op = "gnconv"
    domain = "modulation"
    layouts = frozenset({"I"})
    hparams = {
        "order": Param(int, 3, low=1, high=5, doc="interaction order n"),
        "kernel": Param(int, 7, choices=(3, 5, 7), doc="depthwise kernel size"),
        "scale": Param(float, 1.0 / 3.0, low=1e-3, high=10.0, doc="scale s of the dw output"),
        "layer_scale": _LAYER_SCALE,
    }
    module = GnConv
    formula = "p_{j+1} = g_j(p_j) ⊙ q_j, q = s·DWConv(·); y = proj_out(p_n)"
    complexity = "O(HW·(3C² + k²·S))"
    paper = "Rao et al., HorNet: Recursive Gated Convolutions (NeurIPS 2022)"
    examples = (
        ({"order": 2, "kernel": 3}, (TensorSpec((4, 5, 5)),)),
        ({"order": 3, "kernel": 3, "layer_scale": 0.5, "scale": 1.0}, (TensorSpec((4, 4, 4)),)),
    )

    def dims(self, ins: Sequence[TensorSpec]) -> list[int]:
        c, n = ins[0].features, self.hp["order"]
        return [c // 2 ** (n - 1 - j) for j in range(n)]

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        step = 2 ** (self.hp["order"] - 1)
        if ins[0].features % step:
            raise ShapeError(
                f"gnconv: order {self.hp['order']} needs channels divisible by {step}, "
                f"got input {ins[0]}"
            )
        return ins[0]

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "channels": ins[0].features,
            "order": self.hp["order"],
            "kernel": self.hp["kernel"],
            "scale": self.hp["scale"],
            "layer_scale": self.hp["layer_scale"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        c, k, dims = ins[0].features, self.hp["kernel"], self.dims(ins)
        s = sum(dims)
        pws = sum(a * b + b for a, b in zip(dims[:-1], dims[1:]))
        ls = c if self.hp["layer_scale"] > 0 else 0
        return 2 * c * c + 2 * c + k * k * s + s + pws + c * c + c + ls

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        c, k, dims = ins[0].features, self.hp["kernel"], self.dims(ins)
        hw = out.numel // c
        macs = hw * (3 * c * c + k * k * sum(dims) + sum(a * b for a, b in zip(dims, dims[1:])))
        flops = 2 * macs + hw * (2 * sum(dims) + 2 * c)
        interm = 4 * hw * (2 * c + 2 * sum(dims))
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + interm)


@register_primitive
class FocalModDef(PrimitiveDef):
    """Focal modulation (Yang et al., Focal Modulation Networks, NeurIPS 2022).

    ``(B, C, H, W) → (B, C, H, W)``: a query ``q`` is modulated by gated aggregates of ``levels``
    L depthwise-conv contexts of growing kernel ``k_ℓ = factor·ℓ + window`` plus a global
    context. ``normalize_modulator`` divides by L+1; ``post_ln`` adds a LayerNorm after the
    modulation; ``layer_scale`` adds γ. Params
    ``C(2C+L+1) + 2C+L+1 + 2(C²+C) + Σ_ℓ C·k_ℓ²`` (+ 2C with post_ln, + C with layer-scale).
    """

    op = "focal_mod"
    domain = "modulation"
    layouts = frozenset({"I"})
    hparams = {
        "levels": Param(int, 2, low=1, high=4, doc="focal levels L"),
        "window": Param(int, 3, choices=(3, 5, 7), doc="kernel of the first level"),
        "factor": Param(int, 2, choices=(2, 4), doc="kernel growth per level"),
        "normalize_modulator": Param(bool, False, doc="divide the aggregate by L+1"),
        "post_ln": Param(bool, False, doc="LayerNorm after q ⊙ m"),
        "layer_scale": _LAYER_SCALE,
    }
    module = FocalModulation
    formula = "y = proj(q ⊙ h(Σ_ℓ ctx_ℓ ⊙ g_ℓ)), ctx_ℓ = GELU(DWConv_{k_ℓ}(ctx_{ℓ−1}))"
    complexity = "O(HW·(4C² + C·Σk_ℓ²))"
    paper = "Yang et al., Focal Modulation Networks (NeurIPS 2022)"
    examples = (
        ({"levels": 2}, (TensorSpec((3, 5, 5)),)),
        (
            {
                "levels": 1,
                "window": 5,
                "normalize_modulator": True,
                "post_ln": True,
                "layer_scale": 0.5,
            },
            (TensorSpec((2, 4, 4)),),
        ),  # fmt: skip
    )

    def kernels(self) -> list[int]:
        return [self.hp["factor"] * lvl + self.hp["window"] for lvl in range(self.hp["levels"])]

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        keys = ("levels", "window", "factor", "normalize_modulator", "post_ln", "layer_scale")
        return {"channels": ins[0].features} | {k: self.hp[k] for k in keys}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        c, n = ins[0].features, self.hp["levels"]
        total = c * (2 * c + n + 1) + 2 * c + n + 1 + 2 * (c * c + c)
        total += sum(c * k * k for k in self.kernels())
        total += 2 * c if self.hp["post_ln"] else 0
        return total + (c if self.hp["layer_scale"] > 0 else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        c, n = ins[0].features, self.hp["levels"]
        hw = out.numel // c
        macs = hw * (c * (2 * c + n + 1) + 2 * c * c + c * sum(k * k for k in self.kernels()))
        flops = 2 * macs + hw * c * (4 * n + 8)
        interm = 4 * hw * c * (3 + 2 * n)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + interm)
