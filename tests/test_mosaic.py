"""Grids, kernels, overlays and receptive fields drawn by alexnet_viz.figures.mosaic."""
from __future__ import annotations

import functools
import io

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_viz.core.bookkeeping import ledger, receptive_field, split_groups
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import ARTICLE, TORCHVISION, VARIANTS
from alexnet_viz.figures import mosaic


def test_colormap_endpoints_and_clipping():
    out = mosaic.colormap(np.array([-1.0, 0.0, 1.0, 2.0, np.nan]), "gray")
    assert out.dtype == np.uint8 and out.shape == (5, 3)
    assert out[0].tolist() == out[1].tolist() == out[4].tolist() == [0, 0, 0]
    assert out[2].tolist() == out[3].tolist() == [255, 255, 255]
    with pytest.raises(ValueError):
        mosaic.colormap(np.zeros(2), "jet")


def test_normalise_per_map_and_per_layer():
    maps = np.stack([np.full((2, 2), 1.0), np.array([[0.0, 2.0], [4.0, 8.0]])]).astype(np.float32)
    per_map = mosaic.normalise(maps, "map")
    assert per_map[0].max() == 0.0  # a constant map has no range: all zero, not NaN
    assert per_map[1].min() == 0.0 and per_map[1].max() == 1.0
    per_layer = mosaic.normalise(maps, "layer")
    assert np.allclose(per_layer[0], 1 / 8) and per_layer[1, 1, 1] == 1.0
    signed = mosaic.normalise(np.array([[[-2.0, 0.0, 1.0]]]), "layer", symmetric=True)
    assert np.allclose(signed, [[[0.0, 0.5, 0.75]]])


def test_channel_order_sorts_strongest_first():
    maps = np.zeros((3, 2, 2), dtype=np.float32)
    maps[0, 0, 0] = 10.0  # highest max, lowest mean of the non-zero ones
    maps[2] = 3.0  # highest mean
    assert mosaic.channel_order(maps, "none").tolist() == [0, 1, 2]
    assert mosaic.channel_order(maps, "max").tolist() == [0, 2, 1]
    assert mosaic.channel_order(maps, "mean").tolist() == [2, 0, 1]


def test_feature_grid_places_every_channel_with_separators():
    rng = np.random.default_rng(0)
    maps = rng.random((10, 5, 5), dtype=np.float32)
    maps[7] += 5.0  # strongest channel: first when sorted
    grid = mosaic.feature_grid(maps, sort="mean", scale=2, cmap="gray", mode="layer")
    assert grid.image.dtype == np.uint8 and grid.image.ndim == 3
    assert (grid.rows, grid.cols) == (3, 4)
    assert grid.image.shape == (3 * 10 + 2, 4 * 10 + 3, 3)
    assert grid.order[0] == 7
    x0, y0, x1, y1 = grid.tile_box(0)
    tile = grid.image[y0:y1, x0:x1, 0]
    assert tile.min() > 200  # channel 7 holds the layer's top values, so it is bright
    assert (grid.image[:, 10, :] == 255).all()  # separator column after the first tile
    assert sorted(grid.order.tolist()) == list(range(10))


def test_feature_grid_rejects_wrong_shape():
    with pytest.raises(ValueError):
        mosaic.feature_grid(np.zeros((5, 5), dtype=np.float32))


def test_kernel_tiles_colour_and_slice():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 3, 3, 3)).astype(np.float32)
    tiles = mosaic.kernel_tiles(w, scale=2)
    assert tiles.image.shape[2] == 3 and tiles.tile_h == 6
    x0, y0, x1, y1 = tiles.tile_box(0)
    first = tiles.image[y0:y1:2, x0:x1:2].astype(np.int32)  # back to 3x3 RGB
    expected = mosaic.normalise(w[:1].reshape(1, -1), "map").reshape(1, 3, 3, 3)[0].transpose(1, 2, 0) * 255
    assert np.abs(first - expected).max() <= 1
    sl = mosaic.kernel_slice(w, 2, scale=1)
    assert sl.image.shape[2] == 3 and len(sl.order) == 6
    with pytest.raises(ValueError):
        mosaic.kernel_slice(w, 3)
    with pytest.raises(ValueError):
        mosaic.kernel_tiles(np.zeros((4, 2, 3, 3), dtype=np.float32))


def test_split_groups():
    assert split_groups(96, 2) == [range(0, 48), range(48, 96)]
    with pytest.raises(ValueError):
        split_groups(5, 2)


def test_overlay_keeps_shape_and_follows_heat():
    img = np.full((40, 40, 3), 128, dtype=np.uint8)
    heat = np.zeros((4, 4), dtype=np.float32)
    heat[0, 0] = 1.0
    out = mosaic.overlay(img, heat, alpha=0.8, cmap="gray")
    assert out.shape == img.shape and out.dtype == np.uint8
    assert out[0, 0, 0] > 200 and out[39, 39, 0] < 128  # hot corner brighter, cold corner darker
    with pytest.raises(ValueError):
        mosaic.overlay(img, heat, alpha=1.5)


def _interval(book, layer: str, i: int) -> tuple[int, int]:
    """Input rows that output row i of `layer` reads, by walking the layers backwards."""
    names = [r.name for r in book.rows]
    lo = hi = i
    for r in reversed(book.rows[: names.index(layer) + 1]):
        lo, hi = lo * r.stride - r.padding, hi * r.stride - r.padding + r.kernel - 1
    return lo, hi


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_receptive_field_matches_backward_walk(variant):
    book = ledger(variant)
    for row in book.rows:
        if row.kind == "fc" or row.adaptive is not None:
            continue
        n = row.out_shape[1]
        for i, j in [(0, 0), (n // 2, n - 1), (n - 1, 1 % n)]:
            box = receptive_field(VARIANTS[variant], row.name, i, j)
            assert (box.full[1], box.full[3]) == _interval(book, row.name, i)
            assert (box.full[0], box.full[2]) == _interval(book, row.name, j)
            assert box.full[2] - box.full[0] + 1 == row.rf
            size = book.input_size
            assert 0 <= box.clipped[0] <= box.clipped[2] < size and 0 <= box.clipped[1] <= box.clipped[3] < size


def test_receptive_field_visible_fraction():
    corner = receptive_field(ARTICLE, "C1", 0, 0)  # padding 2: window -2..8, image part 0..8
    assert corner.full == (-2, -2, 8, 8) and corner.clipped == (0, 0, 8, 8)
    assert corner.visible_fraction == pytest.approx(81 / 121)
    assert receptive_field(ARTICLE, "C1", 20, 20).visible_fraction == 1.0


def test_receptive_field_identity_adaptive_pool_and_errors():
    box = receptive_field(TORCHVISION, "S8", 5, 5)  # 6x6 -> adaptive 6x6: the identity
    assert box.full[2] - box.full[0] + 1 == ledger("torchvision").row("S8").rf
    with pytest.raises(ValueError):
        receptive_field(ARTICLE, "F9", 0, 0)
    with pytest.raises(ValueError):
        receptive_field(ARTICLE, "C1", 55, 0)


@functools.cache
def _model(variant):
    return build_model(VARIANTS[variant], seed=0)


@pytest.mark.parametrize("variant,layer", [("article", "C1"), ("article", "C3"), ("paper", "S4"),
                                           ("torchvision", "C5")])
def test_receptive_field_contains_the_gradient(variant, layer):
    """Autograd on the real network: the unit's input gradient lives inside the box the ledger places."""
    from alexnet_viz.analysis.probe import capture

    model = _model(variant)
    size = model.spec.input_size
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0), requires_grad=True)
    outputs = capture(model, x, [layer], grad=True)
    out = outputs.get(f"{layer}.pre", outputs[layer])  # a conv's pre-ReLU map; a pool has only its output
    i, j = 3, 5
    out[0, 0, i, j].backward()
    support = x.grad[0].abs().sum(0) > 0
    ys, xs = np.nonzero(support.numpy())
    box = receptive_field(VARIANTS[variant], layer, i, j)
    x0, y0, x1, y1 = box.clipped
    assert len(ys) > 0
    assert ys.min() >= y0 and ys.max() <= y1 and xs.min() >= x0 and xs.max() <= x1
    if layer == "C1":  # one conv: the gradient is the kernel itself, filling the whole window
        assert (ys.min(), ys.max(), xs.min(), xs.max()) == (y0, y1, x0, x1)


def test_draw_box_and_png_bytes():
    img = np.zeros((64, 64, 3), dtype=np.uint8)
    box = receptive_field(ARTICLE, "C1", 2, 2)
    drawn = mosaic.draw_box(img, box, colour=(255, 0, 0), width=1)
    x0, y0, x1, y1 = box.clipped
    assert drawn[y0, x0 + 1].tolist() == [255, 0, 0] and img.max() == 0  # the input is not changed
    png = mosaic.png_bytes(drawn)
    back = np.asarray(Image.open(io.BytesIO(png)))
    assert np.array_equal(back, drawn)


def test_indexed_png_decodes_to_the_rgb_grid_and_is_smaller():
    rng = np.random.default_rng(2)
    maps = rng.random((64, 13, 13), dtype=np.float32)
    grid = mosaic.feature_grid(maps, cmap="viridis")
    assert grid.indices is not None and grid.palette.shape == (256, 3)
    png = grid.png()
    decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert np.array_equal(decoded, grid.image)
    assert len(png) < len(mosaic.png_bytes(grid.image))
    assert (grid.indices[:, grid.tile_w] == 255).all()  # the separator has its own palette entry
    plain = mosaic.kernel_tiles(rng.normal(size=(4, 3, 5, 5)).astype(np.float32))
    assert plain.indices is None
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(plain.png())).convert("RGB")), plain.image)


def test_kernel_halves_share_the_layer_range():
    w = np.zeros((4, 3, 2, 2), dtype=np.float32)
    w[0] = 1.0  # the layer's largest weight, in the first half
    w[3] = 0.5
    second = mosaic.kernel_tiles(w, mode="layer", scale=1, kernels=range(2, 4))
    assert len(second.order) == 2
    x0, y0, _, _ = second.tile_box(1)
    assert second.image[y0, x0].tolist() == [191, 191, 191]  # 0.5 on a +-1 range, not stretched to white
    sl = mosaic.kernel_slice(w, 0, scale=1, gap=0, kernels=range(2, 4))
    assert sl.image.shape[:2] == (2, 4)


def test_nearly_flat_maps_are_those_with_a_small_share_of_the_layers_range():
    from alexnet_viz.figures.mosaic import nearly_flat, range_shares

    maps = np.zeros((3, 4, 4), dtype=np.float32)
    maps[0] = np.linspace(0.0, 2.0, 16).reshape(4, 4)  # the layer's range: 0 to 2
    maps[1] = np.linspace(1.40, 1.46, 16).reshape(4, 4)  # 3 % of it: patterned only on its own range
    assert range_shares(maps) == pytest.approx([1.0, 0.03, 0.0], abs=1e-6)
    assert nearly_flat(maps) == (1, 2)  # the all-zero map too
    assert nearly_flat(np.ones((2, 3, 3))) == (0, 1)  # a constant layer: nothing varies
