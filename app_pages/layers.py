"""Layer by layer: one layer's diagram and every number derived in front of the reader."""
import streamlit as st

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.names import ARTICLE_SOURCE, PAPER_SOURCE, TORCH_SOURCE, module_plan
from alexnet_viz.core.spec import Spec
from alexnet_viz.errata import article
from alexnet_viz.errata.derive import derive
from alexnet_viz.figures.architecture import layer_diagram
from alexnet_viz.figures.ideas import tower_link_figure
from alexnet_viz.ideas.stack import layer_stack, tower_plan
from ui.charts import frozen
from ui.state import context
from ui.tables import derivation_table
from ui.urls import url_choice, url_write

LAYER_PARAM = "layer"  # ?layer=C5 in the URL
PICK_KEY = "layers_pick"


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, read-only figures: see ui/charts.py
def _diagram(spec: Spec, size: int, name: str):
    return frozen(layer_diagram(ledger(spec, size), name))


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
row = book.row(name)
others = ", ".join(f"{role} `{path}`" for role, path in module_plan(ctx.spec)[name].items() if path != row.torch_name)
st.caption(f"Article: **{name}** · paper: **{row.paper_name}** · PyTorch: `{row.torch_name}`"
           + (f" (with {others})" if others else ""),
           help=f"Article: {ARTICLE_SOURCE}.  \nPaper: {PAPER_SOURCE}.  \nPyTorch: {TORCH_SOURCE}.")
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
    agree = sum(bool(s.agrees) for s in compared)
    if compared:
        st.metric("Article's stated numbers that agree", f"{agree} of {len(compared)}")
    if name in article.NAMES:
        st.markdown(f"**The article on {name}:** “{article.layer(name).quote}”")
st.markdown(f"**What runs inside {name}**, in order (read from the spec the model is built from):\n\n"
            + "\n".join(f"{i}. {stage.text}" for i, stage in enumerate(layer_stack(ctx.spec, name), start=1)))
plan = {r.name: r for r in tower_plan(ctx.spec)}
if name in plan:
    tower = plan[name]
    where = f" (the paper's {tower.paper_name})" if tower.paper_name else ""
    crossing = " Red lines: data crossing between the GPUs." if tower.link in ("across", "one") else ""
    st.markdown(f"**Two GPUs**{where}: {tower.split}; {tower.text}.{crossing}")
    st.plotly_chart(tower_link_figure(tower, names[names.index(name) - 1] if names.index(name) else "input"),
                    width="stretch", key="layer_towers", config={"staticPlot": True})
derivation_table(result)
differs = [s for s in result.steps if s.agrees is False]
for step in differs:
    st.warning(f"{step.label}: the article states {step.article}, the {ctx.spec.title} network computes "
               f"{step.result}.")
