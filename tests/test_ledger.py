"""The ledger against the article's table, the published totals, and hostile integers."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alexnet_viz import ARTICLE, PAPER, TORCHVISION, SpecError, ledger, min_input_size
from alexnet_viz.core.bookkeeping import MAX_VALUE
from alexnet_viz.core.spec import LAYER_KINDS

# The article's table (shapes as H, W, C; params; running totals), as the article prints it.
ARTICLE_TABLE = {
    "C1": ((55, 55, 96), 34_944, 34_944),
    "S2": ((27, 27, 96), 0, 34_944),
    "C3": ((27, 27, 256), 614_656, 649_600),
    "S4": ((13, 13, 256), 0, 649_600),
    "C5": ((13, 13, 384), 885_120, 1_534_720),
    "C6": ((13, 13, 384), 1_327_488, 2_862_208),
    "C7": ((13, 13, 256), 884_992, 3_747_200),
    "S8": ((6, 6, 256), 0, 3_747_200),
    "F9": ((4096,), 37_752_832, 41_500_032),
    "F10": ((4096,), 16_781_312, 58_281_344),
    "F11": ((1000,), 4_097_000, 62_378_344),
}


def test_article_rows_match_the_article_table() -> None:
    book = ledger("article")
    assert [r.name for r in book.rows] == list(ARTICLE_TABLE)
    for row in book.rows:
        shape, params, running = ARTICLE_TABLE[row.name]
        hwc = (row.out_shape[1], row.out_shape[2], row.out_shape[0]) if len(row.out_shape) == 3 else row.out_shape
        assert (hwc, row.params, row.cumulative_params) == (shape, params, running), row.name
    assert book.total_params == 62_378_344
    assert book.total_macs_with_bias == 1_135_915_368


def test_published_totals_of_the_other_variants() -> None:
    assert ledger("torchvision").total_params == 61_100_840
    assert ledger("paper").total_params == 60_965_224  # the two-GPU model's well-known count
    assert ledger("paper").input_size == 227


def test_c1_shows_the_unrounded_size_before_the_floor() -> None:
    c1 = ledger("article", 224).row("C1")
    assert c1.size_exact == 55.25 and c1.out_shape == (96, 55, 55)
    assert ledger("paper").row("C1").size_exact == 55.0


def test_macs_with_and_without_bias_differ_by_one_add_per_output() -> None:
    for row in ledger("article").rows:
        if row.kind in ("conv", "fc"):
            assert row.macs_with_bias - row.macs_without_bias == row.activations


def test_receptive_field_and_jump() -> None:
    book = ledger("article")
    assert (book.row("C1").rf, book.row("C1").jump) == (11, 4)
    assert (book.row("S2").rf, book.row("S2").jump) == (19, 8)
    assert (book.row("S8").rf, book.row("S8").jump) == (195, 32)


def test_activation_memory_is_float32() -> None:
    c1 = ledger("article").row("C1")
    assert c1.activations == 96 * 55 * 55 and c1.activation_bytes == 4 * c1.activations


def test_smallest_input_is_computed_and_named_in_the_error() -> None:
    assert min_input_size(ARTICLE) == 63 == min_input_size(TORCHVISION)
    ledger("article", 63)
    with pytest.raises(SpecError) as err:
        ledger("article", 62)
    assert err.value.layer == "S8" and "63x63" in str(err.value)


def test_groups_that_do_not_divide_are_explained() -> None:
    bad = ARTICLE.with_layer("C5", groups=5)
    with pytest.raises(SpecError) as err:
        ledger(bad)
    msg = str(err.value)
    assert err.value.layer == "C5" and "5 groups" in msg and ("256" in msg or "384" in msg)


def test_pool_padding_over_half_the_window_is_refused() -> None:
    with pytest.raises(SpecError, match="S2"):
        ledger(ARTICLE.with_layer("S2", padding=2))


def test_unknown_variant_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="article"):
        ledger("vgg")


def test_editing_the_input_size_changes_f9() -> None:
    assert ledger("article", 256).row("F9").in_shape == (256 * 7 * 7,)


def test_paper_groups_halve_the_grouped_layers() -> None:
    paper, article = ledger(PAPER), ledger("article")
    for name in ("C3", "C6", "C7"):
        assert paper.row(name).weight_params * 2 == article.row(name).weight_params


_ints = st.integers(min_value=-(10**7), max_value=10**7)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(layer=st.sampled_from(ARTICLE.names), kind=st.sampled_from(LAYER_KINDS), out=_ints, kernel=_ints,
       stride=_ints, padding=_ints, groups=_ints, size=_ints)
def test_any_integers_give_a_ledger_or_a_spec_error(layer, kind, out, kernel, stride, padding, groups, size) -> None:
    spec = ARTICLE.with_layer(layer, kind=kind, out=out, kernel=kernel, stride=stride, padding=padding, groups=groups)
    try:
        book = ledger(spec, size)
    except SpecError as exc:
        assert str(exc)
    else:
        assert book.total_params >= 0 and all(r.activations > 0 for r in book.rows)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(size=st.one_of(_ints, st.integers(min_value=55, max_value=80)), channels=st.one_of(_ints, st.integers(1, 9)))
def test_any_input_geometry_gives_a_ledger_exactly_when_it_fits(size, channels) -> None:
    """Accepted exactly when the side reaches the article's 63 pixels and both numbers are in range."""
    fits = 63 <= size <= MAX_VALUE and 1 <= channels <= MAX_VALUE
    try:
        book = ledger(replace(ARTICLE, in_channels=channels), size)
    except SpecError as exc:
        assert not fits, (size, channels, str(exc))
    else:
        assert fits
        assert book.row("C1").weight_params == 96 * channels * 11 * 11  # 96 kernels of 11x11 over every channel
        side = (size - 11 + 4) // 4 + 1  # C1, then three 3x3 stride-2 pools around the same-size convs
        for _ in range(3):
            side = (side - 3) // 2 + 1
        assert book.row("F9").in_shape == (256 * side * side,)


def test_start_is_the_centre_of_unit_zero() -> None:
    """C1 unit 0 of the article reads input -2..8 (padding 2), so its centre is pixel 3; the paper's, 0..10."""
    assert ledger("article").row("C1").start == 3.0 and ledger("paper").row("C1").start == 5.0
    # S2 unit 0 pools C1 units 0..2, whose centres are 3, 7 and 11
    assert ledger("article").row("S2").start == 7.0


def test_the_package_function_does_not_shadow_its_module() -> None:
    import alexnet_viz
    import alexnet_viz.core.bookkeeping

    assert callable(alexnet_viz.ledger) and alexnet_viz.ledger is alexnet_viz.core.bookkeeping.ledger
    assert alexnet_viz.core.bookkeeping.conv_out(224, 11, 4, 2) == (55, 55.25)
