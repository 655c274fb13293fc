"""Architecture lab: edit the layers and the input size; every number recomputes at once."""
import pandas as pd
import streamlit as st

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import VARIANTS, Spec
from alexnet_viz.errors import AlexVizError
from alexnet_viz.lab import (
    VERIFY_MAX_ACTIVATION_BYTES,
    VERIFY_MAX_MACS,
    evaluate,
    spec_rows,
    verify_with_torch,
)
from alexnet_viz.report import render
from ui.ledger_table import ledger_table
from ui.state import context
from ui.totals import totals_row

INT_COLUMNS = ("channels", "kernel", "stride", "padding", "groups")
NOT_APPLICABLE = "—"  # an empty cell: the field does not apply to the layer's kind (the editor said "None")
EDITOR_COLUMNS = {
    "layer": st.column_config.TextColumn(help="the article's name: C convolution, S pooling (subsampling), "
                                              "F fully connected"),
    "kind": st.column_config.SelectboxColumn(options=["conv", "maxpool", "avgpool", "fc"],
                                             help="pools switch between max and average"),
    "channels": st.column_config.NumberColumn(help="kernels (conv) or neurons (fc); — for a pool, which keeps "
                                                   "its input's channels", step=1),
    "kernel": st.column_config.NumberColumn(help="the window's side in pixels; — for a fully connected layer",
                                            step=1),
    "stride": st.column_config.NumberColumn(help="how many pixels the window moves per step", step=1),
    "padding": st.column_config.NumberColumn(help="zeros added at each border of the input", step=1),
    "groups": st.column_config.NumberColumn(help="separate groups the channels are split into (2: the paper's two "
                                                 "GPUs); — for pools and fully connected layers", step=1),
}


@st.cache_data(show_spinner="Building the network and running torchinfo…", max_entries=8)
def _verify(spec: Spec, size: int) -> list[dict]:
    return verify_with_torch(spec, size)


PRESET, PICK, SIZE, VERSION, PENDING = "lab_preset", "lab_preset_pick", "lab_input", "lab_version", "lab_pending"
LAST = "lab_last"  # (editor key, the network shown last): an impossible edit keeps these values


def _editor_key() -> str:
    """The edit table's key: a new key is a fresh table (switching presets, resetting)."""
    return f"lab_rows_{st.session_state[PRESET]}_{st.session_state[VERSION]}"


def _dirty() -> bool:
    """Whether switching or resetting would throw something away: edited cells or another input size."""
    edits = st.session_state.get(_editor_key(), {})
    return bool(edits.get("edited_rows")) or st.session_state[SIZE] != VARIANTS[st.session_state[PRESET]].input_size


def _start_from(preset: str) -> None:
    """Start again from `preset` with its own input size and no edits."""
    st.session_state[PRESET] = st.session_state[PICK] = preset
    st.session_state[SIZE] = VARIANTS[preset].input_size
    st.session_state[VERSION] += 1
    st.session_state.pop(PENDING, None)


def _on_pick() -> None:
    """A new "Start from": at once when nothing would be lost, else ask first (the picker waits)."""
    wanted = st.session_state[PICK]
    if _dirty():
        st.session_state[PENDING] = wanted
        st.session_state[PICK] = st.session_state[PRESET]
    else:
        _start_from(wanted)


def _keep() -> None:
    st.session_state.pop(PENDING, None)


ctx = context()
st.title("Architecture lab")
st.caption("Change kernels, strides, padding, channels, groups or the pooling kind, or the input size: the "
           "shapes, parameters, multiply-adds, memory and receptive fields below follow every edit. "
           "An impossible edit is reported on its row and that row keeps its last valid values.")
# PRESET and VERSION are plain state; the widgets' own keys are dropped when another page runs.
st.session_state.setdefault(PRESET, ctx.variant)
st.session_state.setdefault(VERSION, 0)
st.session_state.setdefault(PICK, st.session_state[PRESET])
st.session_state.setdefault(SIZE, VARIANTS[st.session_state[PRESET]].input_size)
top = st.columns([2, 1, 1], vertical_alignment="bottom")
top[0].selectbox("Start from", list(VARIANTS), key=PICK, format_func=lambda v: VARIANTS[v].title, on_change=_on_pick)
size = top[1].number_input("Input size (pixels)", min_value=1, max_value=2048, step=1, key=SIZE)
preset = st.session_state[PRESET]
top[2].button("Reset", key="lab_reset", on_click=_start_from, args=(preset,), disabled=not _dirty(),
              help=f"Back to {VARIANTS[preset].title} as published: no edits, input {VARIANTS[preset].input_size}.")
pending = st.session_state.get(PENDING)
if pending is not None:
    with st.container(border=True):
        st.warning(f"Starting from **{VARIANTS[pending].title}** throws away your edits to "
                   f"{VARIANTS[preset].title} and the input size {size}.", icon=":material/warning:")
        yes, no = st.columns(2)
        yes.button(f"Start from {VARIANTS[pending].title}", key="lab_switch", on_click=_start_from, args=(pending,),
                   type="primary")
        no.button("Keep my edits", key="lab_keep", on_click=_keep)
base = VARIANTS[preset]

if _editor_key() not in st.session_state:  # a fresh table (new preset, reset, back from another page)
    st.session_state.pop(LAST, None)
table = pd.DataFrame(spec_rows(base)).astype({c: "Int64" for c in INT_COLUMNS})
edited = st.data_editor(
    table, key=_editor_key(), hide_index=True, width="stretch", height=36 * (len(table) + 1),
    disabled=["layer"], placeholder=NOT_APPLICABLE, column_config=EDITOR_COLUMNS)
st.caption(f"A dash ({NOT_APPLICABLE}) marks a field that does not apply to that kind of layer: a pool keeps its "
           "input's channels and has no groups; a fully connected layer has no window. Pools can switch between "
           "maxpool and avgpool.")
records = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in edited.to_dict("records")]

shown_key, shown = st.session_state.get(LAST, (None, None))
try:
    result = evaluate(base, records, size, last=shown if shown_key == _editor_key() else None)
except AlexVizError as exc:
    st.error(str(exc))
    st.stop()
st.session_state[LAST] = (_editor_key(), result.spec)
for message in result.errors.values():
    st.error(message, icon=":material/warning:")

book = result.ledger
totals_row(book, book.total_params - ledger(base).total_params)

ledger_table(book, problems=result.errors, key="lab_ledger")

downloads = st.columns(4)
stem = f"alexnet-{preset}-edited-{book.input_size}"
for col, (fmt, ext, mime) in zip(downloads, (("csv", "csv", "text/csv"), ("json", "json", "application/json"),
                                             ("markdown", "md", "text/markdown"))):
    col.download_button(f"Ledger as {fmt.upper() if fmt != 'markdown' else 'Markdown'}", render(book, fmt),
                        file_name=f"{stem}.{ext}", mime=mime, key=f"download_{fmt}")

st.subheader("Check against PyTorch")
st.caption("Builds the edited network as a real PyTorch model and lets torchinfo count each layer "
           "(its MACs include the bias add). This server verifies networks up to "
           f"{VERIFY_MAX_ACTIVATION_BYTES / 2**30:g} GiB of activations and {VERIFY_MAX_MACS / 1e9:g} G "
           "multiply-adds for one image.")
if st.button("Verify with PyTorch", key="verify"):
    try:
        checked = pd.DataFrame(_verify(result.spec, book.input_size))
        st.dataframe(checked, hide_index=True, width="stretch", height=36 * (len(checked) + 1),
                     column_config={c: st.column_config.NumberColumn(format="localized")
                                    for c in checked.columns if c not in ("layer", "agree")})
    except AlexVizError as exc:
        st.error(str(exc))
