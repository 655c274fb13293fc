"""The image pages' plotly figures and table data."""
from __future__ import annotations

import numpy as np
import pytest

from alexnet_viz.figures import activations as pf


def test_channel_heatmap_keeps_float32_values_and_hover():
    z = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    fig = pf.channel_heatmap(z, title="C1 #0", diverging=True)
    trace = fig.data[0]
    assert np.asarray(trace.z).dtype == np.float32 and np.array_equal(np.asarray(trace.z), z)
    assert "%{z" in trace.hovertemplate
    assert trace.zmin == -6.0 and trace.zmax == 6.0  # symmetric around zero
    with pytest.raises(ValueError):
        pf.channel_heatmap(np.zeros(3))


def test_top_k_bars_order_and_percentages():
    fig = pf.top_k_bars(["cat", "dog"], [0.75, 0.25])
    bar = fig.data[0]
    assert list(bar.y) == ["cat", "dog"]
    assert np.allclose(bar.x, [75.0, 25.0])
    assert list(bar.text) == ["75.0%", "25.0%"]
    assert fig.layout.xaxis.range == (0, 93.75)  # a little beyond the top bar
    assert pf.top_k_bars(["a"], [0.001]).layout.xaxis.range == (0, 1.0)  # tiny bars stay visible
    with pytest.raises(ValueError):
        pf.top_k_bars(["a"], [0.1, 0.2])


def test_histogram_counts_every_value():
    v = np.random.default_rng(0).normal(size=1000).astype(np.float32)
    counts, edges = pf.histogram(v, bins=20)
    assert counts.sum() == 1000 and len(edges) == 21
    fig = pf.weight_histograms({"C1": (counts, edges), "C3": pf.histogram(v * 2, bins=10)}, cols=2)
    assert len(fig.data) == 2 and np.asarray(fig.data[1].y).sum() == 1000
    assert fig.layout.annotations[0].text == "C1 · 1.0k weights"  # short: two columns fit a phone
    assert pf.weight_histograms({"F9": (np.array([37_748_736]), np.array([0.0, 1.0]))}).layout.annotations[0].text \
        == "F9 · 37.7M weights"
    with pytest.raises(ValueError):
        pf.histogram(np.array([]))


def test_channel_stats():
    maps = np.zeros((2, 2, 2), dtype=np.float32)
    maps[1] = [[1.0, 3.0], [0.0, 0.0]]
    stats = pf.channel_stats(maps)
    assert stats["channel"].tolist() == [0, 1]
    assert stats["mean"].tolist() == [0.0, 1.0]
    assert stats["max"].tolist() == [0.0, 3.0]
    assert stats["zeros"].tolist() == [1.0, 0.5]
