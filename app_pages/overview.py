"""Overview: the chosen AlexNet whole — 3-D blocks, the ledger, where parameters and compute live."""
import pandas as pd
import streamlit as st

from alexnet_viz.derive import ledger_records, variant_differences, where_it_lives
from alexnet_viz.figures import block_diagram, params_vs_macs, variants_chart
from alexnet_viz.ledger import ledger
from alexnet_viz.spec import VARIANTS, Spec
from ui.state import context
from ui.totals import totals_row


@st.cache_data(show_spinner=False, max_entries=16)
def _figures(spec: Spec, size: int):
    book = ledger(spec, size)
    return block_diagram(book), params_vs_macs(book)


@st.cache_data(show_spinner=False)
def _variants():
    books = {name: ledger(spec) for name, spec in VARIANTS.items()}
    return variants_chart(books), variant_differences(), {n: b.total_params for n, b in books.items()}


def open_layer(name: str | None) -> None:
    """Follow a click: the layer page for that layer, with the variant, as a link would."""
    if name is not None:
        st.switch_page("app_pages/layers.py", query_params={"layer": name, "variant": ctx.variant})


ctx = context()
book = ledger(ctx.spec)
st.title(f"AlexNet whole: {ctx.spec.title}")
st.caption(f"{ctx.spec.description}  \nSource: {ctx.spec.source}")

totals_row(book)

blocks, shares = _figures(ctx.spec, book.input_size)
st.subheader("The network in 3-D")
st.caption("One block per feature map: depth grows with the channels, height and width with the map's side, "
           "both on log scales so the 6×6 maps stay visible next to the input. Red boxes are the kernels or "
           "windows, drawn inside the map they slide over. Hover for the true numbers; drag to turn.")
st.plotly_chart(blocks, width="stretch", key="blocks", config={"displaylogo": False, "displayModeBar": False})
# Streamlit reports clicks on 2-D plotly traces only (plotly.js has no 3-D selection), so the blocks'
# names sit under the picture as buttons; the ledger's rows below open a layer too.
open_layer(st.pills("Open a layer", list(ctx.spec.names), key="blocks_open", selection_mode="single"))

st.subheader("Layer by layer")
st.caption("Select a row to open that layer's page.")
records = ledger_records(book)
rows = st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch", height=36 * (len(book.rows) + 1),
                    key="ledger", on_select="rerun", selection_mode="single-row",
                    column_config={c: st.column_config.NumberColumn(format="localized")
                                   for c in ("params", "running total", "MACs", "activations")})
open_layer(records[rows.selection.rows[0]]["layer"] if rows.selection.rows else None)

share = where_it_lives(book)
st.subheader("Where the parameters live, and where the work is done")
st.markdown(f"The fully connected layers {share['fc_layers']} hold **{share['fc_params']:.1%}** of the parameters "
            f"but do only **{share['fc_macs']:.1%}** of the multiply-adds; the convolutions {share['conv_layers']} "
            f"do **{share['conv_macs']:.1%}** of the work with **{share['conv_params']:.1%}** of the parameters.")
st.plotly_chart(shares, width="stretch", key="shares", config={"displayModeBar": False})

st.subheader("Three networks called AlexNet")
chart, differences, totals = _variants()
st.markdown(" · ".join(f"**{VARIANTS[n].title}**: {t:,} parameters" for n, t in totals.items()))
st.plotly_chart(chart, width="stretch", key="variants", config={"displayModeBar": False})
st.dataframe(pd.DataFrame(differences), hide_index=True, width="stretch", height=36 * (len(differences) + 1),
             column_config={**{f"{n} params": st.column_config.NumberColumn(format="localized") for n in VARIANTS},
                            **{c: st.column_config.TextColumn(width="large") for c in differences[0]
                               if c.startswith("differences")}})
