"""The numbers the ideas and operations pages tabulate, built in the library from the spec and the arrays."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alexnet_viz.core.spec import PAPER, VARIANTS
from alexnet_viz.ideas.augment import TEN_CROP_NAMES, TenCrop, colour_pca
from alexnet_viz.ideas.basics import dropout_demo, dropout_input
from alexnet_viz.ideas.operations import pool_comparison
from alexnet_viz.ideas.stack import dropout_places, layer_stack


def test_the_papers_pools_overlap_where_two_by_two_would_not() -> None:
    rows = pool_comparison(PAPER)
    assert [(r.layer, r.ours.size) for r in rows] == [("S2", 55), ("S4", 27), ("S8", 13)]
    assert all((r.ours.kernel, r.ours.stride, r.plain.kernel, r.plain.stride) == (3, 2, 2, 2) for r in rows)
    assert [r.ours.out for r in rows] == [r.plain.out for r in rows] == [27, 13, 6]  # same sides (Sec. 3.4)
    assert all(r.ours.reused > 0 and r.plain.reused == 0 for r in rows)
    assert [round(r.plain.unread, 3) for r in rows] == [0.036, 0.073, 0.148]  # the odd side's last row and column


def test_a_spec_with_other_pools_is_tabulated_with_its_own() -> None:
    spec = PAPER.with_layer("S2", kernel=2)
    assert (pool_comparison(spec)[0].ours.kernel, pool_comparison(spec)[0].ours.reused) == (2, 0.0)


def test_dropout_drops_the_outputs_after_the_relu_in_the_paper_the_inputs_in_torchvision() -> None:
    paper = dropout_places(PAPER)
    assert [(p.layer, p.drops) for p in paper] == [("F9", "F9"), ("F10", "F10")]
    assert paper[0].runs == ("Linear 9,216→4,096", "ReLU: max(x, 0)", "Dropout p = 0.5")
    torchvision = dropout_places(VARIANTS["torchvision"])
    assert [(p.layer, p.drops) for p in torchvision] == [("F9", "S8"), ("F10", "F9")]
    assert torchvision[1].runs == ("Dropout p = 0.5", "Linear 4,096→4,096", "ReLU: max(x, 0)")
    assert dropout_places(PAPER.with_layer("F10", dropout=0.0))[-1].layer == "F9"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_modules_short_form_is_its_settings_without_the_remarks(variant: str) -> None:
    spec = VARIANTS[variant]
    for name in spec.names:
        for stage in layer_stack(spec, name):
            assert stage.text.startswith(stage.short.split(" α")[0]) and len(stage.short) <= len(stage.text)
            assert "(each half" not in stage.short and "(training only)" not in stage.short
    lrn = layer_stack(PAPER, "C1")[2]
    assert lrn.short == "LocalResponseNorm n = 5, α = 0.0001, β = 0.75, k = 2, within each GPU's 48 maps"
    assert "torch alpha" in lrn.text and "torch alpha" not in lrn.short


def test_dropout_input_is_the_strongest_outputs_in_unit_order() -> None:
    f9 = np.array([0.0, 5.0, 1.0, 7.0, 0.5, 3.0, 2.0, 0.0])
    chosen = dropout_input(f9, n=4)
    assert chosen.units == (1, 3, 5, 6) and chosen.real
    assert chosen.x.dtype == np.float64 and chosen.x.tolist() == [5.0, 7.0, 3.0, 2.0]
    dropout_demo(chosen.x)  # no zeros: the demo can read its masks back


def test_with_silent_outputs_the_demo_runs_on_one_to_n() -> None:
    chosen = dropout_input(np.array([0.0, 4.0, 0.0, 0.0]), n=3)
    assert not chosen.real and chosen.x.tolist() == [1.0, 2.0, 3.0] and len(chosen.units) == 3
    dropout_demo(chosen.x)


def test_the_colour_pca_rebuilds_its_covariance_to_rounding() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    p = colour_pca(pixels)
    assert p.rebuild_error < 1e-15
    assert replace(p, covariance=p.covariance + 1e-3).rebuild_error == pytest.approx(1e-3)


def test_the_ten_crop_spread_is_measured_from_the_centre_crop() -> None:
    probs = np.full((10, 3), 1 / 3)
    probs[TEN_CROP_NAMES.index("centre")] = [0.5, 0.25, 0.25]
    probs[7] = [0.2, 0.3, 0.5]
    result = TenCrop(probs=probs, average=probs.mean(0), top=(), centre_top=(0, "a", 0.5), agree_with_centre=1)
    assert result.centre_spread == pytest.approx(0.3)  # crop 7's first class: 0.2 against the centre's 0.5
