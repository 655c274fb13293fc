"""The article's own numbers, checked by computation: shapes, counts, size rules, its worked figures.

Each check recomputes what the article states (with the ledger, a real PyTorch model or the
operations module) and names the article's sentence and, where the paper speaks to it, its section.
"""
from __future__ import annotations

from alexnet_viz.core.bookkeeping import ceil_out, conv_out, ledger
from alexnet_viz.core.spec import ARTICLE, PAPER, TORCHVISION, Spec
from alexnet_viz.errata import article, paper
from alexnet_viz.errata.code import CONV1_CFG, CONV_CEIL, POOL_CEIL
from alexnet_viz.errata.verdicts import Finding, Source
from alexnet_viz.ideas.operations import convolve, dense_example, fully_connected, pool, random_values
from alexnet_viz.report import shape_text

ARCH = paper.cite("architecture")


def shape_findings() -> list[Finding]:
    """Every stated output shape, per-layer count and running total against the article network's ledger."""
    book = ledger(ARTICLE)
    out = []
    for stated in article.LAYERS:
        row = book.row(stated.name)
        src = Source(stated.quote, ARCH)
        out.append(Finding(f"shape-{stated.name}", f"{stated.name} output shape",
                           f"{stated.name} produces {shape_text(stated.out_chw)}",
                           f"ledger: {shape_text(row.in_shape)} → {shape_text(row.out_shape)}"
                           + ("" if row.size_exact is None else f" (unrounded side {row.size_exact:g})"),
                           "correct" if row.out_shape == stated.out_chw else "wrong", src))
        own = Source(stated.quote)  # the paper gives no per-layer counts: these check the article's arithmetic
        if stated.params is not None:
            out.append(Finding(f"params-{stated.name}", f"{stated.name} parameters",
                               f"{stated.name} has {stated.params:,} trainable parameters",
                               f"{row.weight_params:,} weights + {row.bias_params:,} biases = {row.params:,}",
                               "correct" if row.params == stated.params else "wrong", own))
        if stated.running_total is not None:
            out.append(Finding(f"total-{stated.name}", f"running total after {stated.name}",
                               f"{stated.running_total:,} parameters so far",
                               f"ledger cumulative: {row.cumulative_params:,}",
                               "correct" if row.cumulative_params == stated.running_total else "wrong", own))
    return out


def consistency() -> Finding:
    """Its own per-layer counts should add up to its own running totals."""
    running, broken = 0, []
    for stated in article.LAYERS:
        running += stated.params or 0
        if stated.running_total is not None and stated.running_total != running:
            broken.append(f"{stated.name}: {running:,} ≠ {stated.running_total:,}")
    final = article.LAYERS[-1].running_total
    return Finding("consistency", "its own arithmetic", "per-layer counts and running totals",
                   "adding the stated per-layer counts reproduces every stated running total, ending at "
                   f"{running:,}" if not broken else "mismatches: " + "; ".join(broken),
                   "correct" if not broken and running == final else "wrong", Source(article.LAYERS[-1].quote))


def total_claim() -> Finding:
    """'Over 62 million' is true of the article's one tower, not of AlexNet as published."""
    one_tower, published = ledger(ARTICLE).total_params, ledger(PAPER).total_params
    claim = article.TOTAL_PARAMS_CLAIM
    verdict = "correct" if published > claim else ("misleading" if one_tower > claim else "wrong")
    return Finding("total-62M", f"over {claim // 10**6} million parameters", article.TOTAL_PARAMS_QUOTE,
                   f"true of the article's one-tower network ({one_tower:,}), but AlexNet as published splits C3, "
                   f"C6 and C7 over two GPUs (groups=2) and has {published:,}; the paper itself says "
                   f"{paper.PARAMS_STATED // 10**6} million. (torchvision's narrower network: "
                   f"{ledger(TORCHVISION).total_params:,}.)", verdict,
                   Source(article.TOTAL_PARAMS_QUOTE, paper.cite("abstract")))


def formula_finding() -> Finding:
    """The ceiling formula disagrees with the article's own C1 (padding 2), though it is cuda-convnet's rule."""
    book = ledger(ARTICLE)
    cases, differs = [], []
    for row in book.rows:
        if row.size_exact is None:
            continue
        args = (row.in_shape[1], row.kernel, row.stride, row.padding)
        ceil_side, floor_side = ceil_out(*args), conv_out(*args)[0]
        cases.append(f"{row.name}: {row.size_exact:g} → floor {floor_side}, ceiling formula {ceil_side}")
        if ceil_side != floor_side:
            differs.append(row.name)
    c1 = PAPER.layer("C1")
    cc_side = ceil_out(paper.INPUT_SIDE, c1.kernel, c1.stride, c1.padding)
    return Finding("size-formula", "output-size formula (ceiling vs floor)", f"size = {article.SIZE_FORMULA}",
                   "; ".join(cases) + f". With the article's own paddings its shapes follow the floor; its formula "
                   f"disagrees with them at {', '.join(differs) or 'no layer'}. The ceiling itself is no invention: "
                   f"it is the rule of Krizhevsky's cuda-convnet, under which the paper's {paper.INPUT_SIDE} input "
                   f"with the released config's padding {c1.padding} gives C1 {cc_side}. The error is pairing it with "
                   f"padding "
                   f"{ARTICLE.layer('C1').padding}. PyTorch's nn.Conv2d always rounds down (it has no ceil_mode; "
                   "only the pooling layers do).", "wrong" if differs else "correct",
                   Source(article.QUOTES["size_formula"], code=CONV_CEIL))


CAFFE_ROUNDING = ("Caffe src/caffe/layers/pooling_layer.cpp (PoolingLayer::Reshape: pooled_height_ = ceil((height + "
                  "2·pad − kernel)/stride) + 1) and conv_layer.cpp (compute_output_shape: integer division, floor)")


def pool_formula() -> Finding:
    """The same rule as convolutions in PyTorch and cuda-convnet, not in Caffe; AlexNet's pools come out alike."""
    book = ledger(ARTICLE)
    pools = [r for r in book.rows if r.kind == "maxpool"]
    ok = all(r.out_shape == article.layer(r.name).out_chw for r in pools)
    same = all(ceil_out(r.in_shape[1], r.kernel, r.stride, r.padding) == r.out_shape[1] for r in pools)
    return Finding("pool-size-formula", "pooling size rule = convolution size rule",
                   article.QUOTES["pool_size_formula"],
                   "; ".join(f"{r.name}: ⌊({r.in_shape[1]} − {r.kernel})/{r.stride}⌋ + 1 = {r.out_shape[1]}"
                             for r in pools) + ": each matches the stated shape"
                   + (", and the ceiling rule gives the same sides (every division is exact)" if same else "")
                   + ". \"The same\" depends on the framework: PyTorch rounds both down (MaxPool2d's ceil_mode is "
                   "off by default), Krizhevsky's cuda-convnet rounds both up, while Caffe rounds convolutions down "
                   "and pooling up. The paper says nothing about output sizes.",
                   "correct" if ok else "wrong",
                   Source(article.QUOTES["pool_size_formula"], code=f"{POOL_CEIL}; {CONV_CEIL}", other=CAFFE_ROUNDING))


def missing_c4() -> Finding:
    names = set(article.NAMES) | {"input"}
    bad = [(lay.name, lay.source) for lay in article.LAYERS if lay.source not in names]
    expected = {lay.name: prev.name for prev, lay in zip(article.LAYERS, article.LAYERS[1:])}
    claim = "; ".join(f"{n} \"accepted output from the layer {s}\"" for n, s in bad) or "every source is named"
    return Finding("missing-C4", "layer names", claim,
                   "its layers are " + ", ".join(article.NAMES) + "; " +
                   "; ".join(f"{n} names {s} as its source, which does not exist (it is {expected[n]})"
                             for n, s in bad), "wrong" if bad else "correct",
                   Source(article.layer(bad[0][0]).quote if bad else article.LAYERS[4].quote))


def side_chain(spec: Spec, size: int, rounding: str) -> list[int]:
    """The input side, then every spatial layer's output side, under the floor or the ceiling rule."""
    sides = [size]
    for layer in spec.layers:
        if not layer.is_spatial:
            break
        args = (sides[-1], layer.kernel, layer.stride, layer.padding)
        sides.append(ceil_out(*args) if rounding == "ceiling" else conv_out(*args)[0])
    return sides


def sizes_giving(side: int, spec: Spec, rounding: str, search: range = range(200, 260)) -> list[int]:
    """Input sides for which C1 of `spec` comes out `side` under a rounding rule."""
    return [s for s in search if side_chain(spec, s, rounding)[1] == side]


RULES = {"ceiling": "ceiling (cuda-convnet)", "floor": "floor (PyTorch)"}  # Caffe floors convs but ceils pools


def rounding_table() -> list[dict[str, object]]:
    """Both rounding rules side by side: every spatial layer's side for the paper's 224 and 227 inputs
    (C1 unpadded, as in cuda-convnet's released config; the paper states no padding), and the article's
    padding-2 network."""
    cases = [(PAPER, 224, "ceiling"), (PAPER, 224, "floor"), (PAPER, 227, "floor"), (PAPER, 227, "ceiling"),
             (ARTICLE, 224, "floor")]
    rows: list[dict[str, object]] = []
    for spec, size, rule in cases:
        sides = side_chain(spec, size, rule)
        names = [layer.name for layer in spec.layers if layer.is_spatial]
        rows.append({"network": f"C1 padding {spec.layer('C1').padding} ({spec.name})", "input": size,
                     "rounding": RULES[rule], **dict(zip(names, sides[1:]))})
    return rows


def _arrows(sides: list[int]) -> str:
    """224 → 55 → 27 → 13 → 6: each side once (layers that keep the size are not repeated)."""
    kept = [s for i, s in enumerate(sides) if i == 0 or s != sides[i - 1]]
    return " → ".join(map(str, kept))


def _span(values: list[int]) -> str:
    return f"{values[0]}" if len(values) == 1 else f"{values[0]}–{values[-1]}"


def input_size() -> Finding:
    """224 is the paper's size under cuda-convnet's ceiling rule; 227 is the floor rule's way to the same 55."""
    size = article.INPUT_HWC[0]
    stated_c1 = article.layer("C1").out_chw
    c1 = ledger(ARTICLE, size).row("C1")
    pad = ARTICLE.layer("C1").padding
    ceil_chain, floor_chain = side_chain(PAPER, size, "ceiling"), side_chain(PAPER, size, "floor")
    target = stated_c1[1]
    floor_ok, ceil_ok = sizes_giving(target, PAPER, "floor"), sizes_giving(target, PAPER, "ceiling")
    return Finding("input-224", f"{size}×{size} input (the paper's {size} and the 227 puzzle)", article.QUOTES["input"],
                   f"two rounding rules for C1 (11×11, stride 4, padding 0 in Krizhevsky's released config; the paper "
                   f"states none): floor, as in PyTorch and "
                   f"Caffe, and ceiling, as in Krizhevsky's cuda-convnet. With padding 0 the floor gives {target} for "
                   f"inputs {_span(floor_ok)} (this app's paper variant uses {PAPER.input_size}); the ceiling gives "
                   f"{target} for {_span(ceil_ok)}. Under the ceiling rule the paper's {size} runs "
                   f"{_arrows(ceil_chain)} with no padding; under the floor rule it would run {_arrows(floor_chain)}. "
                   f"The article reaches {target} from {size} a third way, "
                   f"padding {pad} with the floor: ({size} − 11 + 2·{pad})/4 + 1 = {c1.size_exact:g} → "
                   f"{c1.out_shape[1]}.",
                   "correct" if c1.out_shape == stated_c1 and ceil_chain[1] == target else "wrong",
                   Source(article.QUOTES["input"], ARCH, f"{CONV_CEIL}; {CONV1_CFG}"))


def zero_padded_pools() -> Finding:
    book = ledger(ARTICLE)
    parts, padding_breaks = [], True
    for row in book.rows:
        if row.kind == "maxpool":
            padded = ledger(ARTICLE.with_layer(row.name, padding=1)).row(row.name)
            stated = article.layer(row.name).out_chw
            padding_breaks &= row.out_shape == stated != padded.out_shape
            parts.append(f"{row.name}: padding {row.padding} gives {shape_text(row.out_shape)}, "
                         f"zero-padding by 1 would give {shape_text(padded.out_shape)}")
    names = ", ".join(r.name for r in book.rows if r.kind == "maxpool")
    return Finding("zero-padded-pools", "\"zero-padded\" pooling", f"{names} perform \"a zero-padded "
                   "sub-sampling operation\"", "; ".join(parts) + ". The stated shapes need no padding at all: "
                   "\"zero-padded\" can only mean a padding of zero.", "misleading" if padding_breaks else "correct",
                   Source(article.QUOTES["s2"], paper.cite("overlap")))


def figures() -> list[Finding]:
    """The basics section's worked Figures 2-4, recomputed by the operations module."""
    f2, f3 = article.FIGURE2, article.FIGURE3
    x = random_values((f2.input_hwc[2], *f2.input_hwc[:2]), seed=0)
    w = random_values((f2.kernel_hwc[2], *f2.kernel_hwc[:2]), seed=1)
    y = convolve(x, w, 0.0, f2.stride, f2.padding)
    padded = convolve(x, w, 0.0, f2.stride, 1)
    x3 = random_values((f3.input_hwc[2], *f3.input_hwc[:2]), seed=2)
    y3 = pool(x3, "max", f3.kernel_hwc[0], f3.stride)
    sizes = article.FC_EXAMPLE
    dense = fully_connected(*dense_example(0, sizes))
    out_side, out_ch = f2.out_hwc[0], f2.out_hwc[2]
    fig4 = "a ({}×1) input, a ({}×1) hidden layer and a ({}×1) output".format(*sizes)
    return [
        Finding("figure2", f"Figure 2: a \"{out_ch}-channel ({out_side}×{out_side})\" result", f2.quote,
                f"one {f2.kernel_hwc[0]}×{f2.kernel_hwc[1]}×{f2.kernel_hwc[2]} kernel over a "
                f"{f2.input_hwc[0]}×{f2.input_hwc[1]}×{f2.input_hwc[2]} input gives an output of shape "
                f"{y.shape[0]}×{y.shape[1]}×1: the channel products are summed into one map; {out_ch} output "
                f"channels need {out_ch} kernels. The side is right with padding {f2.padding} (padding 1 would give "
                f"{padded.shape[0]}×{padded.shape[1]}).",
                "correct" if (y.shape[0], 1) == (out_side, out_ch) else "wrong", Source(f2.quote)),
        Finding("figure3", f"Figure 3: {f3.input_hwc[0]}×{f3.input_hwc[1]}, {f3.kernel_hwc[0]}×{f3.kernel_hwc[1]} "
                f"window, stride {f3.stride}", f3.quote,
                f"{y3.shape[1]}×{y3.shape[2]}×{y3.shape[0]}; pooling works on each channel on its own, "
                "so the channel count is kept.", "correct" if y3.shape == article.chw(f3.out_hwc) else "wrong",
                Source(f3.quote)),
        Finding("figure4", f"Figure 4: {' → '.join(map(str, sizes))} fully connected", fig4,
                f"a forward pass gives {dense.hidden.size} hidden values and {dense.output.size} outputs; the example "
                f"has ({sizes[0]} + 1)·{sizes[1]} + ({sizes[1]} + 1)·{sizes[2]} = {dense.params} parameters, which "
                "the figure does not mention.",
                "correct" if (dense.hidden.size, dense.output.size) == sizes[1:] else "wrong",
                Source(f"Figure 4 shows a fully connected operation that involved {fig4}.")),
    ]


def kernel_channels() -> Finding:
    """The basics' definition is right; grouping (the paper's C3, C6, C7) is the one exception."""
    one_tower = [r for r in ledger(ARTICLE).rows if r.kind == "conv"]
    holds = all(r.weight_params == r.out_shape[0] * r.in_shape[0] * r.kernel ** 2 for r in one_tower)
    grouped = [r for r in ledger(PAPER).rows if r.kind == "conv" and r.groups > 1]
    c3 = grouped[0]
    return Finding("kernel-channels", "kernel channels = input channels", article.QUOTES["kernel_channels"],
                   "the standard definition, and true of every convolution of the article's network (each "
                   "kernel's weights = input channels × K × K). One caveat: a grouped convolution splits the "
                   f"channels, so in the paper's {', '.join(r.name for r in grouped)} (groups={c3.groups}) each "
                   f"kernel has {c3.in_shape[0] // c3.groups} channels for a {c3.in_shape[0]}-channel input "
                   f"({c3.name}).", "correct" if holds else "wrong",
                   Source(article.QUOTES["kernel_channels"], ARCH))

