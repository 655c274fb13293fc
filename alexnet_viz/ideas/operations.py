"""The article's Figures 2-4 as small exact computations a reader can follow one step at a time.

Plain numpy on tiny arrays: each function returns the numbers and the written-out arithmetic
of one step, so the Operations page only draws them and the tests can check them by hand.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alexnet_viz.core.bookkeeping import conv_out, ledger
from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import SpecError

POOL_KINDS = ("max", "avg")


def random_values(shape: tuple[int, ...], seed: int, low: int = -3, high: int = 3) -> np.ndarray:
    """Small whole numbers (as float) so every product can be checked in one's head."""
    rng = np.random.default_rng(seed)
    return rng.integers(low, high + 1, size=shape).astype(np.float64)


def _plain(v: float) -> str:
    v = float(v)
    return f"{v:g}" if v == int(v) else f"{v:.3g}"


def _num(v: float) -> str:
    """_plain, bracketed when negative, so a written-out product reads 2·(-3), not 2·-3."""
    text = _plain(v)
    return f"({text})" if float(v) < 0 else text


def output_side(size: int, kernel: int, stride: int, padding: int) -> int:
    """Floor rule, with a message when the window does not fit."""
    out, exact = conv_out(size, kernel, stride, padding)
    if out < 1:
        raise SpecError(f"A {kernel}x{kernel} window with stride {stride} and padding {padding} does not fit "
                        f"a {size}x{size} input ({exact:.2f} < 1); lower the kernel or raise the padding.")
    return out


@dataclass(frozen=True)
class Window:
    """One placement of a kernel/window: its output cell and the input rows/cols it covers."""

    step: int
    out_row: int
    out_col: int
    rows: tuple[int, int]  # [start, stop) in the unpadded input; may reach outside it by the padding
    cols: tuple[int, int]
    value: float
    working: str  # the written-out arithmetic that produced `value`
    terms: int  # how many multiply-adds (or compared values)


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (padding, padding), (padding, padding)))


def _check_step(step: int, out: int) -> tuple[int, int]:
    if not 0 <= step < out * out:
        raise SpecError(f"Step {step} is outside 0..{out * out - 1}; pick a step in that range.")
    return divmod(step, out)


def convolve(x: np.ndarray, w: np.ndarray, bias: float, stride: int = 1, padding: int = 0) -> np.ndarray:
    """One kernel (C, K, K) over an input (C, H, W): one output map, the channels summed."""
    if x.ndim != 3 or w.ndim != 3 or x.shape[0] != w.shape[0] or w.shape[1] != w.shape[2]:
        raise SpecError(f"The kernel {w.shape} must be square and have as many channels as the input {x.shape}.")
    k = w.shape[1]
    out = output_side(x.shape[1], k, stride, padding)
    xp = _pad(x, padding)
    y = np.empty((out, out))
    for i in range(out):
        for j in range(out):
            y[i, j] = float((xp[:, i * stride:i * stride + k, j * stride:j * stride + k] * w).sum()) + bias
    return y


def conv_step(x: np.ndarray, w: np.ndarray, bias: float, stride: int, padding: int, step: int) -> Window:
    """The `step`-th placement (row-major) of the kernel, with every multiply-add written out."""
    k = w.shape[1]
    out = output_side(x.shape[1], k, stride, padding)
    i, j = _check_step(step, out)
    xp = _pad(x, padding)
    patch = xp[:, i * stride:i * stride + k, j * stride:j * stride + k]
    channel_sums = []
    for c in range(x.shape[0]):
        products = " + ".join(f"{_num(a)}·{_num(b)}" for a, b in zip(patch[c].ravel(), w[c].ravel()))
        channel_sums.append(f"[ch {c + 1}] {products} = {_plain((patch[c] * w[c]).sum())}")
    value = float((patch * w).sum()) + bias
    working = "\n".join(channel_sums) + f"\nsum of channels + bias {_num(bias)} = {_plain(value)}"
    r0, c0 = i * stride - padding, j * stride - padding
    return Window(step, i, j, (r0, r0 + k), (c0, c0 + k), value, working, patch.size)


def pool(x: np.ndarray, kind: str, kernel: int = 2, stride: int = 2) -> np.ndarray:
    """Max or average pooling of every channel on its own: channels in = channels out."""
    if kind not in POOL_KINDS:
        raise SpecError(f"Pooling kind {kind!r} is unknown; use one of {', '.join(POOL_KINDS)}.")
    out = output_side(x.shape[1], kernel, stride, 0)
    reduce = np.max if kind == "max" else np.mean
    y = np.empty((x.shape[0], out, out))
    for i in range(out):
        for j in range(out):
            y[:, i, j] = reduce(x[:, i * stride:i * stride + kernel, j * stride:j * stride + kernel], axis=(1, 2))
    return y


def pool_step(x: np.ndarray, kind: str, channel: int, step: int, kernel: int = 2, stride: int = 2) -> Window:
    """One window of one channel and how its value is chosen (max) or averaged (avg)."""
    out = output_side(x.shape[1], kernel, stride, 0)
    i, j = _check_step(step, out)
    patch = x[channel, i * stride:i * stride + kernel, j * stride:j * stride + kernel].ravel()
    values = ", ".join(_num(v) for v in patch)
    if kind == "max":
        value, working = float(patch.max()), f"max({values}) = {_plain(patch.max())}"
    else:
        value = float(patch.mean())
        working = f"({' + '.join(_num(v) for v in patch)}) / {patch.size} = {_plain(value)}"
    return Window(step, i, j, (i * stride, i * stride + kernel), (j * stride, j * stride + kernel), value,
                  working, patch.size)


def relu(v: np.ndarray) -> np.ndarray:
    """max(v, 0) elementwise: the nonlinearity after every convolution and after F9 and F10."""
    return np.maximum(v, 0.0)


def softmax(v: np.ndarray) -> np.ndarray:
    """Shifted by the maximum first, so large inputs do not overflow (the result is the same)."""
    e = np.exp(v - np.max(v))
    return e / e.sum()


def softmax_working(v: np.ndarray) -> list[str]:
    """exp(v_i − max) / Σ exp(v_j − max) written out for each entry."""
    top = float(np.max(v))
    total = np.exp(v - top).sum()
    return [f"exp({_plain(x)} − {_plain(top)}) / {total:.4g} = {np.exp(x - top) / total:.4f}" for x in v]


@dataclass(frozen=True)
class DenseResult:
    """A 3 -> 4 -> 2 network's forward pass: hidden layer after ReLU and the outputs."""

    hidden_pre: np.ndarray
    hidden: np.ndarray
    output: np.ndarray
    hidden_working: tuple[str, ...]
    output_working: tuple[str, ...]
    params: int


def _dense_lines(x: np.ndarray, w: np.ndarray, b: np.ndarray, y: np.ndarray, unit: str) -> tuple[str, ...]:
    return tuple(f"{unit}{n + 1} = " + " + ".join(f"{_num(wi)}·{_num(xi)}" for wi, xi in zip(w[n], x))
                 + f" + {_num(b[n])} = {_plain(y[n])}" for n in range(w.shape[0]))


def fully_connected(x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> DenseResult:
    """x -> ReLU(W1 x + b1) -> W2 h + b2, with each neuron's weighted sum written out."""
    if w1.shape != (b1.size, x.size) or w2.shape != (b2.size, b1.size):
        raise SpecError(f"Weight shapes {w1.shape} and {w2.shape} do not chain {x.size} -> {b1.size} -> {b2.size}.")
    pre = w1 @ x + b1
    h = relu(pre)
    out = w2 @ h + b2
    return DenseResult(pre, h, out, _dense_lines(x, w1, b1, pre, "h"), _dense_lines(h, w2, b2, out, "y"),
                       w1.size + b1.size + w2.size + b2.size)


def dense_example(seed: int, sizes: tuple[int, int, int] = (3, 4, 2)) -> tuple[np.ndarray, ...]:
    """Seeded x, W1, b1, W2, b2 for the Figure 4 network."""
    n_in, n_hidden, n_out = sizes
    x = random_values((n_in,), seed)
    w1 = random_values((n_hidden, n_in), seed + 1)
    b1 = random_values((n_hidden,), seed + 2, -1, 1)
    w2 = random_values((n_out, n_hidden), seed + 3)
    b2 = random_values((n_out,), seed + 4, -1, 1)
    return x, w1, b1, w2, b2


@dataclass(frozen=True)
class PoolGeometry:
    """Where a pooling window lands on a square input: output side, overlap and how often each value is read."""

    size: int
    kernel: int
    stride: int
    out: int
    overlap: int  # kernel − stride: neighbouring windows share this many rows (0 or less: none)
    reads: np.ndarray  # (size, size): how many windows read each input value
    reused: float  # share of the input read by two or more windows
    unread: float  # share read by none (stride > kernel, or the floor leaving an edge out)


def pool_geometry(size: int, kernel: int, stride: int) -> PoolGeometry:
    """Count the windows over every input value: Sec. 3.4's "overlapping" is stride < kernel (s = 2, z = 3)."""
    out = output_side(size, kernel, stride, 0)
    line = np.zeros(size, dtype=np.int64)
    for i in range(out):
        line[i * stride:i * stride + kernel] += 1
    reads = np.outer(line, line)
    return PoolGeometry(size, kernel, stride, out, kernel - stride, reads, float((reads > 1).mean()),
                        float((reads == 0).mean()))


@dataclass(frozen=True)
class PoolComparison:
    """One max pool of a network beside the non-overlapping 2×2 pool on the same input (Sec. 3.4)."""

    layer: str
    ours: PoolGeometry  # the network's own window and stride (3×3 every 2 in AlexNet)
    plain: PoolGeometry  # 2×2 every 2: no value read twice


def pool_comparison(spec: Spec) -> tuple[PoolComparison, ...]:
    """Every max pool of `spec` on its own input side, beside 2×2 windows with stride 2."""
    return tuple(PoolComparison(r.name, pool_geometry(r.in_shape[1], r.kernel, r.stride),
                                pool_geometry(r.in_shape[1], 2, 2))
                 for r in ledger(spec).rows if r.kind == "maxpool")
