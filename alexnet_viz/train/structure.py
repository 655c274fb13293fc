"""How much structure C1's filters have, from the weights alone: their smoothness beyond noise's.

A filter that detects an edge, a stripe or a colour blob varies slowly across its 11x11 pixels: its
energy sits at low spatial frequencies. Random initial weights spread their energy evenly over every
frequency. So, per kernel (its three colour planes together), take the share of the 2-D spectrum's
energy above `CUTOFF` cycles per pixel (patterns finer than a 4-pixel period) and compare it with the
share white noise puts there (the share of frequency bins above the cutoff, 83 % for 11x11):

    smoothness = 1 - high_share / noise_share

0 for the initialisation (whatever its scale: 0.002 +- 0.004 for 64 kernels of N(0, 0.01) noise),
about 1 for a smooth pattern (a Gabor stripe of period 6 pixels or more: 0.97), negative for
kernels rougher than noise (a checkerboard). The mean over the layer's kernels is what the
Training page plots and metrics.jsonl records as "structure".
"""
from __future__ import annotations

import numpy as np

CUTOFF = 0.25  # cycles per pixel: a period of 4 pixels; finer patterns count as "high frequency"


def _high_bins(height: int, width: int) -> np.ndarray:
    fy, fx = np.fft.fftfreq(height), np.fft.fftfreq(width)
    return np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2) > CUTOFF


def kernel_smoothness(weights: np.ndarray) -> np.ndarray:
    """Per kernel of an (out, in, k, k) weight array: 1 - its high-frequency share / white noise's."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 4 or w.shape[-1] < 3 or w.shape[-2] < 3:
        raise ValueError(f"expected (out, in, k, k) weights with k >= 3, got shape {w.shape}")
    power = (np.abs(np.fft.fft2(w, axes=(-2, -1))) ** 2).sum(axis=1)  # (out, k, k): colour planes together
    high = _high_bins(*w.shape[-2:])
    total = power.sum(axis=(-2, -1))
    share = power[:, high].sum(axis=-1) / np.where(total > 0, total, 1.0)
    return np.where(total > 0, 1.0 - share / high.mean(), 0.0)


def structure(weights: np.ndarray) -> float:
    """The layer's filter structure: the mean smoothness of its kernels (0 for noise, near 1 when smooth)."""
    return float(kernel_smoothness(weights).mean())
