"""The article, checked: every numeric claim beside the evidence computed here, with a verdict."""
import pandas as pd
import streamlit as st

from alexnet_viz import article
from alexnet_viz.errata import VERDICTS, counts, findings, render

ICONS = {"correct": ":material/check_circle:", "wrong": ":material/cancel:", "misleading": ":material/warning:",
         "left out": ":material/remove_circle:"}


@st.cache_data(show_spinner="Checking the article…")
def _findings():
    return findings()


items = _findings()
tally = counts(items)
st.title("The article, checked")
st.caption(f"“{article.TITLE}” by {article.AUTHOR} ({article.PUBLISHED}). Every claim below is checked against "
           "the ledger, a real PyTorch model or a small computation; nothing in the evidence column is typed in.")
cols = st.columns(len(VERDICTS))
for col, verdict in zip(cols, VERDICTS):
    col.metric(f"{ICONS[verdict]} {verdict}", tally[verdict])

chosen = st.pills("Show", VERDICTS, selection_mode="multi", default=[v for v in VERDICTS if v != "correct"],
                  key="verdicts", format_func=lambda v: f"{ICONS[v]} {v}")
shown = [f for f in items if f.verdict in chosen]
for f in shown:
    if f.verdict == "correct":
        continue
    box = {"wrong": st.error, "misleading": st.warning, "left out": st.info}[f.verdict]
    box(f"**{f.topic}** — {f.verdict}  \n*The article:* {f.claim}  \n*Computed:* {f.evidence}", icon=ICONS[f.verdict])
correct = [f for f in shown if f.verdict == "correct"]
if correct:
    st.subheader(f"{ICONS['correct']} Claims that check out ({len(correct)})")
    st.dataframe(pd.DataFrame([{"claim": f.topic, "the article says": f.claim, "computed": f.evidence}
                               for f in correct]), hide_index=True, width="stretch", key="correct_table")
if not shown:
    st.info("Pick at least one verdict above to see its findings.")
left, right = st.columns(2)
left.download_button("Findings as Markdown", render(items, "markdown"), file_name="alexnet-article-errata.md",
                     mime="text/markdown", key="errata_md")
right.download_button("Findings as JSON", render(items, "json"), file_name="alexnet-article-errata.json",
                      mime="application/json", key="errata_json")
st.caption("The same list in a terminal: `python -m alexnet_viz errata` (add `--format markdown` or `--format json`).")
