"""The primitive contract: a hyper-parameter schema, shape rules, counts, and a torch module.

A primitive has two halves so that exported code can stand alone:

* a :class:`PrimitiveDef` subclass (this module) that hadnas uses to validate hyper-parameters,
  infer shapes, count parameters and estimate cost — it never runs in a forward pass;
* a plain ``torch.nn.Module`` class (``module``) that depends on torch and the standard library
  only, so the exporter can copy its source verbatim into a standalone ``model.py``.

Lifecycle: the DSL validator checks option values against :attr:`PrimitiveDef.hparams`; the IR
instantiates ``Def(**hp)`` once per node, calls :meth:`infer` with the input tensor specs, then
:meth:`num_params` and :meth:`cost`; the builder calls :meth:`create` to get the module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

LAYOUTS = {1: "V", 2: "S", 3: "I"}
LAYOUT_NAMES = {"V": "vector (d,)", "S": "sequence (T, d)", "I": "image (C, H, W)"}
BYTES_PER_ELEMENT = {"float32": 4, "float64": 8, "int64": 8, "float16": 2, "bfloat16": 2}


class ShapeError(ValueError):
    """Raised by :meth:`PrimitiveDef.infer` for inputs the primitive cannot take."""


@dataclass(frozen=True)
class TensorSpec:
    """Per-sample shape (batch dimension excluded) and dtype of a tensor in the graph."""

    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def layout(self) -> str:
        return LAYOUTS.get(len(self.shape), f"{len(self.shape)}-D")

    @property
    def features(self) -> int:
        """The channel/feature width: last dim for vectors and sequences, first for images."""
        return self.shape[0] if self.layout == "I" else self.shape[-1]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * BYTES_PER_ELEMENT.get(self.dtype, 4)

    def with_features(self, width: int) -> TensorSpec:
        if self.layout == "I":
            return TensorSpec((width, *self.shape[1:]), self.dtype)
        return TensorSpec((*self.shape[:-1], width), self.dtype)

    def __str__(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        suffix = "" if self.dtype == "float32" else f" {self.dtype}"
        return f"(B, {dims}){suffix}"


@dataclass(frozen=True)
class Cost:
    """Analytic cost of one sample through a node: FLOPs (a MAC counts 2) and bytes moved."""

    flops: int
    bytes: int


_REQUIRED: Any = object()


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: its type, default and legal values.

    ``default=None`` means "derived from the input" (e.g. ``out`` defaults to the input width).
    """

    type: type
    default: Any = _REQUIRED
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def check(self, value: Any) -> str | None:
        """Return why ``value`` is illegal, or None when it is fine."""
        if value is None and self.default is None:
            return None
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is int and isinstance(value, bool) or not isinstance(value, self.type):
            return f"expected {self.type.__name__}, got {type(value).__name__} {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected a finite number, got {value!r}"
        if self.choices is not None and value not in self.choices:
            return f"{value!r} is not one of {list(self.choices)}"
        if self.low is not None and value < self.low:
            return f"{value!r} is below the minimum {self.low!r}"
        if self.high is not None and value > self.high:
            return f"{value!r} is above the maximum {self.high!r}"
        return None


class PrimitiveDef:
    """Base class of every registered primitive; subclasses fill the class attributes.

    Attributes:
        op: canonical name used in YAML (``op: poly_ccp``).
        domain: ``control`` or one of the survey's four domains (``higher_order``, ``fusion``,
            ``modulation``, ``pairwise``).
        arity: ``(min, max)`` number of inputs; ``max=None`` means any number.
        layouts: accepted input layouts (``V``, ``S``, ``I``).
        hparams: the hyper-parameter schema (name → :class:`Param`).
        module: the standalone ``nn.Module`` class built by :meth:`create`.
        helpers: standalone functions/classes ``module`` uses, copied along on export.
        paper: reference shown in the docs table.
        formula: one-line formula shown in the docs table.
        complexity: asymptotic cost per sample shown in the docs table (e.g. ``O(T²·d)``).
        causal_capable: the op can be exactly causal along T (always, or with ``causal: true``).
        nondifferentiable_inputs: indices of inputs that carry no gradient (masks, ids).
        examples: small ``(hyper-parameters, input specs)`` configurations, one per accepted
            layout, that the conformance suite (:mod:`hadnas.testing`) and the docs use.
    """

    op: ClassVar[str] = ""
    domain: ClassVar[str] = "control"
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    layouts: ClassVar[frozenset[str]] = frozenset({"V", "S", "I"})
    hparams: ClassVar[Mapping[str, Param]] = {}
    module: ClassVar[type[nn.Module] | None] = None
    helpers: ClassVar[tuple[Callable[..., Any] | type, ...]] = ()
    paper: ClassVar[str] = ""
    formula: ClassVar[str] = ""
    complexity: ClassVar[str] = ""
    causal_capable: ClassVar[bool] = False
    nondifferentiable_inputs: ClassVar[frozenset[int]] = frozenset()
    #: small configurations the conformance suite and docs use: (hyper-parameters, input specs)
    examples: ClassVar[tuple[tuple[Mapping[str, Any], tuple[TensorSpec, ...]], ...]] = ()

    def __init__(self, **hp: Any) -> None:
        unknown = sorted(set(hp) - set(self.hparams))
        if unknown:
            raise ValueError(f"{self.op}: unknown hyper-parameter(s) {unknown}")
        values = {}
        for name, param in self.hparams.items():
            if name in hp:
                values[name] = hp[name]
            elif param.required:
                raise ValueError(f"{self.op}: hyper-parameter {name!r} is required")
            else:
                values[name] = param.default
        for name, value in values.items():
            problem = self.hparams[name].check(value)
            if problem:
                raise ValueError(f"{self.op}.{name}: {problem}")
        self.hp: dict[str, Any] = values

    # -- shape rules --------------------------------------------------------------------------
    def check_inputs(self, ins: Sequence[TensorSpec]) -> None:
        """Arity and layout checks shared by all primitives; raise :class:`ShapeError`."""
        lo, hi = self.arity
        if len(ins) < lo or (hi is not None and len(ins) > hi):
            want = f"exactly {lo}" if lo == hi else f"{lo}..{hi if hi is not None else 'n'}"
            raise ShapeError(f"{self.op} takes {want} input(s), got {len(ins)}")
        for i, spec in enumerate(ins):
            if spec.layout not in self.layouts:
                accepted = ", ".join(LAYOUT_NAMES[x] for x in sorted(self.layouts))
                raise ShapeError(
                    f"{self.op} does not accept input {i} of shape {spec} ({spec.layout}); "
                    f"it accepts {accepted}"
                )
            if spec.dtype != "float32" and not self.accepts_integer_input:
                raise ShapeError(
                    f"{self.op} needs a float input but input {i} is {spec.dtype}; "
                    "put an `embedding` first"
                )

    accepts_integer_input: ClassVar[bool] = False

    def infer(self, ins: Sequence[TensorSpec]) -> TensorSpec:
        """Output spec for these inputs (default: same as the first input)."""
        self.check_inputs(ins)
        return ins[0]

    def out_width(self, ins: Sequence[TensorSpec], key: str = "out") -> int:
        value = self.hp.get(key)
        return int(value) if value is not None else ins[0].features

    # -- modules and counts -------------------------------------------------------------------
    def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
        """Keyword arguments for :attr:`module`; plain Python values only (they are exported)."""
        raise NotImplementedError

    def inline(self, args: Sequence[str], ins: Sequence[TensorSpec]) -> str | None:
        """A Python expression computing this node from argument names, or None.

        Parameter-free ops (add, hadamard, identity, concat...) return an expression so the
        generated forward has no module call for them (no per-call overhead, no state); the
        expression may only use the arguments, ``torch`` and literals.
        """
        return None

    def module_class(self, ins: Sequence[TensorSpec]) -> type[nn.Module]:
        """The class :meth:`create` instantiates (the exporter copies or imports it)."""
        if self.module is None:
            raise NotImplementedError(f"{self.op} has no module")
        return self.module

    def create(self, ins: Sequence[TensorSpec]) -> nn.Module:
        return self.module_class(ins)(**self.module_kwargs(ins))

    def sample_inputs(
        self,
        ins: Sequence[TensorSpec],
        batch: int = 2,
        dtype: torch.dtype = torch.float32,
        generator: torch.Generator | None = None,
    ) -> list[torch.Tensor]:
        """Random inputs of these specs (tests, latency measurement); ops with special inputs
        (token ids, binary masks) override it."""
        out = []
        for spec in ins:
            shape = (batch, *spec.shape)
            if spec.dtype == "int64":
                out.append(torch.randint(0, 2, shape, generator=generator))
            else:
                out.append(torch.randn(shape, generator=generator, dtype=dtype))
        return out

    def num_params(self, ins: Sequence[TensorSpec]) -> int:
        """Exact parameter count; default counts a freshly built module (override with the
        closed-form formula so that counting needs no allocation)."""
        return sum(p.numel() for p in self.create(ins).parameters())

    def cost(self, ins: Sequence[TensorSpec], out: TensorSpec) -> Cost:
        """Analytic per-sample cost. Default: one element-wise op per output element."""
        return Cost(out.numel, sum(x.nbytes for x in ins) + out.nbytes + 4 * self.num_params(ins))


def io_bytes(ins: Sequence[TensorSpec], out: TensorSpec, params: int) -> int:
    """Bytes moved: read every input and parameter once, write the output once."""
    return sum(x.nbytes for x in ins) + out.nbytes + 4 * params
