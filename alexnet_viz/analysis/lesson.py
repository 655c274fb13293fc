"""The lesson's numbers: one photo followed through the real network, each step small enough to write out.

The lesson page follows one C1 unit (the centre of the map, in the channel that responds most
there) from the input pixels to the pooling above it, and then the whole network to its top 5.
Each function takes real arrays (the input tensor, a layer's output, the ledger) and returns the
few numbers a step writes in, with what the forward pass gave where there is something to check.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from alexnet_viz.analysis.units import ConvUnit, PoolUnit, pool_unit
from alexnet_viz.core.bookkeeping import Box, Ledger, ledger, receptive_field
from alexnet_viz.core.spec import LRN, Spec
from alexnet_viz.errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.core.model import AlexNet

INPUT_TOL = 1e-6  # float32 normalisation against the same arithmetic in float64


@dataclass(frozen=True)
class Focus:
    """The C1 unit the lesson follows: (channel, row, col) of C1's output."""

    channel: int
    row: int
    col: int


def focus_unit(pre: np.ndarray) -> Focus:
    """The centre unit of C1's (C, H, W) map before the ReLU, in the channel with the largest value there.

    The centre sees the middle of the photo; the strongest channel there has a positive value, so
    the ReLU passes it and the pooling and normalisation steps have something to work on.
    """
    maps = np.asarray(pre)
    if maps.ndim != 3 or maps.shape[0] < 1:
        raise SpecError(f"C1's output must have shape (channels, height, width), not {maps.shape}.")
    row, col = maps.shape[1] // 2, maps.shape[2] // 2
    return Focus(int(np.argmax(maps[:, row, col])), row, col)


@dataclass(frozen=True)
class PixelIn:
    """One pixel of the network's view, from its 0-255 bytes to the numbers the network gets."""

    row: int
    col: int
    rgb: tuple[int, int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    normalised: tuple[float, float, float]  # (byte / 255 − mean) / std, in float64
    forward: tuple[float, float, float]  # the network's input tensor at that pixel

    @property
    def agrees(self) -> bool:
        return max(abs(a - b) for a, b in zip(self.normalised, self.forward)) <= INPUT_TOL


def pixel_in(view: np.ndarray, x: np.ndarray, row: int, col: int, mean: tuple[float, float, float],
             std: tuple[float, float, float]) -> PixelIn:
    """Pixel (row, col) of the (S, S, 3) uint8 view, normalised by hand, beside the (1, 3, S, S) input x."""
    side = view.shape[0]
    if not (0 <= row < side and 0 <= col < view.shape[1]):
        raise SpecError(f"Pixel ({row}, {col}) is outside the {side}×{view.shape[1]} picture.")
    r, g, b = (int(v) for v in view[row, col])
    n_r, n_g, n_b = ((v / 255.0 - m) / s for v, m, s in zip((r, g, b), mean, std))
    f_r, f_g, f_b = (float(v) for v in np.asarray(x).reshape(3, side, -1)[:, row, col])
    return PixelIn(row, col, (r, g, b), mean, std, (n_r, n_g, n_b), (f_r, f_g, f_b))


@dataclass(frozen=True)
class Product:
    """One of a convolution's products: an input value times the weight over it."""

    channel: int  # input channel (0, 1, 2 = R, G, B for C1)
    dy: int  # place in the kernel
    dx: int
    value: float
    weight: float
    product: float


def first_products(unit: ConvUnit, count: int = 3) -> tuple[Product, ...]:
    """The first `count` products of the unit's sum, in the order it runs: channel, row, column."""
    c, k, _ = unit.patch.shape
    out = []
    for n in range(min(count, unit.products.size)):
        ch, rest = divmod(n, k * k)
        dy, dx = divmod(rest, k)
        out.append(Product(ch, dy, dx, float(unit.patch[ch, dy, dx]), float(unit.kernel[ch, dy, dx]),
                           float(unit.products[ch, dy, dx])))
    return tuple(out)


@dataclass(frozen=True)
class ReluStep:
    """The ReLU on the followed unit, on its channel and on the whole layer."""

    value: float  # before
    after: float  # max(value, 0)
    channel_units: int
    channel_zeroed: int  # units of the channel at or below 0 before the ReLU
    layer_units: int
    layer_zeroed: int


def relu_step(pre: np.ndarray, focus: Focus) -> ReluStep:
    """max(x, 0) on C1's (C, H, W) map before the ReLU: the followed unit and how many units become 0."""
    maps = np.asarray(pre, dtype=np.float64)
    value = float(maps[focus.channel, focus.row, focus.col])
    channel = maps[focus.channel]
    return ReluStep(value, max(value, 0.0), int(channel.size), int((channel <= 0).sum()), int(maps.size),
                    int((maps <= 0).sum()))


@dataclass(frozen=True)
class LrnUnit:
    """Local response normalisation of one value, as the paper prints it (c = α) and as Krizhevsky's code
    computed it (c = α/n), beside the network's own output where it has an LRN."""

    channels: tuple[int, ...]  # the neighbouring channels it reads (within its GPU's block), its own among them
    values: tuple[float, ...]  # their values at the unit's place, after the ReLU
    squares: float  # Σ a_j²
    value: float  # a_i
    printed_divisor: float  # (k + α Σ a_j²)^β, Sec. 3.3 as printed
    printed: float  # a_i / printed_divisor
    code_divisor: float  # (k + (α / n) Σ a_j²)^β: cuda-convnet divides its scale α by n
    code: float
    rule: str  # the one the network computes ("code" or "printed")
    forward: float | None  # the network's own output there, when it has an LRN

    @property
    def result(self) -> float:
        """The value under the network's own rule."""
        return self.code if self.rule == "code" else self.printed

    @property
    def agrees(self) -> bool | None:
        if self.forward is None:
            return None
        return abs(self.result - self.forward) <= 1e-5 * max(1.0, abs(self.result))


def lrn_unit(relu: np.ndarray, lrn: LRN, focus: Focus, forward: float | None = None) -> LrnUnit:
    """b_i = a_i / (k + c Σ_j a_j²)^β at the followed unit over the n channels around it, inside its GPU's block
    of channels (lrn.groups), with both c = α (Sec. 3.3 as printed) and c = α/n (the code)."""
    maps = np.asarray(relu, dtype=np.float64)
    if maps.ndim != 3 or maps.shape[0] % lrn.groups:
        raise SpecError(f"LRN needs (channels, height, width) maps that split into {lrn.groups} blocks, "
                        f"not {maps.shape}.")
    block, half, i = maps.shape[0] // lrn.groups, lrn.size // 2, focus.channel
    first = i - i % block  # windows stop at the GPU boundary
    lo, hi = max(first, i - half), min(first + block - 1, i + half)
    values = maps[lo:hi + 1, focus.row, focus.col]
    squares = float((values ** 2).sum())
    a = float(maps[i, focus.row, focus.col])
    printed = (lrn.k + lrn.alpha * squares) ** lrn.beta
    code = (lrn.k + lrn.alpha / lrn.size * squares) ** lrn.beta
    return LrnUnit(tuple(range(lo, hi + 1)), tuple(float(v) for v in values), squares, a, printed, a / printed,
                   code, a / code, lrn.rule, forward)


@dataclass(frozen=True)
class PoolPair:
    """The max-pool unit above the followed C1 unit and its right-hand (or left-hand) neighbour."""

    first: PoolUnit
    second: PoolUnit
    region: np.ndarray  # the input rows and columns both windows read
    rows: tuple[int, int]  # [start, stop) of `region` in the input map
    cols: tuple[int, int]
    shared: int  # columns both windows read

    @property
    def same_peak(self) -> bool:
        """Both windows' maximum is the one value they share: overlapping windows can pass one value on twice."""
        where = [(u.rows[0] + u.argmax[0], u.cols[0] + u.argmax[1]) for u in (self.first, self.second)]
        return where[0] == where[1]


def pool_pair(maps: np.ndarray, *, kernel: int, stride: int, focus: Focus, pooled: np.ndarray) -> PoolPair:
    """The pool unit whose window holds the followed unit, and its neighbour in the same row, on real values."""
    side = pooled.shape[1]
    row, col = min(focus.row // stride, side - 1), min(focus.col // stride, side - 1)
    other = col + 1 if col + 1 < side else col - 1
    units = [pool_unit(maps, kernel=kernel, stride=stride, channel=focus.channel, row=row, col=c,
                       forward=float(pooled[focus.channel, row, c])) for c in (col, other)]
    c0, c1 = min(u.cols[0] for u in units), max(u.cols[1] for u in units)
    r0, r1 = units[0].rows
    region = np.asarray(maps[focus.channel, r0:r1, c0:c1], dtype=np.float64)
    return PoolPair(units[0], units[1], region, (r0, r1), (c0, c1), max(0, kernel - stride))


@dataclass(frozen=True)
class Split:
    """Where the parameters are and where the work is: convolutions against fully connected layers."""

    conv_params: int
    fc_params: int
    conv_macs: int  # multiply-adds for one image, bias adds included (torchinfo's count)
    fc_macs: int

    @property
    def fc_param_share(self) -> float:
        return self.fc_params / (self.conv_params + self.fc_params)

    @property
    def conv_work_share(self) -> float:
        return self.conv_macs / (self.conv_macs + self.fc_macs)


def split(book: Ledger) -> Split:
    """Parameters and multiply-adds of the conv and the fully connected rows of the ledger (pools have neither)."""
    conv = [r for r in book.rows if r.kind == "conv"]
    fc = [r for r in book.rows if r.kind == "fc"]
    return Split(sum(r.params for r in conv), sum(r.params for r in fc), sum(r.macs_with_bias for r in conv),
                 sum(r.macs_with_bias for r in fc))


@dataclass(frozen=True)
class SoftmaxTop:
    """The softmax of the class scores written out for the top classes: e^(z − max) / Σ e^(z_j − max)."""

    classes: int
    indices: tuple[int, ...]
    logits: tuple[float, ...]
    exps: tuple[float, ...]  # e^(z − max)
    total: float  # Σ over all classes of e^(z_j − max)
    probs: tuple[float, ...]

    @property
    def chance(self) -> float:
        """What a guess with no information gives each class: 1 in `classes`."""
        return 1.0 / self.classes


def softmax_top(logits: np.ndarray, k: int = 5) -> SoftmaxTop:
    """The k largest probabilities of a vector of class scores, in float64 (max subtracted: no overflow)."""
    z = np.asarray(logits, dtype=np.float64).ravel()
    if z.size == 0:
        raise SpecError("There are no class scores to turn into probabilities.")
    exps = np.exp(z - z.max())
    total = float(exps.sum())
    top = np.argsort(-z, kind="stable")[:min(k, z.size)]
    return SoftmaxTop(int(z.size), tuple(int(i) for i in top), tuple(float(z[i]) for i in top),
                      tuple(float(exps[i]) for i in top), total, tuple(float(exps[i]) / total for i in top))


def interior_spread(maps: np.ndarray, channels: tuple[int, ...]) -> float:
    """How much maps (after a ReLU) vary inside their outer ring, as a share of their largest value; the median
    over `channels`. The ring is where 3×3 kernels reach into the zero padding; a small share means a map is
    nearly flat, however patterned it looks when stretched to its own colour range.
    """
    shares = []
    for c in channels:
        m = np.asarray(maps[c], dtype=np.float64)
        inner = m[1:-1, 1:-1] if min(m.shape) > 2 else m
        top = float(m.max())
        shares.append((float(inner.max()) - float(inner.min())) / top if top > 0 else 0.0)
    return float(np.median(shares)) if shares else 0.0


def blank_logits(model: AlexNet) -> np.ndarray:
    """The class scores for a blank input (every value 0: ImageNet's average colour), to compare with a photo's.

    An untrained network's answer that does not change for a blank picture came from its weights, not the photo.
    """
    import torch

    from alexnet_viz.analysis.probe import capture

    size = model.spec.input_size
    out = capture(model, torch.zeros(1, model.spec.in_channels, size, size), [model.layer_names[-1]])
    return out[model.layer_names[-1]][0].float().numpy()


def centre_fields(spec: Spec, layers: tuple[str, ...]) -> tuple[Box, ...]:
    """The receptive field of each layer's centre unit: the input pixels it can see (from the ledger's geometry)."""
    book = ledger(spec)
    boxes = []
    for name in layers:
        row = book.row(name)
        boxes.append(receptive_field(spec, name, row.out_shape[1] // 2, row.out_shape[2] // 2))
    return tuple(boxes)


def dropout_is_off(pre: np.ndarray, post: np.ndarray) -> bool:
    """At test time a layer's output after its dropout is exactly max(pre, 0): nothing dropped, nothing scaled."""
    return bool(np.array_equal(np.maximum(np.asarray(pre), 0), np.asarray(post)))


__all__ = ["Focus", "LrnUnit", "PixelIn", "PoolPair", "Product", "ReluStep", "SoftmaxTop", "Split", "blank_logits",
           "centre_fields", "interior_spread",
           "dropout_is_off", "first_products", "focus_unit", "lrn_unit", "pixel_in", "pool_pair", "relu_step",
           "softmax_top", "split"]
