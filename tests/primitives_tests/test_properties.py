"""The property that defines each Hadamard primitive, checked against its formula."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn

from hadnas.primitives import TensorSpec, get_primitive
from hadnas.primitives.long_range import HyenaOperator, SelectiveSSMGate
from hadnas.primitives.mixers import LinearAttention
from hadnas.testing import PrimitiveCase

V = TensorSpec((6,))


def build(op: str, hp: dict[str, Any], *ins: TensorSpec, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return get_primitive(op)(**hp).create(ins).double()


def randomize(module: nn.Module, scale: float = 0.5, seed: int = 1) -> nn.Module:
    """Move every parameter off its init (start-linear inits hide the higher-degree terms)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def finite_difference(f: Any, x0: torch.Tensor, v: torch.Tensor, order: int) -> torch.Tensor:
    """``Δ^order f`` along ``x0 + s·v`` with unit steps: 0 for polynomials of lower degree."""
    return sum((-1) ** (order - k) * math.comb(order, k) * f(x0 + k * v) for k in range(order + 1))


# -- polynomial degree ------------------------------------------------------------------------
POLY = (
    [("poly_ccp", {"degree": n, "rank": 5}, n) for n in (1, 2, 3, 4)]
    + [
        ("poly_ncp", {"degree": n, "rank": 4, "skip": s, "alpha": s != "none"}, n)
        for n in (2, 3)
        for s in ("none", "identity", "learned")
    ]
    + [("quadratic", {"start_linear": False}, 2), ("poly_ccp", {"degree": 3, "bias": False}, 3)]
)


@pytest.mark.parametrize(("op", "hp", "degree"), POLY, ids=lambda v: str(v))
def test_polynomial_has_exactly_the_configured_degree(
    op: str, hp: dict[str, Any], degree: int
) -> None:
    module = randomize(build(op, hp, V))
    gen = torch.Generator().manual_seed(2)
    x0 = torch.randn(1, 6, generator=gen, dtype=torch.float64)
    v = torch.randn(1, 6, generator=gen, dtype=torch.float64) * 0.7
    with torch.no_grad():
        top = finite_difference(module, x0, v, degree)
        above = finite_difference(module, x0, v, degree + 1)
        scale = max(module(x0 + k * v).abs().max().item() for k in range(degree + 2))
    assert above.abs().max().item() < 1e-9 * max(scale, 1.0), "degree too high"
    assert top.abs().max().item() > 1e-3 * scale, "degree too low"


@pytest.mark.parametrize(
    ("op", "hp"),
    [
        ("poly_ncp", {"degree": 3, "rank": 4}),
        ("poly_ccp", {"degree": 3, "rank": 4, "init_scale": 0.0}),
        ("quadratic", {}),
    ],
)
def test_start_linear_inits(op: str, hp: dict[str, Any]) -> None:
    """Π-net α = 0, CCP init_scale 0 and quadratic start_linear give a linear map at init."""
    module = build(op, hp, V)
    x0, v = torch.randn(1, 6, dtype=torch.float64), torch.randn(1, 6, dtype=torch.float64)
    with torch.no_grad():
        assert finite_difference(module, x0, v, 2).abs().max() < 1e-10


# -- multiplicative structure -----------------------------------------------------------------
BILINEAR = [
    ("mi_bilinear", {"linear_terms": False, "bias": False}),
    ("mi_bilinear", {"rank": 3, "linear_terms": False, "bias": False}),
    ("mlb", {"act": "none", "bias": False}),
    ("mfb", {"act": "none", "bias": False, "normalize": False, "factor": 3}),
    ("mutan", {"bias": False, "rank": 3}),
    ("block", {"bias": False, "rank": 2, "chunks": 3}),
]


@pytest.mark.parametrize(
    ("op", "hp"), BILINEAR, ids=[f"{o}-{i}" for i, (o, _) in enumerate(BILINEAR)]
)
def test_bias_free_fusions_are_bilinear(op: str, hp: dict[str, Any]) -> None:
    """Linear in each input separately: scaling one input scales the output; sums split."""
    module = build(op, hp, V, TensorSpec((4,)))
    a, a2 = torch.randn(3, 6, dtype=torch.float64), torch.randn(3, 6, dtype=torch.float64)
    b, b2 = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    with torch.no_grad():
        y = module(a, b)
        torch.testing.assert_close(module(-2.5 * a, b), -2.5 * y)
        torch.testing.assert_close(module(a, 3.0 * b), 3.0 * y)
        torch.testing.assert_close(module(a + a2, b), y + module(a2, b))
        torch.testing.assert_close(module(a, b + b2), y + module(a, b2))


def test_mlb_with_relu_is_positively_homogeneous() -> None:
    module = build("mlb", {"bias": False}, V, V)
    a, b = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(module(2.0 * a, b), 2.0 * module(a, b))
        torch.testing.assert_close(module(2.0 * a, 3.0 * b), 6.0 * module(a, b))


def test_mfh_order_two_is_quadratic_in_each_input() -> None:
    hp = {"act": "none", "bias": False, "normalize": False, "order": 2, "mm_dim": 3}
    module = build("mfb", hp, V, V)
    a, b = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    with torch.no_grad():
        # [z₁; z₂] with z₁ bilinear and z₂ of degree 2 in each input: test each block of W_o
        w = module.lin_out.weight.clone()
        module.lin_out.weight[:, 3:] = 0
        torch.testing.assert_close(module(2.0 * a, b), 2.0 * module(a, b))
        module.lin_out.weight.copy_(w)
        module.lin_out.weight[:, :3] = 0
        torch.testing.assert_close(module(2.0 * a, b), 4.0 * module(a, b))


def test_hadamard_is_the_broadcast_product() -> None:
    module = get_primitive("hadamard")().create([V, V, TensorSpec((1,))])
    a, b, c = torch.randn(3, 6), torch.randn(3, 6), torch.randn(3, 1)
    torch.testing.assert_close(module(a, b, c), a * b * c)
    torch.testing.assert_close(module(2.0 * a, b, c), 2.0 * module(a, b, c))
    torch.testing.assert_close(module(a, b, c), module(c, b, a))


def test_mi_bilinear_full_matches_its_formula() -> None:
    module = randomize(build("mi_bilinear", {}, V, TensorSpec((4,))))
    x, z = torch.randn(2, 6, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    expected = torch.einsum("bj,oji,bi->bo", z, module.W, x) + module.U(z) + module.V(x) + module.b
    torch.testing.assert_close(module(x, z), expected)


def test_film_starts_as_identity_and_modulates() -> None:
    module = build("film", {}, TensorSpec((3, 4, 4)), TensorSpec((5,)))
    x, c = torch.randn(2, 3, 4, 4, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    assert (module(x, c) - x).abs().max() < 0.1
    randomize(module)
    gb = module.gen(c)
    expected = (1 + gb[:, :3, None, None]) * x + gb[:, 3:, None, None]
    torch.testing.assert_close(module(x, c), expected)


def test_gates_start_open() -> None:
    """GLU gate ≈ act(1) for every token; gMLP spatial gate ≈ 1; LSTM forget bias 1."""
    glu = get_primitive("glu_ffn")(act="sigmoid").create([V])
    g = torch.sigmoid(glu.gate(torch.randn(5, 6)))
    assert torch.allclose(
        g, torch.full_like(g, torch.sigmoid(torch.tensor(1.0)).item()), atol=1e-4
    )
    sgu = get_primitive("sgu")().create([TensorSpec((5, 4))])
    assert sgu.spatial.weight.abs().max() < 1e-4 and torch.all(sgu.spatial.bias == 1)
    rnn = get_primitive("gated_rnn")().create([TensorSpec((5, 4))]).rnn
    forget = rnn.bias_ih_l0[4:8] + rnn.bias_hh_l0[4:8]
    assert torch.all(forget == 1)


def test_fusions_have_no_output_activation_by_default() -> None:
    for op in ("linear_sum", "concat_mlp", "mlb", "mfb", "mutan", "block"):
        assert get_primitive(op).hparams["out_act"].default == "none"
        module = build(op, {}, V, V)
        with torch.no_grad():
            assert (module(torch.randn(16, 6).double(), torch.randn(16, 6).double()) < 0).any()


# -- mixers: exactness against naive formulas, causality, stability -----------------------------
S = TensorSpec((7, 4))


def naive_aft(module: nn.Module, x: torch.Tensor, causal: bool) -> torch.Tensor:
    """AFT straight from the paper's formula, one output position at a time."""
    q, k, v = module.q(x), module.k(x), module.v(x)
    t = x.shape[1]
    if hasattr(module, "pos_w"):
        w = module.pos_w * (module.band if module.window else 1)
    else:
        w = torch.zeros(t, t, dtype=x.dtype)
    rows = []
    for i in range(t):
        idx = slice(0, i + 1) if causal else slice(0, t)
        e = torch.exp(k[:, idx] + w[i, idx, None])
        rows.append(torch.sigmoid(q[:, i]) * (e * v[:, idx]).sum(1) / e.sum(1))
    return module.out(torch.stack(rows, 1))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(
    ("op", "hp"), [("aft_simple", {}), ("aft_full", {}), ("aft_local", {"window": 2})]
)
def test_aft_matches_the_formula(op: str, hp: dict[str, Any], causal: bool) -> None:
    module = randomize(build(op, {**hp, "causal": causal}, S))
    x = torch.randn(2, 7, 4, dtype=torch.float64)
    torch.testing.assert_close(module(x), naive_aft(module, x, causal))


@pytest.mark.parametrize("op", ["aft_simple", "aft_full"])
def test_aft_max_subtraction_survives_huge_keys(op: str) -> None:
    module = build(op, {"causal": True}, S).float()
    x = 1e3 * torch.randn(2, 7, 4)
    assert torch.isfinite(module(x)).all()


def test_aft_local_bias_is_zero_outside_the_window() -> None:
    module = randomize(build("aft_local", {"window": 2}, S))
    x = torch.randn(1, 7, 4, dtype=torch.float64)
    y = module(x)
    far = (torch.arange(7)[:, None] - torch.arange(7)[None]).abs() >= 2
    with torch.no_grad():
        module.pos_w[far] += 5.0  # outside the band: no effect
    torch.testing.assert_close(module(x), y)
    with torch.no_grad():
        module.pos_w[~far] += 1.0  # inside the band: changes the output
    assert not torch.allclose(module(x), y)


def naive_linear_attention(module: LinearAttention, x: torch.Tensor) -> torch.Tensor:
    phi = lambda y: nn.functional.elu(y) + 1  # noqa: E731
    q, k, v = phi(module.q(x)), phi(module.k(x)), module.v(x)
    scores = q @ k.transpose(1, 2)
    if module.causal:
        scores = scores.tril()
    return module.out((scores @ v) / (scores.sum(-1, keepdim=True) + 1e-6))


@pytest.mark.parametrize("causal", [False, True])
def test_linear_attention_matches_the_quadratic_form(causal: bool) -> None:
    module = randomize(build("linear_attention", {"causal": causal}, S), 0.3)
    module.chunk = 3  # several chunks plus a ragged last one
    x = torch.randn(2, 7, 4, dtype=torch.float64)
    torch.testing.assert_close(module(x), naive_linear_attention(module, x))


def test_attention_matches_masked_softmax() -> None:
    module = randomize(build("attention", {"heads": 2, "causal": True}, S), 0.3)
    x = torch.randn(2, 7, 4, dtype=torch.float64)
    q, k, v = module.qkv(x).view(2, 7, 3, 2, 2).permute(2, 0, 3, 1, 4)
    mask = torch.ones(7, 7, dtype=torch.bool).tril()
    a = (q @ k.transpose(-1, -2) / math.sqrt(2)).masked_fill(~mask, float("-inf")).softmax(-1)
    expected = module.proj((a @ v).transpose(1, 2).reshape(2, 7, 4))
    torch.testing.assert_close(module(x), expected)


def sequential_scan(m: SelectiveSSMGate, x: torch.Tensor, dt: Any, bm: Any, cm: Any) -> Any:
    a = -torch.exp(m.A_log)
    h = x.new_zeros(x.shape[0], x.shape[2], m.d_state)
    ys = []
    for t in range(x.shape[1]):
        h = torch.exp(dt[:, t, :, None] * a) * h + (dt[:, t] * x[:, t])[..., None] * bm[:, t, None]
        ys.append((h * cm[:, t, None]).sum(-1))
    return torch.stack(ys, 1)


@pytest.mark.parametrize("chunk", [0, 1, 3, 16])
def test_ssm_chunked_scan_equals_the_recurrence(chunk: int) -> None:
    module = build("ssm_gate", {"d_state": 3, "expand": 1}, S)
    module.chunk = chunk
    gen = torch.Generator().manual_seed(0)
    x, dt = (
        torch.randn(2, 7, 4, generator=gen).double(),
        torch.rand(2, 7, 4, generator=gen).double(),
    )
    bm, cm = (
        torch.randn(2, 7, 3, generator=gen).double(),
        torch.randn(2, 7, 3, generator=gen).double(),
    )
    torch.testing.assert_close(module.scan(x, dt, bm, cm), sequential_scan(module, x, dt, bm, cm))


def test_hyena_fft_path_equals_the_direct_path_and_is_causal_to_roundoff() -> None:
    spec = TensorSpec((9, 3))
    direct = build("hyena", {"filter_order": 6, "order": 3, "long_conv": "direct"}, spec)
    fft = build("hyena", {"filter_order": 6, "order": 3, "long_conv": "fft"}, spec)
    assert isinstance(fft, HyenaOperator) and fft.use_fft and not direct.use_fft
    fft.load_state_dict(direct.state_dict())
    x = torch.randn(1, 9, 3, dtype=torch.float64)
    torch.testing.assert_close(fft(x), direct(x))
    jac = torch.autograd.functional.jacobian(lambda z: fft(z)[0], x)[:, :, 0]
    future = torch.ones(9, 9, dtype=torch.bool).triu(1)
    leak = jac.permute(0, 2, 1, 3)[future].abs().max()
    assert leak < 1e-12 * jac.abs().max()


def test_hyena_auto_uses_fft_only_for_long_sequences() -> None:
    d = get_primitive("hyena")()
    assert not d.use_fft([TensorSpec((40, 8))]) and d.use_fft([TensorSpec((256, 8))])


def test_partial_conv_renormalises_holes_and_padding() -> None:
    spec, mask_spec = TensorSpec((2, 5, 5)), TensorSpec((1, 5, 5))
    pconv = build("partial_conv", {"bias": False}, spec, mask_spec)
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    ones = torch.ones(1, 1, 5, 5, dtype=torch.float64)
    plain = nn.functional.conv2d(x, pconv.conv.weight, padding=1)
    y = pconv(x, ones)
    torch.testing.assert_close(y[..., 1:-1, 1:-1], plain[..., 1:-1, 1:-1])  # interior: plain
    torch.testing.assert_close(y[..., 0, 0], plain[..., 0, 0] * 9 / 4)  # corner: 4 of 9 valid
    holes = torch.zeros_like(ones)
    assert torch.all(pconv(x, holes) == 0)  # no valid pixel anywhere: zero output


# -- parameter counts = the catalogue's formulas -------------------------------------------------
def _s(t: int, d: int) -> TensorSpec:
    return TensorSpec((t, d))


d, k, o, n, m, T = 64, 16, 10, 4, 64, 40
CATALOGUE = [
    (
        "poly_ccp",
        {"degree": n, "rank": k, "out": o},
        [V.with_features(d)],
        n * (d * k + k) + k * o + o,
    ),
    (
        "poly_ncp",
        {"degree": n, "rank": k, "out": o, "skip": "none", "alpha": False},
        [V.with_features(d)],
        n * d * k + (n - 1) * (k * k + k) + k + k * o + o,
    ),
    (
        "poly_ncp",
        {"degree": n, "rank": k, "out": o, "skip": "learned", "alpha": False},
        [V.with_features(d)],
        n * d * k + (n - 1) * (k * k + k) + k + k * o + o + (n - 1) * k * k,
    ),
    (
        "mi_bilinear",
        {"out": o},
        [TensorSpec((d,)), TensorSpec((k,))],
        k * d * o + k * o + d * o + o,
    ),
    (
        "mi_bilinear",
        {"out": o, "rank": 8},
        [TensorSpec((d,)), TensorSpec((k,))],
        8 * (k + d + o) + k * o + d * o + o,
    ),
    ("quadratic", {"out": o}, [TensorSpec((d,))], 3 * (d * o + o)),
    (
        "linear_sum",
        {"mm_dim": m},
        [TensorSpec((32,)), TensorSpec((48,))],
        80 * m + 2 * m + m * 32 + 32,
    ),
    ("mlb", {"mm_dim": m}, [TensorSpec((64,)), TensorSpec((64,))], 128 * m + 2 * m + m * 64 + 64),
    (
        "mfb",
        {"mm_dim": m, "factor": 3},
        [V.with_features(64), V.with_features(64)],
        128 * m * 3 + 2 * m * 3 + m * 64 + 64,
    ),
    (
        "mfb",
        {"mm_dim": 32, "factor": 2, "order": 2},
        [V.with_features(64), V.with_features(64)],
        2 * (128 * 32 * 2 + 2 * 32 * 2) + 2 * 32 * 64 + 64,
    ),
    (
        "mutan",
        {"mm_dim": m, "rank": 5},
        [V.with_features(64), V.with_features(64)],
        128 * m + 2 * m + 2 * (m * m * 5 + m * 5) + m * 64 + 64,
    ),
    (
        "block",
        {"mm_dim": m, "chunks": 4, "rank": 4},
        [V.with_features(64), V.with_features(64)],
        128 * m + 2 * m + 4 * 2 * (16 * 16 * 4 + 16 * 4) + m * 64 + 64,
    ),
    (
        "block",
        {"mm_dim": 10, "chunks": 3, "rank": 2},
        [V.with_features(8), V.with_features(8)],
        16 * 10 + 20 + sum(2 * (s * s * 2 + s * 2) for s in (4, 3, 3)) + 10 * 8 + 8,
    ),
    (
        "concat_mlp",
        {"hidden": 32},
        [V.with_features(64), V.with_features(64)],
        128 * 32 + 32 + 32 * 64 + 64,
    ),
    ("film", {}, [TensorSpec((16, 5, 5)), TensorSpec((10,))], 10 * 2 * 16 + 2 * 16),
    ("glu_ffn", {"hidden": 96}, [V.with_features(d)], 3 * d * 96 + 2 * 96 + d),
    ("se_gate", {}, [TensorSpec((64, 4, 4))], 2 * 64 * 8 + 8 + 64),
    ("sgu", {"mlp_ratio": 2}, [_s(T, 16)], 2 * 16 + 16 * 32 + 32 + 32 + T * T + T + 16 * 16 + 16),
    ("gated_rnn", {"hidden": 12}, [_s(T, 8)], 4 * (12 * 8 + 12 * 12 + 2 * 12)),
    ("gated_rnn", {"cell": "gru"}, [_s(T, 8)], 3 * (8 * 8 + 8 * 8 + 2 * 8)),
    ("gated_conv", {"out": 8}, [TensorSpec((4, 6, 6))], 9 * 4 * 2 * 8 + 2 * 8),
    ("partial_conv", {"out": 8}, [TensorSpec((4, 6, 6))], 9 * 4 * 8 + 8),
    (
        "gnconv",
        {"order": 3, "kernel": 7},
        [TensorSpec((16, 4, 4))],
        (2 * 256 + 32 + 49 * 28 + 28 + (4 * 8 + 8) + (8 * 16 + 16) + 256 + 16),
    ),
    (
        "focal_mod",
        {"levels": 2, "window": 3},
        [TensorSpec((16, 4, 4))],
        (16 * (32 + 3) + 32 + 3 + 2 * (256 + 16) + 16 * 9 + 16 * 25),
    ),
    ("aft_simple", {"hidden": 32}, [_s(T, d)], 3 * (d * 32 + 32) + 32 * d + d),
    ("aft_full", {"hidden": 32}, [_s(T, d)], 3 * (d * 32 + 32) + 32 * d + d + T * T),
    ("aft_local", {"window": 4}, [_s(T, d)], 3 * (d * d + d) + d * d + d + T * T),
    ("linear_attention", {"heads": 4}, [_s(T, d)], 4 * (d * d + d)),
    ("attention", {"heads": 4}, [_s(T, d)], 4 * (d * d + d)),
    (
        "ssm_gate",
        {},
        [_s(T, d)],
        (d * 2 * 128 + 128 * 4 + 128 + 128 * (4 + 32) + 4 * 128 + 128 + 128 * 16 + 128 + 128 * d),
    ),
    (
        "hyena",
        {"order": 2, "filter_order": 64, "emb_dim": 3},
        [_s(T, d)],
        (
            3 * d * (d + 1)
            + 3 * 3 * d
            + 3 * d
            + (3 * 64 + 64 + 2 * (64 * 64 + 64) + 64 + 64 * d)
            + d
            + d * (d + 1)
        ),
    ),
]


@pytest.mark.parametrize(
    ("op", "hp", "ins", "expected"),
    CATALOGUE,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CATALOGUE)],
)
def test_param_count_equals_the_catalogue_formula(
    op: str, hp: dict[str, Any], ins: list[TensorSpec], expected: int
) -> None:
    definition = get_primitive(op)(**hp)
    assert definition.num_params(ins) == expected
    counted = sum(p.numel() for p in PrimitiveCase(op, hp, tuple(ins)).build()[1].parameters())
    assert counted == expected
