"""The published JSON Schema: committed copies are current, and real files validate against it."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

import hadnas
from hadnas.spec._jsonschema import DOCS_COPY, PACKAGE_COPY, json_schema, render
from tests._helpers import BAD_SPACES, SEARCH_SPACES, TINY

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is optional (ray installs it)")


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("copy", [PACKAGE_COPY, DOCS_COPY], ids=["package", "docs"])
def test_committed_copies_are_generated(copy: Path) -> None:
    assert copy.read_text(encoding="utf-8") == render(), (
        f"{copy} is stale: run `python -m hadnas.spec._jsonschema --write`"
    )


def test_the_schema_ships_in_the_package() -> None:
    text = resources.files("hadnas.spec").joinpath("schema.json").read_text(encoding="utf-8")
    assert json.loads(text)["$schema"].endswith("2020-12/schema")


@pytest.mark.parametrize("path", SEARCH_SPACES, ids=[p.stem for p in SEARCH_SPACES])
def test_example_spaces_and_their_samples_validate(validator: Any, path: Path) -> None:
    validator.validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    space = hadnas.load_space(path, check=False)
    for seed in range(3):  # architecture files (copies:, sampled:) are valid too
        validator.validate(yaml.safe_load(space.sample(seed).to_yaml()))


def test_tiny_space_validates(validator: Any) -> None:
    validator.validate(yaml.safe_load(TINY))


@pytest.mark.parametrize(
    "name",
    [
        "unknown_top_key",
        "domain_empty_choice",
        "domain_log_nonpositive",
        "wrong_version",
        "name_injection",
        "input_bad_shape",
        "choice_node_with_op",
        "unknown_metric",
        "unknown_sampler",
        "bad_study_name",
        "top_level_list",
    ],
)
def test_the_schema_catches_structural_mistakes_too(validator: Any, name: str) -> None:
    data = yaml.safe_load((BAD_SPACES / f"{name}.yaml").read_text(encoding="utf-8"))
    assert not validator.is_valid(data)
