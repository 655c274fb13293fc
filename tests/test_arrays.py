"""alexnet_viz.core.arrays: the one way tensors become the app's cached arrays, and cached arrays inputs again."""
from __future__ import annotations

import numpy as np
import torch

from alexnet_viz.core.arrays import from_numpy, to_numpy
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import ARTICLE


def test_a_weight_comes_out_as_a_float32_copy_the_model_never_sees() -> None:
    model = build_model(ARTICLE, seed=0)
    weight = model.weight("C1")
    assert weight.requires_grad  # a parameter: .numpy() on it directly would raise
    out = to_numpy(weight)
    assert out.dtype == np.float32 and out.shape == tuple(weight.shape)
    assert np.array_equal(out, weight.detach().numpy())
    out[0, 0, 0, 0] += 1.0
    assert weight.detach()[0, 0, 0, 0].item() != out[0, 0, 0, 0]  # writing into the array leaves the network alone


def test_without_a_copy_a_cpu_float32_tensor_is_only_read() -> None:
    t = torch.arange(6, dtype=torch.float32)
    assert np.shares_memory(to_numpy(t, copy=False), t.numpy())
    assert not np.shares_memory(to_numpy(t), t.numpy())


def test_other_precisions_arrive_as_float32() -> None:
    t = torch.tensor([0.5, -1.25, 3.0], dtype=torch.bfloat16)
    out = to_numpy(t, copy=False)
    assert out.dtype == np.float32 and out.tolist() == [0.5, -1.25, 3.0]
    assert to_numpy(torch.tensor([1, 2])).dtype == np.float32


def test_a_read_only_cached_array_becomes_a_tensor_of_its_own() -> None:
    cached = np.arange(4, dtype=np.float32).reshape(1, 4)
    cached.setflags(write=False)  # how Streamlit's cache hands arrays back
    x = from_numpy(cached)
    assert x.dtype == torch.float32 and x.shape == (1, 4)
    x += 1  # in place: would raise, or write into the cache, if it shared the array
    assert cached.tolist() == [[0.0, 1.0, 2.0, 3.0]] and x.tolist() == [[1.0, 2.0, 3.0, 4.0]]
