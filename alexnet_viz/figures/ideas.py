"""Figures for AlexNet's ideas: activation curves, the two GPU towers in 3-D and per layer.

Colours and 3-D helpers come from figures.py, so the towers look like the single-tower diagram.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from alexnet_viz.core.bookkeeping import Ledger
from alexnet_viz.errors import SpecError
from alexnet_viz.figures import boxes as b3
from alexnet_viz.figures.boxes import COLORS, row_hover
from alexnet_viz.ideas.stack import TowerRow, tower_plan, towers

if TYPE_CHECKING:  # pragma: no cover  (ideas imports torch; the architecture pages must not pay for it)
    from alexnet_viz.ideas.basics import Curves

GPU_GAP = 6.0  # vertical space between the two towers, in diagram units


def activation_figure(c: Curves, height: int = 300) -> go.Figure:
    """tanh and ReLU (left) and the slopes a gradient is multiplied by (right)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("tanh and ReLU", "their slopes"),
                        horizontal_spacing=0.08)
    for col, (t, r) in enumerate(((c.tanh, c.relu), (c.tanh_grad, c.relu_grad)), start=1):
        fig.add_trace(go.Scatter(x=c.x, y=t, name="tanh", line=dict(color=COLORS["maxpool"], width=3),
                                 legendgroup="tanh", showlegend=col == 1), row=1, col=col)
        fig.add_trace(go.Scatter(x=c.x, y=r, name="ReLU", line=dict(color=COLORS["conv"], width=3),
                                 legendgroup="relu", showlegend=col == 1), row=1, col=col)
    fig.update_yaxes(range=[-1.2, 2.2], row=1, col=1)
    fig.update_yaxes(range=[-0.1, 1.2], row=1, col=2)
    fig.update_xaxes(title_text="input x")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def _tower_boxes(x: float, d: float, s: float, split: bool) -> list[np.ndarray]:
    """One block (centred) or two (GPU 1 above, GPU 2 below), each a full map of half the channels."""
    if not split:
        return [b3.corners(x, d, -s / 2, s, -s / 2, s)]
    off = s / 2 + GPU_GAP / 2
    return [b3.corners(x, d, -s / 2, s, off - s / 2, s), b3.corners(x, d, -s / 2, s, -off - s / 2, s)]


def tower_diagram(book: Ledger, height: int = 520) -> go.Figure:
    """The two-GPU network as the paper's Figure 2 draws it: two towers, joined where the GPUs talk."""
    plan = {r.name: r for r in tower_plan(book.spec)}
    n = towers(book.spec)
    fig = go.Figure()
    size, c_in = book.input_size, book.spec.in_channels
    prev = _tower_boxes(0.0, b3.depth(c_in), b3.side(size), split=False)
    fig.add_trace(b3.box(prev[0], COLORS["input"], "input",
                       f"<b>input</b><br>{size}×{size}×{c_in} image, read by both GPUs"))
    every = list(prev)
    labels: list[tuple[float, str]] = [(b3.depth(c_in) / 2, "input")]
    x = b3.depth(c_in) + 6.0
    for r in book.rows:
        link = plan[r.name]
        split = link.link != "one"
        per = r.out_shape[0] // (n if split else 1)
        if r.kind == "fc":
            d, h = 1.2, 2.0 * np.log2(per + 1)
            cur = [b3.corners(x, d, -d / 2, d, z0 - h / 2, h) for z0 in
                   ((h / 2 + GPU_GAP / 2, -h / 2 - GPU_GAP / 2) if split else (0.0,))]
        else:
            d = b3.depth(per)
            cur = _tower_boxes(x, d, b3.side(r.out_shape[1]), split)
        hover = row_hover(r) + f"<br>{link.split} · {link.text}"
        for g, box in enumerate(cur):
            who = f" (GPU {g + 1})" if split else ""
            fig.add_trace(b3.box(box, COLORS[r.kind], r.name + who, hover))
        pairs = []
        for g, box in enumerate(cur):  # lines from the inputs each tower reads to its block
            sources = range(len(prev)) if link.link in ("across", "one", "image") else [min(g, len(prev) - 1)]
            for s in sources:
                pairs.append(((prev[s][0] + prev[s][7]) / 2 + np.array([(prev[s][7, 0] - prev[s][0, 0]) / 2, 0, 0]),
                              (box[0] + box[7]) / 2 - np.array([(box[7, 0] - box[0, 0]) / 2, 0, 0])))
        across = link.link in ("across", "one")
        fig.add_trace(b3.lines(pairs, COLORS["kernel"] if across else "#777777", width=4 if across else 2))
        if r.kind != "fc":  # the kernel or window in GPU 1's input, at its true fraction of the map's side
            src = prev[0]
            span = src[7, 1] - src[0, 1]
            k = max(1.2, span * r.kernel / (r.in_shape[1] + 2 * r.padding))
            kern = b3.corners(src[0, 0], src[7, 0] - src[0, 0], src[7, 1] - k, k, src[7, 2] - k, k)
            fig.add_trace(b3.box(kern, COLORS["kernel"], f"{r.name} window", hover, opacity=0.8))
        every += cur
        labels.append((x + d / 2, r.name))
        prev = cur
        x += d + 6.0
    fig.add_trace(b3.edges(every, width=1.5))
    fig.add_trace(b3.labels_below(labels, every))
    top = max(float(b[7, 2]) for b in every)
    fig.add_trace(go.Scatter3d(x=[x, x], y=[0.0, 0.0], z=[top * 0.5, -top * 0.5], mode="text",
                               text=["GPU 1", "GPU 2"], textfont=dict(size=13, color="#555"), hoverinfo="skip",
                               showlegend=False))
    return b3.layout(fig, height, (0.15, -1.9, 0.35))


def tower_link_figure(row: TowerRow, in_name: str, height: int = 220) -> go.Figure:
    """One layer of the two-GPU net flat: input halves on the left, output halves on the right, and
    which inputs each output half reads (red where data crosses between the GPUs)."""
    fig = go.Figure()
    ins = [("image", 0.0)] if row.link == "image" else [(f"{in_name} · GPU 1", 1.0), (f"{in_name} · GPU 2", -1.0)]
    outs = [(f"{row.name} · all", 0.0)] if row.link == "one" else [(f"{row.name} · GPU 1", 1.0),
                                                                   (f"{row.name} · GPU 2", -1.0)]
    for _, ay in ins:
        for _, by in outs:
            own = ay == by or row.link == "image"
            if row.link == "own" and not own:
                continue
            cross = row.link in ("across", "one") and ay != by
            line = dict(color=COLORS["kernel"] if cross else "#777777", width=4 if cross else 2)
            fig.add_trace(go.Scatter(x=[0.25, 0.75], y=[ay, by], mode="lines", hoverinfo="skip", showlegend=False,
                                     line=line))
    for labels, x0, colour in ((ins, 0.0, COLORS["input"]), (outs, 0.75, COLORS["conv"])):
        for label, y in labels:
            fig.add_shape(type="rect", x0=x0, x1=x0 + 0.25, y0=y - 0.35, y1=y + 0.35, fillcolor=colour, opacity=0.55,
                          line=dict(color="#333"))
            fig.add_annotation(x=x0 + 0.125, y=y, text=label, showarrow=False, font=dict(size=12, color="#111"))
    fig.update_xaxes(visible=False, range=[-0.02, 1.02])
    fig.update_yaxes(visible=False, range=[-1.5, 1.5])
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white")
    return fig


def tower_strip(book: Ledger, height: int = 300) -> go.Figure:
    """The two towers flat, one column per layer (readable at phone width, unlike a 3-D scene): each GPU's
    block with its channel count, grey links that stay on a GPU, red ones that cross between them."""
    plan = tower_plan(book.spec)
    if not plan:
        raise SpecError(f"{book.spec.title} runs on one GPU (no grouped layers): there are no towers to draw.")
    fig = go.Figure()
    # Shapes and labels are collected and set once: plotly re-validates every earlier one on each
    # add_shape/add_annotation, which made this figure cost about a second to build.
    shapes: list[dict] = []
    notes: list[dict] = []
    centres = {1: 1.0, 2: -1.0, 0: 0.0}  # GPU 1, GPU 2, a block shared by both (input, F11)
    prev: list[int] = [0]
    for i, row in enumerate(book.rows):
        x = i + 1.0
        gpus = [0] if plan[i].link == "one" else [1, 2]
        per = row.out_shape[0] // len(gpus)
        for g in gpus:
            y = centres[g]
            shapes.append(dict(type="rect", x0=x - 0.32, x1=x + 0.32, y0=y - 0.55, y1=y + 0.55,
                               line=dict(color="#333"), fillcolor=COLORS[row.kind], opacity=0.6))
            notes.append(dict(x=x, y=y, text=f"{per:,}", showarrow=False, font=dict(size=10, color="#111"),
                              textangle=-90))
            for p in prev:
                cross = p != 0 and p != g
                if plan[i].link == "own" and cross:
                    continue
                fig.add_trace(go.Scatter(x=[x - 1 + 0.32, x - 0.32], y=[centres[p], y], mode="lines", hoverinfo="skip",
                                         showlegend=False, line=dict(color=COLORS["kernel"] if cross else "#777777",
                                                                     width=3 if cross else 1.5)))
        notes.append(dict(x=x, y=1.85, text=row.name, showarrow=False, font=dict(size=11)))
        prev = gpus
    shapes.append(dict(type="rect", x0=-0.32, x1=0.32, y0=-1.55, y1=1.55, line=dict(color="#333"),
                       fillcolor=COLORS["input"], opacity=0.6))
    notes.append(dict(x=0, y=1.85, text="input", showarrow=False, font=dict(size=11)))
    for g, label in ((1, "GPU 1"), (2, "GPU 2")):
        notes.append(dict(x=len(book.rows) + 0.5, y=centres[g], text=label, showarrow=False, font=dict(size=11),
                          textangle=-90))
    hover = [f"{r.name}: {p.split}<br>{p.text}" for r, p in zip(book.rows, plan)]
    fig.add_trace(go.Scatter(x=[i + 1.0 for i in range(len(book.rows))], y=[0.0] * len(book.rows), mode="markers",
                             marker=dict(size=18, opacity=0), hovertext=hover, hoverinfo="text", showlegend=False))
    fig.update_xaxes(visible=False, range=[-0.5, len(book.rows) + 0.8], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-1.8, 2.1], fixedrange=True)
    fig.update_layout(height=height, margin=dict(l=2, r=2, t=2, b=2), plot_bgcolor="white", shapes=shapes,
                      annotations=notes)
    return fig
