"""Exported model vs built model: the standalone code must be no slower than hadnas's own.

Goal (issue 6): exported ≤ 1.0× built at batch 1 and 64, same weights.

    .venv/bin/python benchmarks/bench_export.py [--rounds 15] [--seeds 0 1] [SPACE.yaml ...]

For each example space (sample ``seed``), the architecture is built, exported with the built
model's weights, and the exported ``model.py`` imported back. Both run in eval mode under
``torch.inference_mode`` with one intra-op thread; calls are timed round-robin (built,
exported, built, ...) after a warm-up, min of each round, median over rounds. The ratio column
is the median of per-round ratios exported/built with its interquartile range.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import interleaved, median_ms, ratio_ci  # noqa: E402

import hadnas  # noqa: E402
from hadnas.export import import_model_file, load_weights  # noqa: E402

SPACES = sorted((Path(__file__).resolve().parents[1] / "search_spaces").glob("*.yaml"))


def pair(space: Path, seed: int, folder: Path) -> tuple[torch.nn.Module, torch.nn.Module, type]:
    """(built, exported, ModelConfig) with identical weights."""
    arch = hadnas.load_space(space).sample(seed)
    built = hadnas.build(arch, seed=0).eval()
    out = hadnas.export(arch, folder, built.state_dict())
    module = import_model_file(out / "model.py")
    exported = module.Model()
    exported.load_state_dict(load_weights(out / "model.safetensors"))
    return built, exported.eval(), module.ModelConfig


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spaces", nargs="*", type=Path, default=SPACES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    header = (
        f"{'space':<22} {'seed':>4} {'batch':>5} {'built ms':>9} {'export ms':>9} "
        f"{'ratio':>6}  {'IQR':<11}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for space in args.spaces:
            for seed in args.seeds:
                built, exported, config = pair(space, seed, Path(tmp) / f"{space.stem}-{seed}")
                for batch in args.batches:
                    inputs = config().example_inputs(batch)
                    with torch.inference_mode():
                        assert torch.equal(built(*inputs), exported(*inputs))
                        a, b = interleaved(
                            [partial(built, *inputs), partial(exported, *inputs)],
                            rounds=args.rounds,
                            repeats=args.repeats,
                        )
                    ratio, lo, hi = ratio_ci(b, a)
                    worst = max(worst, ratio)
                    print(
                        f"{space.stem:<22} {seed:>4} {batch:>5} {median_ms(a):>9.4f} "
                        f"{median_ms(b):>9.4f} {ratio:>5.2f}x  [{lo:.2f}, {hi:.2f}]"
                    )
    print(f"\nworst median ratio exported/built: {worst:.2f}x (goal: <= 1.00x within noise)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
