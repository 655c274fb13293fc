"""Prediction and why: the top-5 for your image, and three views of what the decision rests on."""
from __future__ import annotations

import streamlit as st

from alexnet_viz.figures import colours
from ui import analysis, before_after, grids
from ui.image_input import or_stop
from ui.page import image_page
from ui.urls import url_choice, url_write

st.title("Prediction and why")

page, ref = image_page(answer_first=True)
ctx = page.ctx
top = or_stop(analysis.prediction, ref, ctx.key)
classes = ctx.spec.layers[-1].out


def untrained_answer() -> None:
    """What random weights' top-5 means, against chance and against a blank picture's answer (both computed)."""
    blank = analysis.blank_softmax(ctx.key)
    shared = len(set(blank.indices) & set(top.indices))
    same = ("the same top class, which is why photo after photo gets nearly the same top 5"
            if blank.indices[0] == top.indices[0]
            else f"{shared} of these {len(top.indices)} classes in its top {len(blank.indices)}")
    st.info(f"**Why this answer says nothing about your photo.** The weights are random, so the class scores come "
            f"from the weights, not from what the photo shows: a blank grey picture gets {same}. "
            f"The best class here gets {top.probs[0]:.2%}, "
            f"{top.probs[0] * classes:.1f}× chance. Trained weights put most of the probability on the few classes "
            "the photo shows, far above chance.", icon=":material/casino:")


chart, facts = st.columns([2, 1])
with chart:
    st.plotly_chart(analysis.top_figure(ref, ctx.key), key="pred_top",
                    config={"displaylogo": False, "displayModeBar": False})
    st.caption(f"The dotted line is chance: 1 in {classes:,} = {1 / classes:.1%}, what each of the {classes:,} "
               "classes would get from a guess that knows nothing.")
    if not page.trained:
        untrained_answer()
with facts:
    st.image(analysis.view_jpeg(ref, ctx.spec), caption="What the network sees", width=224, output_format="JPEG")
    st.metric("One forward pass, wall clock", f"{top.latency_ms:.1f} ms",
              help="Timed on this server when this image was first classified (then cached): one warm forward "
                   "pass from the input tensor to the class scores, device synchronised before and after. It is "
                   "wall-clock time, so on a busy shared server it includes waiting for CPU cores that other "
                   "sessions use and can be many times the network's own time; `python -m alexnet_viz bench` "
                   "measures the network alone.")
    st.markdown(f"**Device:** {top.device_name}  \n**Weights:** {page.about_weights}")
page.notice()
before_after.section("prediction", "pred_compare", ctx.spec, ref=ref)


@st.fragment
def explanations() -> None:
    """Class picker and the three attribution maps; reruns alone when the class changes."""
    from alexnet_viz.analysis.probe import categories

    names = categories(ctx.spec.layers[-1].out)
    options = list(top.indices) + [i for i in range(len(names)) if i not in top.indices]
    url_choice("pred_class", "class", options, top.indices[0], parse=int)
    target = st.selectbox("Explain the class", options, key="pred_class",
                          format_func=lambda i: f"{names[i]} (#{i})" + (" · top-1" if i == top.indices[0] else ""))
    url_write("class", target)
    if target not in top.indices:  # its own probability and rank, from the full ranking
        ranked = or_stop(analysis.prediction, ref, ctx.key, len(names))
        rank = ranked.indices.index(target)
        st.info(f"**{names[target]}** is not in the top {len(top.indices)}: the network gives it "
                f"{ranked.probs[rank]:.2%}, rank {rank + 1} of {len(names)}.", icon=":material/info:")
    cam, sal, occ = st.columns(3)
    with cam:
        st.markdown("**Grad-CAM** at C7: which regions of the last conv layer raise the class score.")
        with st.spinner("Grad-CAM…"):
            img = or_stop(analysis.explanation_jpeg, ref, ctx.key, "grad_cam", target)
        st.image(img, width="stretch", output_format="JPEG")
    with sal:
        st.markdown("**Gradient saliency**: how much each input pixel's change moves the class score.")
        with st.spinner("Saliency…"):
            img = or_stop(analysis.explanation_jpeg, ref, ctx.key, "saliency", target)
        st.image(img, width="stretch", output_format="JPEG")
    with occ:
        st.markdown("**Occlusion**: how much the score drops when a grey patch hides each region.")
        if st.toggle("Compute occlusion", key="pred_occlusion",
                     help="Slower: one forward pass per patch position, so it runs only when asked."):
            with st.spinner("Sliding the patch over the image…"):
                img = or_stop(analysis.explanation_jpeg, ref, ctx.key, "occlusion", target)
            st.image(img, width="stretch", output_format="JPEG")
    grids.colour_bar(grids.Bar(colours.HEAT, "0: no support", "1: this map's maximum",
                               "how much a region supports the chosen class (each map scaled to its own maximum)"))
    st.caption("Each map is drawn over the picture the network sees: the brighter and yellower, the more that "
               "region supports the chosen class.")


st.subheader("Why this answer")
explanations()
