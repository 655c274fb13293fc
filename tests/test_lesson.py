"""The lesson's numbers (alexnet_viz.analysis.lesson) against hand-made arrays, PyTorch and the article's own counts."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from alexnet_viz.analysis import lesson
from alexnet_viz.analysis.units import conv_unit
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import ARTICLE, LRN, PAPER
from alexnet_viz.errata import article
from alexnet_viz.errors import SpecError
from alexnet_viz.ideas.basics import lrn_by_hand


def test_the_followed_unit_is_the_centre_of_the_strongest_channel_there():
    pre = np.zeros((4, 5, 5), dtype=np.float32)
    pre[2, 2, 2], pre[1, 0, 0] = 0.5, 9.0  # the corner is larger, but only the centre counts
    assert lesson.focus_unit(pre) == lesson.Focus(2, 2, 2)
    with pytest.raises(SpecError, match="channels, height, width"):
        lesson.focus_unit(np.zeros((5, 5)))


def test_a_pixel_is_normalised_as_the_input_tensor_says():
    view = np.full((4, 4, 3), (255, 0, 128), dtype=np.uint8)
    mean, std = (0.5, 0.25, 0.5), (0.5, 0.25, 0.25)
    x = ((view.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / np.array(std)[:, None, None])[None]
    p = lesson.pixel_in(view, x.astype(np.float32), 1, 2, mean, std)
    assert p.rgb == (255, 0, 128) and p.normalised[0] == pytest.approx(1.0) and p.normalised[1] == -1.0
    assert p.agrees
    moved = lesson.pixel_in(view, (x + 0.01).astype(np.float32), 1, 2, mean, std)
    assert not moved.agrees
    with pytest.raises(SpecError, match="outside"):
        lesson.pixel_in(view, x, 4, 0, mean, std)


def test_the_first_products_run_channel_then_row_then_column():
    x = np.arange(2 * 4 * 4, dtype=np.float64).reshape(2, 4, 4)
    w = np.arange(1, 2 * 2 * 2 + 1, dtype=np.float64).reshape(1, 2, 2, 2)
    unit = conv_unit(x, w, np.zeros(1), stride=1, padding=0, groups=1, channel=0, row=1, col=1,
                     forward=0.0)
    first = lesson.first_products(unit, 5)
    assert [(p.channel, p.dy, p.dx) for p in first] == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0)]
    assert [p.value for p in first] == [5.0, 6.0, 9.0, 10.0, 21.0]
    assert all(p.product == p.value * p.weight for p in first)


def test_relu_counts_what_it_zeroes():
    pre = np.array([[[-1.0, 0.0], [2.0, 3.0]], [[-4.0, -5.0], [-6.0, 7.0]]])
    r = lesson.relu_step(pre, lesson.Focus(0, 1, 0))
    assert (r.value, r.after, r.channel_zeroed, r.channel_units, r.layer_zeroed, r.layer_units) == \
        (2.0, 2.0, 2, 4, 5, 8)
    assert lesson.relu_step(pre, lesson.Focus(1, 0, 0)).after == 0.0


def test_lrn_of_one_value_is_the_formula_under_both_readings_within_a_gpus_block():
    rng = np.random.default_rng(0)
    maps = np.abs(rng.normal(0, 30, (8, 3, 3)))  # large values: the two readings differ visibly
    code, printed = LRN(groups=2), LRN(groups=2, rule="printed")
    for channel in (0, 2, 3, 4, 7):  # both ends of each GPU's block of 4, where the window is cut short
        u = lesson.lrn_unit(maps, code, lesson.Focus(channel, 1, 2))
        assert u.code == pytest.approx(lrn_by_hand(maps, code)[channel, 1, 2], rel=1e-12)
        assert u.printed == pytest.approx(lrn_by_hand(maps, printed)[channel, 1, 2], rel=1e-12)
        assert all(c // 4 == channel // 4 for c in u.channels)  # never across the GPU boundary
        assert u.code > u.printed and u.result == u.code and u.agrees is None
    forward = lrn_by_hand(maps, code)[3, 1, 2]
    assert lesson.lrn_unit(maps, code, lesson.Focus(3, 1, 2), forward).agrees
    assert not lesson.lrn_unit(maps, printed, lesson.Focus(3, 1, 2), forward).agrees
    assert lesson.lrn_unit(maps, LRN(), lesson.Focus(3, 1, 2)).channels == (1, 2, 3, 4, 5)
    with pytest.raises(SpecError, match="split into 3 blocks"):
        lesson.lrn_unit(maps, LRN(groups=3), lesson.Focus(0, 0, 0))


def test_two_pooling_windows_share_a_column_and_can_share_their_maximum():
    maps = np.zeros((1, 7, 7))
    maps[0, 1, 2] = 5.0  # in the column windows 0 and 1 share
    p = lesson.pool_pair(maps, kernel=3, stride=2, focus=lesson.Focus(0, 1, 1), pooled=np.full((1, 3, 3), 5.0))
    assert (p.first.cols, p.second.cols, p.cols, p.shared) == ((0, 3), (2, 5), (0, 5), 1)
    assert p.region.shape == (3, 5) and p.same_peak and p.first.value == p.second.value == 5.0
    maps[0, 0, 4] = 6.0
    q = lesson.pool_pair(maps, kernel=3, stride=2, focus=lesson.Focus(0, 1, 1), pooled=np.zeros((1, 3, 3)))
    assert not q.same_peak and q.second.value == 6.0
    last = lesson.pool_pair(maps, kernel=3, stride=2, focus=lesson.Focus(0, 6, 6), pooled=np.zeros((1, 3, 3)))
    assert (last.first.col, last.second.col) == (2, 1)  # the last window's neighbour is on its left


def test_the_split_from_the_ledger_matches_the_articles_own_parameter_counts():
    s = lesson.split(ledger(ARTICLE))
    fc = sum(layer.params for layer in article.LAYERS if layer.name.startswith("F"))
    assert s.fc_params == fc == 58_631_144 and s.conv_params + s.fc_params == 62_378_344
    assert round(s.fc_param_share * 100) == 94 and round(s.conv_work_share * 100) == 95
    paper = lesson.split(ledger(PAPER))  # groups=2 halves three convolutions' work
    assert paper.conv_work_share < s.conv_work_share


def test_softmax_top_is_torchs_softmax():
    z = np.random.default_rng(1).normal(0, 3, 1000)
    s = lesson.softmax_top(z, 5)
    probs = torch.softmax(torch.from_numpy(z), 0)
    assert list(s.indices) == probs.topk(5).indices.tolist()
    assert s.probs == pytest.approx(probs.topk(5).values.tolist(), rel=1e-12)
    assert s.exps[0] == 1.0 and s.chance == 1 / 1000
    assert lesson.softmax_top(np.array([1.0, 2.0]), 5).indices == (1, 0)
    with pytest.raises(SpecError, match="no class scores"):
        lesson.softmax_top(np.array([]))


def test_nested_fields_grow_and_a_flat_map_is_called_flat():
    boxes = lesson.centre_fields(ARTICLE, ("C1", "C3", "C5"))
    assert [b.rf for b in boxes] == [11, 51, 99]
    maps = np.full((2, 6, 6), 10.0)
    maps[0, 0, :] = 0.0  # the ring does not count
    maps[1, 2, 2] = 20.0
    assert lesson.interior_spread(maps, (0,)) == 0.0 and lesson.interior_spread(maps, (1,)) == 0.5
    assert lesson.dropout_is_off(np.array([-1.0, 2.0]), np.array([0.0, 2.0]))
    assert not lesson.dropout_is_off(np.array([-1.0, 2.0]), np.array([0.0, 4.0]))
