"""Plotly figures of the architecture and of the small operations: pure functions of data.

Feature maps span 3 to 384 channels and 6 to 227 pixels, so the network-wide diagram sizes
blocks on log scales (every block stays visible and readable); hover always gives the true
numbers. The single-layer diagram keeps the spatial sizes to scale.
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from alexnet_viz.core.bookkeeping import Ledger
from alexnet_viz.core.formatting import shape_text
from alexnet_viz.figures import boxes as b3
from alexnet_viz.figures.boxes import COLORS, row_hover
from alexnet_viz.figures.colours import DIVERGING, plotly_scale, sign_colour
from alexnet_viz.figures.ideas import tower_diagram


def block_diagram(book: Ledger, height: int = 440) -> go.Figure:
    """The whole network in 3-D: one block per feature map (log-sized), kernels where they apply.

    A grouped (two-GPU) network is drawn as the paper's two towers instead (idea_figures.tower_diagram).
    """
    if any(r.groups > 1 for r in book.rows):
        return tower_diagram(book, height=max(height, 520))
    fig = go.Figure()
    x = 0.0
    gap = 6.0
    c_in = book.spec.in_channels
    size = book.input_size
    prev = b3.corners(x, b3.depth(c_in), -b3.side(size) / 2, b3.side(size), -b3.side(size) / 2, b3.side(size))
    fig.add_trace(b3.box(prev, COLORS["input"], "input", f"<b>input</b><br>{size}×{size}×{c_in} image"))
    boxes = [prev]
    labels = [(float(prev[0, 0] + prev[7, 0]) / 2, "input")]
    x += b3.depth(c_in) + gap
    for r in book.rows:
        if r.kind == "fc":
            d, h = 1.2, 2.5 * math.log2(r.out_shape[0] + 1)
            cur = b3.corners(x, d, -d / 2, d, -h / 2, h)
        else:
            d, s = b3.depth(r.out_shape[0]), b3.side(r.out_shape[1])
            cur = b3.corners(x, d, -s / 2, s, -s / 2, s)
        hover = row_hover(r)
        fig.add_trace(b3.box(cur, COLORS[r.kind], r.name, hover))
        if r.kind != "fc":  # the window inside the previous block, with lines to one output unit
            span = prev[7, 1] - prev[0, 1]  # the window at its true fraction of the (padded) map's side
            k = max(1.2, span * r.kernel / (r.in_shape[1] + 2 * r.padding))
            kx0, kdx = prev[0, 0], prev[7, 0] - prev[0, 0]
            if r.groups > 1:
                kdx /= r.groups
            kern = b3.corners(kx0, kdx, prev[7, 1] - k, k, prev[7, 2] - k, k)
            fig.add_trace(b3.box(kern, COLORS["kernel"], f"{r.name} window", hover, opacity=0.8))
            apex = np.array([cur[0, 0], cur[7, 1] - 0.5, cur[7, 2] - 0.5], dtype=np.float32)
            fig.add_trace(b3.lines([(kern[n], apex) for n in (5, 7, 4, 6)], COLORS["kernel"]))
        else:
            fig.add_trace(b3.lines([(prev[n], cur[m]) for n, m in ((5, 1), (7, 3), (4, 0), (6, 2))], COLORS["fc"]))
        boxes.append(cur)
        labels.append((float(cur[0, 0] + cur[7, 0]) / 2, r.name))
        prev = cur
        x += d + gap
    fig.add_trace(b3.edges(boxes, width=1.5))
    fig.add_trace(b3.labels_below(labels, boxes))
    return b3.layout(fig, height, (0.25, -1.85, 0.7))


def block_strip(book: Ledger) -> go.Figure:
    """The network as a 2-D strip for a phone, top to bottom: one bar per feature map, its length growing with
    the map's side (log scale, as the 3-D blocks), its shape written beside it; a bar's point is its layer's name.

    A phone is too narrow for the 3-D blocks side by side, and a tap is a click on a 2-D bar."""
    size, c_in = book.input_size, book.spec.in_channels
    names = ["input"] + [r.name for r in book.rows]
    shapes = [shape_text((c_in, size, size))] + [shape_text(r.out_shape) for r in book.rows]
    lengths = [b3.side(size)] + [b3.side(r.out_shape[1]) if r.kind != "fc" else 1.5 for r in book.rows]
    kinds = ["input"] + [r.kind for r in book.rows]
    hovers = [f"<b>input</b><br>{size}×{size}×{c_in} image"] + [row_hover(r) for r in book.rows]
    widest = max(lengths)
    fig = go.Figure(go.Bar(y=names, x=lengths, base=[-v / 2 for v in lengths], orientation="h", customdata=names,
                           marker_color=[COLORS[k] for k in kinds], text=shapes, textposition="outside",
                           cliponaxis=False, hovertext=hovers, hoverinfo="text", width=0.7))
    fig.update_yaxes(autorange="reversed", fixedrange=True, showgrid=False, ticks="", ticklabelstandoff=6)
    fig.update_xaxes(visible=False, fixedrange=True, range=[-widest / 2 - 1, widest / 2 + widest * 0.7])
    fig.update_layout(height=36 + 30 * len(names), margin=dict(l=5, r=5, t=10, b=10), showlegend=False,
                      plot_bgcolor="rgba(0,0,0,0)", bargap=0.2)
    return fig


def layer_diagram(book: Ledger, name: str, height: int = 420) -> go.Figure:
    """Input block, the kernel (or window) in it, and the output block with the unit it produces.

    Sides are to scale within the layer (largest side 20 units); channels on a log scale.
    """
    idx = [r.name for r in book.rows].index(name)
    r = book.rows[idx]
    fig = go.Figure()
    in_name = book.rows[idx - 1].name if idx else "input"
    if r.kind == "fc":
        scale = 20.0 / math.log2(max(r.in_shape[0], r.out_shape[0]) + 1)
        a_h, b_h = scale * math.log2(r.in_shape[0] + 1), scale * math.log2(r.out_shape[0] + 1)
        a = b3.corners(0, 1.5, -0.75, 1.5, -a_h / 2, a_h)
        b = b3.corners(14, 1.5, -0.75, 1.5, -b_h / 2, b_h)
        in_hover = f"<b>{in_name} output</b><br>{shape_text(r.in_shape)} values"
        fig.add_trace(b3.box(a, COLORS["input"], in_name, in_hover))
        fig.add_trace(b3.box(b, COLORS["fc"], name, row_hover(r)))
        # a sample of the connections: every input value reaches every output neuron
        ins = [np.array([a[4, 0], 0.0, -a_h / 2 + a_h * (i + 0.5) / 6], dtype=np.float32) for i in range(6)]
        outs = [np.array([b[0, 0], 0.0, -b_h / 2 + b_h * (j + 0.5) / 6], dtype=np.float32) for j in range(6)]
        fig.add_trace(b3.lines([(p, q) for p in ins for q in outs], COLORS["fc"], width=1))
        fig.add_trace(b3.edges([a, b]))
        fig.add_trace(go.Scatter3d(x=[0.75, 14.75], y=[0, 0], z=[a_h / 2 + 1.5, b_h / 2 + 1.5], mode="text",
                                   text=[f"{r.in_shape[0]:,} in", f"{r.out_shape[0]:,} out"], hoverinfo="skip",
                                   showlegend=False))
        return b3.layout(fig, height, (0.3, -1.6, 0.4), aspect=(1.3, 0.25, 1.0))
    c_in, h_in = r.in_shape[0], r.in_shape[1]
    c_out, h_out = r.out_shape[0], r.out_shape[1]
    unit = 20.0 / max(h_in + 2 * r.padding, h_out)
    d_in, d_out = b3.depth(c_in), b3.depth(c_out)
    s_in, s_out, s_k = h_in * unit, h_out * unit, r.kernel * unit
    a = b3.corners(0, d_in, -s_in / 2, s_in, -s_in / 2, s_in)
    b = b3.corners(d_in + 14, d_out, -s_out / 2, s_out, -s_out / 2, s_out)
    k_depth = d_in / r.groups if r.kind == "conv" else d_in * 0.15
    y0 = a[0, 1] - r.padding * unit
    z0 = a[7, 2] + r.padding * unit - s_k
    kern = b3.corners(a[0, 0] - 0.05, k_depth + 0.1, y0, s_k, z0, s_k)
    cell_side = max(unit, 0.9)
    cell_depth = max(d_out / c_out, 0.6) if r.kind == "conv" else d_out * 0.15 + 0.1
    cell = b3.corners(b[0, 0] - 0.1, cell_depth, b[0, 1] - 0.05, cell_side, b[7, 2] - cell_side + 0.05, cell_side)
    fig.add_trace(b3.box(a, COLORS["input"], in_name, f"<b>{in_name} output</b> (this layer's input)<br>"
                       f"{shape_text(r.in_shape)}"))
    fig.add_trace(b3.box(b, COLORS[r.kind], name, row_hover(r)))
    what = "one kernel" if r.kind == "conv" else "one window, per channel"
    fig.add_trace(b3.box(kern, COLORS["kernel"], "kernel", f"{what}: {r.kernel}×{r.kernel}"
                       + (f"×{c_in // r.groups}" if r.kind == "conv" else ""), opacity=0.85))
    fig.add_trace(b3.box(cell, COLORS["unit"], "unit", "the output value this placement produces", opacity=0.95))
    fig.add_trace(b3.lines([(kern[n], cell[m]) for n, m in ((5, 1), (7, 3), (4, 0), (6, 2))], COLORS["kernel"]))
    boxes = [a, b]
    if r.padding:
        p = b3.corners(0, d_in, a[0, 1] - r.padding * unit, s_in + 2 * r.padding * unit,
                     a[0, 2] - r.padding * unit, s_in + 2 * r.padding * unit)
        fig.add_trace(b3.edges([p], color="#bbbbbb", width=1))
    fig.add_trace(b3.edges(boxes))
    return b3.layout(fig, height, (0.8, -2.1, 0.7))


def params_vs_macs(book: Ledger, height: int = 360) -> go.Figure:
    """Each layer's share of the parameters next to its share of the multiply-adds."""
    names = [r.name for r in book.rows]
    p = np.array([r.params for r in book.rows], dtype=np.float64)
    m = np.array([r.macs_with_bias for r in book.rows], dtype=np.float64)
    p_share, m_share = 100 * p / max(p.sum(), 1), 100 * m / max(m.sum(), 1)
    fig = go.Figure([
        go.Bar(x=names, y=p_share, name="share of parameters", marker_color="#54a24b",
               customdata=p, hovertemplate="%{x}: %{y:.1f}% of parameters (%{customdata:,.0f})<extra></extra>"),
        go.Bar(x=names, y=m_share, name="share of multiply-adds", marker_color="#4c78a8",
               customdata=m, hovertemplate="%{x}: %{y:.1f}% of MACs (%{customdata:,.0f})<extra></extra>"),
    ])
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=50, b=10),
                      yaxis_title="% of the network",
                      legend=dict(orientation="h", y=1.0, yanchor="top", yref="container", x=0))
    return fig


def variants_chart(books: dict[str, Ledger], height: int = 560) -> go.Figure:
    """Parameters and MACs per layer, one bar per variant (log axis: F9 dwarfs C1 otherwise).

    The two charts are stacked, not side by side: side by side, their titles and axis labels ran
    into each other on a phone.
    """
    fig = make_subplots(rows=2, cols=1, subplot_titles=("parameters per layer", "multiply-adds per layer"),
                        vertical_spacing=0.14)
    palette = ["#4c78a8", "#f58518", "#54a24b", "#b279a2"]
    for n, (variant, book) in enumerate(books.items()):
        names = [r.name for r in book.rows if r.params]
        rows = [r for r in book.rows if r.params]
        for col, values in ((1, [r.params for r in rows]), (2, [r.macs_with_bias for r in rows])):
            fig.add_trace(go.Bar(x=names, y=np.array(values, dtype=np.float64), name=variant,
                                 marker_color=palette[n % 4], legendgroup=variant, showlegend=col == 1,
                                 hovertemplate=f"{variant} %{{x}}: %{{y:,.0f}}<extra></extra>"), row=col, col=1)
    fig.update_yaxes(type="log", dtick=1)  # ticks at powers of ten only
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=80, b=10),
                      legend=dict(orientation="h", y=1.0, yanchor="top", yref="container", x=0))
    return fig


def value_grids(arrays: list[np.ndarray], titles: list[str], window: tuple[tuple[int, int], tuple[int, int]] | None
                = None, cell: tuple[int, int] | None = None, cell_panel: int | None = None, padding: int = 0,
                height: int = 320, side: int | None = None, font: int = 14) -> go.Figure:
    """Small matrices side by side with their values written in (signed colours: alexnet_viz.figures.colours).

    Panels whose side is `side` (default: the first panel's; 0: none) are the input: drawn with their
    `padding` and outlined by `window` (rows, cols); `cell` outlines one value in panel
    `cell_panel`. The numbers keep a fixed `font` size, so pages give each panel room (one
    figure per panel on a phone) rather than letting plotly shrink the text to unreadable.
    """
    side = arrays[0].shape[0] if side is None else side
    widths = [a.shape[1] + (2 * padding if a.shape[0] == side else 0) for a in arrays]
    fig = make_subplots(rows=1, cols=len(arrays), subplot_titles=titles, horizontal_spacing=0.025,
                        column_widths=[w / sum(widths) for w in widths])
    for n, a in enumerate(arrays, start=1):
        shown = np.pad(a, padding) if padding and a.shape[0] == side else a
        off = padding if padding and a.shape[0] == side else 0
        coords = np.arange(shown.shape[0]) - off
        fig.add_trace(go.Heatmap(z=shown.astype(np.float32), x=coords, y=coords, text=np.vectorize(_fmt)(shown),
                                 texttemplate="%{text}", textfont=dict(size=font), colorscale=plotly_scale(DIVERGING),
                                 zmid=0, showscale=False,
                                 hovertemplate="row %{y}, col %{x}: %{z:.3g}<extra></extra>", xgap=1, ygap=1),
                      row=1, col=n)
        fig.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False, zeroline=False, row=1, col=n,
                         scaleanchor=f"x{n if n > 1 else ''}")
        fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1, col=n)
        if window is not None and a.shape[0] == side:
            (r0, r1), (c0, c1) = window
            fig.add_shape(type="rect", x0=c0 - 0.5, x1=c1 - 0.5, y0=r0 - 0.5, y1=r1 - 0.5, row=1, col=n,
                          line=dict(color="#111", width=3))
        if cell is not None and cell_panel == n - 1:
            fig.add_shape(type="rect", x0=cell[1] - 0.5, x1=cell[1] + 0.5, y0=cell[0] - 0.5, y1=cell[0] + 0.5,
                          row=1, col=n, line=dict(color="#111", width=3))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=30, b=5))
    return fig


def _fmt(v: float) -> str:
    return f"{v:g}" if float(v).is_integer() else f"{v:.2f}"


def vector_bars(values: dict[str, np.ndarray], height: int = 280) -> go.Figure:
    """Small vectors (e.g. input, ReLU, softmax) as grouped bars with their values on them."""
    fig = go.Figure()
    for name, v in values.items():
        fig.add_trace(go.Bar(x=[f"v{i + 1}" for i in range(v.size)], y=v.astype(np.float64), name=name,
                             text=[_fmt(x) for x in v], textposition="outside"))
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=1.1))
    return fig


def dense_figure(x: np.ndarray, hidden: np.ndarray, output: np.ndarray, w1: np.ndarray, w2: np.ndarray,
                 height: int = 320) -> go.Figure:
    """A small fully connected network: neurons with their values, edges coloured by weight sign."""
    columns = [x, hidden, output]
    pos = [[(c, (len(v) - 1) / 2 - i) for i in range(len(v))] for c, v in enumerate(columns)]
    fig = go.Figure()
    for c, w in ((0, w1), (1, w2)):
        for j, (x1, y1) in enumerate(pos[c + 1]):
            for i, (x0, y0) in enumerate(pos[c]):
                fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="text",
                                         text=f"weight {w[j, i]:g}", showlegend=False,
                                         line=dict(width=1 + abs(float(w[j, i])), color=sign_colour(float(w[j, i])))))
    labels = ["x", "h", "y"]
    for c, values in enumerate(columns):
        fig.add_trace(go.Scatter(x=[p[0] for p in pos[c]], y=[p[1] for p in pos[c]], mode="markers+text",
                                 marker=dict(size=38, color="#f2f2f2", line=dict(color="#333", width=1.5)),
                                 text=[f"{labels[c]}{i + 1}={_fmt(v)}" for i, v in enumerate(values)],
                                 textposition="middle center", textfont=dict(size=11), hoverinfo="skip",
                                 showlegend=False))
    fig.update_xaxes(visible=False, range=[-0.4, 2.4])
    fig.update_yaxes(visible=False)
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white")
    return fig
