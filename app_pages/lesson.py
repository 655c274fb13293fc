"""The lesson: one photo through the real AlexNet in ten steps, one screen each, every number computed.

Deep-linkable: ?step=5 opens step 5 (a teacher can link it); ?sample=coffee picks the sample photo.
The numbers and pictures come from ui/lesson.py (cached per photo and network); this script says them.
"""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import PAPER
from alexnet_viz.errata.claims import CLAIMS
from alexnet_viz.figures import colours
from ui import analysis, grids
from ui import lesson as ls
from ui.analysis import ImageRef
from ui.image_input import or_stop
from ui.page import network_page

ARTICLE = "the article (Azel Daniel, Towards Data Science, 2020)"


def source(text: str) -> None:
    """Where the step's claim comes from, under it."""
    st.caption(f"**Source:** {text}")


def deeper(page: str, label: str, **query: str) -> None:
    """The page that goes further than this step."""
    st.page_link(f"app_pages/{page}.py", label=label, icon=":material/arrow_outward:", query_params=query or None)


def untrained(text: str) -> None:
    """What trained weights would change, said only when these are not trained."""
    if not TRAINED:
        st.info(f"**With trained weights:** {text}", icon=":material/school:")


def check(agrees: bool | None) -> str:
    """A by-hand value against the forward pass, in words a learner can scan for."""
    return "✓ equal" if agrees else "✗ NOT equal"


def photo(ref: ImageRef) -> None:
    """Step 1: the picture the network sees and one pixel normalised by hand."""
    spec = ctx.spec
    size = spec.input_size
    pictures = ls.input_pictures(ref, ctx.key)
    p = ls.pixel(ref, ctx.key)
    width, height = analysis.prepare(ref, ctx.spec).original_size
    left, right = st.columns(2)
    left.image(pictures.view, width=min(320, 2 * size), output_format="PNG",
               caption=f"What the network sees: the {width}×{height} photo, shorter side resized to 256 pixels, "
                       f"then the centre {size}×{size} square. The yellow box is the patch step 2 follows.")
    right.image(pictures.channels, width="stretch", output_format="PNG",
                caption="The same square as the network gets it: three grids of numbers, red, green and blue.")
    with right:
        grids.colour_bar(grids.Bar(colours.DIVERGING, f"{-pictures.bound:.2f}", f"{pictures.bound:.2f}",
                                   "normalised value: red above ImageNet's average, blue below", "0"))
    st.markdown(f"A photo is three grids of numbers from 0 to 255, one per colour (the **channels**). The network "
                f"takes {size}×{size}×3 = **{3 * size * size:,}** of them. It first **normalises** each one: "
                "subtract ImageNet's average for that colour, divide by its spread (standard deviation).")
    lines = [f"pixel (row {p.row}, column {p.col}):"]
    for name, byte, mean, std, value in zip("RGB", p.rgb, p.mean, p.std, p.normalised):
        lines.append(f"  {name}: ({byte:3}/255 − {mean:.3f})/{std:.3f} = {value:+.4f}")
    lines += ["the network's input there:", f"  {', '.join(f'{v:+.4f}' for v in p.forward)}  {check(p.agrees)}"]
    st.code("\n".join(lines), language=None, wrap_lines=True)
    source(f"torchvision's preprocessing for AlexNet's ImageNet weights (resize 256, centre crop, ImageNet's mean "
           f"and standard deviation); {ARTICLE}: C1 “accepted a (224 × 224 × 3) image tensor”. The paper only "
           "subtracted the mean pixel (Sec. 2) and trained on random 224×224 crops (Sec. 4.1).")
    untrained("nothing changes here: a photo is prepared the same way for any weights.")
    deeper("ideas", "Go deeper: training crops (AlexNet's ideas)")


def convolution(ref: ImageRef) -> None:
    """Step 2: the followed C1 unit's sum of products, written out and checked."""
    u = ls.conv(ref, ctx.key)
    f = ls.focus(ref, ctx.key)
    c1 = ledger(ctx.spec).row("C1")
    k, depth = u.kernel.shape[-1], u.kernel.shape[0]
    patch, kernel = ls.patch_pictures(ref, ctx.key)
    row = st.container(horizontal=True)
    row.image(patch, width=160, caption=f"The {k}×{k} patch under the kernel")
    row.image(kernel, width=160, caption=f"C1's kernel {f.channel}: {k}×{k}×{depth} weights, as colours")
    st.markdown(f"A **convolution** slides small grids of weights, the **kernels**, over the picture. C1 has "
                f"{c1.out_shape[0]} of them, each {k}×{k}×{depth}. At each place a kernel multiplies the "
                f"**{u.products.size}** numbers under it by its own weights, adds the products and one more "
                f"number, the **bias**. That sum is one value of a **feature map**. The kernel moves {c1.stride} "
                f"pixels at a time (the **stride**), so each map is {c1.out_shape[1]}×{c1.out_shape[2]}.")
    shown = ls.products(ref, ctx.key)
    lines = [f"kernel {f.channel} at row {f.row}, column {f.col}",
             f"reads rows {u.rows[0]}–{u.rows[1] - 1}, columns {u.cols[0]}–{u.cols[1] - 1}:"]
    lines += [f"{'RGB'[p.channel]}[{p.dy},{p.dx}] {p.value:+.4f} × {p.weight:+.4g} = {p.product:+.4g}" for p in shown]
    lines.append(f"… {u.products.size - len(shown)} more products")
    lines += [f"sum of {name:5} {v:+.6f}" for name, v in zip(("red", "green", "blue"), u.per_channel)]
    lines += [f"+ bias       {u.bias:+.6f}", f"= {u.value:+.6f}  by hand",
              f"forward pass: {u.forward:+.6f}  {check(u.agrees)}"]
    st.code("\n".join(lines), language=None, wrap_lines=True)
    source(f"{ARTICLE}: “a multiplication operation was performed between the input section and the kernel, with "
           "the bias summed to the result”; the paper, Sec. 3.5: 96 kernels of 11×11×3 at a stride of 4 pixels.")
    untrained("each kernel is a smooth pattern, an edge at some angle or a blob of colour (the paper's Figure 3), "
              "and the sum is large where the patch looks like it. These random kernels are noise: the sum is "
              "real arithmetic that measures nothing in particular.")
    deeper("operations", "Go deeper: edit a convolution (Operations)")


def relu(ref: ImageRef) -> None:
    """Step 3: max(x, 0) on the unit, its map and the whole layer."""
    r = ls.relu(ref, ctx.key)
    f = ls.focus(ref, ctx.key)
    before, after, bound, top = ls.relu_pictures(ref, ctx.key)
    pair = st.container(horizontal=True)
    with pair.container(width=170):
        st.image(before, width=165, caption=f"C1 map {f.channel} before the ReLU (our unit outlined)")
        grids.colour_bar(grids.Bar(colours.DIVERGING, f"{-bound:.3g}", f"{bound:.3g}", colours.SIGN_LEGEND, "0"))
    with pair.container(width=170):
        st.image(after, width=165, caption="…and after it: every negative value is now 0")
        grids.colour_bar(grids.Bar(colours.SEQUENTIAL, "0", f"{top:.3g}", "value after the ReLU"))
    st.markdown(f"Each sum then goes through an **activation function**. AlexNet's is the **ReLU** (rectified "
                f"linear unit): max(x, 0). Negative values become 0, positive ones pass unchanged. Our unit: "
                f"max({r.value:+.4f}, 0) = **{r.after:.4f}**. In this map the ReLU sets {r.channel_zeroed:,} of "
                f"{r.channel_units:,} values to 0 ({r.channel_zeroed / r.channel_units:.0%}); in all of C1, "
                f"{r.layer_zeroed / r.layer_units:.0%}.")
    claim = CLAIMS["relu"]
    source(f"the paper: {claim.text} ({claim.source}); {ARTICLE}: C1's output “was then passed through a ReLu "
           "activation function”.")
    untrained("the zeros mark where a kernel's pattern is absent. Here they fall wherever random weights happen "
              "to give a negative sum, about half the time.")
    deeper("ideas", "Go deeper: ReLU vs tanh (AlexNet's ideas)")


def normalisation(ref: ImageRef) -> None:
    """Step 4: the unit divided by its neighbours' activity, as Krizhevsky's code computed it and as printed."""
    u = ls.lrn(ref, ctx.key)
    settings, in_model = ls.lrn_settings(ctx.key)
    n, block = settings.size, ctx.spec.layer("C1").out // settings.groups
    st.plotly_chart(ls.lrn_figure(ref, ctx.key), config=ls.PLOT, key="lesson_lrn")
    where = " and ".join(l.name for l in PAPER.layers if l.lrn is not None)
    gpu = f", within its GPU's {block} maps" if settings.groups > 1 else ""
    st.markdown("**Local response normalisation** (LRN) divides each value by the activity at the same place in "
                f"the {n} channels around it, its own included{gpu}. A map that fires where its neighbours fire "
                f"too is toned down. The paper's network does this after the ReLU of {where}."
                + ("" if in_model else f" The {ctx.spec.title} network has none; here it is applied to its C1."))
    st.latex(r"b_i = a_i \Big/ \Big(k + c \sum_j a_j^2\Big)^{\beta}")
    code_first = [("Krizhevsky's code", "α/n", settings.alpha / n, u.code_divisor, u.code),
                   ("as printed (Sec. 3.3)", "α", settings.alpha, u.printed_divisor, u.printed)]
    lines = [f"a = {u.value:.5g} (map {ls.focus(ref, ctx.key).channel})",
             f"Σ a² over maps {u.channels[0]}–{u.channels[-1]} = {u.squares:.5g}"]
    for name, symbol, c, divisor, b in code_first:
        lines += [f"{name}, c = {symbol} = {c:g}:", f"  ({settings.k:g} + c Σ a²)^{settings.beta:g} = {divisor:.6f}",
                  f"  b = a / {divisor:.6f} = {b:.6g}"]
    if u.forward is not None:
        lines += ["the network's C1 output there:", f"  {u.forward:.6g}  {check(u.agrees)}"]
    st.code("\n".join(lines), language=None, wrap_lines=True)
    claim = CLAIMS["lrn"]
    rule = "c = α/n, as the code did" if settings.rule == "code" else "c = α, as printed"
    source(f"the paper, {claim.source}: k = {settings.k:g}, n = {n}, α = {settings.alpha:g}, β = {settings.beta:g}; "
           f"{claim.text} Krizhevsky's cuda-convnet2 divides that α by n before use, and the paper's results came "
           f"from that code; {'this network' if in_model else 'this demonstration'} uses {rule}.")
    untrained(f"C1's values are larger, Σ a² matters and strong neighbours shrink a value. With random weights they "
              f"are small: the divisor stays near k^β = {settings.k ** settings.beta:.4f}, a plain rescaling.")
    deeper("ideas", "Go deeper: LRN on all of C1 (AlexNet's ideas)")


def pooling(ref: ImageRef) -> None:
    """Step 5: the S2 unit above the followed unit, and the window beside it that shares a column."""
    p = ls.pool(ref, ctx.key)
    s2 = ledger(ctx.spec).row("S2")
    first, second = p.first, p.second
    st.plotly_chart(ls.pool_figure(ref, ctx.key), config=ls.PLOT, key="lesson_pool")
    st.markdown(f"**Max pooling** shrinks each map: a {s2.kernel}×{s2.kernel} window keeps only its largest value. "
                f"The window moves {s2.stride} at a time, so neighbouring windows **overlap**: they share "
                f"{p.shared} column (solid: our window, dashed: the next). {s2.in_shape[1]}×{s2.in_shape[2]} becomes "
                f"{s2.out_shape[1]}×{s2.out_shape[2]}. Pooling has no weights to learn.")
    st.code(f"S2 map {first.channel}, row {first.row}, column {first.col}:\n"
            f"  max of C1 rows {first.rows[0]}–{first.rows[1] - 1}, columns {first.cols[0]}–{first.cols[1] - 1}\n"
            f"  = {first.value:.6g}\n"
            f"forward pass: {first.forward:.6g}  {'✓ identical' if first.agrees else '✗ different'}\n"
            f"next window, columns {second.cols[0]}–{second.cols[1] - 1}:\n"
            f"  {second.value:.6g} (forward pass {second.forward:.6g})", language=None, wrap_lines=True)
    if p.same_peak:
        st.markdown("Here both windows' largest value sits in the column they share: overlapping windows passed "
                    "the same value on twice.")
    claim = CLAIMS["pool"]
    source(f"the paper: {claim.text} ({claim.source}); {ARTICLE}: S2 used “a (3×3) kernel with a stride of two”.")
    untrained("the maximum keeps the strongest sign of a pattern nearby, so a small shift of the photo changes "
              "little. Here it keeps the largest of random sums; the operation is the same.")
    deeper("operations", "Go deeper: any window, any stride (Operations)")


def stack(ref: ImageRef) -> None:
    """Step 6: C1's and C5's strongest maps, and every layer's shape."""
    book = ledger(ctx.spec)
    first, deep = ls.strongest(ref, ctx.key, "C1"), ls.strongest(ref, ctx.key, "C5")
    c1, c5 = book.row("C1"), book.row("C5")
    left, right = st.columns(2)
    left.image(first.png, width=280, caption=f"C1: its {len(first.channels)} strongest maps of {c1.out_shape[0]}, "
                                             f"{first.side}×{first.side} (maps {', '.join(map(str, first.channels))})")
    right.image(deep.png, width=280, caption=f"C5: its {len(deep.channels)} strongest maps of {c5.out_shape[0]}, "
                                             f"{deep.side}×{deep.side} (maps {', '.join(map(str, deep.channels))})")
    st.caption(f"Bright: a strong response, on one colour range per layer. Inside their outer ring (where the "
               f"kernels reach into the zero padding) C5's maps vary by {deep.spread:.0%} of their largest value"
               + (": nearly flat." if deep.spread < 0.2 else "."))
    convs = [r.name for r in book.rows if r.kind == "conv"]
    st.markdown(f"Convolution and ReLU, with pooling after some, repeat: {len(convs)} convolutional layers "
                f"({', '.join(convs)}). From C3 on, a kernel reads the maps of the layer below, not the photo. "
                f"A C1 unit sees {c1.rf}×{c1.rf} pixels, so C1 follows small things; a C5 unit sees "
                f"{c5.rf}×{c5.rf}.")
    halves = [l.name for l in ctx.spec.layers if l.groups > 1]
    shapes = " → ".join(f"{r.name} {'×'.join(map(str, r.out_shape))}" for r in book.rows if r.kind != "fc")
    last = [r for r in book.rows if r.kind != "fc"][-1]
    st.markdown(f"Maps × height × width: {shapes}. {last.name} hands **{last.activations:,}** numbers to the "
                "fully connected layers." + (f" In this network {', '.join(halves)} read only their own GPU's half "
                                             "of the maps below." if halves else ""))
    source(f"the paper, Sec. 3.5 and Figure 2 (five convolutional layers, three fully connected); {ARTICLE}'s "
           "list of 11 layers, which counts the three pooling layers too.")
    untrained("C1's maps light up along edges and patches of colour; C5's respond to parts and textures, such as "
              "fur or an eye (Zeiler & Fergus, 2014, on an AlexNet-like network). Random C1 kernels still blur and "
              "mix the photo, so its outline shows; random C5 maps show no objects.")
    deeper("feature_maps", "Go deeper: every map (Feature maps)", layer="C5")


def field(ref: ImageRef) -> None:
    """Step 7: the receptive fields of centre units, nested on the photo."""
    book = ledger(ctx.spec)
    rows = [book.row(n) for n in ls.FIELD_LAYERS]
    st.image(ls.fields_png(ref, ctx.spec), width=min(320, 2 * ctx.spec.input_size), output_format="PNG",
             caption="The centre unit of " + ", ".join(f"{r.name} ({c})" for r, c in zip(rows, ls.FIELD_NAMES))
                     + ": the pixels each can see.")
    fc = next(r for r in book.rows if r.kind == "fc")
    st.markdown("A unit sees only part of the photo, its **receptive field**. Each layer's window covers several "
                "units below, which already saw overlapping patches, so fields grow layer by layer: "
                + ", ".join(f"{r.name} {r.rf}×{r.rf}" for r in rows)
                + f" pixels. Neighbouring C5 units look {book.row('C5').jump} pixels apart. From {fc.name} on, "
                  "every unit sees the whole picture.")
    source("computed from the kernels and strides of the network's spec: a layer adds (kernel − 1) × the spacing "
           "of its input units to the field.")
    untrained("nothing changes: a receptive field is geometry. Weights decide which pixels inside the box matter.")
    deeper("feature_maps", "Go deeper: any unit's field (Feature maps)", layer="C3")


def fully_connected(ref: ImageRef) -> None:
    """Step 8: where the parameters and the work are, and one F9 unit's dot product."""
    book = ledger(ctx.spec)
    split = ls.work_split(ctx.spec)
    st.progress(split.fc_param_share, text=f"Parameters in the fully connected layers: **{split.fc_param_share:.0%}**"
                                           f" ({split.fc_params:,} of {split.fc_params + split.conv_params:,})")
    st.progress(split.conv_work_share, text=f"Work in the convolutions: **{split.conv_work_share:.0%}** "
                                            f"({split.conv_macs:,} of {split.conv_macs + split.fc_macs:,} "
                                            "multiply-adds per photo)")
    u, shape = ls.dense(ref, ctx.key)
    f9 = book.row("F9")
    st.markdown(f"The {u.inputs:,} numbers are laid out in one long list. In a **fully connected** layer every unit "
                f"has its own weight for every number: {f9.name} has {f9.out_shape[0]:,} units × {u.inputs:,} weights. "
                "So these layers hold most of the parameters, yet each weight is used once per photo; a kernel is "
                "reused at every place of its map, so the convolutions do most of the work.")
    st.code(f"{f9.name} unit {u.unit} (the strongest here):\n"
            f"  {u.inputs:,} products, {u.zeros:,} of them 0\n"
            f"  (their inputs were silenced by a ReLU)\n"
            f"  positive ones sum to {u.positive:+.5f}\n"
            f"  negative ones sum to {u.negative:+.5f}\n"
            f"  + bias {u.bias:+.5f} = {u.value:+.5f}\n"
            f"forward pass: {u.forward:+.5f}  {check(u.agrees)}", language=None, wrap_lines=True)
    source(f"parameters and multiply-adds counted from the network's spec (bias included); {ARTICLE}: F9 “accepted "
           "a flattened (6 × 6 × 256) tensor”; Krizhevsky, “One weird trick…” (arXiv:1404.5997, 2014): about 95 % "
           "of the parameters in the fully connected layers, 90–95 % of the computation in the convolutions.")
    untrained(f"the counts are the same. Trained {f9.name} units respond to whole objects and scenes; here each "
              "is a random mix of the maps.")
    deeper("layers", "Go deeper: every layer's numbers (Layers)")


def dropout(ref: ImageRef) -> None:
    """Step 9: one training pass of dropout on real F9 outputs; none at test time."""
    d = ls.dropout(ref, ctx.key)
    st.plotly_chart(ls.dropout_figure(d), config=ls.PLOT, key="lesson_dropout")
    kept = [f"v{i + 1}" for i, v in enumerate(d.demo.one_pass) if v != 0]
    p = d.demo.p
    st.markdown(f"While the network trains, **dropout** sets each output of F9 and F10 to 0 with probability "
                f"{p:g}: a new random half for every image. No unit can count on another being there, which "
                "curbs **overfitting** (learning the training photos by heart). PyTorch multiplies the kept "
                f"values by 1/(1 − {p:g}) = {1 / (1 - p):g}, so on average nothing changes.")
    st.markdown(f"Above: six of F9's outputs for your photo (units {', '.join(map(str, d.units))}) in one training "
                f"pass: {', '.join(kept) or 'none'} kept and doubled, the rest 0. At test time dropout is **off**: "
                f"this page's forward pass gave every F9 output exactly max(value, 0), nothing dropped "
                f"({'✓ checked on all units' if d.off_at_test else '✗ NOT so'}). One pass is a coin toss per unit: "
                f"over {d.demo.trials:,} passes, {d.demo.kept:.1%} of the values were kept.")
    claim = CLAIMS["dropout"]
    source(f"the paper: {claim.text} ({claim.source}); {ARTICLE}: “Dropout was also used in the first two "
           "fully-connected layers to reduce overfitting.”")
    untrained("dropout only acts in training, so only the six values would differ.")
    deeper("ideas", "Go deeper: dropout 2,000 times (Ideas)")


def prediction(ref: ImageRef) -> None:
    """Step 10: the softmax written out for the top class, with chance beside it."""
    s = ls.softmax(ref, ctx.key)
    top = or_stop(analysis.prediction, ref, ctx.key)
    st.plotly_chart(ls.top_figure(ref, ctx.key), config=ls.PLOT, key="lesson_top")
    z = s.logits[0]
    st.markdown(f"The last layer gives one score per class, {s.classes:,} in all (the **logits**). **Softmax** "
                "turns them into probabilities: e to the power of each score, divided by the sum over all classes. "
                f"A higher score gets exponentially more; the {s.classes:,} probabilities add up to 1. The **top 5** "
                "are the five most probable classes.")
    st.code(f"{top.labels[0]}: score z = {z:+.4f}\n"
            f"  e^(z − {z:.4f}) = {s.exps[0]:.4f}\n"
            f"  sum over {s.classes:,} classes = {s.total:.4f}\n"
            f"  p = {s.exps[0]:.4f} / {s.total:.4f} = {s.probs[0]:.4%}\n"
            f"prediction: {top.probs[0]:.4%}  {check(abs(top.probs[0] - s.probs[0]) < 1e-6)}\n"
            f"chance, 1 in {s.classes:,}: {s.chance:.1%}\n"
            f"  {top.labels[0]} is {s.probs[0] / s.chance:.1f}× chance", language=None, wrap_lines=True)
    st.caption("Each e^z is taken after subtracting the largest score: the same probabilities, no overflow.")
    source("the paper, Sec. 3.5 (a 1000-way softmax) and Sec. 6: one network's top-5 error on the ILSVRC-2010 test "
           f"set, 17.0 %; {ARTICLE}: “The output of the softmax activation function contained the predictions”.")
    blank = analysis.blank_softmax(ctx.key)
    same = blank.indices[0] == s.indices[0]
    untrained("most of the probability sits on a few classes that fit the photo. These random weights give "
              f"**{top.labels[0]}** {s.probs[0]:.2%}. For a blank picture (every input 0) the top class is "
              + (f"the same, at {blank.probs[0]:.2%}: the answer comes from the random weights, not from your photo."
                 if same else "another one: the photo moves the answer, but random weights mean it names nothing."))
    deeper("prediction", "Go deeper: what it rests on (Prediction)")


STEPS: list[tuple[str, Callable[[ImageRef], None]]] = [
    ("Your photo goes in", photo),
    ("A convolution, by hand", convolution),
    ("ReLU: keep what is positive", relu),
    ("Local response normalisation", normalisation),
    ("Overlapping max pooling", pooling),
    ("A stack of convolutions", stack),
    ("What one unit can see", field),
    ("The fully connected layers", fully_connected),
    ("Dropout, in training only", dropout),
    ("Softmax and the top 5", prediction),
]

step = ls.current_step(len(STEPS))
title, draw = STEPS[step - 1]
st.progress(step / len(STEPS), text=f"AlexNet, step by step: {step} of {len(STEPS)}")
st.title(title)
opened = network_page(loud=False)
ctx, TRAINED = opened.ctx, opened.trained
UNTRAINED = "random, untrained weights: the arithmetic is real; each step says what training would change."
st.caption(f"{ctx.spec.title}, " + (f"weights: {opened.about_weights}" if TRAINED else UNTRAINED))
body = st.container()  # the photo picker, folded (first on step 1, last after), the step, the buttons
nav = st.container()
with body if step == 1 else st.container():
    ref = opened.image(folded="Use your own photo, or another sample" if step == 1 else "Your photo (change it here)")
with body:
    draw(ref)
with nav:
    ls.step_buttons(step, len(STEPS))
