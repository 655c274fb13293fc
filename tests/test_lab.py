"""The lab: table rows round-trip to the spec, edits recompute, bad edits stay on their row."""
import math

import pytest

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import ARTICLE, PAPER, VARIANTS
from alexnet_viz.errors import SpecError
from alexnet_viz.lab import COLUMNS, apply_row, evaluate, spec_rows, verify_with_torch


def _edit(rows, name, **changes):
    return [dict(r, **changes) if r["layer"] == name else dict(r) for r in rows]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_rows_round_trip(variant):
    spec = VARIANTS[variant]
    rows = spec_rows(spec)
    assert all(tuple(r) == COLUMNS for r in rows)
    result = evaluate(spec, rows, spec.input_size)
    assert result.errors == {} and result.spec == spec
    assert result.ledger.total_params == ledger(spec).total_params


def test_input_size_changes_c1():
    result = evaluate(ARTICLE, spec_rows(ARTICLE), 227)
    assert result.ledger.row("C1").out_shape == (96, 56, 56) and result.input_size == 227


def test_edit_recomputes():
    rows = _edit(spec_rows(ARTICLE), "C1", channels=64, kernel=7.0)  # editors hand back floats
    result = evaluate(ARTICLE, rows, 224)
    assert result.errors == {}
    c1 = result.ledger.row("C1")
    assert c1.out_shape[0] == 64 and c1.params == (7 * 7 * 3 + 1) * 64


def test_invalid_groups_reported_on_its_row_rest_usable():
    rows = _edit(spec_rows(ARTICLE), "C3", groups=3)
    rows = _edit(rows, "C6", channels=500)
    result = evaluate(ARTICLE, rows, 224)
    assert set(result.errors) == {"C3"} and "groups" in result.errors["C3"]
    assert result.spec.layer("C3").groups == 1  # kept its last valid value
    assert result.ledger.row("C6").out_shape[0] == 500  # the valid edit still applies


def test_kernel_too_big_blames_the_layer():
    result = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "C7", kernel=50), 224)
    assert set(result.errors) == {"C7"} and "too small" in result.errors["C7"]
    assert result.ledger.row("C7").kernel == 3


def test_input_too_small_blames_the_input():
    result = evaluate(ARTICLE, spec_rows(ARTICLE), 20)
    assert set(result.errors) == {"input"} and "at least 63x63" in result.errors["input"]
    assert result.input_size == ARTICLE.input_size


def test_impossible_edit_keeps_the_last_valid_values_not_the_presets():
    """Issue 20: C1 stride 2, then kernel 300: the totals stay at stride 2's, as the table still shows it."""
    stride2 = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "C1", stride=2), 224)
    assert stride2.errors == {} and stride2.ledger.total_params == 175_624_552
    result = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "C1", stride=2, kernel=300), 224, last=stride2.spec)
    assert set(result.errors) == {"C1"} and "too small" in result.errors["C1"]
    assert result.spec.layer("C1").stride == 2 and result.ledger.total_params == 175_624_552
    typo = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "C1", stride=2, kernel="x"), "y", last=stride2.spec)
    assert set(typo.errors) == {"C1", "input"} and typo.spec == stride2.spec


@pytest.mark.parametrize("bad", [None, math.nan, "abc", 2.5, ""])
def test_bad_cells(bad):
    result = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "C5", stride=bad), 224)
    assert set(result.errors) == {"C5"}
    assert result.ledger.total_params == ledger(ARTICLE).total_params


def test_bad_input_cell():
    assert set(evaluate(ARTICLE, spec_rows(ARTICLE), "big").errors) == {"input"}


def test_kind_changes():
    result = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "S2", kind="avgpool"), 224)
    assert result.errors == {} and result.spec.layer("S2").kind == "avgpool"
    with pytest.raises(SpecError, match="cannot become"):
        apply_row(ARTICLE.layer("C1"), dict(spec_rows(ARTICLE)[0], kind="fc"))
    result = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "S4", kind="conv"), 224)
    assert set(result.errors) == {"S4"}


def test_fc_features():
    result = evaluate(ARTICLE, _edit(spec_rows(ARTICLE), "F10", channels=1024), 224)
    assert result.ledger.row("F10").params == (4096 + 1) * 1024


def _narrow(spec):
    widths = {"C1": 8, "C3": 16, "C5": 16, "C6": 16, "C7": 16, "F9": 32, "F10": 32, "F11": 10}
    for name, w in widths.items():
        spec = spec.with_layer(name, out=w)
    return spec


@pytest.mark.parametrize("spec", [_narrow(PAPER), _narrow(VARIANTS["torchvision"])], ids=["paper", "torchvision"])
def test_verify_with_torch_agrees(spec):
    records = verify_with_torch(spec, 100)
    assert [r["layer"] for r in records] == [*spec.names, "total"]
    assert all(r["agree"] for r in records), records
    assert records[-1]["ledger params"] == ledger(spec, 100).total_params


def test_verify_refuses_huge_networks():
    huge = ARTICLE.with_layer("F9", out=100_000)
    with pytest.raises(SpecError, match="keep it under"):
        verify_with_torch(huge)


def test_missing_rows_are_unchanged():
    rows = [r for r in spec_rows(ARTICLE) if r["layer"] != "C3"]
    result = evaluate(ARTICLE, _edit(rows, "C1", channels=48), 224)
    assert result.errors == {} and result.spec.layer("C3") == ARTICLE.layer("C3")
    assert result.ledger.row("C3").in_shape[0] == 48
