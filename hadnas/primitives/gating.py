"""Dynamic modulation / gating (survey §4, GLU family §5.2): one branch scales another.

Gates start open and near-constant (bias 1 and tiny weights for GLU and the gMLP spatial gate,
forget-gate bias 1 for the LSTM, mask scores that start near 1), so each block starts close to
its ungated counterpart and the modulation is learned from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from hadnas.primitives._base import Cost, Param, PrimitiveDef, ShapeError, TensorSpec, io_bytes
from hadnas.primitives._functional import make_activation
from hadnas.primitives._registry import register_primitive

GLU_ACTS = ("sigmoid", "identity", "relu", "gelu", "silu")


class GLUFFN(nn.Module):
    """Gated feed-forward block ``(act(x W) ⊙ x V) W₂`` (GLU, bilinear, ReGLU, GEGLU, SwiGLU).

    The gate projection starts with tiny weights (std 1e-6) and bias 1, so every token starts
    with the same gate ``act(1)`` and the block starts as a plain linear FFN (timm practice).
    """

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int,
        act: str = "silu",
        bias: bool = True,
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


class SqueezeExcite(nn.Module):
    """``y = x ⊙ gate(W₂ act(W₁ pool(x)))``: channel gates from a global summary.

    Images pool over H, W (mean, plus max with ``add_maxpool``), sequences over T; a vector is
    its own summary (feature-wise self-gating).
    """

    def __init__(
        self,
        channels: int,
        reduced: int,
        act: str = "relu",
        gate: str = "sigmoid",
        add_maxpool: bool = False,
    ) -> None:
        super().__init__()
        self.add_maxpool = add_maxpool
        self.fc1 = nn.Linear(channels, reduced)
        self.fc2 = nn.Linear(reduced, channels)
        self.act = make_activation(act)
        self.gate = make_activation(gate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = {4: (2, 3), 3: (1,), 2: ()}[x.dim()]
        s = x.mean(dim=dims) if dims else x
        if self.add_maxpool and dims:
            s = 0.5 * s + 0.5 * x.amax(dim=dims)
        g = self.gate(self.fc2(self.act(self.fc1(s))))  # (B, C)
        if x.dim() == 4:
            g = g[:, :, None, None]
        elif x.dim() == 3:
            g = g[:, None, :]
        return x * g


class SpatialGatingBlock(nn.Module):
    """gMLP block: ``Z = GELU(LN(X) U)``, ``[Z₁, Z₂] = split(Z)``,
    ``Y = (Z₁ ⊙ (W LN(Z₂) + b)) V`` (+ X with ``residual``), W: (T, T) mixing tokens.

    W starts at N(0, 1e-6) with bias 1, so the gate is ≈ 1 and the block starts as an FFN;
    ``causal`` keeps only the lower triangle of W.
    """

    def __init__(
        self,
        features: int,
        seq_len: int,
        hidden: int,
        causal: bool = False,
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.causal, self.residual = causal, residual
        self.norm = nn.LayerNorm(features)
        self.proj_in = nn.Linear(features, hidden)
        self.norm_gate = nn.LayerNorm(hidden // 2)
        self.spatial = nn.Linear(seq_len, seq_len)
        self.proj_out = nn.Linear(hidden // 2, features)
        with torch.no_grad():
            nn.init.normal_(self.spatial.weight, std=1e-6)
            nn.init.ones_(self.spatial.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d)
        z = nn.functional.gelu(self.proj_in(self.norm(x)))
        u, v = z.chunk(2, dim=-1)  # (B, T, h/2) each
        w = self.spatial.weight.tril() if self.causal else self.spatial.weight
        v = nn.functional.linear(self.norm_gate(v).transpose(1, 2), w, self.spatial.bias)
        y = self.proj_out(u * v.transpose(1, 2))
        return x + y if self.residual else y


class GatedRNN(nn.Module):
    """LSTM or GRU over a sequence ``(B, T, d) → (B, T, h)`` (all hidden states).

    The LSTM forget gate starts with bias 1 (Jozefowicz et al.) so memory is kept by default.
    """

    def __init__(self, input_size: int, hidden: int, cell: str = "lstm", layers: int = 1) -> None:
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(input_size, hidden, num_layers=layers, batch_first=True)
        if cell == "lstm":
            with torch.no_grad():
                for k in range(layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[hidden : 2 * hidden].fill_(1.0)
                    getattr(self.rnn, f"bias_hh_l{k}")[hidden : 2 * hidden].zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]


class MaskedLinear(nn.Module):
    """Linear map with a learnable soft pruning mask ``y = x (W ⊙ σ(S/τ))ᵀ + b``.

    Scores S start at ``score_init`` (σ(3) ≈ 0.95: almost dense); weights whose mask falls
    towards 0 are pruned by thresholding σ(S) after training.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        temperature: float = 1.0,
        score_init: float = 3.0,
    ) -> None:
        super().__init__()
        self.temperature = temperature
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.scores = nn.Parameter(torch.full((out_features, in_features), score_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.sigmoid(self.scores / self.temperature)
        return nn.functional.linear(x, self.linear.weight * mask, self.linear.bias)


class FeatureMask(nn.Module):
    """Learnable soft feature/channel mask ``y = x ⊙ σ(s/τ)`` (channels of images)."""

    def __init__(
        self, features: int, image: bool = False, temperature: float = 1.0, score_init: float = 3.0
    ) -> None:
        super().__init__()
        self.image, self.temperature = image, temperature
        self.scores = nn.Parameter(torch.full((features,), score_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.sigmoid(self.scores / self.temperature)
        return x * (mask[:, None, None] if self.image else mask)


def _tokens(spec: TensorSpec) -> int:
    return spec.numel // spec.features


@register_primitive
class GLUFFNDef(PrimitiveDef):
    """GLU-family feed-forward (Dauphin et al. 2017; Shazeer, GLU Variants Improve Transformer).

    ``x: (B, d)`` or ``(B, T, d)``; ``W, V: (d, h)``; ``W₂: (h, o)``; ``h = hidden_ratio · d``
    unless ``hidden`` is given. ``act`` picks the variant: sigmoid → GLU, identity → bilinear,
    relu → ReGLU, gelu → GEGLU, silu → SwiGLU. Gate bias 1 and weights of std 1e-6 make the
    block start as a linear FFN. Params ``3dh`` (+ ``2h + o`` with bias).
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
    complexity = "O(3·d·h)"
    paper = "Shazeer, GLU Variants Improve Transformer (2020)"
    examples = (
        ({"act": "sigmoid", "hidden": 6}, (TensorSpec((5,)),)),
        ({"act": "gelu", "out": 3, "bias": False}, (TensorSpec((4, 5)),)),
        ({"act": "identity"}, (TensorSpec((3, 4)),)),
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
            "act": self.hp["act"],
            "bias": self.hp["bias"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, h, o = ins[0].features, self.hidden(ins), self.out_width(ins)
        return 2 * d * h + h * o + ((2 * h + o) if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        d, h, o = ins[0].features, self.hidden(ins), out.features
        flops = _tokens(out) * (4 * d * h + 2 * h * o + 2 * h)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class SEGateDef(PrimitiveDef):
    """Squeeze-and-excitation gate (Hu et al., CVPR 2018).

    ``s = gate(W₂ act(W₁ pool(x)))``, ``y = x ⊙ s`` broadcast over H, W (images) or T
    (sequences); a vector gates itself. ``reduction`` r sets the bottleneck
    ``r_c = max(divisor, round_to_divisor(C / r))``; ``gate`` sigmoid | hard_sigmoid; ``act``
    the inner activation; ``add_maxpool`` squeezes with ``0.5·mean + 0.5·max``.
    Params ``2·C·r_c + r_c + C``.
    """

    op = "se_gate"
    domain = "modulation"
    hparams = {
        "reduction": Param(int, 16, low=1, high=64, doc="channel reduction ratio r"),
        "divisor": Param(int, 8, low=1, high=64, doc="round the bottleneck to a multiple"),
        "act": Param(str, "relu", choices=("relu", "silu", "gelu"), doc="inner activation"),
        "gate": Param(str, "sigmoid", choices=("sigmoid", "hard_sigmoid"), doc="gate function"),
        "add_maxpool": Param(bool, False, doc="squeeze with 0.5·mean + 0.5·max"),
    }
    module = SqueezeExcite
    helpers = (make_activation,)
    formula = "y = x ⊙ σ(W₂ δ(W₁ GAP(x)))"
    complexity = "O(numel + 2·C·r_c)"
    paper = "Hu et al., Squeeze-and-Excitation Networks (CVPR 2018)"
    examples = (
        ({"reduction": 2, "divisor": 1}, (TensorSpec((6,)),)),
        ({"reduction": 4, "divisor": 2, "act": "silu"}, (TensorSpec((5, 8)),)),
        ({"reduction": 2, "divisor": 1, "add_maxpool": True}, (TensorSpec((4, 3, 3)),)),
        ({"gate": "hard_sigmoid"}, (TensorSpec((4, 3, 3)),)),
    )

    def reduced(self, ins: Sequence[TensorSpec]) -> int:
        div = self.hp["divisor"]
        return max(div, int(ins[0].features / self.hp["reduction"] + div / 2) // div * div)

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "channels": ins[0].features,
            "reduced": self.reduced(ins),
            "act": self.hp["act"],
            "gate": self.hp["gate"],
            "add_maxpool": self.hp["add_maxpool"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        c, r = ins[0].features, self.reduced(ins)
        return 2 * c * r + r + c

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        c, r = ins[0].features, self.reduced(ins)
        pool = out.numel * (2 if self.hp["add_maxpool"] else 1)
        flops = pool + 4 * c * r + 4 * c + out.numel
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + ins[0].nbytes)


@register_primitive
class SGUDef(PrimitiveDef):
    """gMLP block with its spatial gating unit (Liu et al., Pay Attention to MLPs, 2021).

    ``X: (B, T, d)``, T fixed at build time (taken from the input spec). ``Z = GELU(LN(X)U)``,
    ``U: (d, h)``, ``h = mlp_ratio·d`` (rounded up to even); ``Y = (Z₁ ⊙ (W LN(Z₂) + b)) V``,
    ``W: (T, T)``. The gate starts ≈ 1 (W ~ N(0, 1e-6), b = 1). ``causal`` masks W to its lower
    triangle; ``residual`` adds X. Params ``2d + dh + h + h + T² + T + (h/2)d + d``.
    """

    op = "sgu"
    domain = "modulation"
    layouts = frozenset({"S"})
    causal_capable = True
    hparams = {
        "mlp_ratio": Param(int, 2, low=1, high=8, doc="hidden width / input width"),
        "causal": Param(bool, False, doc="token mixing only from the past"),
        "residual": Param(bool, False, doc="add the input (the gMLP block's skip)"),
    }
    module = SpatialGatingBlock
    formula = "Y = (Z₁ ⊙ (W·LN(Z₂) + b)) V, Z = GELU(LN(X)U)"
    complexity = "O(T·d·h + T²·h)"
    paper = "Liu et al., Pay Attention to MLPs (NeurIPS 2021)"
    examples = (
        ({}, (TensorSpec((5, 4)),)),
        ({"mlp_ratio": 3, "causal": True, "residual": True}, (TensorSpec((6, 3)),)),
    )

    def hidden(self, ins: Sequence[TensorSpec]) -> int:
        h = self.hp["mlp_ratio"] * ins[0].features
        return h + h % 2

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "features": ins[0].features,
            "seq_len": ins[0].shape[0],
            "hidden": self.hidden(ins),
            "causal": self.hp["causal"],
            "residual": self.hp["residual"],
        }

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        t, d = ins[0].shape
        h = self.hidden(ins)
        return 2 * d + d * h + h + h + t * t + t + (h // 2) * d + d

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t, d = ins[0].shape
        h = self.hidden(ins)
        macs = t * (d * h + (h // 2) * d) + t * t * (h // 2)
        flops = 2 * macs + t * (8 * d + 4 * h + 2 * h)
        interm = 4 * t * h * 3
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)) + interm)


@register_primitive
class GatedRNNDef(PrimitiveDef):
    """Gated recurrent layer: LSTM (Hochreiter & Schmidhuber 1997) or GRU (Cho et al. 2014).

    ``(B, T, d) → (B, T, h)``; LSTM ``c_t = f⊙c_{t−1} + i⊙g``, ``h_t = o⊙tanh(c_t)``; GRU
    ``h_t = (1−z)⊙n + z⊙h_{t−1}``. ``cell`` picks it, ``hidden`` h (default d), ``layers``
    stacks them. Causal by construction; sequential in T. Params (PyTorch's two bias vectors)
    LSTM ``4(h·d_in + h² + 2h)``, GRU ``3(h·d_in + h² + 2h)`` per layer.
    """

    op = "gated_rnn"
    domain = "modulation"
    layouts = frozenset({"S"})
    causal_capable = True
    hparams = {
        "cell": Param(str, "lstm", choices=("lstm", "gru"), doc="recurrent cell"),
        "hidden": Param(int, None, low=1, doc="hidden/output width (default: input width)"),
        "layers": Param(int, 1, low=1, high=4, doc="stacked layers"),
    }
    module = GatedRNN
    formula = "c_t = f_t⊙c_{t−1} + i_t⊙g_t; h_t = o_t⊙tanh(c_t)"
    complexity = "O(T·gates·h·(d+h)), sequential"
    paper = "Hochreiter & Schmidhuber, Long Short-Term Memory (1997); Cho et al. (2014)"
    examples = (
        ({}, (TensorSpec((5, 3)),)),
        ({"cell": "gru", "hidden": 4, "layers": 2}, (TensorSpec((4, 3)),)),
    )

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        return ins[0].with_features(self.out_width(ins, "hidden"))

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        return {
            "input_size": ins[0].features,
            "hidden": self.out_width(ins, "hidden"),
            "cell": self.hp["cell"],
            "layers": self.hp["layers"],
        }

    def _gates(self) -> int:
        return 4 if self.hp["cell"] == "lstm" else 3

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        d, h, n = ins[0].features, self.out_width(ins, "hidden"), self.hp["layers"]
        per = [self._gates() * (h * (d if k == 0 else h) + h * h + 2 * h) for k in range(n)]
        return sum(per)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        t = ins[0].shape[0]
        h, g = out.features, self._gates()
        flops = t * (2 * self.num_params(ins) + self.hp["layers"] * (g + 4) * h)
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))


@register_primitive
class MaskDef(PrimitiveDef):
    """Learnable pruning mask (survey §4.1, masking with the Hadamard product).

    ``target: weight``: a linear layer ``y = x (W ⊙ σ(S/τ))ᵀ + b`` whose scores S learn which
    weights to keep (``(B, d)``/``(B, T, d)``; params ``2·d·o + o``); ``target: feature``:
    ``y = x ⊙ σ(s/τ)`` with one score per feature/channel (any layout; params C).
    ``temperature`` τ sharpens the mask; ``score_init`` sets its start (3 ⇒ σ ≈ 0.95, dense).
    """

    op = "mask"
    domain = "modulation"
    hparams = {
        "target": Param(str, "weight", choices=("weight", "feature"), doc="what is masked"),
        "out": Param(int, None, low=1, doc="output width, target weight (default: input)"),
        "bias": Param(bool, True, doc="bias of the masked linear layer"),
        "temperature": Param(float, 1.0, low=1e-3, high=100.0, doc="τ in σ(S/τ)"),
        "score_init": Param(float, 3.0, low=-10.0, high=10.0, doc="initial score"),
    }
    formula = "y = x (W ⊙ σ(S/τ))ᵀ + b  |  y = x ⊙ σ(s/τ)"
    complexity = "O(d·out) | O(numel)"
    paper = "Chrysos et al., Hadamard product in deep learning §4.1 (TPAMI 2025)"
    examples = (
        ({"out": 3}, (TensorSpec((5,)),)),
        ({"bias": False, "temperature": 0.5}, (TensorSpec((3, 4)),)),
        ({"target": "feature"}, (TensorSpec((3, 4)),)),
        ({"target": "feature", "score_init": 0.0}, (TensorSpec((3, 4, 4)),)),
    )

    def __init__(self, **hp: Any) -> None:
        super().__init__(**hp)
        if self.hp["target"] == "feature" and self.hp["out"] is not None:
            raise ValueError("mask: target feature keeps the width; remove `out`")

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        self.check_inputs(ins)
        if self.hp["target"] == "feature":
            return ins[0]
        if ins[0].layout == "I":
            raise ShapeError(
                f"mask: target weight masks a linear layer and needs a vector or sequence, got "
                f"image {ins[0]}; use target: feature for images"
            )
        return ins[0].with_features(self.out_width(ins))

    def module_class(self, ins: Sequence[TensorSpec]) -> type[nn.Module]:
        return MaskedLinear if self.hp["target"] == "weight" else FeatureMask

    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        common = {"temperature": self.hp["temperature"], "score_init": self.hp["score_init"]}
        if self.hp["target"] == "feature":
            return {"features": ins[0].features, "image": ins[0].layout == "I"} | common
        return {
            "in_features": ins[0].features,
            "out_features": self.out_width(ins),
            "bias": self.hp["bias"],
        } | common

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        if self.hp["target"] == "feature":
            return ins[0].features
        d, o = ins[0].features, self.out_width(ins)
        return 2 * d * o + (o if self.hp["bias"] else 0)

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        if self.hp["target"] == "feature":
            return Cost(out.numel, io_bytes(ins, out, self.num_params(ins)))
        d, o = ins[0].features, out.features
        flops = 2 * _tokens(out) * d * o + 3 * d * o
        return Cost(flops, io_bytes(ins, out, self.num_params(ins)))
