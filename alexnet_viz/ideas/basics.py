"""AlexNet's own ideas as small exact computations: ReLU vs tanh, local response normalisation, dropout.

Each function takes plain arrays (usually a real layer's output for the user's image) and returns
numbers a page can show beside the paper's sentence; the tests hold them to hand-made values and to
PyTorch's own modules, so "torch's layer is the paper's formula" is checked, not asserted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alexnet_viz.core.spec import LRN
from alexnet_viz.errors import SpecError

# --- ReLU vs tanh ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Curves:
    """tanh and ReLU with their derivatives on a grid of inputs: what a gradient gets multiplied by."""

    x: np.ndarray
    tanh: np.ndarray
    tanh_grad: np.ndarray
    relu: np.ndarray
    relu_grad: np.ndarray


def activation_curves(low: float = -5.0, high: float = 5.0, n: int = 201) -> Curves:
    """tanh' = 1 − tanh² shrinks towards 0 for large |x|; ReLU' is exactly 1 for every x > 0."""
    x = np.linspace(low, high, n)
    t = np.tanh(x)
    return Curves(x=x, tanh=t, tanh_grad=1.0 - t * t, relu=np.maximum(x, 0.0), relu_grad=(x > 0).astype(np.float64))


@dataclass(frozen=True)
class ReluEffect:
    """What the ReLU did to one real map, and what a tanh would have done to its gradient."""

    units: int
    zeroed: float  # share of units set to 0 (pre-activation <= 0)
    tanh_saturated: float  # share where tanh'(pre) < threshold: the gradient nearly vanishes
    relu_passing: float  # share where ReLU' = 1: the gradient passes unchanged
    threshold: float


def relu_effect(pre: np.ndarray, threshold: float = 0.1) -> ReluEffect:
    """Shares of a real pre-activation map; `threshold` is the tanh slope below which we call it saturated."""
    v = np.asarray(pre, dtype=np.float64).ravel()
    if v.size == 0:
        raise SpecError("The map is empty: pick a layer with a ReLU.")
    grad = 1.0 - np.tanh(v) ** 2
    return ReluEffect(units=int(v.size), zeroed=float((v <= 0).mean()), tanh_saturated=float((grad < threshold).mean()),
                      relu_passing=float((v > 0).mean()), threshold=threshold)


# --- local response normalisation -------------------------------------------------------------

def lrn_paper(a: np.ndarray, lrn: LRN = LRN()) -> np.ndarray:
    """Sec. 3.3 written out: b_i = a_i / (k + α Σ_{j=max(0,i−n/2)}^{min(N−1,i+n/2)} a_j²)^β over channels.

    A direct float64 loop over channels, independent of PyTorch, so it can check torch's layer.
    """
    x = np.asarray(a, dtype=np.float64)
    if x.ndim != 3:
        raise SpecError(f"LRN needs maps of shape (channels, height, width), not {x.shape}.")
    n_ch, half = x.shape[0], lrn.size // 2
    out = np.empty_like(x)
    for i in range(n_ch):
        lo, hi = max(0, i - half), min(n_ch - 1, i + half)
        out[i] = x[i] / (lrn.k + lrn.alpha * (x[lo:hi + 1] ** 2).sum(axis=0)) ** lrn.beta
    return out


def lrn_torch(a: np.ndarray, lrn: LRN = LRN(), *, torch_alpha: float | None = None) -> np.ndarray:
    """PyTorch's nn.LocalResponseNorm on the same maps; it divides its alpha by n, so the paper needs α·n."""
    alpha = lrn.alpha * lrn.size if torch_alpha is None else torch_alpha
    layer = nn.LocalResponseNorm(lrn.size, alpha=alpha, beta=lrn.beta, k=lrn.k)
    with torch.no_grad():
        return layer(torch.from_numpy(np.asarray(a, dtype=np.float64))[None])[0].numpy()


@dataclass(frozen=True)
class LrnCheck:
    """torch's layer against the paper's formula, with the right alpha (α·n) and the naive one (α)."""

    torch_alpha: float
    max_abs_diff: float  # torch(alpha = α·n) vs the paper's formula: float rounding only
    naive_alpha: float
    naive_max_abs_diff: float  # torch(alpha = α) vs the paper: a real difference
    largest_change: float  # the largest |a − b| the LRN itself makes on these maps
    mean_divisor: float  # mean of (k + α Σ a²)^β: how much the LRN divides by on average


def check_lrn(a: np.ndarray, lrn: LRN = LRN()) -> LrnCheck:
    """Compare on real maps (e.g. C1 after its ReLU): the equality the model relies on, shown numerically."""
    x = np.asarray(a, dtype=np.float64)
    paper = lrn_paper(x, lrn)
    right = lrn_torch(x, lrn)
    naive = lrn_torch(x, lrn, torch_alpha=lrn.alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        divisor = np.where(paper != 0, x / paper, np.nan)
    mean_div = float(np.nanmean(divisor)) if np.isfinite(divisor).any() else lrn.k ** lrn.beta
    return LrnCheck(torch_alpha=lrn.alpha * lrn.size, max_abs_diff=float(np.abs(right - paper).max()),
                    naive_alpha=lrn.alpha, naive_max_abs_diff=float(np.abs(naive - paper).max()),
                    largest_change=float(np.abs(x - paper).max()), mean_divisor=mean_div)


# --- dropout -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DropoutDemo:
    """One vector through dropout many times: PyTorch's inverted dropout and the paper's version."""

    x: np.ndarray
    p: float
    trials: int
    one_pass: np.ndarray  # torch, training mode, one draw: zeros and x / (1 − p)
    torch_train_mean: np.ndarray  # mean over the draws ≈ x
    torch_eval: np.ndarray  # eval mode: the identity
    paper_train_mean: np.ndarray  # the same masks without scaling: mean ≈ (1 − p)·x
    paper_test: np.ndarray  # the paper's test time: x·(1 − p)
    kept: float  # share of units kept over all draws ≈ 1 − p


@dataclass(frozen=True)
class DropoutInput:
    """The few values the dropout demo drops: a layer's strongest outputs, or 1…n when they are not all positive."""

    units: tuple[int, ...]  # the outputs chosen, in unit order
    x: np.ndarray  # float64: their values, or 1…n
    real: bool  # whether x are the layer's own values


def dropout_input(outputs: np.ndarray, n: int = 6) -> DropoutInput:
    """The `n` largest of a layer's outputs for one image, in unit order. dropout_demo reads its masks back from
    the zeros, so when any of them is 0 (a ReLU silenced it) the demo runs on 1…n instead."""
    values = np.asarray(outputs).ravel()
    units = np.sort(np.argsort(values)[::-1][:n])
    x = values[units].astype(np.float64)
    real = bool((x > 0).all())
    return DropoutInput(tuple(int(u) for u in units), x if real else np.arange(1.0, n + 1.0), real)


def dropout_demo(x: np.ndarray, p: float = 0.5, trials: int = 2000, seed: int = 0) -> DropoutDemo:
    """Run torch's F.dropout on `trials` copies of x (seeded) and read its masks back from the zeros.

    Both conventions agree in expectation with their own test time: torch scales by 1/(1−p) while
    training and does nothing at test; the paper does nothing while training and multiplies by 1−p (0.5)
    at test. They differ by the constant 1/(1−p), which the next layer's weights absorb.
    """
    if not 0.0 <= p < 1.0:
        raise SpecError(f"A dropout probability must be in [0, 1), not {p}.")
    v = torch.as_tensor(np.asarray(x, dtype=np.float64)).flatten()
    if torch.any(v == 0):
        raise SpecError("Use a vector without zeros, so the dropped units can be read back from the output.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        train = F.dropout(v.expand(trials, -1), p, training=True)
    evaluated = F.dropout(v, p, training=False)
    mask = (train != 0).to(torch.float64)
    paper_train = mask * v
    return DropoutDemo(x=v.numpy(), p=p, trials=trials, one_pass=train[0].numpy(),
                       torch_train_mean=train.mean(0).numpy(), torch_eval=evaluated.numpy(),
                       paper_train_mean=paper_train.mean(0).numpy(), paper_test=(v * (1 - p)).numpy(),
                       kept=float(mask.mean()))
