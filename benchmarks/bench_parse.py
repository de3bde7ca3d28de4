"""Hostile YAML is refused quickly; normal files parse and validate quickly.

Goal (issue 2): a 9-level "billion laughs" is rejected in under 100 ms; so is every other bomb
here. Documents near the 1 MB size limit are refused in time proportional to their size (tens of
milliseconds with libyaml, which PyYAML's wheels include; seconds with ``--pure-python``).

    .venv/bin/python benchmarks/bench_parse.py [--quick]

Each document is parsed (and, for the example spaces, validated) repeatedly; the table shows the
median and worst time per call. Exit status 1 when a hostile document takes 100 ms or more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hadnas.exceptions import SpecError
from hadnas.spec import load_spec, parse_yaml

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MS = 100.0


def billion_laughs(levels: int = 9) -> str:
    lines = ["hadnas: 1", "l0: &l0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


HOSTILE = {
    "billion laughs (9 levels)": billion_laughs(9),
    "alias flood (10 000 aliases)": "x: &x 1\ny: [" + ", ".join(["*x"] * 10_000) + "]\n",
    "deep nesting (5 000 levels)": "a: " + "[" * 5_000 + "]" * 5_000 + "\n",
    "recursive alias": "a: &a [1, *a]\n",
    "python tag": "a: !!python/object/apply:os.system ['true']\n",
}
#: size limits: refused, in time proportional to the (bounded) size; shown, not held to the limit
LARGE = {
    "value flood (~1 MB of values)": "".join(f"k{i}: [1, 2, 3, 4]\n" for i in range(40_000)),
    "near-limit file (1 MB comment)": "# " + "x" * 999_000 + "\n",
}


def _time(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        try:
            fn()
        except SpecError:
            pass
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--pure-python",
        action="store_true",
        help="time PyYAML's pure-Python parser (what runs without libyaml)",
    )
    args = parser.parse_args()
    if args.pure_python:
        import yaml

        from hadnas.spec import _yaml

        _yaml._Loader = yaml.SafeLoader
    repeats = 5 if args.quick else 30
    print(f"{'document':<34}{'median ms':>10}{'max ms':>9}  result")
    failed = False
    for name, text in {**HOSTILE, **LARGE}.items():
        try:
            parse_yaml(text, "bench.yaml")
            outcome = "ACCEPTED (should be refused)"
            failed = True
        except SpecError as exc:
            outcome = "refused: " + str(exc).split(": ", 2)[-1][:48]
        times = _time(lambda text=text: parse_yaml(text, "bench.yaml"), repeats)
        worst = max(times)
        if worst >= LIMIT_MS and name in HOSTILE:
            failed = True
            outcome += f"  SLOW (limit {LIMIT_MS:.0f} ms)"
        print(f"{name:<34}{statistics.median(times):>10.2f}{worst:>9.2f}  {outcome}")
    for path in sorted((ROOT / "search_spaces").glob("*.yaml")):
        load_spec(path)  # warm caches (torch import, registry)
        times = _time(lambda path=path: load_spec(path), repeats)
        print(
            f"{path.name:<34}{statistics.median(times):>10.2f}{max(times):>9.2f}  "
            "parsed and validated"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
