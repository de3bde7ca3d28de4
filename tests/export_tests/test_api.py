"""``hadnas.export``: files, provenance, state_dict checks, verification, weights safety."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import hadnas
from hadnas.exceptions import ExportError
from hadnas.export import FILES, ModelCodeGen, load_exported, load_weights
from tests._helpers import TINY
from tests.export_tests.test_standalone import write_payload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def arch() -> hadnas.Architecture:
    return hadnas.load_space("tiny.yaml", text=TINY).sample(3)


def _outputs_equal(a: torch.nn.Module, b: torch.nn.Module, arch: hadnas.Architecture) -> bool:
    x = torch.randn(5, *arch.inputs[0].shape)
    with torch.no_grad():
        return torch.equal(a.eval()(x), b.eval()(x))


def test_export_writes_every_file(arch: hadnas.Architecture, tmp_path: Path) -> None:
    model = hadnas.build(arch, seed=3)
    meta = {"trial": 7, "metrics": {"accuracy": 0.91}, "run": "runs/tiny"}
    out = hadnas.export(arch, tmp_path / "out", state_dict=model.state_dict(), metadata=meta)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert _outputs_equal(model, load_exported(out), arch)
    weights = load_file(str(out / "model.safetensors"))
    assert sorted(weights) == sorted(model.state_dict())
    record = json.loads((out / "export.json").read_text())
    assert record["trial"] == 7 and record["metrics"] == {"accuracy": 0.91}
    assert record["hadnas_version"] == hadnas.__version__ and record["format_version"] == 1
    assert record["params"] == sum(p.numel() for p in model.parameters())
    readme = (out / "README.md").read_text()
    for needle in ("trial 7", "accuracy", "0.91", hadnas.__version__, "runs/tiny", "load_file"):
        assert needle in readme
    assert "trial 7" in (out / "model.py").read_text()
    reloaded = hadnas.load_space(out / "arch.yaml").architecture()
    assert reloaded == arch


def test_fresh_weights_are_said_so(arch: hadnas.Architecture, tmp_path: Path) -> None:
    out = hadnas.export(arch, tmp_path)
    assert "fresh (untrained)" in (out / "README.md").read_text()
    assert _outputs_equal(hadnas.build(arch, seed=0), load_exported(out), arch)


def test_export_from_arch_yaml_path(arch: hadnas.Architecture, tmp_path: Path) -> None:
    path = tmp_path / "arch.yaml"
    path.write_text(arch.to_yaml())
    out = hadnas.export(path, tmp_path / "out")
    assert (out / "model.py").is_file()


def test_state_dict_must_fit(arch: hadnas.Architecture, tmp_path: Path) -> None:
    state = hadnas.build(arch).state_dict()
    missing = dict(list(state.items())[1:])
    with pytest.raises(ExportError, match="missing keys"):
        hadnas.export(arch, tmp_path / "a", missing)
    with pytest.raises(ExportError, match="unexpected keys"):
        hadnas.export(arch, tmp_path / "b", {**state, "extra.weight": torch.zeros(1)})
    key = next(iter(state))
    with pytest.raises(ExportError, match="has shape"):
        hadnas.export(arch, tmp_path / "c", {**state, key: torch.zeros(1, 2, 3)})
    assert not any((tmp_path / d).exists() for d in "abc")


def test_compiled_model_prefix_is_stripped(arch: hadnas.Architecture, tmp_path: Path) -> None:
    model = hadnas.build(arch, seed=5)
    state = {f"_orig_mod.{k}": v for k, v in model.state_dict().items()}
    assert _outputs_equal(model, load_exported(hadnas.export(arch, tmp_path, state)), arch)


def test_verification_catches_a_wrong_model(
    arch: hadnas.Architecture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = ModelCodeGen.generate

    def broken(self: ModelCodeGen) -> str:
        source = generate(self)
        return re.sub(r"return (\w+)\n", r"return \1 * 2\n", source)

    monkeypatch.setattr(ModelCodeGen, "generate", broken)
    with pytest.raises(ExportError, match="does not reproduce"):
        hadnas.export(arch, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # nothing half-written


def test_export_is_idempotent(arch: hadnas.Architecture, tmp_path: Path) -> None:
    state = hadnas.build(arch, seed=1).state_dict()
    a = hadnas.export(arch, tmp_path / "a", state, metadata={"trial": 1})
    b = hadnas.export(arch, tmp_path / "b", state, metadata={"trial": 1})
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# -- weights cannot carry code (reliability scenario 23) -------------------------------------
def test_pickle_in_place_of_weights_is_refused(arch: hadnas.Architecture, tmp_path: Path) -> None:
    out = hadnas.export(arch, tmp_path / "out")
    marker = tmp_path / "MARKER"
    write_payload(out / "model.safetensors", marker)
    with pytest.raises(ExportError, match="refused"):
        load_weights(out / "model.safetensors")
    with pytest.raises(ExportError):
        load_exported(out)
    pt = tmp_path / "state.pt"
    write_payload(pt, marker)
    with pytest.raises(ExportError, match="refused"):
        load_weights(pt)
    with open(pt, "wb") as fh:  # a torch.save'd state dict with a payload inside
        torch.save({"w": torch.zeros(1), "x": _Boom(marker)}, fh)
    with pytest.raises(ExportError, match="refused"):
        load_weights(pt)
    assert not marker.exists()


class _Boom:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        import os

        return (os.system, (f"touch {self.marker}",))


def test_plain_state_dict_file_loads(arch: hadnas.Architecture, tmp_path: Path) -> None:
    state = hadnas.build(arch).state_dict()
    torch.save(state, tmp_path / "w.pt")
    loaded = load_weights(tmp_path / "w.pt")
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_no_unsafe_loading_in_sources(exported: dict[str, Path]) -> None:
    """No pickle loading, weights_only=False, eval or exec in hadnas.export or generated code."""
    files = sorted((ROOT / "hadnas" / "export").glob("*.py"))
    files += [ROOT / "hadnas" / "cli" / "_export.py"]
    files += [folder / "model.py" for folder in exported.values()]
    banned = re.compile(
        r"weights_only\s*=\s*False|pickle\.loads?\(|(?<![.\w])eval\(|(?<![.\w])exec\("
    )
    for path in files:
        text = path.read_text()
        assert not banned.search(text), path
        for call in re.finditer(r"torch\.load\(([^)]*)\)", text):
            assert "weights_only=True" in call.group(1), (path, call.group(0))
    assert pickle  # the payload tests above use it to write hostile files only
