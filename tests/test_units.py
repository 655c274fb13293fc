"""alexnet_viz.analysis.units' helpers for the ideas page: the picture under a unit's window, the tolerance."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

from alexnet_viz.analysis.units import FLOAT32_TOL, TF32_TOL, conv_unit, forward_tolerance, peak, window_pixels


@pytest.mark.parametrize("row,col", [(0, 0), (0, 6), (6, 6), (3, 2)])
def test_window_pixels_are_the_conv_units_own_patch_black_in_the_padding(row: int, col: int) -> None:
    """The picture drawn beside a C1-like unit is what its sum of products reads (padding 2, stride 4: 7×7 units)."""
    view = np.random.default_rng(0).integers(1, 256, size=(31, 31, 3), dtype=np.uint8)  # no 0: padding shows
    w, b = np.ones((1, 3, 11, 11)), np.zeros(1)
    unit = conv_unit(view.transpose(2, 0, 1), w, b, stride=4, padding=2, groups=1, channel=0, row=row, col=col,
                     forward=0.0)
    pixels = window_pixels(view, unit.rows, unit.cols)
    assert pixels.shape == (11, 11, 3) and pixels.dtype == np.uint8
    assert np.array_equal(pixels.transpose(2, 0, 1), unit.patch)
    assert (pixels == 0).any() == (min(unit.rows[0], unit.cols[0]) < 0 or max(unit.rows[1], unit.cols[1]) > 31)


def test_window_pixels_inside_the_image_are_a_plain_crop() -> None:
    image = np.arange(100).reshape(10, 10)
    assert np.array_equal(window_pixels(image, (2, 5), (3, 7)), image[2:5, 3:7])
    assert window_pixels(image, (-1, 1), (8, 11)).tolist() == [[0, 0, 0], [8, 9, 0]]


@contextmanager
def tf32(conv: bool, matmul: bool) -> Iterator[None]:
    """PyTorch's two TF32 switches set for the test, then put back (settable without a GPU)."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = conv, matmul
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def test_the_tolerance_follows_the_device_and_pytorchs_tf32_switches() -> None:
    assert forward_tolerance("cpu", conv=True) == forward_tolerance("mps", conv=False) == FLOAT32_TOL
    with tf32(conv=True, matmul=False):
        assert forward_tolerance("cpu", conv=True) == FLOAT32_TOL
        assert forward_tolerance("cuda", conv=True) == TF32_TOL
        assert forward_tolerance("cuda:0", conv=False) == FLOAT32_TOL
    with tf32(conv=False, matmul=True):
        assert forward_tolerance("cuda", conv=True) == FLOAT32_TOL
        assert forward_tolerance("cuda", conv=False) == TF32_TOL


def test_peak_is_the_first_largest_value_in_row_major_order() -> None:
    values = np.zeros((3, 4))
    values[2, 1] = values[1, 3] = 5.0
    assert peak(values) == (1, 3) and all(isinstance(i, int) for i in peak(values))
    assert peak(np.array([1.0, 9.0, 9.0])) == (1,)
