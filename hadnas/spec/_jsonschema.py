"""The JSON Schema (draft 2020-12) of the DSL, generated from the validator's own tables.

The schema is for editors and other tools (completion, red squiggles before running anything);
hadnas itself validates with :mod:`hadnas.spec._validate`, which checks more than a schema can
(references, op parameters, shapes). The committed copies ``hadnas/spec/schema.json`` (shipped
in the package) and ``docs/dsl.schema.json`` are regenerated with::

    python -m hadnas.spec._jsonschema --write

and a test fails when they drift from :func:`json_schema`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hadnas.spec._names import NAME_RE, STUDY_NAME_RE
from hadnas.spec._schema import DSL_VERSION
from hadnas.spec._validate import (
    DIRECTIONS,
    DTYPES,
    LATENCY_MODES,
    METRICS,
    OPTIMIZERS,
    PRUNERS,
    SAMPLERS,
)

PACKAGE_COPY = Path(__file__).with_name("schema.json")
DOCS_COPY = Path(__file__).resolve().parents[2] / "docs" / "dsl.schema.json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _obj(
    properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    out["additionalProperties"] = extra.pop("additional", False)
    out.update(extra)
    return out


def _pair(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "prefixItems": [item, item], "minItems": 2, "maxItems": 2}


def _defs() -> dict[str, Any]:
    positive = {"type": "integer", "minimum": 1}
    text = {"type": "string"}
    return {
        "name": {
            "description": "A node, input or variable name: an ASCII identifier of at most 64 "
            "characters that is no Python keyword or builtin and no torch.nn.Module attribute.",
            "type": "string",
            "pattern": NAME_RE.pattern,
        },
        "scalar": {
            "description": "A fixed value; a string starting with '$' refers to a variable.",
            "type": ["string", "number", "boolean", "null"],
        },
        "varRef": {"type": "string", "pattern": "^\\$[A-Za-z_][A-Za-z0-9_]{0,63}$"},
        "choiceDomain": _obj(
            {"choice": {"type": "array", "minItems": 1, "items": _ref("scalar")}},
            ("choice",),
            description="One of the listed values (distinct scalars).",
        ),
        "intDomain": _obj(
            {"int": _pair({"type": "integer"}), "step": positive, "log": {"type": "boolean"}},
            ("int",),
            description="An integer in [low, high], both included; `log: true` samples "
            "log-uniformly (no step then).",
        ),
        "floatDomain": _obj(
            {
                "float": _pair({"type": "number"}),
                "step": {"type": "number", "exclusiveMinimum": 0},
                "log": {"type": "boolean"},
            },
            ("float",),
            description="A float in [low, high]; optional `step` or `log: true`.",
        ),
        "logDomain": _obj(
            {"log": _pair({"type": "number", "exclusiveMinimum": 0})},
            ("log",),
            description="A log-uniform float in [low, high], low > 0.",
        ),
        "domain": {
            "oneOf": [
                _ref("choiceDomain"),
                _ref("intDomain"),
                _ref("floatDomain"),
                _ref("logDomain"),
            ],
        },
        "value": {"anyOf": [_ref("scalar"), _ref("domain")]},
        "ref": {
            "description": "A node or input name, a block name (its last node), or $in.",
            "type": "string",
        },
        "refs": {"anyOf": [_ref("ref"), {"type": "array", "minItems": 1, "items": _ref("ref")}]},
        "in": {
            "anyOf": [
                _ref("refs"),
                _obj(
                    {"choice": {"type": "array", "minItems": 1, "items": _ref("refs")}},
                    ("choice",),
                    description="A searched choice between input lists.",
                ),
            ]
        },
        "op": {
            "description": "A registered primitive (see docs/primitives.md).",
            "type": "string",
            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
        },
        "option": {
            "description": "One way to realise a choice node: an op and its parameters.",
            "type": "object",
            "required": ["op"],
            "properties": {"op": _ref("op")},
            "propertyNames": {
                "not": {"enum": ["in", "description", "choice", "repeat", "nodes", "copies"]}
            },
            "additionalProperties": _ref("value"),
        },
        "opNode": {
            "type": "object",
            "required": ["op"],
            "properties": {"op": _ref("op"), "in": _ref("in"), "description": text},
            "propertyNames": {"not": {"enum": ["choice", "repeat", "nodes", "copies"]}},
            "additionalProperties": _ref("value"),
        },
        "choiceNode": _obj(
            {
                "in": _ref("in"),
                "description": text,
                "choice": {"type": "array", "minItems": 1, "items": _ref("option")},
            },
            ("choice",),
        ),
        "repeatBlock": _obj(
            {
                "repeat": {
                    "anyOf": [
                        {"type": "integer", "minimum": 0, "maximum": 64},
                        _ref("intDomain"),
                        _ref("choiceDomain"),
                        _ref("varRef"),
                    ]
                },
                "nodes": _ref("nodes"),
                "in": _ref("ref"),
                "description": text,
            },
            ("repeat", "nodes"),
        ),
        "copiesBlock": _obj(
            {
                "copies": {"type": "array", "items": _ref("nodes")},
                "in": _ref("ref"),
                "description": text,
            },
            ("copies",),
            description="A block with explicit per-copy nodes (what `repeat` resolves to in "
            "an architecture file).",
        ),
        "node": {
            "oneOf": [_ref("opNode"), _ref("choiceNode"), _ref("repeatBlock"), _ref("copiesBlock")]
        },
        "nodes": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _ref("name"),
            "additionalProperties": _ref("node"),
        },
        "input": _obj(
            {
                "shape": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 3,
                    "items": positive,
                    "description": "Per-sample shape; the batch dimension is implicit.",
                },
                "dtype": {"enum": list(DTYPES)},
            },
            ("shape",),
        ),
        "task": _obj(
            {
                "dataset": {"type": "string", "minLength": 1},
                "epochs": _ref("value"),
                "batch_size": _ref("value"),
                "lr": _ref("value"),
                "optimizer": {
                    "anyOf": [{"enum": list(OPTIMIZERS)}, _ref("varRef"), _ref("choiceDomain")]
                },
                "weight_decay": _ref("value"),
                "val_fraction": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            },
            ("dataset",),
            additional=_ref("scalar"),
            description="Dataset and training settings; other keys are dataset options.",
        ),
        "bounds": _obj({"max": {"type": "number"}, "min": {"type": "number"}}, minProperties=1),
    }


def json_schema() -> dict[str, Any]:
    """The schema of a hadnas file (a search space or an architecture)."""
    positive = {"type": "integer", "minimum": 1}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:hadnas:dsl:{DSL_VERSION}",
        "title": f"hadnas search space, DSL version {DSL_VERSION}",
        "description": "A hadnas search space or architecture file; see docs/dsl.md. "
        "Generated by hadnas.spec._jsonschema: do not edit by hand.",
        **_obj(
            {
                "hadnas": {"const": DSL_VERSION},
                "name": {"type": "string", "pattern": STUDY_NAME_RE.pattern},
                "description": {"type": "string"},
                "task": _ref("task"),
                "inputs": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": _ref("name"),
                    "additionalProperties": _ref("input"),
                },
                "vars": {
                    "type": "object",
                    "propertyNames": _ref("name"),
                    "additionalProperties": _ref("value"),
                },
                "nodes": _ref("nodes"),
                "output": _ref("name"),
                "objectives": {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": {"enum": list(METRICS)},
                    "additionalProperties": {"enum": list(DIRECTIONS)},
                },
                "constraints": {
                    "type": "object",
                    "propertyNames": {"enum": list(METRICS)},
                    "additionalProperties": _ref("bounds"),
                },
                "latency": _obj(
                    {
                        "batch_size": positive,
                        "threads": positive,
                        "mode": {"enum": list(LATENCY_MODES)},
                        "warmup": {"type": "integer", "minimum": 0},
                        "repeats": positive,
                        "rounds": positive,
                    }
                ),
                "search": _obj(
                    {
                        "sampler": {"enum": list(SAMPLERS)},
                        "trials": positive,
                        "seed": {"type": "integer", "minimum": 0},
                        "pruner": {"enum": list(PRUNERS)},
                        "trial_timeout_s": {"type": "number", "exclusiveMinimum": 0},
                        "memory_limit_mb": {"type": "integer", "minimum": 64},
                        "max_failed_trials": positive,
                        "threads": positive,
                    }
                ),
                "sampled": {
                    "type": "object",
                    "additionalProperties": _ref("scalar"),
                    "description": "Provenance in an architecture file: the "
                    "parameters that produced it.",
                },
            },
            ("hadnas", "name", "task", "inputs", "nodes", "output"),
        ),
        "$defs": _defs(),
    }


def render() -> str:
    """The schema as the committed files hold it."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print or write the DSL's JSON Schema.")
    parser.add_argument("--write", action="store_true", help="update the committed copies")
    args = parser.parse_args(argv)
    text = render()
    if not args.write:
        print(text, end="")
        return 0
    for path in (PACKAGE_COPY, DOCS_COPY):
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
