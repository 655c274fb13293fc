"""Inside one unit: what a channel wants to see, what excites it in photos, its kernel, and what breaks without it.

Deep-linkable: ?layer=C3&channel=17 (and &variant=paper) opens that unit; ?layer=F9&channel=5 a fully connected
unit; ?layer=F11&channel=281 a class logit.
"""
from __future__ import annotations

import streamlit as st

from alexnet_viz.analysis.ablate import tower_channels, towers
from alexnet_viz.analysis.featviz import FeatureVis, Settings
from alexnet_viz.analysis.probe import categories
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.figures import colours
from ui import analysis, before_after, unit
from ui.image_input import or_stop
from ui.page import network_page
from ui.urls import url_choice, url_write

st.title("Inside one unit")
st.markdown("One channel of one layer, four ways: the picture that excites it most, the photos that excite it, "
            "its weights, and what your image's prediction loses without it.")

page = network_page()
ctx = page.ctx
st.caption(f"Weights: {page.about_weights}")
book = ledger(ctx.spec)
logits = book.rows[-1].name  # the class logits: their "channels" are the classes
layers = [r.name for r in book.rows]  # conv, pooling and fully connected; the last one's units are the classes

url_choice("unit_layer", "layer", layers, "C3" if "C3" in layers else layers[0])
left, right = st.columns([1, 1])
name = left.selectbox("Layer", layers, key="unit_layer",
                      format_func=lambda n: f"{n} (class logits)" if n == logits else n)
url_write("layer", name)
row = book.row(name)
channels = row.out_shape[0]
is_class = name == logits
is_fc = row.kind == "fc"
url_choice("unit_channel", "channel", list(range(channels)), 0, parse=int)
channel = int(right.number_input(f"{'Class' if is_class else 'Unit' if is_fc else 'Channel'} (0–{channels - 1})",
                                 min_value=0, max_value=channels - 1, step=1, key="unit_channel"))
url_write("channel", channel)
if is_class:
    label = categories(channels)[channel]
    st.caption(f"{name} is the classifier's output: unit {channel} is the logit (score before the softmax) of "
               f"class **{label}**.")
elif is_fc:
    st.caption(f"{name} is a fully connected layer of {channels} units; each reads all {row.in_shape[0]:,} outputs "
               "of the layer below, so it sees the whole image.")
else:
    st.caption(f"{name} is a {row.kind} layer with {channels} channels of {row.out_shape[1]}×{row.out_shape[2]} "
               f"units; each unit sees a {row.rf}×{row.rf} window of the input.")

st.header("What it wants to see")
steps = unit.DEFAULT.steps
what = f"{name} {'class' if is_class else 'unit' if is_fc else 'channel'} {channel}"


def compute(settings: Settings) -> FeatureVis:
    """Optimise with a progress bar in the page; the result goes to the server's disk cache."""
    bar = st.progress(0.0, text="Optimising…")

    def tick(step: int, total: int) -> None:
        if step % 8 == 0 or step == total:
            bar.progress(step / total, text=f"Optimising… step {step} of {total}")

    result = or_stop(unit.compute_featvis, ctx.key, name, channel, tick, settings)
    bar.empty()
    return result


vis = or_stop(unit.featvis, ctx.key, name, channel)
if vis is None:
    cost = "a minute or two here: the whole network runs at full size" if is_fc else "a few seconds here"
    offer = st.empty()  # the offer goes once the picture comes, not at the next rerun
    with offer.container():
        st.markdown(f"No picture for {what} yet. Computing one optimises an image for {steps} steps ({cost}); it "
                    "is stored on the server, so every later visit shows it at once.")
        clicked = st.button("Compute its feature visualisation", key="unit_compute", type="primary")
    if clicked:
        offer.empty()
        vis = compute(unit.DEFAULT)
if vis is not None:
    st.image(unit.featvis_png(vis), width=256, output_format="PNG",
             caption=f"An image optimised to excite {what}: its "
                     + ("logit" if is_class else "value before the ReLU" if is_fc
                        else "mean " + ("before the ReLU" if row.kind == "conv" else "output"))
                     + f" went from {vis.start_value:.3g} (random start) to {vis.values[0]:.3g}.")
    st.caption("Lucid's method (Olah et al., Distill 2017, via lucent): a 1/f-scaled Fourier image with "
               "decorrelated colours, randomly jittered, scaled and rotated at each step, so the pattern must "
               f"survive small shifts; {vis.settings.steps} Adam steps at {vis.images.shape[1]}×{vis.images.shape[2]} "
               "pixels" + ("." if is_fc else ", repeating the pattern across the image because every unit of "
                        "the channel is rewarded."))
    if not is_fc:
        with st.expander(f"Diversity: {unit.DIVERSE.batch} different images for this unit"):
            diverse = or_stop(unit.featvis, ctx.key, name, channel, unit.DIVERSE)
            if diverse is None:
                offer = st.empty()
                with offer.container():
                    st.markdown(f"{unit.DIVERSE.batch} images optimised together, each for the unit and against "
                                "looking like the others (lucent's diversity objective: the similarity of their "
                                "Gram matrices), show more of what it responds to than one image can.")
                    clicked = st.button(f"Compute {unit.DIVERSE.batch} (about {unit.DIVERSE.batch} times as long)",
                                        key="unit_diverse")
                if clicked:
                    offer.empty()
                    diverse = compute(unit.DIVERSE)
            if diverse is not None:
                st.image(unit.featvis_png(diverse), width=132 * min(unit.FEATVIS_COLS, unit.DIVERSE.batch) - 4,
                         output_format="PNG",
                         caption=f"{unit.DIVERSE.batch} images for {what}, optimised together to differ; their means: "
                                 + ", ".join(f"{v:.3g}" for v in diverse.values) + ".")

if is_class:
    st.header("Your image")
    scores = or_stop(analysis.layer, page.image(), ctx.key, name).post
    rank = int((scores > scores[channel]).sum()) + 1
    st.markdown(f"For this image the network gives **{label}** a logit of {float(scores[channel]):.3g}, "
                f"rank {rank} of {channels} classes.")
    st.stop()

st.header("What excites it in photos")
found = unit.indexes(ctx.key)
if is_fc:
    st.markdown("A dataset index keeps the conv and pooling layers' channels, whose strongest unit has a place in the "
                f"image to crop; a unit of {name} sees the whole image, so there is no patch to show.")
elif not found:
    st.info("No dataset index for this network is offered by this server. Whoever runs it builds one from a "
            "folder of photos with `python -m alexnet_viz index FOLDER --out INDEX.npz` and starts the app with "
            "`ALEXNET_INDEX=INDEX.npz`; this section then shows the patches of the photos where this channel "
            "fires most.", icon=":material/photo_library:")
else:
    chosen = st.selectbox("Dataset index", list(found), key="unit_index") if len(found) > 1 else next(iter(found))
    shown = unit.patches(chosen, ctx.key, name, channel)
    index = found[chosen]
    if shown is None:
        st.warning(f"The images **{chosen}** names cannot be read any more; whoever runs the server rebuilds it.")
    else:
        listing = "; ".join(f"{v:.3g} {n}" for v, n in zip(shown.values, shown.names, strict=True))
        st.image(shown.jpeg, width=shown.width, output_format="JPEG",
                 caption=f"The {len(shown.values)} images of {len(index.files)} in **{chosen}** where {name} channel "
                         f"{channel} fires most, cropped to the receptive field of its strongest unit, row by row: "
                         f"{listing}.")

st.header("Its kernel")
kernel = unit.kernel_view(ctx.key, name, channel)
if kernel is None and is_fc:
    st.markdown(f"{name} unit {channel} has {row.in_shape[0]:,} weights, one per unit of the layer below: a vector "
                "with no layout to draw.")
elif kernel is None:
    st.markdown(f"{name} is a pooling layer: it has no weights. Channel {channel} is the "
                f"{'maximum' if row.kind == 'maxpool' else 'average'} of channel {channel} of the layer below over "
                f"{row.kernel}×{row.kernel} windows.")
elif kernel.inputs is None:
    st.image(kernel.png, width=kernel.width, output_format="PNG",
             caption=f"Kernel {channel} of {name}: {row.kernel}×{row.kernel}×3 weights as a colour picture "
                     f"(stretched to full contrast), the colour pattern it responds to most.")
elif is_fc:
    below = [r.name for r in book.rows if r.kind != "fc"][-1]
    st.image(kernel.png, width=kernel.width, output_format="PNG",
             caption=f"Unit {channel}'s {row.in_shape[0]:,} weights laid out as the {below} maps it reads: the "
                     f"{len(kernel.inputs)} strongest {kernel.side}×{kernel.side} slices (largest L2 norm), on {below} "
                     f"channels {', '.join(map(str, kernel.inputs))}: blue negative, red positive, one shared range.")
else:
    per = ctx.spec.layer(name).groups
    st.image(kernel.png, width=kernel.width, output_format="PNG",
             caption=f"The {len(kernel.inputs)} strongest of kernel {channel}'s {row.kernel}×{row.kernel} input "
                     f"slices (largest L2 norm), on input channels {', '.join(map(str, kernel.inputs))}: "
                     f"{colours.SIGN_LEGEND}, one shared range."
                     + (" With groups=2 it reads only its own GPU's half of the inputs." if per > 1 else ""))

st.header("Your image")
ref = page.image()
post = or_stop(analysis.layer, ref, ctx.key, name).post
overlay, knock = st.columns([1, 1.3])
if is_fc:
    rank = int((post > post[channel]).sum()) + 1
    overlay.markdown(f"For this image {name} unit {channel} is **{float(post[channel]):.3g}** after the ReLU, rank "
                     f"{rank} of its {channels} units ({float((post > 0).mean()):.0%} of them are above zero).")
else:
    overlay.image(analysis.channel_overlay_jpeg(ref, ctx.key, name, channel), width="stretch", output_format="JPEG",
                  caption=f"{name} channel {channel} over the image the network sees (strongest unit "
                          f"{float(post[channel].max()):.3g}, mean {float(post[channel].mean()):.3g}).")
before_after.section("unit", "unit_compare", ctx.spec, ref=ref, layer=name, channel=channel)
noun = "unit" if is_fc else "channel"
options = {"channel": f"{noun} {channel} only", "several": f"{noun} {channel} and others"}
n_towers = towers(ctx.spec)
for t in range(n_towers if n_towers > 1 else 0):
    options[f"tower{t}"] = f"all of GPU {t + 1}'s half of {name}"
what = knock.radio("Knock out", list(options), format_func=options.get, key="unit_knock", horizontal=True)
if what.startswith("tower"):
    zeroed = tower_channels(ctx.spec, name, int(what[-1]))
elif what == "several":
    more = knock.multiselect(f"Other {noun}s of {name} to knock out with it", [c for c in range(channels)
                             if c != channel], key="unit_more", placeholder="Choose channels")
    zeroed = tuple(sorted({channel, *more}))
else:
    zeroed = (channel,)
result = or_stop(unit.ablation, ref, ctx.key, name, zeroed)
rows = {s.index: s for s in (*result.before, *result.after)}
knock.dataframe({"class": [s.label for s in rows.values()],
                 "before": [s.before * 100 for s in rows.values()],
                 "after": [s.after * 100 for s in rows.values()],
                 "change": [round(s.delta * 100, 2) + 0.0 for s in rows.values()]},  # + 0.0: no "-0.00"
                hide_index=True, width="stretch",
                column_config={"before": st.column_config.NumberColumn("before (%)", format="%.2f"),
                               "after": st.column_config.NumberColumn("after (%)", format="%.2f"),
                               "change": st.column_config.NumberColumn("change (points)", format="%+.2f")})
knock.caption(f"The top 5 before and after setting {len(zeroed)} {noun}{'s' if len(zeroed) > 1 else ''} of "
              f"{name}'s output to zero for this image, in percentage points. "
              + ("The first choice changes." if result.top_changed else "The first choice stays."))
