"""``hadnas draw``: a PNG of the graph (layered top to bottom, nodes coloured by domain)."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("draw", help="draw the graph of a space sample or an architecture as PNG")
    p.add_argument("file", metavar="SPACE_OR_ARCH.yaml")
    p.add_argument("-o", "--output", default="graph.png", help="PNG path (default graph.png)")
    p.add_argument("--seed", type=int, default=0, help="which sample of a space to draw")
    p.set_defaults(run=run_draw)


def run_draw(args: argparse.Namespace) -> int:
    from hadnas.space import load_space
    from hadnas.viz import draw_graph

    space = load_space(args.file)
    arch = space.sample(args.seed)
    title = space.name + ("" if space.is_fixed else f" (sample seed={args.seed})")
    draw_graph(arch.graph, args.output, title=title)
    if not args.quiet:
        print(f"wrote {args.output}")
    return 0
