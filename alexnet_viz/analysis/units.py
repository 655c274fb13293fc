"""One unit of the real network, recomputed by hand from its real inputs and weights.

The Operations page works on tiny made-up numbers; these functions take the actual input patch,
kernel and bias of one C1, S2 or F9 unit for the user's image and redo its arithmetic in float64,
so a page can put the result beside the value the forward pass produced and show they agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alexnet_viz.errors import SpecError

FLOAT32_TOL = 1e-5  # float32 forward vs float64 sum: a few ulps of the sum of |products|
TF32_TOL = 2e-3  # CUDA convolutions in TF32 round inputs to 10 mantissa bits (2^-11 relative each)


def forward_tolerance(device: str, *, conv: bool) -> float:
    """How closely the forward pass on `device` can match a float64 sum: float32 on the CPU; on CUDA, TF32 when
    PyTorch allows it for convolutions (its default) or for matrix products (fully connected layers)."""
    if not device.startswith("cuda"):
        return FLOAT32_TOL
    import torch

    tf32 = torch.backends.cudnn.allow_tf32 if conv else torch.backends.cuda.matmul.allow_tf32
    return TF32_TOL if tf32 else FLOAT32_TOL


def _tolerance(magnitude: float, rel_tol: float) -> float:
    return rel_tol * max(1.0, magnitude)


class _Checked:
    """A unit's value recomputed by hand beside what the forward pass gave: do they agree to float tolerance?"""

    value: float
    forward: float
    tolerance: float

    @property
    def difference(self) -> float:
        return abs(self.value - self.forward)

    @property
    def agrees(self) -> bool:
        return self.difference <= self.tolerance


@dataclass(frozen=True)
class ConvUnit(_Checked):
    """A conv unit: its input patch, kernel and bias, the sum of products, and the forward's value."""

    channel: int
    row: int
    col: int
    rows: tuple[int, int]  # [start, stop) in the unpadded input (may reach into the padding)
    cols: tuple[int, int]
    patch: np.ndarray  # (C/groups, K, K), zeros where it covers padding
    kernel: np.ndarray  # (C/groups, K, K)
    products: np.ndarray  # patch * kernel
    per_channel: np.ndarray  # sum of the products on each input channel
    bias: float
    value: float  # Σ products + bias, in float64
    forward: float  # what the network's forward pass gave (before the ReLU)
    tolerance: float


def conv_unit(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, stride: int, padding: int, groups: int,
              channel: int, row: int, col: int, forward: float, rel_tol: float = FLOAT32_TOL) -> ConvUnit:
    """Recompute output (channel, row, col) of a conv layer from its input x (C, H, W) and weight (O, C/g, K, K)."""
    out_ch, per_group, k, _ = weight.shape
    if not 0 <= channel < out_ch:
        raise SpecError(f"Channel {channel} does not exist: this layer has channels 0–{out_ch - 1}.")
    side = (x.shape[1] + 2 * padding - k) // stride + 1
    if not (0 <= row < side and 0 <= col < side):
        raise SpecError(f"Unit ({row}, {col}) is outside the {side}×{side} map; use 0–{side - 1}.")
    first = (channel // (out_ch // groups)) * per_group  # the input channels this kernel's group sees
    xp = np.pad(np.asarray(x, dtype=np.float64)[first:first + per_group], ((0, 0), (padding, padding),
                                                                          (padding, padding)))
    patch = xp[:, row * stride:row * stride + k, col * stride:col * stride + k]
    kernel = np.asarray(weight[channel], dtype=np.float64)
    products = patch * kernel
    b = float(bias[channel])
    value = float(products.sum()) + b
    r0, c0 = row * stride - padding, col * stride - padding
    return ConvUnit(channel, row, col, (r0, r0 + k), (c0, c0 + k), patch, kernel, products,
                    products.sum(axis=(1, 2)), b, value, float(forward),
                    _tolerance(float(np.abs(products).sum()) + abs(b), rel_tol))


def peak(values: np.ndarray) -> tuple[int, ...]:
    """Where an array holds its largest value (the first in row-major order on a tie): a channel's strongest unit."""
    a = np.asarray(values)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(a)), a.shape))


def window_pixels(image: np.ndarray, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """The part of an (H, W, ...) image under a unit's window [rows) × [cols), zeros (black) where the window
    reaches into the padding around the image (ConvUnit.rows and .cols may start below 0 or end past the edge)."""
    img = np.asarray(image)
    pad = max(0, -rows[0], -cols[0], rows[1] - img.shape[0], cols[1] - img.shape[1])
    padded = np.pad(img, ((pad, pad), (pad, pad)) + ((0, 0),) * (img.ndim - 2))
    return padded[rows[0] + pad:rows[1] + pad, cols[0] + pad:cols[1] + pad]


@dataclass(frozen=True)
class PoolUnit:
    """A max-pool unit: the real window it reads and where its maximum sits."""

    channel: int
    row: int
    col: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    window: np.ndarray  # (K, K)
    value: float
    argmax: tuple[int, int]  # within the window
    forward: float

    @property
    def agrees(self) -> bool:
        return self.value == self.forward  # a maximum is one of the inputs: exact, no rounding


def pool_unit(maps: np.ndarray, *, kernel: int, stride: int, channel: int, row: int, col: int,
              forward: float) -> PoolUnit:
    """Output (channel, row, col) of a max pool over maps (C, H, W): the largest value of its window."""
    if not 0 <= channel < maps.shape[0]:
        raise SpecError(f"Channel {channel} does not exist: this layer has channels 0–{maps.shape[0] - 1}.")
    side = (maps.shape[1] - kernel) // stride + 1
    if not (0 <= row < side and 0 <= col < side):
        raise SpecError(f"Unit ({row}, {col}) is outside the {side}×{side} map; use 0–{side - 1}.")
    r0, c0 = row * stride, col * stride
    window = np.asarray(maps[channel, r0:r0 + kernel, c0:c0 + kernel])
    i, j = peak(window)
    return PoolUnit(channel, row, col, (r0, r0 + kernel), (c0, c0 + kernel), window, float(window.max()),
                    (i, j), float(forward))


@dataclass(frozen=True)
class DenseUnit(_Checked):
    """A fully connected unit: a dot product of thousands of numbers, summarised."""

    unit: int
    inputs: int
    zeros: int  # inputs that are exactly 0 (silenced by the ReLU below): their products vanish
    positive: float  # sum of the positive products
    negative: float  # sum of the negative products
    bias: float
    value: float
    forward: float
    top: tuple[tuple[int, float, float, float], ...]  # (input index, input, weight, product), largest |product|
    tolerance: float


def dense_unit(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, unit: int, forward: float,
               top: int = 10, rel_tol: float = FLOAT32_TOL) -> DenseUnit:
    """Output `unit` of a linear layer, W[unit] · x + b, from its flattened input x."""
    v = np.asarray(x, dtype=np.float64).ravel()
    if not 0 <= unit < weight.shape[0]:
        raise SpecError(f"Unit {unit} does not exist: this layer has units 0–{weight.shape[0] - 1}.")
    if weight.shape[1] != v.size:
        raise SpecError(f"The layer takes {weight.shape[1]} inputs, not {v.size}.")
    w = np.asarray(weight[unit], dtype=np.float64)
    products = w * v
    b = float(bias[unit])
    order = np.argsort(np.abs(products))[::-1][:top]
    return DenseUnit(unit=unit, inputs=int(v.size), zeros=int((v == 0).sum()),
                     positive=float(products[products > 0].sum()), negative=float(products[products < 0].sum()),
                     bias=b, value=float(products.sum()) + b, forward=float(forward),
                     top=tuple((int(i), float(v[i]), float(w[i]), float(products[i])) for i in order),
                     tolerance=_tolerance(float(np.abs(products).sum()) + abs(b), rel_tol))


def flat_position(index: int, shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Where flattened input `index` sits in a (C, H, W) map: torch.flatten's row-major order."""
    c, h, w = shape
    if not 0 <= index < c * h * w:
        raise SpecError(f"Index {index} is outside a map of {c * h * w} values.")
    ch, rest = divmod(index, h * w)
    return ch, rest // w, rest % w
