"""The roofline as pictures: where each layer sits in FLOPs per byte, and how close it runs to its roof.

Both horizontal axes are logarithmic: the layers span half a FLOP per byte (a fully connected
layer on one image) to a few hundred (a convolution), and on a log axis the bandwidth's roof is
a straight line. Layers keep the colours of the 3-D blocks (figures.boxes.COLORS); the batch is
told by the marker's shape.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from alexnet_viz.analysis.roofline import LayerWork, Machine, RooflineBatch
from alexnet_viz.figures.boxes import COLORS

SYMBOLS = ("circle", "diamond", "square", "triangle-up")


def _colour(kind: str) -> str:
    return COLORS.get(kind, COLORS["input"])


def _span(values: Sequence[float]) -> tuple[float, float]:
    """A log axis's range (powers of ten) around positive values."""
    low, high = min(values), max(values)
    return math.floor(math.log10(low)), math.ceil(math.log10(high)) + 0.01


def _ridge(fig: go.Figure, ridge: float) -> None:
    """The ridge as a dashed line, named at its foot inside the plot (clear of the legend on a phone)."""
    fig.add_vline(x=ridge, line=dict(color="#e45756", dash="dash"))
    fig.add_annotation(x=math.log10(ridge), y=0, yref="paper", xanchor="left", yanchor="bottom", xshift=4,
                       showarrow=False, text=f"ridge {ridge:,.1f}", font=dict(color="#e45756"))


def _legend() -> dict:
    return dict(orientation="h", y=1.0, yanchor="bottom", x=0)


def intensity_chart(works: Mapping[int, Sequence[LayerWork]], ridge: float | None = None,
                    height: int = 420) -> go.Figure:
    """Each layer's arithmetic intensity at each batch, one row per layer, the batches joined by a line;
    with a measured `ridge`, the line that splits memory-bound (left) from compute-bound (right)."""
    batches = list(works)
    first = works[batches[0]]
    names = [w.name for w in first]
    fig = go.Figure()
    for i, name in enumerate(names):  # grey joins: how far the batch moves each layer
        xs = [works[b][i].intensity for b in batches]
        fig.add_trace(go.Scatter(x=xs, y=[name] * len(xs), mode="lines", line=dict(color="#c8c8c8", width=2),
                                 hoverinfo="skip", showlegend=False))
    for n, batch in enumerate(batches):
        row = works[batch]
        fig.add_trace(go.Scatter(
            x=[w.intensity for w in row], y=names, mode="markers", name=f"batch {batch}",
            marker=dict(symbol=SYMBOLS[n % len(SYMBOLS)], size=12, color=[_colour(w.kind) for w in row],
                        line=dict(color="#333333", width=1)),
            customdata=[[w.flops, w.bytes] for w in row],
            hovertemplate=f"%{{y}}, batch {batch}: %{{x:,.1f}} FLOP per byte<br>"
                          "%{customdata[0]:,.0f} FLOPs, %{customdata[1]:,.0f} bytes<extra></extra>"))
    low, high = _span([w.intensity for b in batches for w in works[b]] + ([ridge] if ridge else []))
    if ridge is not None:
        fig.add_vrect(x0=10 ** low, x1=ridge, fillcolor="#f2f2f2", line_width=0, layer="below")
        _ridge(fig, ridge)
    fig.update_xaxes(type="log", range=[low, high], dtick=1,
                     title_text="arithmetic intensity (FLOP per byte, log scale)")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10), legend=_legend())
    return fig


def roofline_chart(machine: Machine, runs: Sequence[RooflineBatch], height: int = 460) -> go.Figure:
    """The roofline: the attainable GFLOP/s over intensity (the bandwidth's slope, then the flat peak), and
    each layer at each batch at the GFLOP/s it was measured at: the gap to the roof is what it falls short."""
    points = [(layer, run.batch) for run in runs for layer in run.layers]
    xs = [layer.intensity for layer, _ in points] + [machine.ridge]
    low, high = _span(xs)
    roof_x = [10 ** low, machine.ridge, 10 ** high]
    fig = go.Figure(go.Scatter(
        x=roof_x, y=[machine.attainable_gflops(x) for x in roof_x], mode="lines", name="roof",
        line=dict(color="#333333", width=3),
        hovertemplate="roof at %{x:,.1f} FLOP/byte: %{y:,.1f} GFLOP/s<extra></extra>"))
    for n, run in enumerate(runs):
        fig.add_trace(go.Scatter(
            x=[layer.intensity for layer in run.layers],
            y=[layer.flops / (layer.measured_ms * 1e6) for layer in run.layers],
            mode="markers", name=f"batch {run.batch}", text=[layer.name for layer in run.layers],
            marker=dict(symbol=SYMBOLS[n % len(SYMBOLS)], size=12, color=[_colour(layer.kind) for layer in run.layers],
                        line=dict(color="#333333", width=1)),
            customdata=[[layer.share, layer.measured_ms, layer.roofline_ms] for layer in run.layers],
            hovertemplate=f"%{{text}}, batch {run.batch}: %{{y:,.1f}} GFLOP/s at %{{x:,.1f}} FLOP/byte<br>"
                          "%{customdata[1]:,.3f} ms against a roof of %{customdata[2]:,.3f} ms: "
                          "%{customdata[0]:.0%}<extra></extra>"))
    _ridge(fig, machine.ridge)
    fig.update_xaxes(type="log", range=[low, high], dtick=1,
                     title_text="arithmetic intensity (FLOP per byte, log scale)")
    fig.update_yaxes(type="log", dtick=1, title_text="GFLOP/s (log scale)")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60, b=10), legend=_legend())
    return fig


__all__ = ["intensity_chart", "roofline_chart"]
