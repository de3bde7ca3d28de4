"""Shared fixtures: every case exported once per session, with expected outputs alongside."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import hadnas
from tests.export_tests._cases import Case, primitive_cases, space_cases

CASES: list[Case] = [*primitive_cases(), *space_cases()]
BUILD_SEED = 1


def export_case(case: Case, folder: Path) -> Path:
    """Export ``case`` with seeded random weights; store inputs and the built model's outputs."""
    model = hadnas.build(case.arch, seed=BUILD_SEED).eval()
    # no in-process verification: the standalone subprocess checks every export
    hadnas.export(case.arch, folder, model.state_dict(), metadata={"trial": 0}, verify=False)
    check: dict[str, torch.Tensor] = {}
    for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
        inputs = case.make_inputs(dtype, seed=7)
        with torch.no_grad():
            out = model.to(dtype)(*inputs)
        check[f"{tag}.out"] = out.contiguous().clone()
        check.update({f"{tag}.in{i}": x.contiguous().clone() for i, x in enumerate(inputs)})
    save_file(check, str(folder / "check.safetensors"))
    return folder


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Case id → export folder, for every primitive example and example-space sample."""
    root = tmp_path_factory.mktemp("exports")
    return {case.id: export_case(case, root / case.id) for case in CASES}
