"""The ledger as a Streamlit table, shared by the overview and the lab: report.COLUMNS' headers,
help texts and number formats, so the app shows what `summary` prints and the downloads hold."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from alexnet_viz.core.bookkeeping import Ledger
from alexnet_viz.report import COLUMNS, records

# Sixteen columns ran 180 px past a 1440 px screen. Three stay off it (in the downloads, in
# `alexnet-viz summary` and on each layer's page): a row's input is the output of the row above,
# the module path is on the layer's page, an output's bytes are its activations times 4 (float32).
OFF_SCREEN = ("PyTorch", "input", "act. bytes")


def ledger_table(book: Ledger, *, problems: dict[str, str] | None = None, key: str | None = None,
                 selectable: bool = False) -> str | None:
    """One row per layer (OFF_SCREEN's columns left out); the layer of the row the reader selected when
    `selectable`, else None.

    A layer in `problems` (the lab's errors by layer, shown above the table) is marked "⚠" where
    it is: a wide "problem" column pushed the parameters and MACs off a phone's screen.
    """
    frame = pd.DataFrame(records(book))
    config: dict[str, Any] = {
        c.header: st.column_config.NumberColumn(help=c.help, format="localized") if c.count
        else st.column_config.TextColumn(help=c.help) for c in COLUMNS}
    names = list(frame["layer"])
    if problems:
        frame["layer"] = [f"⚠ {n}" if n in problems else n for n in names]
    height = 36 * (len(frame) + 1)
    order = [h for h in frame.columns if h not in OFF_SCREEN]
    if not selectable:
        st.dataframe(frame, hide_index=True, width="stretch", height=height, key=key, column_config=config,
                     column_order=order)
        return None
    event = st.dataframe(frame, hide_index=True, width="stretch", height=height, key=key, column_config=config,
                         column_order=order, on_select="rerun", selection_mode="single-row")
    rows = event.selection.rows
    return names[rows[0]] if rows else None
