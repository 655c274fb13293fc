"""Plotly figures and table data for the image pages: pure functions of numpy arrays.

Arrays go to plotly as float32 so plotly >= 6 ships them as compact base64 instead of JSON
lists; histograms are counted here so a 38-million-weight layer never reaches the browser.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from alexnet_viz.figures.colours import DIVERGING, SEQUENTIAL, plotly_scale

_MARGIN = dict(l=10, r=10, t=40, b=10)


def channel_heatmap(values: np.ndarray, *, title: str = "", diverging: bool = False,
                    height: int = 420) -> go.Figure:
    """One (H, W) map, zoomed, with the exact value of every unit on hover (row 0 at the top)."""
    z = np.asarray(values, dtype=np.float32)
    if z.ndim != 2:
        raise ValueError(f"a channel map must be 2-D, not {z.shape}")
    if diverging:  # the app's sign colours, white at zero
        bound = float(np.abs(z).max()) or 1.0
        colour = dict(colorscale=plotly_scale(DIVERGING), zmin=-bound, zmax=bound, zmid=0.0)
    else:
        colour = dict(colorscale=plotly_scale(SEQUENTIAL))
    fig = go.Figure(go.Heatmap(z=z, hovertemplate="row %{y}, col %{x}<br>value %{z:.4g}<extra></extra>",
                               colorbar=dict(thickness=12, title=dict(text="value", side="right")), **colour))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showgrid=False)
    fig.update_xaxes(constrain="domain", showgrid=False)
    fig.update_layout(title=title or None, height=height, margin=dict(l=10, r=10, t=60 if title else 30, b=10))
    return fig


def top_k_bars(labels: Sequence[str], probs: Sequence[float], *, title: str = "Top-5",
               classes: int | None = None) -> go.Figure:
    """Horizontal bars of the top classes, best at the top, probabilities as percentages.

    With `classes`, chance (1 in `classes`: a guess that knows nothing) is drawn as a dotted line,
    so a bar can be read against it (an untrained network's bars sit near it)."""
    if len(labels) != len(probs) or not labels:
        raise ValueError("labels and probs must be non-empty and of the same length")
    p = np.asarray(probs, dtype=np.float32)
    fig = go.Figure(go.Bar(x=p * 100.0, y=list(labels), orientation="h",
                           text=[f"{v * 100:.1f}%" for v in p], textposition="auto",
                           hovertemplate="%{y}: %{x:.2f}%<extra></extra>", marker_color="#4C78A8"))
    fig.update_yaxes(autorange="reversed")
    # Up to the top bar and a little beyond, so small probabilities (random weights) stay visible.
    fig.update_xaxes(title="probability (%)", range=[0, min(100.0, max(1.0, float(p.max()) * 125.0))])
    fig.update_layout(title=title, height=80 + 44 * len(labels), margin=_MARGIN)
    if classes:
        chance = 100.0 / classes
        fig.add_vline(x=chance, line=dict(color="#b2182b", width=2, dash="dot"))
        fig.add_annotation(x=chance, y=1, yref="paper", yanchor="bottom", xanchor="left", showarrow=False,
                           text=f"chance: 1 in {classes:,} = {chance:.1f}%", font=dict(color="#b2182b"))
    return fig


def histogram(values: np.ndarray, bins: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Counts and bin edges of all values (counted here, so the browser gets `bins` numbers)."""
    v = np.asarray(values, dtype=np.float32).ravel()
    if v.size == 0:
        raise ValueError("cannot take the histogram of an empty array")
    counts, edges = np.histogram(v, bins=bins)
    return counts.astype(np.int64), edges.astype(np.float32)


def weight_histograms(hists: Mapping[str, tuple[np.ndarray, np.ndarray]], *, cols: int = 2,
                      height_per_row: int = 170) -> go.Figure:
    """One small histogram per layer (name -> (counts, edges)), each on its own x range.

    Two columns with short titles: four side by side made the titles run into each other on a phone.
    """
    from plotly.subplots import make_subplots

    names = list(hists)
    if not names:
        raise ValueError("no layers to plot")
    rows = -(-len(names) // cols)
    titles = [f"{name} · {_short(int(np.sum(hists[name][0])))}" for name in names]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.08,
                        vertical_spacing=0.6 / rows)
    for k, name in enumerate(names):
        counts, edges = hists[name]
        centres = ((edges[:-1] + edges[1:]) / 2).astype(np.float32)
        fig.add_trace(go.Bar(x=centres, y=np.asarray(counts, dtype=np.float32), width=float(edges[1] - edges[0]),
                             marker_color="#4C78A8", name=name, showlegend=False,
                             hovertemplate=f"{name}<br>weight %{{x:.3g}}<br>count %{{y:,}}<extra></extra>"),
                      row=k // cols + 1, col=k % cols + 1)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=height_per_row * rows + 40, margin=dict(l=10, r=10, t=40, b=10), bargap=0)
    return fig


def _short(n: int) -> str:
    """A weight count that fits a small title: 34,848 -> '34.8k weights', 37,748,736 -> '37.7M weights'."""
    for size, unit in ((1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f}{unit} weights"
    return f"{n} weights"


def channel_stats(maps: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel mean, max and share of exact zeros of a (C, H, W) output, as table columns."""
    x = np.asarray(maps, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"feature maps must have shape (C, H, W), not {x.shape}")
    flat = x.reshape(x.shape[0], -1)
    return {
        "channel": np.arange(x.shape[0]),
        "mean": flat.mean(axis=1),
        "max": flat.max(axis=1),
        "zeros": (flat == 0).mean(axis=1).astype(np.float32),
    }


def kernel_heatmap(planes: Mapping[str, np.ndarray], *, title: str = "", height: int = 300) -> go.Figure:
    """A kernel's k x k weight planes side by side, in the sign colours, with one symmetric colour bar."""
    from plotly.subplots import make_subplots

    if not planes:
        raise ValueError("no kernel planes to plot")
    z = {name: np.asarray(v, dtype=np.float32) for name, v in planes.items()}
    bound = max(float(np.abs(v).max()) for v in z.values()) or 1.0
    fig = make_subplots(rows=1, cols=len(z), subplot_titles=list(z), horizontal_spacing=0.06)
    for n, (name, v) in enumerate(z.items(), start=1):
        fig.add_trace(go.Heatmap(z=v, colorscale=plotly_scale(DIVERGING), zmin=-bound, zmax=bound, zmid=0.0,
                                 showscale=n == 1, colorbar=dict(thickness=12, title=dict(text="weight", side="right")),
                                 hovertemplate=f"{name}<br>row %{{y}}, col %{{x}}<br>weight %{{z:.4g}}<extra></extra>"),
                      row=1, col=n)
        # No tick labels (hover names row and column): side by side on a phone they ran into each other.
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{n if n > 1 else ''}", constrain="domain",
                         showgrid=False, showticklabels=False, row=1, col=n)
        fig.update_xaxes(constrain="domain", showgrid=False, showticklabels=False, row=1, col=n)
    fig.update_layout(title=title or None, height=height, margin=dict(l=10, r=10, t=60 if title else 30, b=10))
    return fig
