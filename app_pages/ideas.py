"""AlexNet's ideas: ReLU, LRN, overlapping pooling, dropout, augmentation, two GPUs, one unit by hand.

One idea at a time, picked by `?idea=` (ui.ideas.IDEAS): only its section runs, so a rerun stays cheap.
Every number is computed on the real network and the user's image (ui/ideas.py caches it); every claim
names the paper's section.
"""
from __future__ import annotations

import streamlit as st

from alexnet_viz.analysis.units import flat_position
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import PAPER, VARIANTS
from alexnet_viz.errata.claims import CLAIMS
from alexnet_viz.errata.code import DROPOUT2, DROPOUT_CFG, DROPOUT_INVERTED, LRN_PER_GPU_SHORT, LRN_SHORT
from alexnet_viz.figures.ideas import activation_figure, tower_strip
from alexnet_viz.ideas.augment import IMAGENET_EIGVAL, IMAGENET_PCA_SOURCE, TEN_CROP_NAMES, crop_count
from alexnet_viz.ideas.basics import activation_curves, dropout_demo, dropout_input
from alexnet_viz.ideas.operations import pool_comparison
from alexnet_viz.ideas.stack import dropout_places, tower_plan
from ui import analysis, ideas
from ui.charts import frozen, heatmap, value_grids, vector_bars  # shared figures, built once per input
from ui.image_input import or_stop
from ui.page import image_page
from ui.tables import arrow_table
from ui.urls import url_choice, url_write

# No mode bar: on a phone (390 px) plotly's toolbar sat on the charts' titles, and tapping a chart shows it.
CHART = {"displaylogo": False, "displayModeBar": False}


def claim(name: str) -> None:
    c = CLAIMS[name]
    st.caption(f"**The paper:** {c.text} ({c.source}.)")


@st.cache_resource(show_spinner=False)
def _curves():
    return frozen(activation_figure(activation_curves()))  # shared: sent without a new to_dict() each rerun


@st.cache_resource(show_spinner=False)
def _towers():
    return frozen(tower_strip(ledger(PAPER)))


st.title("AlexNet's ideas, on the real network")
page, ref = image_page()
ctx = page.ctx
st.caption(page.about_weights)
c1 = ledger(ctx.spec).row("C1")
PICK, PARAM = "ideas_pick", "idea"
NBSP = "\u00a0"  # keeps "Sec. 3.3" on one line on a phone


def lrn_readings(stages: ideas.C1Stages) -> None:
    """The LRN's formula, its two readings (the code's α/n, the printed α) compared on C1, and the GPU split."""
    lrn, in_model = ideas.c1_lrn(ctx.key)
    chk = stages.check
    gpus = " and at the border between the two GPUs' maps" if lrn.groups > 1 else ""
    st.latex(r"b^i_{x,y} = a^i_{x,y} \Big/ \Big(k + c \sum_j (a^j_{x,y})^2\Big)^{\beta}")
    st.markdown(f"Each value is divided by the energy at the same position in the {lrn.size} channels around it "
                f"(j from i − {lrn.size // 2} to i + {lrn.size // 2}, cut at the first and last channel{gpus}; "
                f"k = {lrn.k:g}, β = {lrn.beta:g}). **Two readings of c.** The paper prints c = α = {lrn.alpha:g} "
                f"(Sec. 3.3). Krizhevsky's released code (cuda-convnet2, 2014; also the original cuda-convnet) "
                f"divides its scale by n = {lrn.size}, and its ImageNet config sets scale {lrn.alpha:g}, so c = α/n "
                f"= {chk.code.coefficient:g} ({LRN_SHORT}). That config departs from the paper in places (LRN "
                "before C1's ReLU, an extra spatial normalisation), and the 2012 one was never published. "
                "PyTorch's `LocalResponseNorm` divides its `alpha` by n as "
                f"well: the code's rule is `alpha={chk.code.torch_alpha:g}` there, the printed one "
                f"`alpha={chk.printed.torch_alpha:g}`.")
    st.dataframe(arrow_table([{"c": f"{r.coefficient:g}", "reading": name, "PyTorch alpha": f"{r.torch_alpha:g}",
                                "torch vs a float64 loop": f"{r.torch_vs_hand:.1e}",
                                "largest change": r.largest_change, "mean divisor": r.mean_divisor}
                               for name, r in (("Krizhevsky's released code (α/n)", chk.code),
                                               ("as printed (α)", chk.printed))]),
                 hide_index=True, width="stretch", key="ideas_lrn_rules",
                 column_config={c: st.column_config.NumberColumn(format="%.6g")
                                for c in ("largest change", "mean divisor")})
    st.markdown(f"On this picture's C1 after the ReLU ({c1.out_shape[0]}×{c1.out_shape[1]}×{c1.out_shape[2]}), "
                f"the two readings give outputs up to **{chk.between:.3g}** apart (at most "
                f"**{100 * chk.between_relative:.2g} %** of a value): the printed formula weighs the neighbours "
                f"{lrn.size}× more, so it divides by {chk.printed.mean_divisor:.5f} on average against the code's "
                f"{chk.code.mean_divisor:.5f} (k^β = {lrn.k ** lrn.beta:.3f} when the neighbours are silent). The "
                "gap grows with the maps' energy: random weights give small C1 values and nearly equal readings; "
                "the larger the values, the further they part. For each reading PyTorch's layer and a direct "
                "float64 loop over the formula agree to rounding (table).")
    if chk.gpu_split is not None:
        st.markdown(f"Each GPU normalised only its own {c1.out_shape[0] // lrn.groups} maps ({LRN_PER_GPU_SHORT}); "
                    f"one window over all {c1.out_shape[0]} channels would change the maps next to the border by "
                    f"up to {chk.gpu_split:.3g}.")
    if in_model and stages.model_diff is not None:
        st.markdown(f"The {ctx.spec.title} model computes the code's reading: its own C1 output and the formula "
                    f"agree to **{stages.model_diff:.2e}**.")
    else:
        st.info(f"The {ctx.spec.title} network has no LRN; this applies the paper's, as Krizhevsky's released "
                "code computes it, to its C1. The paper variant (sidebar) has it after the ReLU of C1 and C3.")


@st.fragment
def relu() -> None:
    st.header("ReLU: max(x, 0)")
    channel = int(st.columns([1, 2])[0].number_input(f"C1 channel (0–{c1.out_shape[0] - 1})", 0,
                                                     c1.out_shape[0] - 1, 0, key="ideas_channel"))
    stages = or_stop(ideas.c1_stages, ref, ctx.key, channel)
    before, after = st.columns(2)
    before.plotly_chart(ideas.stage_figure(ref, ctx.key, channel, "pre"), config=CHART, key="ideas_pre")
    after.plotly_chart(ideas.stage_figure(ref, ctx.key, channel, "relu"), config=CHART, key="ideas_relu")
    e = stages.effect
    st.markdown(f"Over all {e.units:,} units of C1 for this picture (before the ReLU they run from "
                f"{float(stages.low):.3g} to {float(stages.high):.3g}), the ReLU sets **{e.zeroed:.1%}** to zero. "
                f"Where it passes a value ({e.relu_passing:.1%} of units) its slope is exactly 1, so the gradient "
                f"goes back undiminished. A tanh unit's slope 1 − tanh²(x) would be below {e.threshold:g} — "
                f"**saturated**, learning almost nothing — on **{e.tanh_saturated:.1%}** of these same inputs.")
    if not page.trained:
        st.info(f"**Why so few saturate here:** these weights are untrained ({ctx.spec.init_label}), small enough "
                f"that C1's inputs stay where tanh is nearly a straight line (its slope drops below {e.threshold:g} "
                f"only beyond ±{e.tanh_edge:.2f}). The paper's case for the ReLU is about training (Sec. 3.1, "
                "Figure 1): learning reshapes the weights, and the ReLU's slope stays 1 wherever it passes a "
                "value, however large. With trained weights (a server with ImageNet's, or a checkpoint opened on "
                "the Training page) this share is computed on them.", icon=":material/info:")
    st.plotly_chart(_curves(), config=CHART, key="ideas_curves")
    claim("relu")


@st.fragment
def lrn() -> None:
    st.header("Local response normalisation", anchor="lrn")
    channel = int(st.columns([1, 2])[0].number_input(f"C1 channel (0–{c1.out_shape[0] - 1})", 0,
                                                     c1.out_shape[0] - 1, 0, key="ideas_lrn_channel"))
    lrn_readings(or_stop(ideas.c1_stages, ref, ctx.key, channel))
    relu_col, lrn_col = st.columns(2)
    relu_col.plotly_chart(ideas.stage_figure(ref, ctx.key, channel, "relu"), config=CHART, key="ideas_relu2")
    lrn_col.plotly_chart(ideas.stage_figure(ref, ctx.key, channel, "lrn"), config=CHART, key="ideas_lrn")
    claim("lrn")


def pooling() -> None:
    st.header("Overlapping pooling")
    st.dataframe(arrow_table([{"layer": c.layer, "input side": c.ours.size,
                                 f"{c.ours.kernel}×{c.ours.kernel} stride {c.ours.stride}": c.ours.out,
                                 "read twice or more": f"{c.ours.reused:.0%}", "2×2 stride 2": c.plain.out,
                                 "2×2: read by none": f"{c.plain.unread:.1%}"} for c in pool_comparison(PAPER)]),
                 hide_index=True, width="stretch")
    st.markdown("AlexNet's pools are 3×3 windows every 2 pixels, so neighbouring windows share a row and a column; "
                "2×2 windows every 2 gives the same output sides without sharing. Try any window and stride on "
                "[The operations](/operations) page (Pooling tab).")
    claim("pool")


@st.fragment
def dropout() -> None:
    st.header("Dropout")
    chosen = dropout_input(analysis.layer(ref, ctx.key, "F9").post)
    if not chosen.real:
        st.info("F9 has fewer than six active units for this picture; dropout is shown on six small numbers.")
    seed = int(st.columns([1, 2])[0].number_input("Seed for the dropout masks", 0, 9999, 0, key="ideas_drop_seed"))
    demo = dropout_demo(chosen.x, 0.5, trials=2000, seed=seed)
    st.markdown(f"Six of F9's real outputs for this picture (units {', '.join(map(str, chosen.units))}), dropped "
                f"{demo.trials:,} times with p = {demo.p:g} by PyTorch's own `F.dropout` (kept {demo.kept:.1%}). "
                "PyTorch scales the kept values by 1/(1 − p) = 2 while training and does nothing at test time "
                "(*inverted* dropout); the paper drops without scaling and multiplies every output by 0.5 at test "
                "time. Each agrees with its own test-time output on average; the two differ by the factor 2, which "
                f"the next layer's weights absorb. Krizhevsky's own 2014 config uses `type=dropout` ({DROPOUT_CFG}), "
                f"which is inverted dropout like PyTorch's ({DROPOUT_INVERTED}); the paper's form, ×0.5 at test, is "
                f"its `dropout2` layer ({DROPOUT2}).")
    st.plotly_chart(vector_bars({"one training pass (torch)": demo.one_pass,
                                 "training mean (torch)": demo.torch_train_mean,
                                 "training mean (paper)": demo.paper_train_mean}), config=CHART, key="ideas_dropout")
    st.dataframe(arrow_table({"F9 unit": chosen.units, "input": demo.x, "one pass (torch)": demo.one_pass,
                               "mean (torch)": demo.torch_train_mean, "eval (torch)": demo.torch_eval,
                               "mean (paper)": demo.paper_train_mean, "test ×0.5 (paper)": demo.paper_test}),
                 hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("input", "one pass (torch)", "mean (torch)", "eval (torch)", "mean (paper)",
                                          "test ×0.5 (paper)")})
    # torchvision drops a layer's input (the outputs of the layer below), the paper its output
    st.dataframe(arrow_table([{"network": spec.title, "layer": place.layer, "drops the outputs of": place.drops,
                                "runs": " → ".join(place.runs)}
                               for spec in (PAPER, VARIANTS["torchvision"]) for place in dropout_places(spec)]),
                 hide_index=True, width="stretch")
    claim("dropout")


@st.fragment
def augmentation() -> None:
    st.header("Data augmentation")
    crop = 224  # the paper's patch (Sec. 4.1)
    count = crop_count(256, crop)
    seed = int(st.columns([1, 2])[0].number_input("Seed for the crops and colours", 0, 9999, 0, key="ideas_aug_seed"))
    made = ideas.crops(ref, crop, 6, seed)
    left, right = st.columns([1, 2])
    left.image(made.outlined, caption="Your photo at 256×256 (shorter side to 256, central square) with six "
                                      "random 224×224 crops outlined", width="stretch")
    where = "; ".join(f"{i}: top {top}, left {lft}{', mirrored' if flip else ''}"
                      for i, (top, lft, flip) in enumerate(made.where, start=1))
    right.image(made.grid, caption=f"The six crops, row by row — {where}", width="stretch")
    st.markdown(f"Offsets run 0–{256 - crop} on each axis and each crop may be mirrored: the paper counts "
                f"{256 - crop}·{256 - crop}·2 = **{count.paper:,}** patches per image; counting both ends, "
                f"{256 - crop + 1}·{256 - crop + 1}·2 = {count.positions:,} distinct crops exist.")
    claim("crops")

    st.subheader("PCA colour noise")
    p = ideas.pca(ref)
    table = arrow_table({"component": [1, 2, 3], "λ (this photo)": p.eigvals,
                          "p (R, G, B)": [", ".join(f"{v:+.3f}" for v in p.eigvecs[:, i]) for i in range(3)],
                          "λ (ImageNet)": IMAGENET_EIGVAL})
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"λ (this photo)": st.column_config.NumberColumn(format="%.5f")})
    st.caption(f"Eigen-decomposition of the 3×3 covariance of this photo's {256 * 256:,} RGB pixels (in [0, 1]); "
               f"P·diag(λ)·Pᵀ rebuilds the covariance to {p.rebuild_error:.1e}. ImageNet's "
               f"eigenvalues: {IMAGENET_PCA_SOURCE}.")
    a, b = st.columns(2)
    boost = a.select_slider("Exaggerate the shift (for your eyes only)", [1, 5, 10, 20], value=1, key="ideas_boost")
    use_imagenet = b.toggle("Use ImageNet's components", key="ideas_imagenet")
    grid, draws = ideas.colour_noise(ref, tuple(seed * 10 + i for i in range(3)), float(boost), use_imagenet)
    shifts = "; ".join(f"{i}: α = ({', '.join(f'{v:+.2f}' for v in alphas)}), every pixel + "
                       f"({', '.join(f'{255 * v:+.1f}' for v in shift)}) of 255" for i, (alphas, shift)
                       in enumerate(draws, start=1))
    st.image(grid, width="stretch", caption=f"The photo, then three draws of the colour noise"
                                            f"{f' ×{boost}' if boost > 1 else ''} — {shifts}.")
    claim("pca")

    st.subheader("Ten crops at test time")
    result, grid = or_stop(ideas.ten_crop, ref, ctx.key)
    size = ctx.spec.input_size
    left, right = st.columns([3, 2])
    left.image(grid, width="stretch", caption=f"Top row: {', '.join(TEN_CROP_NAMES)}; bottom row: the same, mirrored.")
    c_idx, c_name, c_prob = result.centre_top
    right.markdown(f"Ten {size}×{size} crops of the 256×256 photo in **one batch** through the {ctx.spec.title} "
                   f"network; their softmax outputs averaged. The centre crop alone says **{c_name}** "
                   f"({c_prob:.1%}); {result.agree_with_centre} of the ten crops agree with it, and no crop's "
                   f"probability for any class is more than {result.centre_spread:.2e} from the centre crop's.")
    if not page.trained:
        right.info("**Why the crops agree here:** an untrained network gives nearly the same answer whatever it is "
                   f"shown (the spread above, {result.centre_spread:.2e}), so the ten crops agree without looking. "
                   "The paper averages ten crops (Sec. 4.1) for a trained network, whose answer changes with what "
                   "each crop shows.", icon=":material/info:")
    right.dataframe(arrow_table([{"class": f"{name} ({i})", "ten crops, averaged": avg, "centre crop": centre}
                                  for i, name, avg, centre in result.top]), hide_index=True, width="stretch",
                    column_config={c: st.column_config.NumberColumn(format="percent")
                                   for c in ("ten crops, averaged", "centre crop")})
    claim("tencrop")


def two_gpus() -> None:
    st.header("Two GPUs", anchor="two-gpus")
    st.markdown("The paper's network was split over two GTX 580 GPUs with 3 GB each (Sec. 3.2). Drawn as two "
                "towers from the paper variant's spec, with each GPU's channels or neurons; red lines are where data "
                "crosses between the GPUs. The Overview page draws the same towers in 3-D for the paper variant.")
    st.plotly_chart(_towers(), config=CHART, key="ideas_towers")
    st.dataframe(arrow_table([{"layer": r.name, "paper's name": r.paper_name or "pool", "split": r.split,
                                "talks across GPUs": "yes" if r.link in ("across", "one") else "no", "how": r.text}
                               for r in tower_plan(PAPER)]), hide_index=True, width="stretch",
                 height="content")  # all eleven layers, F11 included, without scrolling the table
    claim("gpus")


@st.fragment
def units() -> None:
    st.header("The operations on the real thing")
    st.markdown("One unit of C1, S2 and F9 for your picture, recomputed by hand from its real inputs and weights "
                "(float64) and compared with the value the network's forward pass produced (float32 on the CPU; "
                "on CUDA PyTorch may run convolutions in TF32, and the tolerance widens to match).")
    side = c1.out_shape[1]
    a, b, c = st.columns(3)
    ch = int(a.number_input(f"C1 channel (0–{c1.out_shape[0] - 1})", 0, c1.out_shape[0] - 1, 0, key="ideas_u_ch"))
    row = int(b.number_input(f"Row (0–{side - 1})", 0, side - 1, side // 2, key="ideas_u_row"))
    col = int(c.number_input(f"Column (0–{side - 1})", 0, side - 1, side // 2, key="ideas_u_col"))
    u = or_stop(ideas.c1_unit, ref, ctx.key, ch, row, col)
    patch, kernel = ideas.c1_patch_png(ref, ctx.key, ch, row, col)
    k = u.kernel.shape[-1]
    p1, p2, p3 = st.columns(3)
    p1.image(patch, caption=f"Input pixels rows {u.rows[0]}–{u.rows[1] - 1}, columns {u.cols[0]}–{u.cols[1] - 1}"
                            + (" (black: padding)" if min(u.rows[0], u.cols[0]) < 0 else ""), width="content")
    p2.image(kernel, caption=f"Kernel {ch}: {k}×{k}×{u.kernel.shape[0]} weights (scaled to colour)", width="content")
    p3.plotly_chart(heatmap(u.products.sum(axis=0), title="products, summed over R, G, B", diverging=True,
                                    height=300), config=CHART, key="ideas_products")
    verdict = "✓ equal" if u.agrees else "✗ NOT equal"
    st.code(f"{u.products.size} products (normalised input × weight):\n"
            + "\n".join(f"  channel {'RGB'[i] if u.per_channel.size == 3 else i}: Σ = {v:+.6f}"
                        for i, v in enumerate(u.per_channel))
            + f"\n  + bias {u.bias:+.6f}\n  = {u.value:+.6f}   (by hand, float64)\n"
              f"forward pass C1.pre[{ch}, {row}, {col}] = {u.forward:+.6f}\n"
              f"|difference| = {abs(u.value - u.forward):.2e}  (tolerance {u.tolerance:.1e}): {verdict}",
            language=None, wrap_lines=True)

    s2 = ledger(ctx.spec).row("S2")
    s_side = s2.out_shape[1]
    s_row, s_col = min(row // 2, s_side - 1), min(col // 2, s_side - 1)
    pu = or_stop(ideas.s2_unit, ref, ctx.key, ch, s_row, s_col)
    left, right = st.columns([1, 2])
    left.plotly_chart(value_grids([pu.window], [f"C1 ch {ch}, rows {pu.rows[0]}–{pu.rows[1] - 1}, cols "
                                                f"{pu.cols[0]}–{pu.cols[1] - 1}"], cell=pu.argmax, cell_panel=0,
                                  height=260), config=CHART, key="ideas_window")
    values = ", ".join(f"{v:.4g}" for v in pu.window.ravel())
    right.markdown(f"**S2 unit ({ch}, {s_row}, {s_col})**: the maximum of its real {s2.kernel}×{s2.kernel} window "
                   f"of C1's output (after the ReLU{' and the LRN' if ctx.spec.layer('C1').lrn else ''}), "
                   f"max({values}) = **{pu.value:.6g}** (outlined); the forward pass gave **{pu.forward:.6g}**: "
                   f"{'✓ identical — a maximum is one of its inputs, so no rounding' if pu.agrees else '✗ different'}.")

    f9 = ledger(ctx.spec).row("F9")
    unit = int(st.columns([1, 2])[0].number_input(f"F9 unit (0–{f9.out_shape[0] - 1})", 0, f9.out_shape[0] - 1, 0,
                                                  key="ideas_u_f9"))
    du, shape = or_stop(ideas.f9_unit, ref, ctx.key, unit)
    st.markdown(f"**F9 unit {unit}** is a dot product of {du.inputs:,} numbers (S8's {shape[0]}×{shape[1]}×"
                f"{shape[2]} output, flattened) with its {du.inputs:,} weights. {du.zeros:,} inputs are 0 (the "
                f"ReLUs below silenced them), so their products vanish. Positive products sum to "
                f"{du.positive:+.6f}, negative ones to {du.negative:+.6f}; plus the bias {du.bias:+.6f} gives "
                f"**{du.value:+.6f}**; the forward pass gave **{du.forward:+.6f}** (|difference| "
                f"{du.difference:.1e}, tolerance {du.tolerance:.1e}: {'✓ equal' if du.agrees else '✗ NOT equal'}).")
    st.dataframe(arrow_table([{"input": i, "S8 (channel, row, col)": str(flat_position(i, shape)), "value": v,
                                "weight": w, "product": p} for i, v, w, p in du.top]),
                 hide_index=True, width="stretch")
    st.caption("The ten largest contributions, by |product|.")


def choose(idea: str) -> None:
    """The "Next idea" button's callback: runs before the rerun, so the picker is drawn with the new idea."""
    st.session_state[PICK] = idea


SECTIONS = {"relu": relu, "lrn": lrn, "pooling": pooling, "dropout": dropout, "augmentation": augmentation,
            "two-gpus": two_gpus, "by-hand": units}
assert list(SECTIONS) == list(ideas.IDEAS)
paper_ideas = [i for i in ideas.IDEAS.values() if i.source]
st.markdown("What made AlexNet work, each idea computed on this network and your picture, one at a time:\n\n"
            + "\n".join(f"- **{i.label}**: {i.line} ({i.source.replace(' ', NBSP)})" for i in paper_ideas)
            + "\n\n" + " ".join(f"**{i.label}**: {i.line}." for i in ideas.IDEAS.values() if not i.source))
order = list(ideas.IDEAS)
url_choice(PICK, PARAM, order, order[0])
chosen = st.pills("Idea", order, format_func=lambda k: ideas.IDEAS[k].label, key=PICK,
                  required=True) or order[0]  # required: never None, but typed so
url_write(PARAM, chosen)
SECTIONS[chosen]()
after = order[(order.index(chosen) + 1) % len(order)]  # the last leads back to the first
st.button(f"Next idea: {ideas.IDEAS[after].label}", icon=":material/arrow_forward:", on_click=choose, args=(after,),
          key="ideas_next")
