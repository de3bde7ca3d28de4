"""Dynamic modulation / gating (survey §4, GLU family §5.2): one branch scales another."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, TensorSpec, io_bytes
from hadnas.primitives._registry import register_primitive

GLU_ACTS = ("sigmoid", "identity", "relu", "gelu", "silu")


class GLUFFN(nn.Module):
    """Gated feed-forward block ``(act(x W) ⊙ x V) W₂`` (GLU, bilinear, ReGLU, GEGLU, SwiGLU).

    The gate projection starts with tiny weights (std 1e-6) and bias 1, so every token starts
    with the same gate ``act(1)`` and the block starts as a plain linear FFN (timm practice).
    """

    def __init__(
        self, in_features: int, hidden: int, out_features: int, act: str = "silu", bias: bool = True
    ) -> None:
        super().__init__()
        self.act = act
        self.gate = nn.Linear(in_features, hidden, bias=bias)
        self.value = nn.Linear(in_features, hidden, bias=bias)
        self.proj = nn.Linear(hidden, out_features, bias=bias)
        with torch.no_grad():
            nn.init.normal_(self.gate.weight, std=1e-6)
            if self.gate.bias is not None:
                nn.init.ones_(self.gate.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.gate(x)
        if self.act == "sigmoid":
            g = torch.sigmoid(g)
        elif self.act == "relu":
            g = torch.relu(g)
        elif self.act == "gelu":
            g = nn.functional.gelu(g)
        elif self.act == "silu":
            g = nn.functional.silu(g)
        return self.proj(g * self.value(x))


@register_primitive
class GLUFFNDef(PrimitiveDef):
    """GLU-family feed-forward (Dauphin et al. 2017; Shazeer, GLU Variants Improve Transformer).

    ``x: (B, d)`` or ``(B, T, d)``; ``W, V: (d, h)``; ``W₂: (h, o)``; ``h = hidden_ratio · d``
    unless ``hidden`` is given. ``act`` picks the variant: sigmoid → GLU, identity → bilinear,
    relu → ReGLU, gelu → GEGLU, silu → SwiGLU. Params ``3dh`` (+ ``2h + o`` with bias).
    """

    op = "glu_ffn"
    domain = "modulation"
    layouts = frozenset({"V", "S"})
    hparams = {
        "act": Param(str, "silu", choices=GLU_ACTS, doc="gate activation (variant)"),
        "hidden_ratio": Param(float, 2.0, low=0.05, high=16.0, doc="hidden width / input width"),
        "hidden": Param(int, None, low=1, doc="hidden width (overrides hidden_ratio)"),
        "out": Param(int, None, low=1, doc="output width (default: input width)"),
        "bias": Param(bool, True, doc="biases in the three projections"),
    }
    module = GLUFFN
    formula = "y = (act(xW) ⊙ xV) W₂"
    paper = "Shazeer, GLU Variants Improve Transformer (2020)"

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
            "act": self.hp["act"],
            "bias": self.hp["bias"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, h, o = ins[0].features, self.hidden(ins), self.out_width(ins)
        return 2 * d * h + h * o + ((2 * h + o) if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d, h, o = ins[0].features, self.hidden(ins), out.features
        tokens = out.numel // o
        flops = tokens * (4 * d * h + 2 * h * o + 2 * h)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))
