"""Prediction and why: the top-5 for your image, and three views of what the decision rests on."""
from __future__ import annotations

import streamlit as st

from alexnet_viz import probe_figures as pf
from ui import analysis
from ui.image_input import image_picker, or_stop, url_choice, weights_banner
from ui.state import context

st.title("Prediction and why")

ctx = context()
about = weights_banner(ctx.variant, ctx.weights, ctx.device)
picked = image_picker(ctx.variant)
if picked is None:
    st.stop()
ref = picked.ref
top = or_stop(analysis.prediction, ref, ctx.variant, ctx.weights, ctx.device)

chart, facts = st.columns([2, 1])
with chart:
    st.plotly_chart(pf.top_k_bars(top.labels, top.probs, title=f"Top {len(top.labels)} classes"),
                    key="pred_top", config={"displaylogo": False})
with facts:
    st.image(picked.prepared.view, caption="What the network sees", width=224)
    st.metric("Warm latency of one forward pass", f"{top.latency_ms:.1f} ms")
    st.markdown(f"**Device:** {top.device_name}  \n**Weights:** {about}")


@st.fragment
def explanations() -> None:
    """Class picker and the three attribution maps; reruns alone when the class changes."""
    from alexnet_viz.probe import categories

    names = categories(ctx.spec.layers[-1].out)
    options = list(top.indices) + [i for i in range(len(names)) if i not in top.indices]
    url_choice("pred_class", "class", options, top.indices[0], parse=int)
    target = st.selectbox("Explain the class", options, key="pred_class",
                          format_func=lambda i: f"{names[i]} (#{i})" + (" · top-1" if i == top.indices[0] else ""))
    st.query_params["class"] = str(target)
    cam, sal, occ = st.columns(3)
    with cam:
        st.markdown("**Grad-CAM** at C7: which regions of the last conv layer raise the class score.")
        with st.spinner("Grad-CAM…"):
            png = or_stop(analysis.explanation_png, ref, ctx.variant, ctx.weights, ctx.device, "grad_cam", target)
        st.image(png, width="stretch")
    with sal:
        st.markdown("**Gradient saliency**: how much each input pixel's change moves the class score.")
        with st.spinner("Saliency…"):
            png = or_stop(analysis.explanation_png, ref, ctx.variant, ctx.weights, ctx.device, "saliency", target)
        st.image(png, width="stretch")
    with occ:
        st.markdown("**Occlusion**: how much the score drops when a grey patch hides each region.")
        if st.toggle("Compute occlusion (slower: one forward pass per patch position)", key="pred_occlusion"):
            with st.spinner("Sliding the patch over the image…"):
                png = or_stop(analysis.explanation_png, ref, ctx.variant, ctx.weights, ctx.device, "occlusion", target)
            st.image(png, width="stretch")


st.subheader("Why this answer")
explanations()
