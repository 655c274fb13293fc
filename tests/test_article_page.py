"""The article page: every finding shows its evidence's basis and its sources; the memory measurement is shown."""

from streamlit.testing.v1 import AppTest

from alexnet_viz import errata
from alexnet_viz.errata import paper
from tests.helpers import ROOT, texts
from ui.navigation import PAGE_DIR

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


def _in_page_order(node):
    """The page's elements in the order it drew them (AppTest's at.error etc. group them by kind)."""
    kids = getattr(node, "children", None)
    if not kids:
        yield node
        return
    for index in sorted(kids):
        yield from _in_page_order(kids[index])


def test_cards_come_most_serious_first_and_link_to_the_pages_that_show_them():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception
    cards = [(n.type, n.value) for n in _in_page_order(at.main) if n.type in ("error", "warning", "info")
             and n.value.startswith("**")]
    expected = [f for f in errata.by_severity(errata.findings()) if f.verdict != "correct"]
    assert [value.split("** — ")[0][2:] for _, value in cards] == [f.topic for f in expected]
    assert [kind for kind, _ in cards] == [{"wrong": "error", "misleading": "warning", "left out": "info"}[f.verdict]
                                           for f in expected]
    texts = "\n".join(value for _, value in cards)
    assert "[See it: both readings of the LRN compared on real C1 maps](/ideas?variant=paper&idea=lrn)" in texts
    assert "(/ideas?variant=paper&idea=two-gpus)" in texts  # the grouping card: the two-tower drawing
    at.pills(key="verdicts").set_value(["correct"]).run()
    table = _table(at, "see it")
    links = dict(zip(table["claim"], table["see it"]))
    assert links[next(f.topic for f in errata.findings() if f.key == "input-224")] == "/lab?variant=paper"
