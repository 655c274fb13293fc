"""The Operations page's small matrices a reader can overwrite: drawn only while editing, the edits kept.

Each editor is a st.data_editor over a matrix (or a vector); its results are kept in session
state, so turning editing off keeps the edits and a new seed (part of the key) starts from its
own values.
"""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np
import pandas as pd
import streamlit as st

from alexnet_viz.ideas.operations import random_values


def editing_toggled() -> None:
    """A new editing period: each editor starts again from the values it last returned."""
    st.session_state["ops_bases"] = {}
    st.session_state["ops_generation"] = st.session_state.get("ops_generation", 0) + 1


def editable(values: np.ndarray, key: str, label: str, editing: bool) -> np.ndarray:
    """A small matrix (or vector) the reader can overwrite; empty cells count as 0.

    The editors are drawn only while "Edit the values" is on: nine of them cost ~25 ms on every
    rerun even inside a closed expander. Their results are kept, so turning editing off keeps the
    edits; a new seed (part of `key`) starts from its own values. Narrow, numbered columns: with
    the default widths a 6-column matrix was cut off after 4.
    """
    edited: dict[str, np.ndarray] = st.session_state.setdefault("ops_edited", {})
    if not editing:
        return edited.get(key, values)
    # The editor's data must stay fixed while it is shown (its state is a list of changes to it).
    # An editor not drawn in the last run (another pooling channel, another seed) lost that state
    # with it, so it starts again from what it last returned.
    widget = f"{key}_g{st.session_state.get('ops_generation', 0)}"
    bases: dict[str, np.ndarray] = st.session_state.setdefault("ops_bases", {})
    if widget not in st.session_state or key not in bases:
        bases[key] = edited.get(key, values)
    grid = np.atleast_2d(bases[key])
    names = [f"{'v' if values.ndim == 1 else ''}{i + 1}" for i in range(grid.shape[1])]
    st.caption(label)
    frame = st.data_editor(pd.DataFrame(grid, columns=names), hide_index=True, width="content", key=widget,
                           column_config={n: st.column_config.NumberColumn(width=46) for n in names})
    edited[key] = frame.to_numpy(dtype=np.float64, na_value=0.0).reshape(values.shape)
    return edited[key]


def conv_inputs(seed: int, channels: int, side: int, kernel: int,
                editing: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """The convolution's input (C, side, side), its one kernel (C, k, k) and bias: seeded whole numbers, each
    channel in its own editor column while editing (the bias beside the kernel's channels)."""
    none = nullcontext()  # nothing is drawn while not editing
    x_cols: list[AbstractContextManager] = list(st.columns(channels)) if editing else [none] * channels
    w_cols: list[AbstractContextManager] = list(st.columns(channels + 1)) if editing else [none] * (channels + 1)
    x_list, w_list = [], []
    for i in range(channels):
        with x_cols[i]:
            x_list.append(editable(random_values((side, side), seed * 7 + i), f"conv_x{i}_{seed}",
                                   f"input channel {i + 1}", editing))
    for i in range(channels):
        with w_cols[i]:
            w_list.append(editable(random_values((kernel, kernel), seed * 7 + 3 + i, -2, 2), f"conv_w{i}_{seed}",
                                   f"kernel channel {i + 1}", editing))
    with w_cols[channels]:
        bias = float(editable(random_values((1,), seed + 99, -1, 1), f"conv_b_{seed}", "bias", editing)[0])
    return np.stack(x_list), np.stack(w_list), bias
