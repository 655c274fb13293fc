"""The article page: every finding shows its evidence's basis and its sources; the memory measurement is shown."""

from streamlit.testing.v1 import AppTest

from alexnet_viz import errata
from alexnet_viz.errata import paper
from tests.helpers import PAGE_DIR, ROOT, texts

PAGE = str(ROOT / PAGE_DIR / "article.py")
BOXES_AND_CAPTIONS = ("error", "warning", "info", "caption")


def _table(at: AppTest, column: str):
    """The page's dataframe that has `column` (AppTest finds dataframes by position, not key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_findings_show_basis_and_sources_and_the_caption_is_true():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception, [e.value for e in at.exception]
    text = texts(at, BOXES_AND_CAPTIONS)
    assert "nothing in the evidence column is typed in" not in text
    assert "*The paper:*" in text and "*Computed:*" in text  # both kinds of evidence, labelled
    shown = [f for f in errata.findings() if f.verdict != "correct"]
    boxes = [b.value for b in (*at.error, *at.warning, *at.info)]
    assert len(boxes) == len(shown)
    for f in shown:
        box = next(b for b in boxes if b.startswith(f"**{f.topic}**"))
        assert "*Sources:*" in box and (f.source.paper or "not in the paper") in box, f.key
    two_gpus = next(b for b in boxes if "requires at least two GPUs" in b)
    assert paper.PASSAGES["two_gpus"].text in two_gpus and "Sec. 3.2" in two_gpus
    table = _table(at, "quantity")
    assert list(table["quantity"])[:4] == ["weights", "weights, gradients, momentum",
                                           "saved by autograd for backward",
                                           "estimated peak (the sum of both)"]


def test_correct_claims_table_has_sources():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.pills(key="verdicts").set_value(["correct"]).run()
    assert not at.exception and not at.error
    table = _table(at, "sources")
    assert {"evidence", "basis", "sources"} <= set(table.columns)
    assert "Sec. 3.5, Fig. 2" in " ".join(table["sources"])


def test_both_rounding_rules_are_shown_side_by_side():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception
    table = _table(at, "rounding")
    paper224 = table[(table["input"] == 224) & (table["network"] == "C1 padding 0 (paper)")]
    assert dict(zip(paper224["rounding"], paper224["C1"])) == {"ceiling (cuda-convnet)": 55, "floor (PyTorch)": 54}
    assert any("layer.py:1097" in m.value for m in at.markdown)
