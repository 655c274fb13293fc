"""AlexNet's ideas, checked: LRN against torch and by hand, dropout's scaling, the layer stacks against the
built model, the two-GPU plan against the paper's Sec. 3.5, augmentation counts and PCA, and single units
recomputed by hand against PyTorch's forward pass."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from alexnet_viz.analysis.probe import capture
from alexnet_viz.analysis.units import conv_unit, dense_unit, flat_position, pool_unit
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import ARTICLE, LRN, PAPER, VARIANTS
from alexnet_viz.errors import SpecError
from alexnet_viz.ideas.augment import (
    IMAGENET_EIGVAL,
    IMAGENET_EIGVEC,
    add_colour,
    base_image,
    colour_pca,
    colour_shift,
    crop_count,
    random_crops,
    ten_crop_prediction,
    ten_crops,
    to_batch,
)
from alexnet_viz.ideas.basics import activation_curves, compare_lrn, dropout_demo, lrn_by_hand, lrn_torch, relu_effect
from alexnet_viz.ideas.operations import pool_geometry
from alexnet_viz.ideas.stack import layer_stack, tower_plan, towers
from alexnet_viz.inputs.images import network_view


def _maps(seed: int = 0, shape: tuple[int, int, int] = (12, 5, 5), scale: float = 40.0) -> np.ndarray:
    return np.maximum(np.random.default_rng(seed).normal(0, scale, shape), 0.0)


# --- LRN -------------------------------------------------------------------------------------------

def test_lrn_formula_by_hand_on_one_position_under_both_readings():
    a = np.array([3.0, 100.0, 7.0, 0.0, 50.0, 2.0]).reshape(6, 1, 1)
    printed, code = LRN(rule="printed"), LRN()
    assert code.rule == "code" and code.coefficient == pytest.approx(2e-5) and code.torch_alpha == pytest.approx(1e-4)
    assert printed.coefficient == pytest.approx(1e-4) and printed.torch_alpha == pytest.approx(5e-4)
    # channel 1 sums channels 0..3 (n/2 = 2 each side, clipped at 0)
    energy = 9 + 10000 + 49 + 0
    assert lrn_by_hand(a, printed)[1, 0, 0] == pytest.approx(100.0 / (2.0 + 1e-4 * energy) ** 0.75, rel=1e-12)
    assert lrn_by_hand(a, code)[1, 0, 0] == pytest.approx(100.0 / (2.0 + 1e-4 / 5 * energy) ** 0.75, rel=1e-12)
    # channel 5 sums channels 3..5
    assert lrn_by_hand(a, printed)[5, 0, 0] == pytest.approx(2.0 / (2.0 + 1e-4 * (0 + 2500 + 4)) ** 0.75, rel=1e-12)


def test_lrn_windows_stop_at_the_gpu_border():
    a = np.array([3.0, 100.0, 7.0, 0.0, 50.0, 2.0]).reshape(6, 1, 1)
    two = LRN(groups=2)  # GPU 1: channels 0-2, GPU 2: channels 3-5
    assert lrn_by_hand(a, two)[2, 0, 0] == pytest.approx(7.0 / (2.0 + 2e-5 * (9 + 10000 + 49)) ** 0.75, rel=1e-12)
    assert lrn_by_hand(a, two)[3, 0, 0] == pytest.approx(0.0)
    assert lrn_by_hand(a, two)[4, 0, 0] == pytest.approx(50.0 / (2.0 + 2e-5 * (0 + 2500 + 4)) ** 0.75, rel=1e-12)
    with pytest.raises(SpecError):
        lrn_by_hand(np.ones((5, 1, 1)), two)


def test_torch_computes_each_reading_with_its_own_alpha():
    a = _maps()
    for lrn in (LRN(), LRN(rule="printed"), LRN(groups=2), LRN(rule="printed", groups=3)):
        np.testing.assert_allclose(lrn_torch(a, lrn), lrn_by_hand(a, lrn), rtol=1e-12, atol=1e-12)
    both = compare_lrn(a, LRN(groups=2))
    assert both.code.torch_alpha == pytest.approx(1e-4) and both.printed.torch_alpha == pytest.approx(5e-4)
    assert both.code.torch_vs_hand < 1e-10 and both.printed.torch_vs_hand < 1e-10
    assert both.between > 1e-3 and both.printed.mean_divisor > both.code.mean_divisor  # a real difference
    assert both.gpu_split is not None and both.gpu_split > 0
    assert compare_lrn(a, LRN()).gpu_split is None


def test_an_lrn_that_cannot_split_into_its_gpus_is_a_clear_error():
    from alexnet_viz.core.bookkeeping import ledger

    with pytest.raises(SpecError, match="do not split into the LRN's 2 GPU blocks"):
        ledger(PAPER.with_layer("C1", out=95))


def test_the_paper_models_lrn_is_krizhevskys_code_per_gpu():
    """cuda-convnet2 divides scale by size (layer.py:1331) and each GPU normalises its own 48 maps."""
    lrn = PAPER.layer("C1").lrn
    assert lrn is not None and (lrn.rule, lrn.groups, lrn.alpha, lrn.size, lrn.k) == ("code", 2, 1e-4, 5, 2.0)
    model = build_model(PAPER, seed=0)
    x = torch.randn(1, 3, 227, 227, generator=torch.Generator().manual_seed(1)) * 2
    out = capture(model, x, ["C1"])
    relu = np.maximum(out["C1.pre"][0].double().numpy(), 0)
    np.testing.assert_allclose(out["C1"][0].numpy(), lrn_by_hand(relu, lrn), rtol=1e-5, atol=1e-6)
    printed = lrn_by_hand(relu * 50, replace(lrn, rule="printed"))  # scaled up: a clear gap between readings
    assert np.abs(lrn_by_hand(relu * 50, lrn) - printed).max() > 1e-3


# --- ReLU and dropout --------------------------------------------------------------------------------

def test_tanh_saturates_where_relu_does_not():
    c = activation_curves(-5, 5, 11)
    assert c.tanh_grad[5] == 1.0 and c.tanh_grad[0] < 1e-3 and c.tanh_grad[-1] < 1e-3
    assert c.relu_grad[-1] == 1.0 and c.relu_grad[0] == 0.0
    effect = relu_effect(np.array([-3.0, -0.5, 0.0, 0.5, 3.0]), threshold=0.1)
    assert effect.zeroed == pytest.approx(0.6) and effect.relu_passing == pytest.approx(0.4)
    assert effect.tanh_saturated == pytest.approx(0.4)  # |x| = 3: 1 - tanh(3)^2 = 0.0099


def test_dropout_torch_scales_while_training_the_paper_at_test():
    x = np.array([1.0, 2.0, -3.0, 4.0, 0.5])
    d = dropout_demo(x, 0.5, trials=20000, seed=3)
    assert set(np.round(d.one_pass / x, 12)) <= {0.0, 2.0}  # dropped, or kept and doubled
    np.testing.assert_array_equal(d.torch_eval, x)
    np.testing.assert_allclose(d.torch_train_mean, x, rtol=0.05)
    np.testing.assert_allclose(d.paper_train_mean, d.paper_test, rtol=0.05)
    np.testing.assert_allclose(d.paper_test, 0.5 * x)
    assert d.kept == pytest.approx(0.5, abs=0.01)
    again = dropout_demo(x, 0.5, trials=20000, seed=3)
    np.testing.assert_array_equal(again.one_pass, d.one_pass)  # seeded
    with pytest.raises(SpecError):
        dropout_demo(x, 1.0)
    with pytest.raises(SpecError):
        dropout_demo(np.array([1.0, 0.0]))


# --- stacks and towers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", list(VARIANTS))
def test_layer_stack_is_what_the_model_builds(variant):
    spec = VARIANTS[variant]
    model = build_model(VARIANTS[variant], seed=0)
    for name in spec.names:
        stack = layer_stack(spec, name)
        assert tuple(model.part_paths(name)) == tuple(s.role for s in stack), name
        parts = model.parts(name)
        for stage in stack:
            module = parts[stage.role]
            if isinstance(module, nn.Conv2d):
                assert f"{module.in_channels}→{module.out_channels}, {module.kernel_size[0]}×" in stage.text
                assert (f"groups {module.groups}" in stage.text) == (module.groups > 1)
            if isinstance(module, nn.LocalResponseNorm):
                assert f"torch alpha {module.alpha:g}" in stage.text and f"n = {module.size}" in stage.text
                assert ("within each GPU's" in stage.text) == (getattr(module, "groups", 1) > 1)


def test_dropout_sits_before_the_linear_in_torchvision_after_the_relu_in_the_paper():
    assert [s.role for s in layer_stack(VARIANTS["torchvision"], "F9")] == ["dropout", "linear", "relu"]
    assert [s.role for s in layer_stack(PAPER, "F9")] == ["linear", "relu", "dropout"]
    assert [s.role for s in layer_stack(PAPER, "C3")] == ["conv", "relu", "lrn"]


def test_two_gpu_plan_follows_the_papers_section_3_5():
    plan = {r.name: r for r in tower_plan(PAPER)}
    assert towers(PAPER) == 2 and tower_plan(VARIANTS["article"]) == ()
    # conv2, conv4, conv5 stay on their GPU; conv3 and the fully connected layers read both
    assert {n for n, r in plan.items() if r.link in ("across", "one")} == {"C5", "F9", "F10", "F11"}
    assert [plan[n].paper_name for n in ("C1", "C3", "C5", "C6", "C7", "F9", "F11")] == \
        ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc8"]
    assert plan["C1"].link == "image" and plan["C3"].link == "own" and plan["S2"].link == "own"
    assert plan["C3"].split == "128 + 128 kernels" and plan["F9"].split == "2,048 + 2,048 neurons"
    assert "its LRN normalises each GPU's 48 maps on their own" in plan["C1"].text
    assert "128 maps on their own" in plan["C3"].text and "LRN" not in plan["C5"].text


# --- augmentation ------------------------------------------------------------------------------------

def _photo(w: int = 320, h: int = 280, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    arr = np.stack([xx * 255 // w, yy * 255 // h, rng.integers(0, 256, (h, w))], -1).astype(np.uint8)
    return Image.fromarray(arr)


def test_crop_counts():
    assert crop_count(256, 224).paper == 2048 == 32 * 32 * 2
    assert crop_count(256, 224).positions == 33 * 33 * 2
    assert crop_count(256, 227).paper == 2 * 29 * 29
    with pytest.raises(SpecError):
        crop_count(224, 256)


def test_random_and_ten_crops():
    base = base_image(_photo())
    assert base.shape == (256, 256, 3)
    crops = random_crops(base, 224, 8, seed=5)
    assert [c.pixels.shape for c in crops] == [(224, 224, 3)] * 8
    assert [(c.top, c.left, c.flip) for c in crops] == [(c.top, c.left, c.flip) for c in random_crops(base, 224, 8, 5)]
    for c in crops:
        assert 0 <= c.top <= 32 and 0 <= c.left <= 32
        region = base[c.top:c.top + 224, c.left:c.left + 224]
        np.testing.assert_array_equal(c.pixels, region[:, ::-1] if c.flip else region)
    ten = ten_crops(base, 224)
    assert len(ten) == 10 and [(c.top, c.left) for c in ten[:5]] == [(0, 0), (0, 32), (32, 0), (32, 32), (16, 16)]
    assert [c.flip for c in ten] == [False] * 5 + [True] * 5
    np.testing.assert_array_equal(ten[5].pixels, ten[0].pixels[:, ::-1])
    # the centre crop is the picture the app's single-crop prediction sees
    np.testing.assert_array_equal(ten[4].pixels, np.asarray(network_view(Image.fromarray(base), ARTICLE)))


def test_pca_rebuilds_the_covariance_and_shifts_colours():
    pixels = np.asarray(_photo(), dtype=np.uint8)
    p = colour_pca(pixels)
    np.testing.assert_allclose(p.covariance, np.cov(pixels.reshape(-1, 3) / 255.0, rowvar=False))
    np.testing.assert_allclose(p.eigvecs @ np.diag(p.eigvals) @ p.eigvecs.T, p.covariance, atol=1e-12)
    assert p.eigvals[0] >= p.eigvals[1] >= p.eigvals[2] >= 0
    alphas = np.array([0.1, -0.2, 0.05])
    np.testing.assert_allclose(colour_shift(p.eigvals, p.eigvecs, alphas),
                               sum(a * lam * p.eigvecs[:, i] for i, (a, lam) in enumerate(zip(alphas, p.eigvals))))
    np.testing.assert_array_equal(add_colour(pixels, np.zeros(3)), pixels)
    assert int(add_colour(np.full((2, 2, 3), 100, np.uint8), np.array([0.1, 0, -0.1]))[0, 0, 0]) == 126
    vecs = np.array(IMAGENET_EIGVEC)  # the published constants: orthonormal columns, descending values
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=2e-3)
    assert list(IMAGENET_EIGVAL) == sorted(IMAGENET_EIGVAL, reverse=True)


def test_ten_crop_prediction_is_the_mean_of_the_crops_softmax():
    model = build_model(ARTICLE, seed=0)
    crops = ten_crops(base_image(_photo()), 224)
    result = ten_crop_prediction(model, crops, k=3)
    with torch.no_grad():
        one_by_one = np.stack([torch.softmax(model(to_batch([c])), 1)[0].numpy() for c in crops])
    np.testing.assert_allclose(result.probs, one_by_one, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result.average, one_by_one.mean(0), rtol=1e-4, atol=1e-7)
    assert [t[0] for t in result.top] == list(np.argsort(result.average)[::-1][:3])
    assert result.centre_top[0] == int(np.argmax(one_by_one[4]))
    assert not model.training and not any(m._forward_hooks for m in model.modules())
    with pytest.raises(SpecError):
        ten_crop_prediction(model, crops[:5])


# --- single units ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("padding,groups,channel", [(0, 1, 3), (2, 1, 0), (1, 2, 5)])
def test_conv_unit_equals_torch(padding, groups, channel):
    g = torch.Generator().manual_seed(2)
    x, w, b = torch.randn(4, 13, 13, generator=g), torch.randn(6, 4 // groups, 5, 5, generator=g), torch.randn(6)
    out = F.conv2d(x[None], w, b, stride=2, padding=padding, groups=groups)[0]
    side = out.shape[-1]
    for row, col in [(0, 0), (side - 1, side // 2)]:
        u = conv_unit(x.numpy(), w.numpy(), b.numpy(), stride=2, padding=padding, groups=groups, channel=channel,
                      row=row, col=col, forward=float(out[channel, row, col]))
        assert u.agrees and u.difference < 1e-4
        assert u.patch.shape == (4 // groups, 5, 5) and u.rows == (2 * row - padding, 2 * row - padding + 5)
    with pytest.raises(SpecError):
        conv_unit(x.numpy(), w.numpy(), b.numpy(), stride=2, padding=padding, groups=groups, channel=0, row=side,
                  col=0, forward=0.0)


def test_a_wrong_forward_value_is_caught():
    x, w, b = np.ones((3, 11, 11)), np.full((1, 3, 11, 11), 0.5), np.array([1.0])
    u = conv_unit(x, w, b, stride=4, padding=0, groups=1, channel=0, row=0, col=0, forward=182.5)
    assert u.value == 182.5 and u.agrees  # 363 · 0.5 + 1
    bad = conv_unit(x, w, b, stride=4, padding=0, groups=1, channel=0, row=0, col=0, forward=182.6)
    assert not bad.agrees


def test_real_c1_s2_f9_units_equal_the_forward_pass():
    model = build_model(PAPER, seed=0)
    x = torch.randn(1, 3, 227, 227, generator=torch.Generator().manual_seed(4))
    acts = capture(model, x, ["C1", "S2", "S8", "F9"])
    conv = model.layer("C1")
    u = conv_unit(x[0].numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), stride=4, padding=0,
                  groups=1, channel=17, row=30, col=41, forward=float(acts["C1.pre"][0, 17, 30, 41]))
    assert u.agrees, (u.value, u.forward)
    p = pool_unit(acts["C1"][0].numpy(), kernel=3, stride=2, channel=17, row=5, col=9,
                  forward=float(acts["S2"][0, 17, 5, 9]))
    assert p.agrees and p.window.shape == (3, 3) and p.window[p.argmax] == p.value
    fc = model.layer("F9")
    d = dense_unit(acts["S8"][0].numpy().ravel(), fc.weight.detach().numpy(), fc.bias.detach().numpy(), unit=123,
                   forward=float(acts["F9.pre"][0, 123]))
    assert d.agrees and d.inputs == 9216 and len(d.top) == 10
    assert d.value == pytest.approx(d.positive + d.negative + d.bias)
    flat = acts["S8"][0].flatten()
    for index, *_ in d.top:
        assert float(acts["S8"][0][flat_position(index, (256, 6, 6))]) == float(flat[index])


def test_max_pool_unit_equals_torch():
    m = torch.randn(2, 9, 9, generator=torch.Generator().manual_seed(7))
    out = F.max_pool2d(m[None], 3, 2)[0]
    u = pool_unit(m.numpy(), kernel=3, stride=2, channel=1, row=3, col=2, forward=float(out[1, 3, 2]))
    assert u.agrees and u.rows == (6, 9) and u.cols == (4, 7)


# --- overlapping pooling ---------------------------------------------------------------------------------

def test_pool_geometry_overlap_and_coverage():
    ours, plain = pool_geometry(55, 3, 2), pool_geometry(55, 2, 2)
    assert ours.out == plain.out == 27 and ours.overlap == 1 and plain.overlap == 0
    assert int(ours.reads.sum()) == 27 * 27 * 9 and int(plain.reads.max()) == 1
    assert plain.unread == pytest.approx(1 - (54 / 55) ** 2)  # the last row and column are never read
    # rows 2, 4, ..., 52 (26 of 55) are shared by two windows: 29 rows and columns are read once
    assert ours.unread == 0 and ours.reused == pytest.approx(1 - (29 / 55) ** 2)
    assert pool_geometry(13, 3, 2).out == pool_geometry(13, 2, 2).out == 6
    with pytest.raises(SpecError):
        pool_geometry(2, 3, 2)


def test_tower_strip_draws_red_links_only_where_the_gpus_talk():
    import plotly.graph_objects as go

    from alexnet_viz.core.bookkeeping import ledger
    from alexnet_viz.figures.ideas import tower_strip

    fig = tower_strip(ledger(PAPER))
    lines = [t for t in fig.data if isinstance(t, go.Scatter) and t.mode == "lines"]
    red = [t for t in lines if t.line.width == 3]
    assert len(red) == 8  # C5, F9, F10 (two crossings each) and F11 (one block reading both GPUs)
    assert len(lines) - len(red) == 20  # every other layer: each GPU's own link (C1: the image to both)
    assert sum(s.type == "rect" for s in fig.layout.shapes) == 1 + 2 * 10 + 1  # input, two towers, F11
    with pytest.raises(SpecError):
        tower_strip(ledger("article"))


def test_the_tolerance_is_relative_to_the_sum_of_magnitudes():
    from alexnet_viz.analysis.units import TF32_TOL

    x, w, b = np.ones((3, 11, 11)), np.full((1, 3, 11, 11), 0.5), np.array([1.0])
    strict = conv_unit(x, w, b, stride=4, padding=0, groups=1, channel=0, row=0, col=0, forward=182.6)
    loose = conv_unit(x, w, b, stride=4, padding=0, groups=1, channel=0, row=0, col=0, forward=182.6, rel_tol=TF32_TOL)
    assert strict.tolerance == pytest.approx(1e-5 * 182.5) and not strict.agrees
    assert loose.tolerance == pytest.approx(TF32_TOL * 182.5) and loose.agrees  # 0.1 off: within TF32's rounding
