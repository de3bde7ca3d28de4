"""The two benchmark scripts that write docs/benchmarks.md run, on a tiny budget, into tmp."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests._helpers import ROOT


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _redirect(module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nintro\n\n<!-- BEGIN search-quality -->\nold\n"
                    "<!-- END search-quality -->\n", encoding="utf-8")  # fmt: skip
    monkeypatch.setattr(module, "DOCS", docs)
    monkeypatch.setattr(module, "IMG", tmp_path / "img")
    monkeypatch.setattr(module, "ROOT", tmp_path)
    return docs


def test_search_quality_writes_its_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sq = _script("search_quality")
    docs = _redirect(sq, tmp_path, monkeypatch)
    argv = ["--tables", "friedman-poly", "--samplers", "tpe,random", "--seeds", "2"]
    assert sq.main([*argv, "--trials", "8", "--write-docs"]) == 0
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nintro") and "old" not in text
    assert "### Verdict for the default sampler (tpe)" in text
    assert "infeasible archs trained" in text
    assert (tmp_path / "img" / "bench_friedman-poly_hv.png").stat().st_size > 10_000
    assert "tpe goals" in capsys.readouterr().out


@pytest.mark.slow
def test_what_search_finds_quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wsf = _script("what_search_finds")
    docs = _redirect(wsf, tmp_path, monkeypatch)
    monkeypatch.setattr(wsf, "ROOT", ROOT)  # it reads search_spaces/ from the repository
    assert wsf.main(["--quick", "--only", "poly,search", "--write-docs"]) == 0
    text = docs.read_text(encoding="utf-8")
    assert "<!-- BEGIN what-search-finds -->" in text and "poly_ccp degree 3" in text
    assert "### Where Hadamard ops did not win" in text
    assert (tmp_path / "img" / "finds_sign-product-poly_winner.png").is_file()
