"""AppTest for the architecture pages: they run, show computed numbers and follow their widgets.

In Streamlit 1.67 `AppTest.switch_page` on this app resolves a page to the legacy `pages/` entry
and runs the page script without the entry script, so the sidebar is not drawn there; pages are
tested directly (their `context()` falls back to session state, then the URL, then "article"),
and the sidebar through the entry script's default page.
"""
import pytest
from streamlit.testing.v1 import AppTest

from alexnet_viz import errata
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import VARIANTS
from ui.navigation import PAGE_DIR

PAGES = ["overview", "layers", "lab", "operations", "article"]
APP = "../streamlit_app.py"


def _nav(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    return at.switch_page(f"{PAGE_DIR}/{page}.py").run()


def _page(page: str, variant: str | None = None) -> AppTest:
    at = AppTest.from_file(f"../{PAGE_DIR}/{page}.py", default_timeout=120)
    if variant:
        at.session_state["variant"] = variant
    return at


def _text(at: AppTest) -> str:
    html = [e.proto.body for e in at.get("html")]  # the layer page's derivation table
    return "\n".join([*(str(e.value) for e in [*at.markdown, *at.caption, *at.subheader, *at.title, *at.code]),
                      *html])


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_alone_and_in_the_app(page):
    alone = AppTest.from_file(f"../{PAGE_DIR}/{page}.py", default_timeout=120).run()
    assert not alone.exception, alone.exception
    assert not _nav(page).exception


@pytest.mark.parametrize("variant", ["paper", "torchvision"])
@pytest.mark.parametrize("page", ["overview", "layers", "lab"])
def test_pages_run_for_every_variant(page, variant):
    at = _page(page, variant)
    at.query_params["layer"] = "S8"  # the adaptive pool in torchvision, the grouped net's last pool
    assert not at.run().exception


def test_overview_shows_computed_totals_and_follows_the_variant():
    at = AppTest.from_file(APP, default_timeout=120).run()  # the default page, with the sidebar
    assert f"{ledger('article').total_params:,}" == "62,378,344" == at.metric[0].value
    assert at.metric[1].value == f"{ledger('article').total_macs_with_bias:,}"
    at.sidebar.selectbox(key="variant").set_value("paper").run()
    assert not at.exception
    assert at.metric[0].value == f"{ledger('paper').total_params:,}"


def test_layers_picker_and_deep_link():
    at = _page("layers")
    at.query_params["layer"] = "C5"
    at.run()
    assert at.radio(key="layers_pick").value == "C5"
    assert "C5: convolution" in _text(at) and "885,120" in _text(at)
    at.radio(key="layers_pick").set_value("F9").run()
    assert not at.exception
    assert "F9: fully connected" in _text(at) and "(9,216 + 1) · 4,096" in _text(at)
    assert at.query_params["layer"] in ("F9", ["F9"])


def test_lab_input_size_changes_c1_and_bad_edits_become_messages():
    at = _page("lab").run()
    c1 = lambda: _ledger_table(at).iloc[0]["output"]  # noqa: E731
    assert c1() == "55x55x96"
    at.number_input(key="lab_input").set_value(227).run()
    assert not at.exception and c1() == "56x56x96"
    at.number_input(key="lab_input").set_value(20).run()
    assert not at.exception and any("at least 63x63" in e.value for e in at.error)
    assert c1() == "56x56x96"  # kept the last valid size, 227

    at = _page("lab")
    at.session_state["lab_rows_article_0"] = {"edited_rows": {2: {"groups": 3}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert any("C3" in e.value and "groups" in e.value for e in at.error)
    layers = list(_ledger_table(at)["layer"])
    assert "⚠ C3" in layers and "C1" in layers  # the row is marked; no wide "problem" column
    assert "problem" not in _ledger_table(at).columns
    assert len(at.get("download_button")) == 3


def test_lab_asks_before_switching_presets_throws_edits_away_and_resets():
    at = _page("lab").run()
    at.number_input(key="lab_input").set_value(227).run()
    at.selectbox(key="lab_preset_pick").set_value("paper").run()
    assert not at.exception
    assert at.session_state["lab_preset"] == "article" and at.number_input(key="lab_input").value == 227
    assert any("throws away" in w.value for w in at.warning)
    at.button(key="lab_keep").click().run()
    assert at.session_state["lab_preset"] == "article" and at.number_input(key="lab_input").value == 227
    at.selectbox(key="lab_preset_pick").set_value("paper").run()
    at.button(key="lab_switch").click().run()
    assert at.session_state["lab_preset"] == "paper"
    assert at.number_input(key="lab_input").value == VARIANTS["paper"].input_size
    at.number_input(key="lab_input").set_value(300).run()
    at.button(key="lab_reset").click().run()
    assert at.number_input(key="lab_input").value == VARIANTS["paper"].input_size
    at.selectbox(key="lab_preset_pick").set_value("article").run()  # nothing to lose: no question
    assert at.session_state["lab_preset"] == "article" and not at.warning


def test_lab_impossible_edit_keeps_the_last_valid_network():
    """Issue 20: after C1 stride 2 (valid), kernel 300 (impossible) must not throw totals and C1 back to the preset."""
    at = _page("lab")
    edits = lambda c1: {"edited_rows": {0: c1}, "added_rows": [], "deleted_rows": []}  # noqa: E731
    at.session_state["lab_rows_article_0"] = edits({"stride": 2})
    at.run()
    assert at.metric[0].value == "175,624,552"
    at.session_state["lab_rows_article_0"] = edits({"stride": 2, "kernel": 300})
    at.run()
    assert not at.exception and any(e.value.startswith("C1:") for e in at.error)
    assert at.metric[0].value == "175,624,552"
    c1 = _ledger_table(at).iloc[0]
    assert c1["layer"] == "⚠ C1" and c1["output"] == "109x109x96" and c1["k/s/p/g"].startswith("11/2/")


@pytest.mark.parametrize("page", ["lab", "overview"])
def test_layer_tables_explain_every_column_and_show_no_none(page):
    """Issue 20: "k/s/p/g", "unrounded", "MACs no bias" had no help, and the lab's editor showed a raw "None"."""
    import json

    at = _page(page).run()
    tables = [d for d in at.dataframe if d.proto.column_order or d.proto.editing_mode]
    assert tables
    for table in tables:
        config = json.loads(table.proto.columns)
        shown = list(table.proto.column_order) or list(table.value.columns)
        unexplained = [c for c in shown if not config.get(c, {}).get("help")]
        assert not unexplained, unexplained
        assert "None" not in table.value.astype(str).where(table.value.notna(), "").to_numpy()
        if table.proto.editing_mode:  # the editor's empty cells: a dash, said what it means
            assert table.proto.placeholder == "—"
    assert "None" not in _text(at)


def _ledger_table(at: AppTest):
    return next(d.value for d in at.dataframe if "running total" in d.value.columns)


def test_lab_follows_the_variant():
    at = _page("lab", "torchvision").run()
    assert at.metric[0].value == f"{ledger('torchvision').total_params:,}"


def test_lab_verify_with_pytorch():
    at = _page("lab").run()
    at.button(key="verify").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert table["agree"].all() and table.iloc[-1]["torchinfo params"] == ledger("article").total_params


def test_operations_controls():
    at = _page("operations").run()
    assert "output side ⌊(6 − 3 + 2·0) / 1⌋ + 1 = **4**" in _text(at)
    at.slider(key="conv_padding").set_value(1).run()
    assert "= **6**" in _text(at)
    at.slider(key="conv_step").set_value(7).run()
    assert "Step 7 writes row 1, column 1" in _text(at)
    at.radio(key="pool_kind").set_value("avg").run()
    assert not at.exception and "/ 4 =" in _text(at)
    before = _text(at)
    at.number_input(key="ops_seed").set_value(5).run()
    assert not at.exception and _text(at) != before


def test_operations_editors_only_while_editing_and_edits_are_kept():
    """The editors cost ~25 ms a rerun, so they are drawn only while editing; turning it off keeps the edits."""
    at = _page("operations").run()
    assert len(at.dataframe) == 1  # the pooling comparison table; no editor
    at.toggle(key="ops_editing").set_value(True).run()
    assert len(at.dataframe) == 11  # 3 inputs, 3 kernels, the bias, pooling, dense and activation inputs
    generation = at.session_state["ops_generation"]
    at.session_state[f"conv_x0_0_g{generation}"] = {"edited_rows": {0: {"1": 9}}, "added_rows": [],
                                                    "deleted_rows": []}  # the first input value typed as 9
    at.run()
    first = at.code[0].value.splitlines()[0]
    assert first.startswith("[ch 1] 9·") and not at.exception
    # Away to another seed and back in the same editing period: the editor is not drawn for a run,
    # which drops its widget state (the typed changes); the edit must survive that.
    at.number_input(key="ops_seed").set_value(1).run()
    assert not at.code[0].value.startswith("[ch 1] 9·")
    at.number_input(key="ops_seed").set_value(0).run()
    assert at.dataframe[0].value.iloc[0, 0] == 9 and at.code[0].value.splitlines()[0] == first
    at.toggle(key="ops_editing").set_value(False).run()
    assert len(at.dataframe) == 1 and at.code[0].value.splitlines()[0] == first
    at.toggle(key="ops_editing").set_value(True).run()
    assert at.dataframe[0].value.iloc[0, 0] == 9  # the editor starts from the edited values


def test_article_page_counts_come_from_errata():
    at = _page("article").run()
    tally = errata.counts()
    assert [m.value for m in at.metric] == [str(tally[v]) for v in errata.VERDICTS]
    assert any("ceiling" in e.value for e in at.error) and any("C4" in e.value for e in at.error)
    at.pills(key="verdicts").set_value(["correct"]).run()
    assert not at.exception and not at.error


def test_layers_marks_where_the_article_disagrees():
    at = _page("layers", "paper")
    at.query_params["layer"] = "C3"
    at.run()
    assert not at.exception
    assert any("614,656" in w.value and f"{ledger('paper').row('C3').params:,}" in w.value for w in at.warning)


def test_layers_marks_the_articles_own_errors_in_its_own_network():
    at = _page("layers", "article")
    at.query_params["layer"] = "C5"
    at.run()
    assert not at.exception
    assert any("from C4 (it has no layer C4)" in w.value for w in at.warning)


def test_overview_opens_a_layer_from_its_block_name():  # a ledger row: tests/test_browser_links.py
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.button_group(key="blocks_open").set_value("C5").run()
    assert not at.exception
    assert at.radio(key="layers_pick").value == "C5" and "C5: convolution" in _text(at)
