"""Built model vs a hand-written equivalent: the generated forward must add no overhead.

Goal (issue 2): the built model is within 5 % of the hand-written one at batch 1.

    .venv/bin/python benchmarks/bench_build.py [--rounds 15]

Both models share the same submodule classes and weights; only the forward differs (generated
source vs. a person's loop over blocks). Times are per forward call, min of each round, median
over interleaved rounds, one intra-op thread.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import interleaved, median_ms, ratio_ci  # noqa: E402

import hadnas  # noqa: E402

SPACE = Path(__file__).resolve().parents[1] / "search_spaces" / "digits_gated_poly.yaml"


class HandWritten(nn.Module):
    """What a person would write for the digits space: stem, a loop of residual blocks, head."""

    def __init__(self, built: nn.Module) -> None:
        super().__init__()
        self.stem = built.stem
        self.body = built.body
        self.head = built.head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.body:
            x = x + block.norm(block.mix(x))
        return self.head(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 4])
    args = parser.parse_args()
    torch.set_num_threads(1)
    space = hadnas.load_space(SPACE)
    print(f"{'arch':<8}{'batch':>6}{'built ms':>11}{'hand ms':>10}{'ratio':>8}  (IQR)")
    worst = 0.0
    for seed in args.seeds:
        arch = space.sample(seed)
        built = hadnas.build(arch, seed=0).eval()
        hand = HandWritten(built).eval()
        for batch in (1, 64):
            x = torch.randn(batch, 64)
            with torch.inference_mode():
                assert torch.equal(built(x), hand(x))
                calls = [partial(built, x), partial(hand, x)]
                a, b = interleaved(calls, rounds=args.rounds)
            r, lo, hi = ratio_ci(a, b)
            if batch == 1:
                worst = max(worst, r)
            print(f"seed={seed:<3}{batch:>6}{median_ms(a):>11.4f}{median_ms(b):>10.4f}"
                  f"{r:>8.3f}  ({lo:.3f}-{hi:.3f})")  # fmt: skip
    verdict = "PASS" if worst <= 1.05 else "FAIL"
    print(f"worst batch-1 ratio built/hand = {worst:.3f} (goal <= 1.05): {verdict}")


if __name__ == "__main__":
    main()
