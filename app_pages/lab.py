"""Architecture lab: edit the layers and the input size; every number recomputes at once."""
import pandas as pd
import streamlit as st

from alexnet_viz.errors import AlexVizError
from alexnet_viz.lab import (
    VERIFY_MAX_ACTIVATION_BYTES,
    VERIFY_MAX_MACS,
    evaluate,
    spec_rows,
    verify_with_torch,
)
from alexnet_viz.bookkeeping import ledger
from alexnet_viz.report import render
from alexnet_viz.spec import VARIANTS, Spec
from ui.ledger_table import ledger_table
from ui.state import context
from ui.totals import totals_row

INT_COLUMNS = ("channels", "kernel", "stride", "padding", "groups")


@st.cache_data(show_spinner="Building the network and running torchinfo…", max_entries=8)
def _verify(spec: Spec, size: int) -> list[dict]:
    return verify_with_torch(spec, size)


def _reset_size() -> None:
    st.session_state["lab_input"] = VARIANTS[st.session_state["lab_preset"]].input_size


ctx = context()
st.title("Architecture lab")
st.caption("Change kernels, strides, padding, channels, groups or the pooling kind, or the input size: the "
           "shapes, parameters, multiply-adds, memory and receptive fields below follow every edit. "
           "An impossible edit is reported on its row and that row keeps its last valid values.")
if "lab_preset" not in st.session_state:
    st.session_state["lab_preset"] = ctx.variant
    st.session_state["lab_input"] = ctx.spec.input_size
top = st.columns([2, 1, 3])
preset = top[0].selectbox("Start from", list(VARIANTS), key="lab_preset", format_func=lambda v: VARIANTS[v].title,
                          on_change=_reset_size)
size = top[1].number_input("Input size (pixels)", min_value=1, max_value=2048, step=1, key="lab_input")
base = VARIANTS[preset]

table = pd.DataFrame(spec_rows(base)).astype({c: "Int64" for c in INT_COLUMNS})
edited = st.data_editor(
    table, key=f"lab_rows_{preset}", hide_index=True, width="stretch", height=36 * (len(table) + 1),
    disabled=["layer"],
    column_config={"kind": st.column_config.SelectboxColumn(options=["conv", "maxpool", "avgpool", "fc"],
                                                            help="pools switch between max and average"),
                   "channels": st.column_config.NumberColumn(help="kernels (conv) or neurons (fc)", step=1),
                   **{c: st.column_config.NumberColumn(step=1) for c in ("kernel", "stride", "padding", "groups")}})
st.caption("Empty cells (None) do not apply to that kind of layer; pools can switch between maxpool and avgpool.")
records = [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in edited.to_dict("records")]

try:
    result = evaluate(base, records, size)
except AlexVizError as exc:
    st.error(str(exc))
    st.stop()
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
