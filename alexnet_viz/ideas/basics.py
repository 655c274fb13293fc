"""AlexNet's own ideas as small exact computations: ReLU vs tanh, local response normalisation, dropout.

Each function takes plain arrays (usually a real layer's output for the user's image) and returns
numbers a page can show beside the paper's sentence; the tests hold them to hand-made values and to
PyTorch's own modules, so "the model's layer computes the formula" is checked, not asserted.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from alexnet_viz.core.model import GroupedLRN
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

    @property
    def tanh_edge(self) -> float:
        """|x| beyond which tanh's slope 1 − tanh²(x) falls below the threshold (1.82 for 0.1)."""
        return float(np.arctanh(np.sqrt(1.0 - self.threshold)))


def relu_effect(pre: np.ndarray, threshold: float = 0.1) -> ReluEffect:
    """Shares of a real pre-activation map; `threshold` is the tanh slope below which we call it saturated."""
    v = np.asarray(pre, dtype=np.float64).ravel()
    if v.size == 0:
        raise SpecError("The map is empty: pick a layer with a ReLU.")
    grad = 1.0 - np.tanh(v) ** 2
    return ReluEffect(units=int(v.size), zeroed=float((v <= 0).mean()), tanh_saturated=float((grad < threshold).mean()),
                      relu_passing=float((v > 0).mean()), threshold=threshold)


# --- local response normalisation -------------------------------------------------------------

def lrn_by_hand(a: np.ndarray, lrn: LRN = LRN()) -> np.ndarray:
    """b_i = a_i / (k + c Σ_j a_j²)^β, j from max(lo, i − n/2) to min(hi, i + n/2) within i's GPU block.

    c is lrn.coefficient (α/n as Krizhevsky's code computed it, α as Sec. 3.3 prints it). A direct
    float64 loop over channels, independent of PyTorch, so it can check torch's layer.
    """
    x = np.asarray(a, dtype=np.float64)
    if x.ndim != 3:
        raise SpecError(f"LRN needs maps of shape (channels, height, width), not {x.shape}.")
    if x.shape[0] % lrn.groups:
        raise SpecError(f"{x.shape[0]} channels do not split into {lrn.groups} GPU blocks.")
    block, half = x.shape[0] // lrn.groups, lrn.size // 2
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        first = i - i % block  # the block's first channel: windows stop at the GPU boundary
        lo, hi = max(first, i - half), min(first + block - 1, i + half)
        out[i] = x[i] / (lrn.k + lrn.coefficient * (x[lo:hi + 1] ** 2).sum(axis=0)) ** lrn.beta
    return out


def lrn_torch(a: np.ndarray, lrn: LRN = LRN()) -> np.ndarray:
    """The model's own LRN module (nn.LocalResponseNorm, alpha = lrn.torch_alpha, per GPU block) on the maps."""
    with torch.no_grad():
        return GroupedLRN(lrn)(torch.from_numpy(np.asarray(a, dtype=np.float64))[None])[0].numpy()


@dataclass(frozen=True)
class LrnRule:
    """One reading of the LRN on real maps: its c, PyTorch's alpha for it, and what it does."""

    rule: str  # "code" or "printed"
    coefficient: float  # c in k + c Σ a²
    torch_alpha: float
    torch_vs_hand: float  # max |torch − the float64 loop|: rounding only
    largest_change: float  # the largest |a − b| it makes on these maps
    mean_divisor: float  # mean of (k + c Σ a²)^β over the nonzero values


@dataclass(frozen=True)
class LrnComparison:
    """Krizhevsky's code (α/n) against the formula as printed (α), and the GPU split, on the same maps."""

    code: LrnRule
    printed: LrnRule
    between: float  # max |b_printed − b_code|
    between_relative: float  # the same, relative to b_code where b_code ≠ 0
    gpu_split: float | None  # max |per-GPU windows − one window over all channels|; None with one block


def _rule(x: np.ndarray, lrn: LRN) -> tuple[LrnRule, np.ndarray]:
    hand = lrn_by_hand(x, lrn)
    with np.errstate(divide="ignore", invalid="ignore"):
        divisor = np.where(hand != 0, x / hand, np.nan)
    mean_div = float(np.nanmean(divisor)) if np.isfinite(divisor).any() else lrn.k ** lrn.beta
    return LrnRule(rule=lrn.rule, coefficient=lrn.coefficient, torch_alpha=lrn.torch_alpha,
                   torch_vs_hand=float(np.abs(lrn_torch(x, lrn) - hand).max()),
                   largest_change=float(np.abs(x - hand).max()), mean_divisor=mean_div), hand


def compare_lrn(a: np.ndarray, lrn: LRN = LRN()) -> LrnComparison:
    """Both readings of Sec. 3.3 on real maps (e.g. C1 after its ReLU), each checked against PyTorch."""
    x = np.asarray(a, dtype=np.float64)
    code, b_code = _rule(x, replace(lrn, rule="code"))
    printed, b_printed = _rule(x, replace(lrn, rule="printed"))
    gap = np.abs(b_printed - b_code)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(b_code != 0, gap / np.abs(b_code), 0.0)
    split = None
    if lrn.groups > 1:
        split = float(np.abs(lrn_by_hand(x, replace(lrn, groups=1)) - lrn_by_hand(x, lrn)).max())
    return LrnComparison(code=code, printed=printed, between=float(gap.max()),
                         between_relative=float(rel.max()), gpu_split=split)


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
