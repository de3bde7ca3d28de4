"""The README of an export: provenance, metrics and a usage snippet (deterministic text)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hadnas.space import Architecture


def _cell(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def readme(arch: Architecture, record: Mapping[str, Any]) -> str:
    """Markdown for ``record`` (the contents of ``export.json``)."""
    trial = record.get("trial")
    title = f"{arch.name}" + (f" — trial {trial}" if trial is not None else "")
    graph = arch.graph
    inputs = ", ".join(f"`{n}` {graph.specs[n]}" for n in graph.input_names())
    lines = [f"# {title}", ""]
    if arch.spec.description:
        lines += [_cell(arch.spec.description), ""]
    lines += [
        f"Exported by hadnas {record['hadnas_version']} as standalone PyTorch code.",
        "",
        "| file | contents |",
        "|---|---|",
        "| `model.py` | the model: torch and the Python standard library only |",
        f"| `model.safetensors` | weights: {_cell(record.get('weights', 'given'))} |",
        "| `arch.yaml` | the resolved architecture (`hadnas show`, `hadnas train` read it) |",
        "| `export.json` | this provenance, machine-readable |",
    ]
    if record.get("preprocessing"):
        lines.append(f"| `{record['preprocessing']}` | input standardisation (mean, std) |")
    lines += ["", "## Provenance", "", "| | |", "|---|---|", f"| space | `{arch.name}` |"]
    for key, label in (
        ("space_file", "space file"),
        ("run", "run folder"),
        ("trial", "trial"),
        ("dataset", "dataset"),
        ("training", "training"),
    ):
        if record.get(key) not in (None, ""):
            lines.append(f"| {label} | {_cell(record[key])} |")
    lines += [
        f"| parameters | {record['params']:,} |",
        f"| hadnas | {record['hadnas_version']} |",
        f"| weights sha256 | `{record['weights_sha256']}` |",
    ]
    metrics = record.get("metrics") or {}
    if isinstance(metrics, Mapping) and metrics:
        lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
        shown = {k: v for k, v in metrics.items() if not str(k).endswith(("_seconds", "_s"))}
        lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in sorted(shown.items())]
    lines += [
        "",
        "## Usage",
        "",
        "```python",
        "from safetensors.torch import load_file",
        "",
        "from model import Model, ModelConfig",
        "",
        "model = Model()",
        'model.load_state_dict(load_file("model.safetensors"))',
        "model.eval()",
        "inputs = ModelConfig().example_inputs(batch_size=8)  # random inputs of the right shapes",
        "outputs = model(*inputs)",
        "```",
        "",
        f"Inputs, in this order: {inputs}; output {graph.specs[graph.output]}.",
        "Without safetensors, `pip install safetensors` (it reads raw tensors only; no pickle).",
    ]
    if record.get("preprocessing"):
        lines += [
            "",
            "The model was trained on standardised inputs: subtract `<input>.mean` and divide by "
            f"`<input>.std` from `{record['preprocessing']}` before calling it.",
        ]
    elif record.get("trained_by_hadnas"):
        lines += [
            "",
            "hadnas tasks standardise float inputs with the training split's per-feature mean "
            "and std; feed the model inputs prepared the same way.",
        ]
    return "\n".join(lines) + "\n"
