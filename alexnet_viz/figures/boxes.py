"""3-D boxes for plotly: the shared drawing kit of the architecture and the two-tower diagrams.

A block's side grows with the log of its size so that 3 to 384 channels and 6 to 227 pixels all
stay visible; hover texts always carry the true numbers.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from alexnet_viz.core.bookkeeping import Row
from alexnet_viz.core.formatting import shape_text
from alexnet_viz.core.spec import KIND_NAMES

COLORS = {"input": "#9e9e9e", "conv": "#4c78a8", "maxpool": "#f58518", "avgpool": "#e4a11b",
          "fc": "#54a24b", "kernel": "#e45756", "unit": "#d6336c"}
# a cube's 12 triangles over its 8 corners (corner index = 4*x + 2*y + z bits)
_I = [0, 0, 4, 4, 0, 0, 2, 2, 0, 0, 1, 1]
_J = [1, 3, 5, 7, 1, 5, 3, 7, 2, 6, 3, 7]
_K = [3, 2, 7, 6, 5, 4, 7, 6, 6, 4, 7, 5]
_EDGES = [(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 3), (2, 6), (3, 7), (4, 5), (4, 6), (5, 7), (6, 7)]


def corners(x0: float, dx: float, y0: float, dy: float, z0: float, dz: float) -> np.ndarray:
    return np.array([[x0 + dx * ((n >> 2) & 1), y0 + dy * ((n >> 1) & 1), z0 + dz * (n & 1)] for n in range(8)],
                    dtype=np.float32)


def box(c: np.ndarray, color: str, name: str, hover: str, opacity: float = 0.55) -> go.Mesh3d:
    return go.Mesh3d(x=c[:, 0], y=c[:, 1], z=c[:, 2], i=_I, j=_J, k=_K, color=color, opacity=opacity,
                     flatshading=True, name=name, hovertext=hover, hoverinfo="text", showlegend=False)


def lines(pairs: list[tuple[np.ndarray, np.ndarray]], color: str, width: float = 3) -> go.Scatter3d:
    """Many 3-D segments as one trace (None breaks the line between segments)."""
    xyz: list[list[float | None]] = [[], [], []]
    for a, b in pairs:
        for axis in range(3):
            xyz[axis] += [float(a[axis]), float(b[axis]), None]
    return go.Scatter3d(x=xyz[0], y=xyz[1], z=xyz[2], mode="lines", line=dict(color=color, width=width),
                        hoverinfo="skip", showlegend=False)


def edges(boxes: list[np.ndarray], color: str = "#333", width: float = 2) -> go.Scatter3d:
    return lines([(c[a], c[b]) for c in boxes for a, b in _EDGES], color, width)


def labels_below(names: list[tuple[float, str]], boxes: list[np.ndarray]) -> go.Scatter3d:
    """Block names on one line under the whole drawing, in front: above the blocks, a window or a taller
    neighbour hid them (C1's name behind its window in the input; "input" on C1 in the two towers)."""
    bottom = min(float(c[:, 2].min()) for c in boxes) - 8.0  # clear of the lowest edge, seen from above
    front = min(float(c[:, 1].min()) for c in boxes)
    return go.Scatter3d(x=[x for x, _ in names], y=[front] * len(names), z=[bottom] * len(names), mode="text",
                        text=[n for _, n in names], textfont=dict(size=13), hoverinfo="skip", showlegend=False)


def row_hover(r: Row) -> str:
    """The numbers a block's hover shows, under the layer's three names (article, paper, PyTorch)."""
    lines = [f"<b>{r.name}</b> {KIND_NAMES[r.kind]}", f"paper: {r.paper_name} · PyTorch: {r.torch_name}"]
    if r.kind == "conv":
        lines.append(f"{r.out_shape[0]} kernels {r.kernel}×{r.kernel}×{r.in_shape[0] // r.groups}, "
                     f"stride {r.stride}, "
                     f"padding {r.padding}" + (f", groups {r.groups}" if r.groups > 1 else ""))
    elif r.kind != "fc":
        lines.append(f"window {r.kernel}×{r.kernel}, stride {r.stride}, padding {r.padding}")
    lines += [f"{shape_text(r.in_shape)} → {shape_text(r.out_shape)}",
              f"params {r.params:,} (total {r.cumulative_params:,})",
              f"MACs {r.macs_with_bias:,}", f"activations {r.activations:,}", f"receptive field {r.rf}×{r.rf}"]
    return "<br>".join(lines)


def side(h: int) -> float:
    return 4.0 * math.log2(h + 1)


def depth(c: int) -> float:
    return 1.6 * math.log2(c + 1)


def layout(fig: go.Figure, height: int, eye: tuple[float, float, float],
            aspect: tuple[float, float, float] | None = None) -> go.Figure:
    """Hidden axes, a fixed camera; true proportions unless `aspect` (x, y, z) is given."""
    axis = dict(visible=False, showbackground=False)
    ratio = {} if aspect is None else dict(aspectratio=dict(x=aspect[0], y=aspect[1], z=aspect[2]))
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=10, b=0), showlegend=False,
                      scene=dict(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="data" if aspect is None else "manual",
                                 camera=dict(eye=dict(x=eye[0], y=eye[1], z=eye[2]), up=dict(x=0, y=0, z=1)),
                                 **ratio))
    return fig
