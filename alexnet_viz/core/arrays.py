"""Tensors to numpy arrays and back: the one way results cross from torch to the app's caches.

The app caches plain numpy arrays (picklable, never tied to a device or to autograd), and its
model is shared by every session: an array that were a view of a weight would let a page's
arithmetic write into the network. So `to_numpy` gives float32 on the CPU, detached, and a copy
of the tensor's memory unless the caller only reads it at once (`copy=False`).
"""
from __future__ import annotations

import numpy as np
import torch


def to_numpy(t: torch.Tensor, *, copy: bool = True) -> np.ndarray:
    """`t` as a float32 array on the CPU, detached from autograd; its own memory unless `copy=False`.

    `copy=False` may share the tensor's memory (a CPU float32 tensor is not copied): for a result
    read once and dropped, such as a histogram of a 151 MB fully connected weight.
    """
    out = t.detach().to("cpu", torch.float32).numpy()
    return out.copy() if copy else out


def from_numpy(a: np.ndarray) -> torch.Tensor:
    """An array (a cached input, say) as a tensor with its own writable memory, whatever the array's flags.

    Cached arrays come back read-only from Streamlit's cache; torch warns on those and would share
    them, so the tensor gets a copy.
    """
    return torch.from_numpy(np.array(a, copy=True))


__all__ = ["from_numpy", "to_numpy"]
