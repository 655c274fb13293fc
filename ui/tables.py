"""Tables: a layer's derivation as HTML that turns into one card per step on a phone, and rows as Arrow.

A Markdown table of six columns ran 200 px past a 390 px screen; here, under 640 px, each row
stacks its cells with their column names, so nothing scrolls sideways.
"""
from __future__ import annotations

import html
from typing import Any

import pyarrow as pa
import streamlit as st

from alexnet_viz.errata.derive import Derivation

_CSS = """
.avz-steps { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
.avz-steps th, .avz-steps td { border: 1px solid rgba(128, 128, 128, 0.3); padding: 0.35rem 0.5rem;
  text-align: left; vertical-align: top; overflow-wrap: break-word; }
.avz-steps td:last-child { white-space: nowrap; }
.avz-steps .ok { color: #2e7d32; } .avz-steps .no { color: #c62828; font-weight: 600; }
@media (max-width: 640px) {
  .avz-steps thead { display: none; }
  .avz-steps tr { display: block; margin-bottom: 0.6rem; border: 1px solid rgba(128, 128, 128, 0.3); }
  .avz-steps td { display: block; border: none; padding: 0.15rem 0.5rem; }
  .avz-steps td[data-label]::before { content: attr(data-label) ": "; opacity: 0.65; }
}
"""
_HEAD = ("step", "formula", "with this layer's numbers", "result", "article", "")


def derivation_table(result: Derivation) -> None:
    """Every step of a layer's derivation, with the article's value and whether it agrees."""
    rows = []
    for s in result.steps:
        mark = "" if s.agrees is None else ("<span class='ok'>✓ agrees</span>" if s.agrees
                                            else "<span class='no'>✗ differs</span>")
        cells = (html.escape(s.label), html.escape(s.formula), html.escape(s.working),
                 f"<b>{html.escape(s.result)}</b>", html.escape(s.article or "—"), mark)
        rows.append("<tr>" + "".join(f"<td data-label='{h}'>{c}</td>" if h else f"<td>{c}</td>"
                                     for h, c in zip(_HEAD, cells)) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in _HEAD)
    st.html(f"<style>{_CSS}</style><table class='avz-steps'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def arrow_table(data: list[dict[str, Any]] | dict[str, Any]) -> pa.Table:
    """Rows (dicts) or columns (a dict of lists or arrays) as an Arrow table for st.dataframe, which sends Arrow:
    a pandas DataFrame and its conversion cost ~1.5 ms a table every rerun, this ~0.1 ms."""
    return pa.Table.from_pylist(data) if isinstance(data, list) else pa.Table.from_pydict(dict(data))
