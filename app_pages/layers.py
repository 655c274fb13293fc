"""Layer by layer: one layer's diagram and every number derived in front of the reader."""
import streamlit as st

from alexnet_viz import article
from alexnet_viz.derive import derive
from alexnet_viz.figures import layer_diagram
from alexnet_viz.ledger import ledger
from alexnet_viz.spec import Spec
from ui.state import context
from ui.tables import derivation_table
from ui.urls import url_choice, url_write

LAYER_PARAM = "layer"  # ?layer=C5 in the URL
PICK_KEY = "layers_pick"


@st.cache_data(show_spinner=False, max_entries=64)
def _diagram(spec: Spec, size: int, name: str):
    return layer_diagram(ledger(spec, size), name)


ctx = context()
book = ledger(ctx.spec)
names = list(ctx.spec.names)

st.title("Layer by layer")
st.caption(f"{ctx.spec.title}, input {book.input_size}×{book.input_size}×{ctx.spec.in_channels}. "
           "The URL remembers the layer, so a link reproduces this view.")
url_choice(PICK_KEY, LAYER_PARAM, names, names[0])
name = st.radio("Layer", names, key=PICK_KEY, horizontal=True)
url_write(LAYER_PARAM, name)

result = derive(ctx.spec, name, book=book)
st.subheader(result.title)
left, right = st.columns([3, 2])
with left:
    st.plotly_chart(_diagram(ctx.spec, book.input_size, name), width="stretch", key="layer_diagram",
                    config={"displayModeBar": False})
    if ctx.spec.layer(name).kind == "fc":
        st.caption("Grey: the input values; green: this layer's neurons (heights on a log scale); the lines are a "
                   "sample of the connections, since every input reaches every neuron.")
    else:
        st.caption("Grey: the layer's input; red: one kernel (or pooling window) at its first placement, padding "
                   "outlined; magenta: the single output value it produces. Spatial sides are to scale.")
with right:
    compared = [s for s in result.steps if s.agrees is not None]
    agree = sum(s.agrees for s in compared)
    if compared:
        st.metric("Article's stated numbers that agree", f"{agree} of {len(compared)}")
    if name in article.NAMES:
        st.markdown(f"**The article on {name}:** “{article.layer(name).quote}”")
derivation_table(result)
differs = [s for s in result.steps if s.agrees is False]
for step in differs:
    st.warning(f"{step.label}: the article states {step.article}, the {ctx.spec.title} network computes "
               f"{step.result}.")
