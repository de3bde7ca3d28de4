"""Control layers: convolutions, batch norm, dropout, pooling and the MLP baseline.

Non-Hadamard building blocks the search needs for fair ablations. Sequences are channels-last
``(B, T, d)`` everywhere in hadnas; the sequence modules transpose internally for torch convs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, ShapeError, TensorSpec, io_bytes
from hadnas.primitives._functional import ACT_NAMES, make_activation, same_padding
from hadnas.primitives._registry import register_primitive


class SeqConv1d(nn.Module):
    """1-D convolution over the time axis of a channels-last sequence ``(B, T, C)``.

    Zero padding keeps ``T`` for stride 1 ("same"); with ``causal`` all padding goes left, so
    output ``t`` only sees inputs ``≤ t``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 3,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        causal: bool = False,
    ) -> None:
        super().__init__()
        self.pad = same_padding(kernel, dilation, causal)
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel, stride, 0, dilation, groups, bias=bias
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T', O)
        x = nn.functional.pad(x.transpose(1, 2), self.pad)
        return self.conv(x).transpose(1, 2)


class SameConv2d(nn.Module):
    """2-D convolution with "same" zero padding (output ``ceil(H/stride) × ceil(W/stride)``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int = 3,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        left, right = same_padding(kernel, dilation)
        self.pad = (left, right, left, right)
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel, stride, 0, dilation, groups, bias=bias
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, O, H', W')
        return self.conv(nn.functional.pad(x, self.pad))


class SeqBatchNorm(nn.Module):
    """Batch norm of a channels-last sequence: statistics over batch and time per channel."""

    def __init__(self, features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(features, eps=eps, momentum=momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C)
        return self.bn(x.transpose(1, 2)).transpose(1, 2)


class MeanPool(nn.Module):
    """Mean over the given per-sample axes: time for sequences, height and width for images."""

    def __init__(self, dims: tuple[int, ...] = (1,)) -> None:
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=self.dims)


class MLP(nn.Module):
    """``layers`` hidden ``Linear → act → dropout`` stages, then a linear output (no act)."""

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int,
        layers: int = 1,
        act: str = "relu",
        dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        width = in_features
        for _ in range(layers):
            mods += [nn.Linear(width, hidden, bias=bias), make_activation(act)]
            if dropout > 0:
                mods.append(nn.Dropout(dropout))
            width = hidden
        mods.append(nn.Linear(width, out_features, bias=bias))
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _check_groups(op: str, channels: int, out: int, groups: int, spec: TensorSpec) -> None:
    if channels % groups or out % groups:
        raise ShapeError(
            f"{op}: groups={groups} must divide the input channels ({channels}, input {spec}) "
            f"and the output channels ({out})"
        )


_CONV_HPARAMS = {
    "out": Param(int, None, low=1, doc="output channels (default: input channels)"),
    "kernel": Param(int, 3, low=1, high=63, doc="kernel size"),
    "stride": Param(int, 1, low=1, high=8, doc="stride (output length ceil(T/stride))"),
    "dilation": Param(int, 1, low=1, high=32, doc="dilation of the kernel taps"),
    "groups": Param(int, 1, low=1, doc="channel groups (groups = channels: depthwise)"),
    "bias": Param(bool, True, doc="add a learned bias"),
}


@register_primitive
class Conv1dDef(PrimitiveDef):
    """1-D convolution along the time axis of a sequence ``(B, T, d) → (B, ⌈T/s⌉, out)``.

    "Same" zero padding; ``causal: true`` pads on the left only so no output sees the future
    (Dauphin/WaveNet style). ``groups`` splits channels (``groups = d = out``: depthwise).
    Params ``out · d/groups · kernel (+ out)``.
    """

    op = "conv1d"
    layouts = frozenset({"S"})
    hparams = {**_CONV_HPARAMS, "causal": Param(bool, False, doc="left padding only")}
    module = SeqConv1d
    helpers = (same_padding,)
    causal_capable = True
    formula = "y_t = Σ_j W_j x_{t·s+j·dil-pad} + b"
    complexity = "O(T·k·d·out/groups)"
    examples = (
        ({"out": 6, "kernel": 3}, (TensorSpec((7, 4)),)),
        ({"kernel": 2, "causal": True, "dilation": 2}, (TensorSpec((7, 4)),)),
        ({"kernel": 3, "stride": 2, "groups": 4}, (TensorSpec((7, 4)),)),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        t, d = ins[0].shape
        _check_groups(self.op, d, self.out_width(ins), self.hp["groups"], ins[0])
        return TensorSpec(((t - 1) // self.hp["stride"] + 1, self.out_width(ins)))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        hp = self.hp
        return {
            "in_channels": ins[0].features,
            "out_channels": self.out_width(ins),
            "kernel": hp["kernel"],
            "stride": hp["stride"],
            "dilation": hp["dilation"],
            "groups": hp["groups"],
            "bias": hp["bias"],
            "causal": hp["causal"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, o = ins[0].features, self.out_width(ins)
        return o * (d // self.hp["groups"]) * self.hp["kernel"] + (o if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d = ins[0].features
        macs = out.numel * (d // self.hp["groups"]) * self.hp["kernel"]
        return Cost(2 * macs, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class Conv2dDef(PrimitiveDef):
    """2-D convolution of an image ``(B, C, H, W) → (B, out, ⌈H/s⌉, ⌈W/s⌉)``, "same" padding.

    ``kernel: 1`` is the per-pixel linear map; ``groups = C = out`` is depthwise.
    Params ``out · C/groups · kernel² (+ out)``.
    """

    op = "conv2d"
    layouts = frozenset({"I"})
    hparams = dict(_CONV_HPARAMS)
    module = SameConv2d
    helpers = (same_padding,)
    formula = "y = W ⋆ x + b"
    complexity = "O(HW·k²·C·out/groups)"
    examples = (
        ({"out": 4, "kernel": 3}, (TensorSpec((3, 5, 6)),)),
        ({"kernel": 2, "stride": 2, "groups": 3, "out": 6}, (TensorSpec((3, 5, 6)),)),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        c, h, w = ins[0].shape
        _check_groups(self.op, c, self.out_width(ins), self.hp["groups"], ins[0])
        s = self.hp["stride"]
        return TensorSpec((self.out_width(ins), (h - 1) // s + 1, (w - 1) // s + 1))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        hp = self.hp
        return {
            "in_channels": ins[0].features,
            "out_channels": self.out_width(ins),
            "kernel": hp["kernel"],
            "stride": hp["stride"],
            "dilation": hp["dilation"],
            "groups": hp["groups"],
            "bias": hp["bias"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        c, o, k = ins[0].features, self.out_width(ins), self.hp["kernel"]
        return o * (c // self.hp["groups"]) * k * k + (o if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        c, k = ins[0].features, self.hp["kernel"]
        macs = out.numel * (c // self.hp["groups"]) * k * k
        return Cost(2 * macs, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class BatchNormDef(PrimitiveDef):
    """Batch normalisation per feature/channel: vectors ``(B, d)``, sequences ``(B, T, d)``
    (statistics over batch and time) and images ``(B, C, H, W)`` (over batch, H and W).

    Train mode needs a batch of at least 2 for vectors. Params ``2·C`` (γ, β); the running
    statistics are buffers.
    """

    op = "batch_norm"
    hparams = {
        "eps": Param(float, 1e-5, low=0.0, doc="numerical floor of the variance"),
        "momentum": Param(float, 0.1, low=0.0, high=1.0, doc="running-statistics momentum"),
    }
    formula = "y = (x - μ_B) / sqrt(σ²_B + ε) ⊙ γ + β"
    complexity = "O(numel)"
    examples = (
        ({}, (TensorSpec((5,)),)),
        ({"momentum": 0.2}, (TensorSpec((4, 3)),)),
        ({}, (TensorSpec((3, 4, 4)),)),
    )

    def module_class(self, ins: Sequence[TensorSpec]) -> type[nn.Module]:
        return {"V": nn.BatchNorm1d, "S": SeqBatchNorm, "I": nn.BatchNorm2d}[ins[0].layout]

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        key = "features" if ins[0].layout == "S" else "num_features"
        return {key: ins[0].features, "eps": self.hp["eps"], "momentum": self.hp["momentum"]}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 2 * ins[0].features

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(6 * out.numel, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class DropoutDef(PrimitiveDef):
    """Dropout: zero each element with probability ``p`` in training, scale the rest by
    ``1/(1-p)``; the identity in evaluation. No parameters."""

    op = "dropout"
    hparams = {"p": Param(float, 0.1, low=0.0, high=0.95, doc="drop probability")}
    module = nn.Dropout
    formula = "y = x ⊙ m / (1-p), m ~ Bernoulli(1-p)"
    complexity = "O(numel)"
    examples = (
        ({"p": 0.5}, (TensorSpec((6,)),)),
        ({}, (TensorSpec((3, 4)),)),
        ({"p": 0.2}, (TensorSpec((2, 3, 3)),)),
    )

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {"p": self.hp["p"]}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(2 * out.numel, io_bytes(ins, out, 0))


@register_primitive
class MeanPoolDef(PrimitiveDef):
    """Global average pooling: ``(B, T, d) → (B, d)`` over time, ``(B, C, H, W) → (B, C)``
    over space. Turns a sequence or feature map into a vector for a classifier head."""

    op = "mean_pool"
    layouts = frozenset({"S", "I"})
    module = MeanPool
    formula = "y = mean_t x_t  |  y_c = mean_{h,w} x_{c,h,w}"
    complexity = "O(numel)"
    examples = (({}, (TensorSpec((5, 4)),)), ({}, (TensorSpec((3, 4, 5)),)))

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return TensorSpec((ins[0].features,), ins[0].dtype)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {"dims": (1,) if ins[0].layout == "S" else (2, 3)}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(ins[0].numel, io_bytes(ins, out, 0))


@register_primitive
class MLPDef(PrimitiveDef):
    """Multi-layer perceptron on the feature axis (the additive baseline of gated FFNs).

    ``x: (B, d)`` or ``(B, T, d)``; ``layers`` hidden stages of width ``h = hidden_ratio·d``
    (or ``hidden``), activation ``act``, then a linear map to ``out``, with no output
    activation. Params ``dh + (layers-1)h² + ho`` (+ ``layers·h + o`` with bias).
    """

    op = "mlp"
    layouts = frozenset({"V", "S"})
    hparams = {
        "hidden_ratio": Param(float, 2.0, low=0.05, high=16.0, doc="hidden width / input width"),
        "hidden": Param(int, None, low=1, doc="hidden width (overrides hidden_ratio)"),
        "layers": Param(int, 1, low=1, high=8, doc="number of hidden layers"),
        "act": Param(str, "relu", choices=ACT_NAMES, doc="hidden activation"),
        "dropout": Param(float, 0.0, low=0.0, high=0.95, doc="dropout after each activation"),
        "out": Param(int, None, low=1, doc="output width (default: input width)"),
        "bias": Param(bool, True, doc="biases in every linear layer"),
    }
    module = MLP
    helpers = (make_activation,)
    formula = "y = W_L … act(W_1 x + b_1) … + b_L"
    complexity = "O(d·h + (L-1)·h² + h·out)"
    examples = (
        ({"hidden": 6, "layers": 2, "act": "tanh"}, (TensorSpec((5,)),)),
        ({"out": 3, "dropout": 0.1}, (TensorSpec((4, 5)),)),
    )

    def hidden(self, ins: Sequence[TensorSpec]) -> int:
        if self.hp["hidden"] is not None:
            return int(self.hp["hidden"])
        return max(1, round(self.hp["hidden_ratio"] * ins[0].features))

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return ins[0].with_features(self.out_width(ins))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "in_features": ins[0].features,
            "hidden": self.hidden(ins),
            "out_features": self.out_width(ins),
            "layers": self.hp["layers"],
            "act": self.hp["act"],
            "dropout": self.hp["dropout"],
            "bias": self.hp["bias"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, h, o, n = ins[0].features, self.hidden(ins), self.out_width(ins), self.hp["layers"]
        weights = d * h + (n - 1) * h * h + h * o
        return weights + ((n * h + o) if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d, h, o, n = ins[0].features, self.hidden(ins), out.features, self.hp["layers"]
        tokens = out.numel // o
        flops = tokens * (2 * (d * h + (n - 1) * h * h + h * o) + 2 * n * h)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))
