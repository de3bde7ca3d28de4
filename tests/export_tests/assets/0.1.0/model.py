"""The architecture compat, trial 0, exported by hadnas.

Standalone PyTorch code: it needs torch and the Python standard library only. Inputs: x (B, 6);
output: (B, 3). Load the exported weights with::

    from safetensors.torch import load_file

    model = Model()
    model.load_state_dict(load_file("model.safetensors"))
    model.eval()
    y = model(*ModelConfig().example_inputs())
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


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


class BodyBlock(nn.Module):
    """A copy of the repeat block ``body``."""

    def __init__(self) -> None:
        super().__init__()
        self.mix = PolyCCP(in_features=4, rank=3, out_features=4, degree=2)


@dataclass(frozen=True)
class ModelConfig:
    """Per-sample shape and dtype of each input (the batch dimension comes first)."""

    x_shape: tuple[int, ...] = (6,)
    x_dtype: torch.dtype = torch.float32

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        """Example inputs: random floats, zero integer ids."""
        return (torch.randn(batch_size, *self.x_shape, dtype=self.x_dtype),)


class Model(nn.Module):
    """The architecture compat, trial 0, exported by hadnas."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        self.stem = nn.Linear(in_features=6, out_features=4)
        self.body = nn.ModuleList([BodyBlock() for _ in range(2)])
        self.head = nn.Linear(in_features=4, out_features=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 6) -> (B, 3)."""
        body_0, body_1 = self.body
        stem = self.stem(x)  # (B, 4)
        body_0_mix = body_0.mix(stem)  # (B, 4)
        body_0_res = body_0_mix + stem  # (B, 4)
        body_1_mix = body_1.mix(body_0_res)  # (B, 4)
        body_1_res = body_1_mix + body_0_res  # (B, 4)
        head = self.head(body_1_res)  # (B, 3)
        return head
