"""docs/dsl.md stays true: its complete examples validate, and the three design examples in it
are the files in search_spaces/, verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hadnas
from tests._helpers import ROOT, SEARCH_SPACES

DOC = (ROOT / "docs" / "dsl.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)
COMPLETE = [
    b for b in BLOCKS if b.startswith("hadnas: 1") and "name: my-space" not in b
]  # not the cheat sheet


def test_the_doc_has_examples() -> None:
    assert len(COMPLETE) >= 4


@pytest.mark.parametrize("text", COMPLETE, ids=[f"example{i}" for i in range(len(COMPLETE))])
def test_complete_examples_validate(text: str) -> None:
    space = hadnas.load_space("doc.yaml", text=text)
    hadnas.build(space.sample(0))


DESIGN_SPACES = [
    p
    for p in SEARCH_SPACES
    if p.stem in ("digits_gated_poly", "two_view_fusion", "assoc_recall_mixers")
]


@pytest.mark.parametrize("path", DESIGN_SPACES, ids=[p.stem for p in DESIGN_SPACES])
def test_example_files_are_quoted_verbatim(path: Path) -> None:
    """The three contract examples of design.md appear verbatim in docs/dsl.md."""
    assert path.read_text(encoding="utf-8") in COMPLETE


def test_fragments_mentioned_as_valid_are_valid() -> None:
    copies = """\
hadnas: 1
name: doc
task: {dataset: digits}
inputs:
  x: {shape: [8]}
nodes:
  stem: {op: linear, out: 32}
  body:
    copies:
      - {mix: {op: linear, in: $in, out: 32}, res: {op: add, in: [mix, $in]}}
      - {mix: {op: glu_ffn, in: $in, act: silu}, res: {op: add, in: [mix, $in]}}
output: body
"""
    arch = hadnas.load_space("doc.yaml", text=copies).architecture()
    assert [n.name for n in arch.nodes][-2:] == ["body.1.mix", "body.1.res"]
    first = next(b for b in BLOCKS if "name: tiny" in b)
    space = hadnas.load_space("tiny.yaml", text=first)
    assert space.num_choices() == 2 and set(space.sample(0).params) == {"stem.out", "mix.act"}
