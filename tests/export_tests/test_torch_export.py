"""Exported models work with ``torch.export`` and ``torch.compile`` (no graph breaks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import hadnas
from hadnas.export import import_model_file

ROOT = Path(__file__).resolve().parents[2]


def _exported(tmp_path: Path, space: str, seed: int = 0) -> tuple[torch.nn.Module, tuple]:
    arch = hadnas.load_space(ROOT / "search_spaces" / f"{space}.yaml").sample(seed)
    out = hadnas.export(arch, tmp_path / space, hadnas.build(arch, seed=0).state_dict())
    module = import_model_file(out / "model.py")
    model = module.Model()
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(out / "model.safetensors")))
    return model.eval(), module.ModelConfig().example_inputs(4)


@pytest.mark.parametrize("space", ["digits_gated_poly", "assoc_recall_mixers"])
def test_torch_export(tmp_path: Path, space: str) -> None:
    model, inputs = _exported(tmp_path, space)
    program = torch.export.export(model, inputs)
    with torch.no_grad():
        assert torch.allclose(program.module()(*inputs), model(*inputs), atol=1e-6)


def test_torch_compile_fullgraph_eager_backend(tmp_path: Path) -> None:
    torch._dynamo.reset()
    model, inputs = _exported(tmp_path, "digits_gated_poly")
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    with torch.no_grad():
        assert torch.equal(compiled(*inputs), model(*inputs))


@pytest.mark.slow
def test_torch_compile_inductor(tmp_path: Path) -> None:
    torch._dynamo.reset()
    model, inputs = _exported(tmp_path, "digits_gated_poly")
    compiled = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        assert torch.allclose(compiled(*inputs), model(*inputs), atol=1e-5)
