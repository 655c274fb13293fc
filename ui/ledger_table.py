"""The ledger as a Streamlit table, shared by the overview and the lab: report.COLUMNS' headers,
help texts and number formats, so the app shows what `summary` prints and the downloads hold."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from alexnet_viz.bookkeeping import Ledger
from alexnet_viz.report import COLUMNS, records


def ledger_table(book: Ledger, *, problems: dict[str, str] | None = None, key: str | None = None) -> None:
    """One row per layer; `problems` (the lab's errors by layer) becomes a column after the names."""
    frame = pd.DataFrame(records(book))
    config: dict[str, Any] = {
        c.header: st.column_config.NumberColumn(help=c.help or None, format="localized") if c.count
        else st.column_config.TextColumn(help=c.help or None) for c in COLUMNS}
    if problems and any(name in problems for name in frame["layer"]):  # each message on its own row
        frame.insert(1, "problem", [problems.get(n, "") for n in frame["layer"]])
        config["problem"] = st.column_config.TextColumn(width="large")
    st.dataframe(frame, hide_index=True, width="stretch", height=36 * (len(frame) + 1), key=key,
                 column_config=config)
