"""The Operations page's arithmetic agrees with PyTorch's own operators and with hand counts."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from alexnet_viz.errata import article
from alexnet_viz.errors import SpecError
from alexnet_viz.ideas.operations import (
    conv_step,
    convolve,
    dense_example,
    fully_connected,
    output_side,
    pool,
    pool_step,
    random_values,
    relu,
    softmax,
    softmax_working,
)


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 0), (2, 2), (3, 1)])
def test_convolve_matches_torch(stride, padding):
    x, w = random_values((3, 6, 6), 3), random_values((3, 3, 3), 4)
    ours = convolve(x, w, 1.5, stride, padding)
    bias = torch.tensor([1.5], dtype=torch.float64)
    theirs = F.conv2d(torch.tensor(x)[None], torch.tensor(w)[None], bias, stride, padding)[0, 0]
    np.testing.assert_allclose(ours, theirs.numpy())


def test_figure2_gives_one_4x4_map():
    f2 = article.FIGURE2
    y = convolve(random_values((3, 6, 6), 0), random_values((3, 3, 3), 1), 0.0, f2.stride, f2.padding)
    assert y.shape == (4, 4)


def test_conv_step_window_and_working():
    x, w = random_values((3, 6, 6), 5), random_values((3, 3, 3), 6)
    out = convolve(x, w, 2.0, 2, 1)
    step = conv_step(x, w, 2.0, 2, 1, 4)  # output side 3: step 4 is row 1, col 1
    assert (step.out_row, step.out_col) == (1, 1)
    assert step.rows == (1, 4) and step.cols == (1, 4)  # 1*2 - 1 padding
    assert step.value == out[1, 1]
    assert step.terms == 27
    assert step.working.rstrip().endswith(f"= {out[1, 1]:g}")
    assert step.working.count("[ch") == 3


def test_conv_step_out_of_range_and_kernel_too_big():
    x, w = random_values((3, 6, 6), 5), random_values((3, 3, 3), 6)
    with pytest.raises(SpecError, match="Step 16"):
        conv_step(x, w, 0.0, 1, 0, 16)
    with pytest.raises(SpecError, match="does not fit"):
        output_side(2, 5, 1, 0)
    with pytest.raises(SpecError, match="channels"):
        convolve(x, random_values((2, 3, 3), 1), 0.0)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_matches_torch(kind):
    x = random_values((3, 6, 6), 7, 0, 9)
    op = F.max_pool2d if kind == "max" else F.avg_pool2d
    np.testing.assert_allclose(pool(x, kind), op(torch.tensor(x)[None], 2, 2)[0].numpy())
    assert pool(x, kind).shape == (3, 3, 3)
    step = pool_step(x, kind, 1, 5)
    assert step.value == pytest.approx(pool(x, kind)[1, 1, 2])
    assert step.working.startswith("max(" if kind == "max" else "(")


def test_pool_rejects_unknown_kind():
    with pytest.raises(SpecError, match="unknown"):
        pool(random_values((1, 4, 4), 0), "median")


def test_fully_connected_by_hand():
    x, w1, b1, w2, b2 = dense_example(3)
    result = fully_connected(x, w1, b1, w2, b2)
    hidden = np.maximum(w1 @ x + b1, 0)
    np.testing.assert_allclose(result.hidden, hidden)
    np.testing.assert_allclose(result.output, w2 @ hidden + b2)
    assert result.params == (3 + 1) * 4 + (4 + 1) * 2
    assert len(result.hidden_working) == 4 and len(result.output_working) == 2
    with pytest.raises(SpecError):
        fully_connected(x, w1, b1, w2[:, :3], b2)


def test_relu_softmax():
    v = np.array([-2.0, 0.0, 3.0, 1000.0])
    assert relu(v).tolist() == [0.0, 0.0, 3.0, 1000.0]
    p = softmax(v)
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0) and p.argmax() == 3
    np.testing.assert_allclose(softmax(np.array([1.0, 2.0])), torch.softmax(torch.tensor([1.0, 2.0]), 0).numpy(),
                               rtol=1e-6)
    assert len(softmax_working(v)) == 4


def test_random_values_seeded_whole_numbers():
    a, b = random_values((2, 3), 11), random_values((2, 3), 11)
    assert (a == b).all() and (a == np.round(a)).all()
    assert not (a == random_values((2, 3), 12)).all()
