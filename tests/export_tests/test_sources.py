"""Copying primitive sources: helpers, constants, renames, and refusals with a reason.

The primitives here are registered for one test at a time and removed afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import hadnas
from hadnas.exceptions import ExportError
from hadnas.export import audit_source, load_exported, to_source
from hadnas.primitives import PrimitiveDef, TensorSpec, register_primitive
from hadnas.primitives._registry import _REGISTRY

ROOT = Path(__file__).resolve().parents[2]

_SCALES = {"a": 2.0, "b": 0.5}
_ACTS = (nn.ReLU, nn.Tanh)
_LIMIT = float("inf")


def _scaled(x: torch.Tensor, key: str) -> torch.Tensor:
    return x * _SCALES[key]


class WithConstants(nn.Module):
    """Uses module constants, a helper function and a tuple of torch classes."""

    def __init__(self, features: int, act: int = 0, key: str = "a") -> None:
        super().__init__()
        self.lin = nn.Linear(features, features)
        self.act = _ACTS[act]()
        self.key = key

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _scaled(self.act(self.lin(x)), self.key).clamp(max=_LIMIT)


class GLUFFN(nn.Module):
    """Same class name as hadnas's own GLU block: the exporter must rename one of them."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.w + GLUFFN.offset()

    @staticmethod
    def offset() -> float:
        return 1.0


class Tensor(nn.Module):
    """A class named like ``torch.Tensor``, which another primitive imports by name."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1


class UsesOs(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + len(os.sep)


class _Opaque:
    pass


def _local_class() -> type[nn.Module]:
    class Local(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    return Local


def _def(op: str, cls: type[nn.Module], kwargs: Any = None, inline: str | None = None) -> type:
    class Def(PrimitiveDef):
        layouts = frozenset({"V"})

        def module_class(self, ins: Sequence[TensorSpec]) -> type[nn.Module]:
            return cls

        def module_kwargs(self, ins: Sequence[TensorSpec]) -> dict[str, Any]:
            return dict(kwargs(ins) if callable(kwargs) else kwargs or {})

        def inline(self, args: Sequence[str], ins: Sequence[TensorSpec]) -> str | None:
            return inline.format(*args) if inline else None

    Def.op = op
    return Def


@pytest.fixture
def register() -> Iterator[Any]:
    added: list[str] = []

    def add(op: str, *args: Any, **kwargs: Any) -> None:
        register_primitive(_def(op, *args, **kwargs))
        added.append(op)

    yield add
    for op in added:
        _REGISTRY.pop(op, None)


def _arch(ops: list[str], width: int = 4) -> hadnas.Architecture:
    nodes = "\n".join(
        f"  n{i}: {{op: {op}, in: {'x' if i == 0 else f'n{i - 1}'}}}" for i, op in enumerate(ops)
    )
    text = (
        f"hadnas: 1\nname: custom\ntask: {{dataset: digits}}\ninputs:\n  x: {{shape: [{width}]}}\n"
        f"nodes:\n{nodes}\noutput: n{len(ops) - 1}\n"
    )
    return hadnas.load_space("custom.yaml", text=text).architecture()


def _roundtrip(arch: hadnas.Architecture, tmp_path: Path) -> str:
    model = hadnas.build(arch, seed=0)
    out = hadnas.export(arch, tmp_path / "out", model.state_dict())
    x = torch.randn(3, *arch.inputs[0].shape)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), load_exported(out)(x))
    source = (out / "model.py").read_text()
    assert audit_source(source) == []
    return source


def test_constants_helpers_and_torch_classes(register: Any, tmp_path: Path) -> None:
    register("with_constants", WithConstants, lambda ins: {"features": 4, "act": 1, "key": "b"})
    source = _roundtrip(_arch(["with_constants"]), tmp_path)
    assert '_SCALES = {"a": 2.0, "b": 0.5}' in source
    assert "_ACTS = (nn.ReLU, nn.Tanh)" in source
    assert "_LIMIT = math.inf" in source and "import math" in source
    assert source.index("def _scaled") < source.index("class WithConstants")
    assert 'WithConstants(features=4, act=1, key="b")' in source


def test_same_class_names_are_renamed(register: Any, tmp_path: Path) -> None:
    register("other_glu", GLUFFN, lambda ins: {"features": ins[0].features})
    arch = _arch(["glu_ffn", "other_glu"])
    source = _roundtrip(arch, tmp_path)
    assert "class GLUFFN(nn.Module):" in source and "class GLUFFN_1(nn.Module):" in source
    assert "GLUFFN_1.offset()" in source  # the self-reference follows the rename
    if _ruff():
        proc = subprocess.run(
            [_ruff(), "check", "--no-cache", "--select", "F,E9", "-"],
            input=source,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("order", [["tensor_op", "typed_scale"], ["typed_scale", "tensor_op"]])
def test_imports_never_collide_with_copied_names(
    register: Any, tmp_path: Path, order: list[str]
) -> None:
    from tests.export_tests._other_prims import TypedScale

    register("tensor_op", Tensor)
    register("typed_scale", TypedScale)
    source = _roundtrip(_arch(order), tmp_path)
    assert "from torch import Tensor" in source
    if _ruff():
        proc = subprocess.run(
            [_ruff(), "check", "--no-cache", "--select", "F,E9,I", "-"],
            input=source,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout


def test_node_names_that_look_like_generated_names(tmp_path: Path) -> None:
    text = """\
hadnas: 1
name: clash
task: {dataset: digits}
inputs:
  Model: {shape: [6]}
nodes:
  ModelConfig: {op: linear, in: Model, out: 6}
  config: {op: glu_ffn, in: ModelConfig}
  GLUFFN: {op: layer_norm, in: config}
  make_activation: {op: poly_ccp, in: GLUFFN, rank: 4, act: relu}
  x_shape: {op: add, in: [make_activation, ModelConfig]}
output: x_shape
"""
    arch = hadnas.load_space("clash.yaml", text=text).architecture()
    source = _roundtrip(arch, tmp_path)
    assert "class Model(nn.Module):" in source and "class ModelConfig:" in source
    if _ruff():
        proc = subprocess.run(
            [_ruff(), "check", "--no-cache", "--select", "F,E9,A", "-"],
            input=source,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize(
    ("cls", "kwargs", "inline", "match"),
    [
        (UsesOs, None, None, "uses module 'os'"),
        (_local_class(), None, None, "module level"),
        (WithConstants, {"features": 4, "key": _Opaque()}, None, "cannot export a value"),
        (nn.Identity, {}, "{0} + y", "may only use its arguments"),
        (nn.Identity, {}, "{0}.__class__", "private name"),
    ],
    ids=["os-module", "local-class", "opaque-kwarg", "inline-name", "inline-dunder"],
)
def test_refusals_name_the_reason(
    register: Any, tmp_path: Path, cls: Any, kwargs: Any, inline: str | None, match: str
) -> None:
    register("custom_op", cls, kwargs, inline=inline)
    arch = _arch(["custom_op"])
    with pytest.raises(ExportError, match=match) as info:
        to_source(arch)
    if "inline" not in match and "private" not in match:
        assert "custom_op" in str(info.value)  # the node and op are named


def _ruff() -> str | None:
    path = Path(sys.executable).with_name("ruff")
    return str(path) if path.exists() else None
