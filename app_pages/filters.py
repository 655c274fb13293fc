"""Filters: the kernels each conv layer learned (or was initialised with), and their weight histograms."""
from __future__ import annotations

from typing import Literal

import streamlit as st

from alexnet_viz.analysis.ablate import towers as tower_count
from alexnet_viz.analysis.kernels import input_channels
from alexnet_viz.core.bookkeeping import split_groups
from alexnet_viz.figures import colours
from ui import analysis, before_after, charts, grids
from ui.image_input import or_stop
from ui.page import network_page
from ui.urls import unit_page_link, url_choice, url_write

st.title("Filters")
st.markdown("The weights themselves: no image needed. With ImageNet weights, C1 shows the famous "
            "picture of edge and colour detectors.")

page = network_page()
ctx = page.ctx
st.caption(f"Weights: {page.about_weights}")
weights = or_stop(analysis.kernels, ctx.key)
convs = list(weights)
# The paper split every layer's kernels over two GPUs, whatever its connectivity (groups).
towers = tower_count(ctx.spec)


@st.fragment
def kernel_view() -> None:
    """Layer picker and the kernel tiles; reruns alone when its widgets change."""
    url_choice("flt_layer", "layer", convs, convs[0])
    c1, c2 = st.columns([1, 3])
    name = c1.selectbox("Conv layer", convs, key="flt_layer")
    url_write("layer", name)
    w = weights[name]
    out, per_group, k = w.shape[0], w.shape[1], w.shape[-1]
    groups = ctx.spec.layer(name).groups
    parts = split_groups(out, towers)
    if w.shape[1] == 3:
        picked = c2.radio("Colours", ["map", "layer"], horizontal=True, key="flt_mode",
                        format_func={"map": "each kernel stretched to full contrast",
                                     "layer": "one range for the layer (grey = 0)"}.get)
        mode: Literal["map", "layer"] = "layer" if picked == "layer" else "map"
        st.markdown(f"{name}'s {out} kernels of {k}×{k}×3, drawn as colour pictures: the RGB pattern each "
                    "one responds to most.")
        in_channel = None
    else:
        url_choice("flt_in", "channel", list(range(per_group)), 0, parse=int)
        in_channel = c2.slider(f"Input channel (each kernel has {per_group} slices of {k}×{k})", 0,
                               per_group - 1, key="flt_in")
        url_write("channel", in_channel)
        mode = "layer"
        st.markdown(f"{name} has {out} kernels of {k}×{k}×{per_group}: too deep to draw in colour, so each tile is "
                    f"one kernel's {k}×{k} slice on input channel {in_channel} ({colours.SIGN_LEGEND}, one "
                    "shared range).")
    cols = st.columns(len(parts))
    for g, (col, rng) in enumerate(zip(cols, parts)):
        label = f"GPU {g + 1}: kernels {rng.start}–{rng.stop - 1}" if towers > 1 else f"kernels 0–{out - 1}"
        if in_channel is not None:
            label += f"; slice on input channel {input_channels(ctx.spec, name, rng.start).start + in_channel}"
        with col:
            grid = grids.kernel_grid(ctx.key, name, rng.start, rng.stop, in_channel, mode,
                                     label + ". Click a kernel for its close-up.")
            clicked = grids.clickable(grid, key=f"flt_grid_{g}")
        if clicked is not None:  # the close-up below is drawn later in this run
            st.session_state["flt_kernel"] = clicked
    if towers > 1:
        st.caption(f"The paper trained this network on two GPUs, half of every layer's kernels on each. {name} has "
                   f"groups={groups}: " + ("each GPU's kernels see only that GPU's half of the input channels."
                                           if groups > 1 else "its kernels see the input channels of both GPUs."))
    kernel_closeup(name, in_channel)


def kernel_closeup(name: str, in_channel: int | None) -> None:
    """One kernel's weights with their values: all three colour channels for C1, the chosen slice deeper."""
    w = weights[name]
    st.subheader("One kernel", anchor="one-kernel")
    url_choice("flt_kernel", "kernel", list(range(w.shape[0])), 0, parse=int)
    pick, link = st.columns([1, 3], vertical_alignment="bottom")
    kernel = int(pick.number_input(f"Kernel (0–{w.shape[0] - 1})", min_value=0, max_value=w.shape[0] - 1, step=1,
                                   key="flt_kernel"))
    url_write("kernel", kernel)
    unit_page_link(link, ctx.variant, name, kernel, f"Open the unit page for {name} kernel {kernel}",
                   "The channel this kernel computes: its feature visualisation, top dataset patches, and "
                   "what the prediction loses without it.")
    planes = {f"{c} input": w[kernel, i] for i, c in enumerate("RGB")} if in_channel is None \
        else {f"input channel {in_channel}": w[kernel, in_channel]}
    st.plotly_chart(charts.kernel_heatmap(planes),
                    key="flt_closeup", config={"displaylogo": False, "displayModeBar": False})
    st.caption(f"{name} kernel {kernel}'s weights (hover for values): {colours.SIGN_LEGEND}; one range, symmetric "
               "around zero, for the panels shown.")
    before_after.section("filters", "flt_compare", ctx.spec, layer=name, channel=kernel)


kernel_view()

st.subheader("Weight histograms")
st.plotly_chart(or_stop(analysis.histogram_figure, ctx.key), key="flt_hist",
                config={"displaylogo": False, "displayModeBar": False})
st.caption("Each layer's weights, counted on the server into 80 bins (the fully connected layers hold most "
           "of the network's parameters). Random weights show the initialisation's bell curve.")
