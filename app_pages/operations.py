"""The operations: the article's Figures 2-4 made live, with every multiply-add written out."""
import pandas as pd
import streamlit as st

from alexnet_viz.core.spec import PAPER
from alexnet_viz.errata import article
from alexnet_viz.errata.claims import CLAIMS
from alexnet_viz.errors import AlexVizError
from alexnet_viz.figures import colours
from alexnet_viz.ideas.operations import (
    conv_step,
    convolve,
    dense_example,
    fully_connected,
    output_side,
    pool,
    pool_comparison,
    pool_geometry,
    pool_step,
    random_values,
    relu,
    softmax,
    softmax_working,
)
from ui.charts import dense_figure, value_grids, vector_bars  # shared, frozen figures per distinct input
from ui.editors import conv_inputs, editable, editing_toggled

PLOT = {"displaylogo": False, "displayModeBar": False}

st.title("The operations")
st.caption("The article's Figures 2–4 on small numbers you can follow: whole-number values so every product "
           "can be checked by hand. Randomise them or type your own.")
seed_col, edit_col = st.columns([1, 3], vertical_alignment="bottom")
seed = seed_col.number_input("Random seed", min_value=0, max_value=10_000, step=1, key="ops_seed",
                             help="Change it (or press the + button) for new values.")
editing = edit_col.toggle("Edit the values", key="ops_editing", on_change=editing_toggled,
                          help="Type your own inputs, kernels and biases; your edits stay when you turn this off.")
conv_tab, pool_tab, fc_tab, act_tab = st.tabs(["Convolution (Figure 2)", "Pooling (Figure 3)",
                                               "Fully connected (Figure 4)", "ReLU and softmax"])

with conv_tab:
    fig2 = article.FIGURE2
    c, h = fig2.input_hwc[2], fig2.input_hwc[0]
    k = fig2.kernel_hwc[0]
    controls = st.columns(3)
    stride = controls[0].slider("Stride", 1, 3, fig2.stride, key="conv_stride")
    padding = controls[1].slider("Padding", 0, 2, fig2.padding, key="conv_padding")
    x, w, bias = conv_inputs(int(seed), c, h, k, editing)
    try:
        side = output_side(h, k, stride, padding)
        step = controls[2].slider("Step (window position)", 0, side * side - 1, 0, key="conv_step") \
            if side > 1 else 0
        out = convolve(x, w, bias, stride, padding)
        window = conv_step(x, w, bias, stride, padding, step)
    except AlexVizError as exc:
        st.error(str(exc))
    else:
        st.markdown(f"A {h}×{h}×{c} input and one {k}×{k}×{c} kernel, stride {stride}, padding {padding}: "
                    f"output side ⌊({h} − {k} + 2·{padding}) / {stride}⌋ + 1 = **{side}**, "
                    f"so **one {side}×{side} "
                    f"map** — the {c} channels are summed, not kept. Step {step} writes row {window.out_row}, "
                    f"column {window.out_col} with {window.terms} multiply-adds plus the bias.")
        # One figure per matrix, in columns: side by side on a wide screen, stacked on a phone, so the
        # numbers keep a readable size (seven panels in one figure shrank them to ~6 px).
        spans = (window.rows, window.cols)
        for i, col in enumerate(st.columns(c)):
            col.plotly_chart(value_grids([x[i]], [f"input channel {i + 1}"], window=spans, padding=padding,
                                         height=300), width="stretch", key=f"conv_in{i}", config=PLOT)
        for i, col in enumerate(st.columns(c + 1)):
            if i < c:
                fig = value_grids([w[i]], [f"kernel channel {i + 1}"], side=0, height=220)
            else:
                fig = value_grids([out], ["output"], cell=(window.out_row, window.out_col), cell_panel=0, side=0,
                                  height=220)
            col.plotly_chart(fig, width="stretch", key=f"conv_k{i}", config=PLOT)
        st.caption(f"Colours: {colours.SIGN_LEGEND}. The black frames are the window and the value it writes.")
        st.code(window.working, language=None, wrap_lines=True)

with pool_tab:
    fig3 = article.FIGURE3
    size = fig3.input_hwc[0]
    pool_controls = st.columns(4)
    kind = pool_controls[0].radio("Pooling", ["max", "avg"], horizontal=True, key="pool_kind",
                             format_func=lambda v: {"max": "max", "avg": "average"}[v])
    channel = pool_controls[1].selectbox("Channel", range(fig3.input_hwc[2]), format_func=lambda i: f"channel {i + 1}",
                                    key="pool_channel")
    pk = pool_controls[2].slider("Window (kernel)", 1, 4, fig3.kernel_hwc[0], key="pool_kernel",
                            help="AlexNet uses 3 (overlapping with stride 2); the article's Figure 3 uses 2.")
    ps = pool_controls[3].slider("Stride", 1, 4, fig3.stride, key="pool_stride")
    px = random_values((fig3.input_hwc[2], size, size), int(seed) + 500, 0, 9)
    px[channel] = editable(px[channel], f"pool_x{channel}_{seed}", f"channel {channel + 1}", editing)
    try:
        geometry = pool_geometry(size, pk, ps)
    except AlexVizError as exc:
        st.error(str(exc))
    else:
        p_side = geometry.out
        p_step = st.slider("Step (window position)", 0, p_side * p_side - 1, 0, key="pool_step") \
            if p_side > 1 else 0
        pooled = pool(px, kind, pk, ps)
        pwin = pool_step(px, kind, channel, min(p_step, p_side * p_side - 1), pk, ps)
        overlap = (f"neighbouring windows **overlap** by {geometry.overlap} row(s) and column(s), so "
                   f"{geometry.reused:.0%} of the input values are read by two or more windows"
                   if geometry.overlap > 0 else "the windows do not overlap")
        unread = f"; {geometry.unread:.0%} are read by no window at all" if geometry.unread else ""
        st.markdown(f"A {pk}×{pk} window with stride {ps} over each {size}×{size} channel on its own: "
                    f"{px.shape[0]} channels in, **{pooled.shape[0]} channels of {pooled.shape[1]}×{pooled.shape[2]}** "
                    f"out (⌊({size} − {pk}) / {ps}⌋ + 1 = {p_side}); {overlap}{unread}. No weights are learned.")
        # One figure per matrix, as for the convolution: three panels in one figure crowded the numbers on a phone.
        spans = (pwin.rows, pwin.cols)
        into, out_col, reads_col = st.columns(3)
        into.plotly_chart(value_grids([px[channel]], [f"input channel {channel + 1}"], window=spans, height=300),
                          width="stretch", key="pool_grid", config=PLOT)
        out_col.plotly_chart(value_grids([pooled[channel]], [f"{kind} pooled"], cell=(pwin.out_row, pwin.out_col),
                                         cell_panel=0, side=0, height=300),
                             width="stretch", key="pool_out", config=PLOT)
        reads_col.plotly_chart(value_grids([geometry.reads.astype(float)], ["windows reading each value"],
                                           window=spans, height=300),
                               width="stretch", key="pool_reads", config=PLOT)
        st.code(pwin.working, language=None)
    st.markdown("**AlexNet's overlapping pooling beside the non-overlapping kind**, on the paper network's own "
                "pooling inputs (computed from the spec):")
    st.dataframe(pd.DataFrame([{"input side": pc.ours.size,
                                f"{pc.ours.kernel}×{pc.ours.kernel} stride {pc.ours.stride} → side": pc.ours.out,
                                "values read twice or more": f"{pc.ours.reused:.0%}",
                                "2×2 stride 2 → side": pc.plain.out,
                                "values read by no window": f"{pc.plain.unread:.1%}"}
                               for pc in pool_comparison(PAPER)]), hide_index=True, width="stretch")
    small = 7  # the smallest side where both give the same output side and the difference shows
    ours, plain = pool_geometry(small, 3, 2), pool_geometry(small, 2, 2)
    titles = [f"{g.kernel}×{g.kernel} stride {g.stride}: {g.out}×{g.out} out" for g in (ours, plain)]
    for n, (col, g) in enumerate(zip(st.columns(2), (ours, plain))):
        col.plotly_chart(value_grids([g.reads.astype(float)], [titles[n]], height=260),
                         width="stretch", key=f"pool_overlap{n}", config=PLOT)
    st.caption(f"How many windows read each value of a {small}×{small} map: overlapping windows read the shared rows "
               "and columns twice (four times where they cross); 2×2 windows read each value at most once and leave "
               "the last row and column unread.")
    claim = CLAIMS["pool"]
    st.caption(f"Same output sides, different windows: {claim.text} ({claim.source}.)")

with fc_tab:
    n_in, n_hidden, n_out = article.FC_EXAMPLE
    fx, w1, b1, w2, b2 = dense_example(int(seed), article.FC_EXAMPLE)
    fx = editable(fx, f"fc_x_{seed}", "input vector", editing)
    dense = fully_connected(fx, w1, b1, w2, b2)
    st.markdown(f"{n_in} inputs → {n_hidden} hidden neurons (ReLU) → {n_out} outputs: "
                f"({n_in} + 1)·{n_hidden} + ({n_hidden} + 1)·{n_out} = **{dense.params}** parameters. "
                f"Edges: {colours.SIGN_WORDS} weights; thicker is larger.")
    st.plotly_chart(dense_figure(fx, dense.hidden, dense.output, w1, w2), width="stretch", key="fc_graph", config=PLOT)
    left, right = st.columns(2)
    left.code("\n".join(dense.hidden_working) + "\nReLU: " + ", ".join(f"{v:g}" for v in dense.hidden),
              language=None, wrap_lines=True)
    right.code("\n".join(dense.output_working), language=None, wrap_lines=True)

with act_tab:
    vector = editable(random_values((5,), int(seed) + 900, -4, 4), f"act_v_{seed}", "a vector", editing)
    probs = softmax(vector)
    st.plotly_chart(vector_bars({"input": vector, "ReLU": relu(vector), "softmax": probs}), width="stretch",
                    key="act_bars", config=PLOT)
    st.markdown(f"ReLU keeps the positives and zeroes the rest; softmax turns any vector into probabilities "
                f"(they sum to **{probs.sum():.4f}**) and keeps the order: the largest input, "
                f"v{int(vector.argmax()) + 1}, "
                f"gets the largest probability, **{probs.max():.4f}**.")
    st.code("\n".join(softmax_working(vector)), language=None)
