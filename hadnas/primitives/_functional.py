"""Standalone helpers that primitive modules call.

Everything here depends on torch and the standard library only: a primitive lists the helpers
it uses in its ``helpers`` tuple and the exporter copies their source next to the module's.
Names are unique across the package so that copied helpers never collide.
"""

from __future__ import annotations

import torch
from torch import nn

#: activation names every primitive with an ``act`` hyper-parameter accepts
ACT_NAMES = ("none", "relu", "gelu", "silu", "sigmoid", "tanh", "elu", "softplus", "identity")


def make_activation(name: str) -> nn.Module:
    """``nn.Module`` for an activation name; ``none`` and ``identity`` give ``nn.Identity``."""
    table = {
        "none": nn.Identity,
        "identity": nn.Identity,
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "elu": nn.ELU,
        "softplus": nn.Softplus,
        "hard_sigmoid": nn.Hardsigmoid,
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(table)}")
    return table[name]()


def signed_sqrt_l2(z: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Power + L2 normalisation of fused features (MFB/MLB ``normalize``).

    ``z / sqrt(|z| + eps)`` is the signed square root with a bounded slope at 0 (the plain
    ``sign(z)·sqrt(|z|)`` has an infinite gradient there); then unit L2 norm on the last axis.
    """
    z = z * torch.rsqrt(z.abs() + eps)
    return nn.functional.normalize(z, dim=-1)


def same_padding(kernel: int, dilation: int = 1, causal: bool = False) -> tuple[int, int]:
    """(left, right) zero padding that keeps a stride-1 convolution's length; causal pads left."""
    total = dilation * (kernel - 1)
    if causal:
        return total, 0
    return total // 2, total - total // 2


def chunk_sizes(total: int, chunks: int) -> list[int]:
    """Split ``total`` into ``chunks`` near-equal positive sizes (the first ones one larger)."""
    base, extra = divmod(total, chunks)
    return [base + 1 if i < extra else base for i in range(chunks)]
