"""Plumbing and control primitives: projections, normalisation, joins, reshaping.

These are the non-Hadamard building blocks every space needs, and the baselines (``linear``,
``add``, ``concat``) the Hadamard ops compete with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, ShapeError, TensorSpec, io_bytes
from hadnas.primitives._registry import register_primitive
from hadnas.primitives._shapes import broadcast, feature_axis

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}


class Add(nn.Module):
    """Sum of any number of tensors (broadcasting)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Concatenation along the feature axis (last for vectors/sequences, channels for images)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


class Flatten(nn.Module):
    """Flatten every per-sample dimension: ``(B, ...) -> (B, prod(...))``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of ``(B, C, H, W)`` images (ConvNeXt-style)."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


@register_primitive
class LinearDef(PrimitiveDef):
    """Affine projection of the feature axis: ``y = x Wᵀ + b``, ``W: (out, d)``.

    Accepts vectors ``(B, d)`` and sequences ``(B, T, d)`` (applied per token); for images use
    ``conv2d`` with ``kernel: 1``.
    """

    op = "linear"
    layouts = frozenset({"V", "S"})
    hparams = {
        "out": Param(int, None, low=1, doc="output width (default: input width)"),
        "bias": Param(bool, True, doc="add a learned bias"),
    }
    module = nn.Linear
    formula = "y = x Wᵀ + b"
    complexity = "O(d·out)"
    examples = (({"out": 3}, (TensorSpec((5,)),)), ({"bias": False}, (TensorSpec((4, 5)),)))

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return ins[0].with_features(self.out_width(ins))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "in_features": ins[0].features,
            "out_features": self.out_width(ins),
            "bias": self.hp["bias"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, o = ins[0].features, self.out_width(ins)
        return d * o + (o if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        tokens = out.numel // out.features
        flops = 2 * tokens * ins[0].features * out.features
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class EmbeddingDef(PrimitiveDef):
    """Token embedding: integer ids ``(B, T)`` → vectors ``(B, T, out)`` via a lookup table."""

    op = "embedding"
    layouts = frozenset({"V"})
    accepts_integer_input = True
    hparams = {
        "vocab": Param(int, low=1, doc="number of token ids"),
        "out": Param(int, low=1, doc="embedding width"),
    }
    module = nn.Embedding
    formula = "y_t = E[x_t]"
    complexity = "O(T·out)"
    nondifferentiable_inputs = frozenset({0})
    examples = (({"vocab": 7, "out": 4}, (TensorSpec((5,), "int64"),)),)

    def sample_inputs(
        self,
        ins: Sequence[TensorSpec],
        batch: int = 2,
        dtype: torch.dtype = torch.float32,
        generator: torch.Generator | None = None,
    ) -> list[torch.Tensor]:
        shape = (batch, *ins[0].shape)
        return [torch.randint(0, self.hp["vocab"], shape, generator=generator)]

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        if ins[0].dtype != "int64":
            raise ShapeError(
                f"embedding needs integer token ids, got {ins[0]}; declare the input with "
                "`dtype: int64`"
            )
        return TensorSpec((*ins[0].shape, self.hp["out"]), "float32")

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {"num_embeddings": self.hp["vocab"], "embedding_dim": self.hp["out"]}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return self.hp["vocab"] * self.hp["out"]

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(0, ins[0].nbytes + 2 * out.nbytes)


@register_primitive
class LayerNormDef(PrimitiveDef):
    """Layer normalisation over the feature axis (channels for images)."""

    op = "layer_norm"
    hparams = {"eps": Param(float, 1e-5, low=0.0, doc="numerical floor of the variance")}
    formula = "y = (x - μ) / sqrt(σ² + ε) ⊙ γ + β"
    complexity = "O(numel)"
    examples = (
        ({}, (TensorSpec((5,)),)),
        ({"eps": 1e-3}, (TensorSpec((4, 5)),)),
        ({}, (TensorSpec((3, 4, 4)),)),
    )

    def module_class(self, ins: Sequence[TensorSpec]) -> type[nn.Module]:
        return ChannelLayerNorm if ins[0].layout == "I" else nn.LayerNorm

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        if ins[0].layout == "I":
            return {"channels": ins[0].features, "eps": self.hp["eps"]}
        return {"normalized_shape": ins[0].features, "eps": self.hp["eps"]}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 2 * ins[0].features

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(8 * out.numel, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class ActivationDef(PrimitiveDef):
    """Point-wise non-linearity chosen by ``fn``."""

    op = "activation"
    hparams = {"fn": Param(str, "relu", choices=tuple(ACTIVATIONS), doc="the non-linearity")}
    formula = "y = fn(x)"
    complexity = "O(numel)"
    examples = (
        ({"fn": "gelu"}, (TensorSpec((5,)),)),
        ({"fn": "tanh"}, (TensorSpec((4, 5)),)),
        ({}, (TensorSpec((3, 4, 4)),)),
    )

    def module_class(self, ins: Sequence[TensorSpec]) -> type[nn.Module]:
        return ACTIVATIONS[self.hp["fn"]]

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0


class _JoinDef(PrimitiveDef):
    arity = (2, None)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost((len(ins) - 1) * out.numel, io_bytes(ins, out, 0))


@register_primitive
class AddDef(_JoinDef):
    """Element-wise sum of two or more inputs (residual connections, additive fusion)."""

    op = "add"
    module = Add
    formula = "y = x₁ + x₂ + …"
    complexity = "O(n·numel)"
    examples = (
        ({}, (TensorSpec((5,)), TensorSpec((5,)))),
        ({}, (TensorSpec((4, 5)), TensorSpec((1, 5)), TensorSpec((4, 5)))),
        ({}, (TensorSpec((3, 4, 4)), TensorSpec((3, 4, 4)))),
    )

    def inline(self, args: Sequence[str], ins: Sequence[TensorSpec]) -> str | None:
        return " + ".join(args)

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return broadcast(self.op, ins)


@register_primitive
class ConcatDef(_JoinDef):
    """Concatenation of two or more inputs along the feature axis."""

    op = "concat"
    module = Concat
    formula = "y = [x₁; x₂; …]"
    complexity = "O(numel)"
    examples = (
        ({}, (TensorSpec((5,)), TensorSpec((3,)))),
        ({}, (TensorSpec((4, 5)), TensorSpec((4, 2)))),
        ({}, (TensorSpec((3, 4, 4)), TensorSpec((2, 4, 4)))),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        first = ins[0]
        for i, spec in enumerate(ins[1:], start=1):
            a = first.with_features(0)
            b = spec.with_features(0)
            if a.shape != b.shape:
                raise ShapeError(
                    f"concat: input 0 has shape {first} but input {i} has shape {spec}; "
                    "only the feature axis may differ"
                )
        return first.with_features(sum(x.features for x in ins))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {"dim": feature_axis(ins[0])}

    def inline(self, args: Sequence[str], ins: Sequence[TensorSpec]) -> str | None:
        return f"torch.cat(({', '.join(args)},), dim={feature_axis(ins[0])})"

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(0, io_bytes(ins, out, 0))


@register_primitive
class IdentityDef(PrimitiveDef):
    """Pass-through; lets a search choose "no op" at a node."""

    op = "identity"
    module = nn.Identity
    formula = "y = x"
    complexity = "O(1)"
    examples = (
        ({}, (TensorSpec((5,)),)),
        ({}, (TensorSpec((4, 5)),)),
        ({}, (TensorSpec((3, 4, 4)),)),
    )

    def inline(self, args: Sequence[str], ins: Sequence[TensorSpec]) -> str | None:
        return args[0]

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(0, 0)


@register_primitive
class FlattenDef(PrimitiveDef):
    """Flatten every per-sample axis into one vector: ``(B, ...) → (B, prod)``."""

    op = "flatten"
    module = Flatten
    formula = "y = vec(x)"
    complexity = "O(1)"
    examples = (
        ({}, (TensorSpec((5,)),)),
        ({}, (TensorSpec((4, 5)),)),
        ({}, (TensorSpec((3, 4, 4)),)),
    )

    def inline(self, args: Sequence[str], ins: Sequence[TensorSpec]) -> str | None:
        return f"{args[0]}.flatten(1)"

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return TensorSpec((ins[0].numel,), ins[0].dtype)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {}

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        return 0

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        return Cost(0, 0)
