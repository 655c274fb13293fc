"""One colour language: every view that draws a sign uses the same hues, defined in alexnet_viz.figures.colours."""
from __future__ import annotations

import numpy as np

from alexnet_viz.figures import activations as pf
from alexnet_viz.figures import colours, mosaic
from alexnet_viz.figures.architecture import dense_figure, value_grids

RED, BLUE = colours.hex_colour(colours.POSITIVE), colours.hex_colour(colours.NEGATIVE)


def _scale_end(scale, at: float) -> str:
    return dict((t, c) for t, c in scale)[at]


def test_the_pictures_and_the_charts_share_one_diverging_map():
    lut = mosaic.colormap(np.array([0.0, 0.5, 1.0]), colours.DIVERGING)
    scale = colours.plotly_scale(colours.DIVERGING)
    assert [colours.hex_colour((int(r), int(g), int(b))) for r, g, b in lut[[0, 2]]] == [_scale_end(scale, t)
                                                                                         for t in (0, 1)]
    assert np.abs(lut[1].astype(int) - np.array(colours.ZERO)).max() <= 2  # zero is white
    assert lut[0, 2] > lut[0, 0] and lut[2, 0] > lut[2, 2]  # low (negative) is blue, high (positive) red
    assert "red = positive" in colours.SIGN_LEGEND and "blue = negative" in colours.SIGN_LEGEND


def test_signed_views_use_it():
    heat = pf.channel_heatmap(np.array([[-1.0, 2.0]]), diverging=True).data[0]
    assert [list(c) for c in heat.colorscale] == colours.plotly_scale(colours.DIVERGING) and heat.zmid == 0
    grid = value_grids([np.array([[-1.0, 1.0]])], ["x"]).data[0]
    assert [list(c) for c in grid.colorscale] == colours.plotly_scale(colours.DIVERGING) and grid.zmid == 0
    edges = dense_figure(np.ones(1), np.ones(1), np.ones(1), np.array([[2.0]]), np.array([[-3.0]])).data
    assert [t.line.color for t in edges[:2]] == [RED, BLUE]  # positive weight red, negative blue
    tiles = mosaic.kernel_slice(np.array([[[[-1.0, 1.0]]]], dtype=np.float32), 0, scale=1, gap=0).image
    assert tiles[0, 0, 2] > tiles[0, 0, 0] and tiles[0, 1, 0] > tiles[0, 1, 2]


def test_kernel_heatmap_has_one_symmetric_colour_bar():
    fig = pf.kernel_heatmap({"R": np.array([[1.0, -2.0]]), "G": np.zeros((1, 2)), "B": np.ones((1, 2))})
    assert len(fig.data) == 3 and [t.showscale for t in fig.data] == [True, False, False]
    assert all(t.zmin == -2.0 and t.zmax == 2.0 for t in fig.data)
    assert fig.data[0].colorbar.title.text == "weight"


def test_css_gradient_runs_low_to_high():
    css = colours.css_gradient(colours.DIVERGING)
    assert css.startswith("linear-gradient(to right, #") and css.index("#053061") < css.index(RED)
