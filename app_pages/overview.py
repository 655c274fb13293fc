"""Overview: the chosen AlexNet whole — 3-D blocks, the ledger, where parameters and compute live."""
import pandas as pd
import streamlit as st

from alexnet_viz.compare import variant_differences, where_it_lives
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import VARIANTS, Spec
from alexnet_viz.figures.architecture import block_diagram, block_strip, params_vs_macs, variants_chart
from alexnet_viz.ideas.stack import tower_plan
from ui.charts import frozen
from ui.ledger_table import ledger_table
from ui.plotclicks import clicked_layer
from ui.roofline import roofline_section
from ui.state import context
from ui.totals import totals_row

NARROW = 760  # px of column below which the 3-D scene's fixed camera cut off the ends of the network
NARROW_CSS = f"""
.st-key-overview_blocks {{ container-type: inline-size; }}
@container (max-width: {NARROW}px) {{ .st-key-blocks_3d {{ display: none; }} }}
@container (min-width: {NARROW + 1}px) {{ .st-key-blocks_2d {{ display: none; }} }}
"""


@st.cache_resource(show_spinner=False, max_entries=16)  # shared, read-only figures: see ui/charts.py
def _figures(spec: Spec, size: int):
    book = ledger(spec, size)
    return frozen(block_diagram(book)), frozen(block_strip(book)), frozen(params_vs_macs(book))


@st.cache_resource(show_spinner=False)
def _variants():
    books = {name: ledger(spec) for name, spec in VARIANTS.items()}
    return frozen(variants_chart(books)), variant_differences(), {n: b.total_params for n, b in books.items()}


def open_layer(name: str | None) -> None:
    """Follow a click: the layer page for that layer, with the variant, as a link would."""
    if name is not None:
        st.switch_page("app_pages/layers.py", query_params={"layer": name, "variant": ctx.variant})


ctx = context()
book = ledger(ctx.spec)
st.title(f"AlexNet whole: {ctx.spec.title}")
st.caption(f"{ctx.spec.description}  \nSource: {ctx.spec.source}")

totals_row(book)

blocks, strip, shares = _figures(ctx.spec, book.input_size)
st.subheader("The network at a glance")
# The 3-D scene's camera is fixed, so a narrow column cut off both ends: there the 2-D strip shows instead
# (a container query, so an open sidebar counts too). A click on either opens the layer (ui/plotclicks.py).
st.html(f"<style>{NARROW_CSS}</style>")
with st.container(key="overview_blocks"):
    with st.container(key="blocks_3d"):
        st.caption("One block per feature map: depth grows with the channels, height and width with the map's side, "
                   "both on log scales so the 6×6 maps stay visible next to the input. Red boxes are the kernels or "
                   "windows, drawn inside the map they slide over. Point at a block for its true numbers, click it "
                   "to open its layer; drag to turn the picture.")
        st.plotly_chart(blocks, width="stretch", key="blocks", config={"displaylogo": False, "displayModeBar": False})
    with st.container(key="blocks_2d"):
        st.caption("One bar per feature map, from the input down to the class scores: its length grows with the "
                   "map's side on a log scale; its shape (height × width × channels) is written beside it. Tap a "
                   "bar to open its layer; touch and hold for its numbers.")
        st.plotly_chart(strip, width="stretch", key="blocks_strip",
                        config={"displaylogo": False, "displayModeBar": False, "scrollZoom": False})
open_layer(clicked_layer(["blocks_3d", "blocks_2d"], list(ctx.spec.names), key="blocks_click"))
talk = [r.name for r in tower_plan(ctx.spec) if r.link in ("across", "one")]
if talk:
    st.caption("Two towers: each GPU holds half of every layer's channels (the last layer drawn as one block, as in "
               f"the paper's Figure 2); red lines are where the GPUs exchange data, into {', '.join(talk)} (Sec. 3.5).")
# The layer names as buttons too, for keyboards and screen readers; the ledger's rows below open a layer as well.
open_layer(st.pills("Open a layer", list(ctx.spec.names), key="blocks_open", selection_mode="single"))

st.subheader("Layer by layer")
st.caption("Select a row to open that layer's page.")
open_layer(ledger_table(book, key="ledger", selectable=True))

share = where_it_lives(book)
st.subheader("Where the parameters live, and where the work is done")
st.markdown(f"The fully connected layers {share['fc_layers']} hold **{share['fc_params']:.1%}** of the parameters "
            f"but do only **{share['fc_macs']:.1%}** of the multiply-adds; the convolutions {share['conv_layers']} "
            f"do **{share['conv_macs']:.1%}** of the work with **{share['conv_params']:.1%}** of the parameters.")
st.plotly_chart(shares, width="stretch", key="shares", config={"displayModeBar": False})
roofline_section(ctx.spec, ctx.key.device)

st.subheader("Three networks called AlexNet")
chart, differences, totals = _variants()
st.markdown(" · ".join(f"**{VARIANTS[n].title}**: {t:,} parameters" for n, t in totals.items()))
st.plotly_chart(chart, width="stretch", key="variants", config={"displayModeBar": False})
st.dataframe(pd.DataFrame(differences), hide_index=True, width="stretch", height=36 * (len(differences) + 1),
             column_config={**{f"{n} params": st.column_config.NumberColumn(format="localized") for n in VARIANTS},
                            **{c: st.column_config.TextColumn(width="large") for c in differences[0]
                               if c.startswith("differences")}})
