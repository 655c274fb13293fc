"""alexnet_viz.analysis.kernels: a unit's strongest input slices, the inputs they read, an F9 unit as maps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from alexnet_viz.analysis.kernels import fc_unit_maps, input_channels, strongest_slices
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import PAPER, get_spec
from alexnet_viz.errors import SpecError


def test_the_paper_grouped_layers_read_their_own_gpus_half() -> None:
    # Sec. 3.5: "the kernels of the third convolutional layer are connected to all kernel maps in the second
    # layer"; C3 (the paper's conv2), C6 and C7 only to those on their own GPU.
    assert input_channels(PAPER, "C3", 0) == range(0, 48)
    assert input_channels(PAPER, "C3", 127) == range(0, 48)
    assert input_channels(PAPER, "C3", 128) == range(48, 96)
    assert input_channels(PAPER, "C7", 255) == range(192, 384)
    assert input_channels(PAPER, "C5", 383) == range(0, 256)  # groups=1: every input
    assert input_channels(get_spec("article"), "C3", 200) == range(0, 96)
    with pytest.raises(SpecError, match="0–255"):
        input_channels(PAPER, "C3", 256)


@pytest.mark.parametrize("layer,channel", [("C3", 0), ("C3", 200), ("C6", 191), ("C6", 192), ("C7", 130)])
def test_input_channels_are_the_ones_the_real_convolution_reads(layer: str, channel: int) -> None:
    """The gradient of one output channel reaches exactly the input channels the helper names."""
    torch.manual_seed(0)
    conv = build_model(PAPER, seed=0).layer(layer)
    ins = ledger(PAPER).row(layer).in_shape[0]
    x = torch.randn(1, ins, 7, 7, requires_grad=True)
    conv(x)[0, channel].sum().backward()
    assert x.grad is not None
    reached = [c for c in range(ins) if x.grad[0, c].abs().sum() > 0]
    assert reached == list(input_channels(PAPER, layer, channel))


def test_strongest_slices_by_l2_norm_ties_in_channel_order_numbered_from_first() -> None:
    kernel = np.zeros((5, 2, 2), dtype=np.float32)
    kernel[1] = 3.0  # norm 6
    kernel[3] = -3.0  # norm 6: a tie with channel 1, and the sign does not matter
    kernel[4, 0, 0] = 5.0  # norm 5
    top = strongest_slices(kernel, 3, first=48)
    assert top.inputs == (49, 51, 52)
    assert top.norms == (6.0, 6.0, 5.0)
    assert np.array_equal(top.values, kernel[[1, 3, 4]])
    assert strongest_slices(kernel, 10).inputs == (1, 3, 4, 0, 2)  # fewer slices than asked: all of them
    with pytest.raises(SpecError):
        strongest_slices(kernel[0], 2)


def test_an_f9_unit_reads_the_maps_of_s8_in_torch_flatten_order() -> None:
    spec = get_spec("article")
    maps = ledger(spec).row("S8").out_shape
    n = int(np.prod(maps))
    laid = fc_unit_maps(spec, "F9", np.arange(n, dtype=np.float32))
    assert laid is not None and laid.shape == maps
    flat = torch.flatten(torch.arange(n, dtype=torch.float32).reshape(1, *maps), 1)[0]
    c, h, w = 5, 2, 3
    assert laid[c, h, w] == flat[(c * maps[1] + h) * maps[2] + w]
    assert fc_unit_maps(spec, "F10", np.zeros(4096)) is None  # a vector in: nothing to lay out
