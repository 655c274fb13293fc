"""Derivations show the working with the layer's own numbers and compare with the article honestly."""
import pytest

from alexnet_viz.compare import variant_differences, where_it_lives
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.formatting import fmt_bytes
from alexnet_viz.core.spec import ARTICLE, NAMES, PAPER, TORCHVISION, VARIANTS
from alexnet_viz.errata import article
from alexnet_viz.errata.derive import derive
from alexnet_viz.report import records


def _step(d, label):
    return next(s for s in d.steps if s.label == label)


def test_c1_size_shows_unrounded_floor_and_ceiling():
    d = derive(ARTICLE, "C1")
    size = _step(d, "output side")
    assert "(224 − 11 + 2·2) / 4 + 1 = 55.25" in size.working
    assert size.result.startswith("⌊55.25⌋ = 55") and "ceiling formula gives 56" in size.result
    params = _step(d, "parameters")
    assert params.working == "(11·11·3/1 + 1) · 96" and params.result == "34,944" and params.agrees is True


ARTICLE_ERRORS = {("C1", "output side"), ("C5", "input")}  # its ceiling formula, its "C4"


@pytest.mark.parametrize("name", NAMES)
def test_article_variant_agrees_with_every_stated_number_and_marks_its_own_errors(name):
    d = derive(ARTICLE, name)
    compared = [s for s in d.steps if s.agrees is not None]
    assert compared, "every layer has at least its output shape stated"
    differs = {(name, s.label) for s in compared if not s.agrees}
    assert differs == {e for e in ARTICLE_ERRORS if e[0] == name}, [(s.label, s.result, s.article) for s in compared]


def test_the_article_networks_own_page_shows_the_ceiling_and_c4_as_errors():
    """README: 'a ✗ marks where it differs'. Before, the article's own network showed no ✗ at all."""
    side = _step(derive(ARTICLE, "C1"), "output side")
    assert side.agrees is False and side.article.startswith("56 by its formula")
    assert "✗ differs" in derive(ARTICLE, "C1").to_markdown()
    source = _step(derive(ARTICLE, "C5"), "input")
    assert source.agrees is False and "from C4 (it has no layer C4)" in source.article
    assert source.result.endswith("from S4")
    assert _step(derive(PAPER, "C1"), "output side").agrees is True  # 227: both rules give 55


def test_paper_c3_differs_from_the_article_because_of_groups():
    params = _step(derive(PAPER, "C3"), "parameters")
    assert params.working == "(5·5·96/2 + 1) · 256"
    assert params.result == f"{ledger(PAPER).row('C3').params:,}"
    assert params.article == f"{article.layer('C3').params:,}" and params.agrees is False


def test_flattened_input_of_f9_is_compared_by_size():
    step = _step(derive(ARTICLE, "F9"), "input")
    assert step.agrees is True and "flattened = 9,216" in step.article


def test_steps_carry_ledger_numbers():
    book = ledger("torchvision", 300)
    d = derive(TORCHVISION, "C5", 300)
    row = book.row("C5")
    assert _step(d, "running total").result == f"{row.cumulative_params:,}"
    assert f"{row.macs_without_bias:,}" in _step(d, "multiply-adds").result
    assert _step(d, "activation memory").result == fmt_bytes(row.activation_bytes)
    assert _step(d, "receptive field").result.startswith(f"{row.rf}×{row.rf}")
    assert any(s.label == "adaptive pool" for s in derive(TORCHVISION, "S8", 300).steps)


def test_markdown_has_one_row_per_step_and_marks():
    d = derive(PAPER, "C3")
    md = d.to_markdown()
    assert md.count("\n") == len(d.steps) + 2
    assert "✗ differs" in md and "✓ agrees" in md


def test_unknown_layer():
    with pytest.raises(KeyError):
        derive(ARTICLE, "C4")


def test_fmt_bytes():
    assert fmt_bytes(512) == "512 B" and fmt_bytes(2048) == "2.00 KiB" and fmt_bytes(3 * 2**30) == "3.00 GiB"


def test_where_it_lives_article():
    share = where_it_lives(ledger("article"))
    assert share["fc_params"] > 0.9 and share["conv_macs"] > 0.9
    assert share["fc_params"] + share["conv_params"] == pytest.approx(1.0)
    assert share["fc_layers"] == "F9, F10, F11"


def test_variant_differences():
    rows = {r["layer"]: r for r in variant_differences()}
    assert set(rows) == set(NAMES)
    column = "differences (article / paper / torchvision)"
    assert rows["C3"][column] == "width 256 / 256 / 192 · groups 1 / 2 / 1 · LRN – / yes / –"
    assert rows["S4"][column] == "same"
    assert rows["F11"]["torchvision params"] == ledger(VARIANTS["torchvision"]).row("F11").params
    assert rows["S8"][column] == "adaptive pool – / – / 6"


def test_ledger_records():
    recs = records(ledger("article"))
    assert [r["layer"] for r in recs] == list(NAMES)
    assert recs[0]["output"] == "55x55x96" and recs[0]["unrounded"] == "55.25"
    assert recs[-1]["unrounded"] == "-" and recs[-1]["params"] == 4_097_000
