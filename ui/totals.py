"""The four network totals as one row of metrics, shared by the overview and the lab."""
from __future__ import annotations

import streamlit as st

from alexnet_viz.core.bookkeeping import Ledger
from alexnet_viz.core.formatting import fmt_bytes


def totals_row(book: Ledger, params_change: int = 0) -> None:
    """Parameters, multiply-adds, activation memory and the smallest input, from the ledger.

    A non-zero `params_change` (the lab's edit against its preset) is shown beside the parameters.
    """
    cols = st.columns(4)
    cols[0].metric("Parameters", f"{book.total_params:,}",
                   delta=f"{params_change:+,} vs preset" if params_change else None, delta_color="off")
    cols[1].metric("Multiply-adds per image", f"{book.total_macs_with_bias:,}")
    cols[2].metric("Activation memory per image", fmt_bytes(book.total_activation_bytes))
    cols[3].metric("Smallest input that fits", f"{book.min_input_size}×{book.min_input_size}")
