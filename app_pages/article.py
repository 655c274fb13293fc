"""The article, checked: every claim beside its evidence, a verdict and its sources."""
import pandas as pd
import streamlit as st

from alexnet_viz.analysis.training_memory import ASSUMPTIONS, breakdown, training_memory
from alexnet_viz.core.spec import ARTICLE, PAPER
from alexnet_viz.errata import SEVERITY, VERDICTS, Finding, article, by_severity, counts, findings, paper, render
from alexnet_viz.errata.code import CONV1_CFG, CONV_CEIL, POOL_CEIL
from alexnet_viz.errata.findings_article import rounding_table

LABELS = {"computed": "Computed", "paper": "The paper", "literature": "Other sources"}
ICONS = {"correct": ":material/check_circle:", "wrong": ":material/cancel:", "misleading": ":material/warning:",
         "left out": ":material/remove_circle:"}
# Findings whose claim another page demonstrates: (address, what the reader sees there). Addresses follow
# the app's deep links (?variant=, ?layer=; #lrn and #two-gpus are the Ideas page's section anchors).
DEMOS = {
    "input-224": ("/lab?variant=paper", "the architecture lab on the paper's network: 227 gives C1 55, set 224"),
    "size-formula": ("/layers?variant=article&layer=C1", "C1 derived step by step, the ceiling marked ✗"),
    "c1-padding": ("/lab?variant=paper", "the architecture lab: C1's padding and the input size"),
    "missing-C4": ("/layers?variant=article&layer=C5", "C5 derived step by step, its source marked ✗"),
    "lrn": ("/ideas?variant=paper&idea=lrn", "both readings of the LRN compared on real C1 maps"),
    "grouping": ("/ideas?variant=paper&idea=two-gpus", "the two towers drawn, with where the GPUs exchange data"),
    "multi-gpu": ("/ideas?variant=paper&idea=two-gpus", "the two towers drawn"),
}


@st.cache_data(show_spinner="Checking the article…")
def _findings():
    return findings()


@st.cache_data(show_spinner="Measuring training memory…")
def _memory() -> list[dict[str, object]]:
    return breakdown((training_memory(ARTICLE), training_memory(PAPER)))


def _sources(f: Finding) -> str:
    """The paper's section and cuda-convnet's line; the article's sentence only when the claim does not quote it."""
    parts = [] if f.source.article in f.claim else [f"the article: “{f.source.article}”"]
    parts.append(f"the paper: {f.source.paper}" if f.source.paper else "not in the paper (the article's own)")
    if f.source.code:
        parts.append(f"code: {f.source.code}")
    if f.source.other:
        parts.append(f"also: {f.source.other}")
    return " · ".join(parts)


def _demo(f: Finding) -> str:
    """A line linking to the page that shows the claim, if one does (opens in a new tab)."""
    if f.key not in DEMOS:
        return ""
    url, what = DEMOS[f.key]
    return f"  \n:material/open_in_new: [See it: {what}]({url})"


items = _findings()
tally = counts(items)
st.title("The article, checked")
st.caption(f"“{article.TITLE}” by {article.AUTHOR} ({article.PUBLISHED}), checked against {paper.AUTHORS}'s paper "
           f"({paper.VENUE}) and Krizhevsky's cuda-convnet2. Evidence marked *Computed* comes from the ledger, a real "
           "PyTorch model or a small computation; evidence marked *The paper* is what the paper states, with its "
           "section; *Other sources* are the publications or libraries a general claim is about. Every finding "
           "names its sources: the article's sentence, the paper's section, the code's file and line, any other "
           "work.")
cols = st.columns(len(VERDICTS))
for col, verdict in zip(cols, VERDICTS):
    col.metric(f"{ICONS[verdict]} {verdict}", tally[verdict])

chosen = st.pills("Show", SEVERITY, selection_mode="multi", default=[v for v in SEVERITY if v != "correct"],
                  key="verdicts", format_func=lambda v: f"{ICONS[v]} {v}")
st.caption("Most serious first: wrong, then misleading, then left out; the claims that check out are in the table "
           "below. A *See it* line opens the page that shows the claim on the real network.")
shown = by_severity([f for f in items if f.verdict in chosen])
for f in shown:
    if f.verdict == "correct":
        continue
    box = {"wrong": st.error, "misleading": st.warning, "left out": st.info}[f.verdict]
    box(f"**{f.topic}** — {f.verdict}  \n*The article:* {f.claim}  \n*{LABELS[f.basis]}:* {f.evidence}  \n"
        f"*Sources:* {_sources(f)}{_demo(f)}", icon=ICONS[f.verdict])
correct = [f for f in shown if f.verdict == "correct"]
if correct:
    st.subheader(f"{ICONS['correct']} Claims that check out ({len(correct)})")
    st.dataframe(pd.DataFrame([{"claim": f.topic, "the article says": f.claim, "evidence": f.evidence,
                                "basis": LABELS[f.basis], "sources": _sources(f),
                                "see it": DEMOS.get(f.key, ("",))[0] or None} for f in correct]),
                 hide_index=True, width="stretch", key="correct_table",
                 column_config={"see it": st.column_config.LinkColumn(display_text="open the page")})
if not shown:
    st.info("Pick at least one verdict above to see its findings.")
with st.expander("224 or 227? Both rounding rules side by side"):
    st.markdown("Every spatial layer's output side. Krizhevsky's cuda-convnet rounds output sizes **up**, "
                "1 + ⌈(2·padding + input − kernel) / stride⌉, so the paper's 224×224 input reaches C1's 55×55 "
                "with no padding; PyTorch rounds **down**, ⌊(input − kernel + 2·padding) / stride⌋ + 1, and "
                "needs 227 (or the article's padding 2) for the same 55. Sources: " + "; ".join(
                    (CONV_CEIL, POOL_CEIL, CONV1_CFG)) + ".")
    st.dataframe(pd.DataFrame(rounding_table()), hide_index=True, width="stretch", key="rounding_table")
with st.expander("How the two-GPU finding's memory is measured"):
    st.markdown("One training-mode forward pass of a real model at batches 1 and 2, with "
                "`torch.autograd.graph.saved_tensors_hooks` counting every tensor autograd keeps for backward "
                "(each storage once, parameters excluded), extended linearly to the paper's batch; the paper's "
                "own words (Sec. 3.2) are in the finding. Assumptions: " + "; ".join(ASSUMPTIONS) + ".")
    st.dataframe(pd.DataFrame(_memory()), hide_index=True, width="stretch", key="memory_table")
left, right = st.columns(2)
left.download_button("Findings as Markdown", render(items, "markdown"), file_name="alexnet-article-errata.md",
                     mime="text/markdown", key="errata_md")
right.download_button("Findings as JSON", render(items, "json"), file_name="alexnet-article-errata.json",
                      mime="application/json", key="errata_json")
st.caption("The same list in a terminal: `python -m alexnet_viz errata` (add `--format markdown` or `--format json`).")
