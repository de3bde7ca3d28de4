"""Pictures a person wants to look at: the graph of an architecture (more in search reports)."""

from __future__ import annotations

from pathlib import Path

from hadnas.ir import ArchGraph
from hadnas.primitives import get_primitive

DOMAIN_COLOURS = {
    "input": "#d9d9d9",
    "control": "#cfe2f3",
    "higher_order": "#f4b183",
    "fusion": "#c5e0b4",
    "modulation": "#ffe699",
    "pairwise": "#d5a6e6",
    "output": "#9fc5e8",
}
DOMAIN_LABELS = {
    "input": "input",
    "control": "control / plumbing",
    "higher_order": "higher-order correlation",
    "fusion": "multimodal fusion",
    "modulation": "dynamic modulation / gating",
    "pairwise": "efficient pairwise / token mixing",
}


def _layers(graph: ArchGraph) -> dict[str, int]:
    depth: dict[str, int] = {}
    for name in graph.order():
        preds = list(graph.g.predecessors(name))
        depth[name] = 1 + max((depth[p] for p in preds), default=-1)
    return depth


def draw_graph(graph: ArchGraph, path: str | Path, *, title: str = "") -> Path:
    """Write a PNG: one row per depth, op-coloured boxes with name/op/shape, output outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Patch

    live = set(graph.live_nodes()) | set(graph.input_names())
    depth = {n: d for n, d in _layers(graph).items() if n in live}
    rows: dict[int, list[str]] = {}
    for name in graph.order():
        if name in depth:
            rows.setdefault(depth[name], []).append(name)
    width = max(len(r) for r in rows.values())
    pos = {}
    for d, names in rows.items():
        for i, name in enumerate(names):
            pos[name] = ((i - (len(names) - 1) / 2) * 2.6, -d * 1.3)
    fig_w = max(6.0, 2.8 * width + 2)
    fig_h = max(4.0, 1.3 * len(rows) + 1.5)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h), dpi=110)
    for name in pos:
        for succ in graph.g.successors(name):
            if succ in pos:
                (x0, y0), (x1, y1) = pos[name], pos[succ]
                span = depth[succ] - depth[name]
                # skip connections bow out to the right so they do not cross the boxes
                style = "arc3,rad=0.0" if span <= 1 else f"arc3,rad={-0.25 - 0.05 * span:.2f}"
                start = (x0 + (1.15 if span > 1 else 0), y0 if span > 1 else y0 - 0.32)
                end = (x1 + (1.15 if span > 1 else 0), y1 if span > 1 else y1 + 0.32)
                ax.annotate("", xy=end, xytext=start, zorder=1,
                            arrowprops={"arrowstyle": "->", "color": "#555555", "lw": 1.0,
                                        "connectionstyle": style})  # fmt: skip
    used = set()
    for name, (x, y) in pos.items():
        a = graph.attrs(name)
        domain = "input" if a.op == "input" else get_primitive(a.op).domain
        used.add(domain)
        colour = DOMAIN_COLOURS.get(domain, "#eeeeee")
        edge = "#c00000" if name == graph.output else "#333333"
        lw = 2.5 if name == graph.output or a.op == "input" else 1.0
        box = FancyBboxPatch((x - 1.15, y - 0.32), 2.3, 0.64, boxstyle="round,pad=0.02",
                             fc=colour, ec=edge, lw=lw, zorder=2)  # fmt: skip
        ax.add_patch(box)
        label = f"{name}\n{a.op if a.op != 'input' else 'INPUT'}  {graph.specs[name]}"
        if name == graph.output:
            label = label.replace("\n", "  [OUTPUT]\n", 1)
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5, zorder=3)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.5, max(xs) + 2.5)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    handles = [Patch(fc=DOMAIN_COLOURS[d], ec="#333333", label=DOMAIN_LABELS[d])
               for d in DOMAIN_LABELS if d in used]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", fontsize=7, frameon=False,
              bbox_to_anchor=(1.0, 1.0))  # fmt: skip
    totals = graph.totals()
    ax.set_title(f"{title}\n{totals['params']:,} params · {totals['flops']:,} FLOPs/sample",
                 fontsize=10)  # fmt: skip
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out
