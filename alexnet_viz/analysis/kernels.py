"""One unit's weights as a reader can take them in: the input slices it weighs most, and which inputs they read.

C1's kernels are small colour pictures, but a deeper kernel is hundreds of k×k slices, one per
input channel: too many to draw. The unit page shows the few with the largest L2 norm, named by
the input channel of the layer below each one reads. With groups=2 (the paper's two GPUs) a
kernel sees only its own group's share of the inputs, so its slice i is input channel
`first + i`. A fully connected unit that reads maps (F9 reads S8 flattened) is laid out as those maps.
Pure numpy on arrays the caller took out of the model (alexnet_viz.core.arrays).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import SpecError


def input_channels(spec: Spec, layer: str, channel: int) -> range:
    """The input channels output `channel` of `layer` reads: all of them, or its group's share.

    A grouped convolution splits its outputs and its inputs into `groups` equal blocks in order
    and block g of the outputs reads block g of the inputs (torch.nn.Conv2d's `groups`).
    """
    row = ledger(spec).row(layer)
    groups = spec.layer(layer).groups
    outs, ins = row.out_shape[0], row.in_shape[0]
    if not 0 <= channel < outs:
        raise SpecError(f"Channel {channel} does not exist: {layer} has channels 0–{outs - 1}.")
    per = ins // groups
    group = channel // (outs // groups)
    return range(group * per, (group + 1) * per)


@dataclass(frozen=True)
class Slices:
    """A kernel's strongest input slices, strongest first."""

    values: np.ndarray  # (n, k, k)
    inputs: tuple[int, ...]  # the input channel each slice reads, numbered as in the layer below
    norms: tuple[float, ...]  # each slice's L2 norm


def strongest_slices(kernel: np.ndarray, count: int, first: int = 0) -> Slices:
    """The `count` slices of a (C, k, k) kernel with the largest L2 norm; equal norms keep channel order.

    `first` is the input channel its slice 0 reads (input_channels(...).start).
    """
    w = np.asarray(kernel)
    if w.ndim != 3:
        raise SpecError(f"A kernel has shape (inputs, k, k), not {w.shape}.")
    if count < 1:
        raise SpecError(f"Show at least one slice, not {count}.")
    norms = np.linalg.norm(w.reshape(w.shape[0], -1), axis=1)
    top = np.argsort(-norms, kind="stable")[:count]
    return Slices(values=w[top], inputs=tuple(int(i) + first for i in top), norms=tuple(float(norms[i]) for i in top))


def fc_unit_maps(spec: Spec, layer: str, weights: np.ndarray) -> np.ndarray | None:
    """A fully connected unit's weights (one row of its layer's) laid out as the (C, H, W) maps it reads,
    or None when the layer reads a plain vector (F10, F11).

    torch.flatten of (C, H, W) maps is the layer's input, so its weights reshape back the same way.
    """
    book = ledger(spec)
    maps = [r.out_shape for r in book.rows if r.kind != "fc"][-1]
    if book.row(layer).in_shape[0] != int(np.prod(maps)):
        return None
    return np.asarray(weights).reshape(maps)


__all__ = ["Slices", "fc_unit_maps", "input_channels", "strongest_slices"]
