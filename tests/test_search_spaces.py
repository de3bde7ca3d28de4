"""Every file in search_spaces/: validate, sample seeds 0..9, build, forward and backward,
``hadnas show`` and ``hadnas draw``. A new example file is tested by being added."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import hadnas
from hadnas.cli import main
from tests._helpers import SEARCH_SPACES

IDS = [p.stem for p in SEARCH_SPACES]


def test_the_three_design_examples_are_there() -> None:
    assert {"digits_gated_poly", "two_view_fusion", "assoc_recall_mixers"} <= set(IDS)


@pytest.mark.parametrize("path", SEARCH_SPACES, ids=IDS)
def test_validates(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"{path}: OK (space with" in out
    assert "Traceback" not in err


def _inputs(arch: hadnas.Architecture, batch: int = 2) -> list[torch.Tensor]:
    out = []
    for spec in arch.inputs:
        shape = (batch, *spec.shape)
        out.append(torch.randint(0, 2, shape) if spec.dtype == "int64" else torch.randn(shape))
    return out


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("path", SEARCH_SPACES, ids=IDS)
def test_sample_build_forward_backward(path: Path, seed: int) -> None:
    space = hadnas.load_space(path, check=False)
    arch = space.sample(seed)
    model = hadnas.build(arch, seed=0)
    assert model.input_names == arch.input_names
    out = model(*_inputs(arch))
    expected = arch.graph.specs[arch.output].shape
    assert tuple(out.shape) == (2, *expected)
    assert torch.isfinite(out).all(), "output has NaN or inf"
    out.float().square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)
    assert hadnas.load_space(path.name, text=arch.to_yaml()).architecture() == arch


@pytest.mark.parametrize("path", SEARCH_SPACES, ids=IDS)
def test_show(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(path), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    for column in ("node", "op", "shape", "params", "FLOPs", "bytes", "total"):
        assert column in out
    arch = hadnas.load_space(path).sample(1)
    for node in arch.graph.live_nodes():
        assert node in out


@pytest.mark.parametrize("path", SEARCH_SPACES, ids=IDS)
def test_draw(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "graph.png"
    assert main(["draw", str(path), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000  # a real picture, not an empty canvas
    assert "wrote" in capsys.readouterr().out
