"""Every numeric claim of the article, checked against the ledger, the model and small computations.

Each finding carries the article's words, the evidence computed here and a verdict; the
"article checked" page and `python -m alexnet_viz errata` print the same list.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

from . import article
from .bookkeeping import BYTES_PER_FLOAT32, ceil_out, conv_out, ledger
from .formatting import fmt_bytes, shape_text
from .operations import convolve, dense_example, fully_connected, pool, random_values
from .spec import ARTICLE, PAPER, TORCHVISION, Spec

VERDICTS = ("correct", "wrong", "misleading", "left out")
_POOLS = tuple(l.name for l in ARTICLE.layers if l.kind in ("maxpool", "avgpool"))
FORMATS = ("table", "json", "markdown")

GTX580_BYTES = 3 * 2**30  # the paper's cards (2012)
TODAY_GPUS = {"24 GB consumer card": 24 * 10**9, "80 GB data-centre card": 80 * 10**9}
TRAIN_BATCH = article.BATCH_SIZE


@dataclass(frozen=True)
class Finding:
    """One claim: where it is, what it says, what we computed, and the verdict."""

    key: str
    topic: str
    claim: str
    evidence: str
    verdict: str  # one of VERDICTS

    def as_dict(self) -> dict:
        return asdict(self)


def _shape_findings() -> list[Finding]:
    book = ledger(ARTICLE)
    out = []
    for stated in article.LAYERS:
        row = book.row(stated.name)
        ok = row.out_shape == stated.out_chw
        out.append(Finding(f"shape-{stated.name}", f"{stated.name} output shape",
                           f"{stated.name} produces {shape_text(stated.out_chw)}",
                           f"ledger: {shape_text(row.in_shape)} → {shape_text(row.out_shape)}"
                           + ("" if row.size_exact is None else f" (unrounded side {row.size_exact:g})"),
                           "correct" if ok else "wrong"))
        if stated.params is not None:
            out.append(Finding(f"params-{stated.name}", f"{stated.name} parameters",
                               f"{stated.name} has {stated.params:,} trainable parameters",
                               f"{row.weight_params:,} weights + {row.bias_params:,} biases = {row.params:,}",
                               "correct" if row.params == stated.params else "wrong"))
        if stated.running_total is not None:
            out.append(Finding(f"total-{stated.name}", f"running total after {stated.name}",
                               f"{stated.running_total:,} parameters so far",
                               f"ledger cumulative: {row.cumulative_params:,}",
                               "correct" if row.cumulative_params == stated.running_total else "wrong"))
    return out


def _consistency() -> Finding:
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
                   "correct" if not broken and running == final else "wrong")


def _total_claim() -> Finding:
    total = ledger(ARTICLE).total_params
    return Finding("total-62M", f"over {article.TOTAL_PARAMS_CLAIM // 10**6} million parameters",
                   article.TOTAL_PARAMS_QUOTE,
                   f"ledger total {total:,} (paper's grouped network {ledger(PAPER).total_params:,}, "
                   f"torchvision {ledger(TORCHVISION).total_params:,})",
                   "correct" if total > article.TOTAL_PARAMS_CLAIM else "wrong")


def _formula_finding() -> Finding:
    book = ledger(ARTICLE)
    cases = []
    differs = []
    for row in book.rows:
        if row.size_exact is None:
            continue
        args = (row.in_shape[1], row.kernel, row.stride, row.padding)
        ceil_side, floor_side = ceil_out(*args), conv_out(*args)[0]
        cases.append(f"{row.name}: {row.size_exact:g} → floor {floor_side}, ceiling formula {ceil_side}")
        if ceil_side != floor_side:
            differs.append(row.name)
    return Finding("size-formula", "output-size formula (ceiling vs floor)", f"size = {article.SIZE_FORMULA}",
                   "; ".join(cases) + f". The article's own shapes follow the floor; its formula disagrees "
                   f"with them at {', '.join(differs) or 'no layer'}. PyTorch (ceil_mode=False) uses "
                   "⌊(W − K + 2P)/S⌋ + 1.", "wrong" if differs else "correct")


def _pool_formula() -> Finding:
    """Pools use the same size rule as convolutions (with the floor, as PyTorch does by default)."""
    book = ledger(ARTICLE)
    pools = [r for r in book.rows if r.kind == "maxpool"]
    ok = all(r.out_shape == article.layer(r.name).out_chw for r in pools)
    return Finding("pool-size-formula", "pooling size rule = convolution size rule",
                   article.QUOTES["pool_size_formula"],
                   "; ".join(f"{r.name}: ⌊({r.in_shape[1]} − {r.kernel})/{r.stride}⌋ + 1 = {r.out_shape[1]}"
                             for r in pools) + ": each matches the stated shape.",
                   "correct" if ok else "wrong")


def _missing_c4() -> Finding:
    names = set(article.NAMES) | {"input"}
    bad = [(l.name, l.source) for l in article.LAYERS if l.source not in names]
    expected = {l.name: prev.name for prev, l in zip(article.LAYERS, article.LAYERS[1:])}
    claim = "; ".join(f"{n} \"accepted output from the layer {s}\"" for n, s in bad) or "every source is named"
    return Finding("missing-C4", "layer names", claim,
                   "its layers are " + ", ".join(article.NAMES) + "; " +
                   "; ".join(f"{n} names {s} as its source, which does not exist (it is {expected[n]})"
                             for n, s in bad), "wrong" if bad else "correct")


@lru_cache(maxsize=1)
def _pool_relu_check() -> tuple[int, int, int, float]:
    """Run a narrowed copy of the article network and compare each pool's output with ReLU of it."""
    import torch

    from .model import build_model

    narrow = {"C1": 8, "C3": 16, "C5": 16, "C6": 16, "C7": 16, "F9": 32, "F10": 32, "F11": 10}
    spec = replace(ARTICLE, init="torchvision")  # zero biases, so ReLU really clips values to 0
    for name, width in narrow.items():
        spec = spec.with_layer(name, out=width)
    model = build_model(spec, seed=0)
    x = torch.randn(4, 3, spec.input_size, spec.input_size, generator=torch.Generator().manual_seed(0))
    changed, checked, zeros, lowest = 0, 0, 0, math.inf
    with torch.no_grad():
        for name in ("S4", "S8"):
            pooled = _run_until(model, x, name)
            changed += int((torch.relu(pooled) != pooled).sum())
            checked += pooled.numel()
            zeros += int((pooled == 0).sum())
            lowest = min(lowest, float(pooled.min()))
    return changed, checked, zeros, lowest


def _run_until(model, x, name: str):  # -> torch.Tensor, the pooling module's output
    """Forward through `features` and return the output of `name`'s pooling module."""
    target = model.part_paths(name)["pool"]
    for child_name, module in model.features.named_children():
        x = module(x)
        if f"features.{child_name}" == target:
            return x
    raise KeyError(name)


def _pool_relu() -> Finding:
    changed, checked, zeros, lowest = _pool_relu_check()
    pools = " and ".join(l.name for l in article.LAYERS if l.relu_after and l.name in _POOLS)
    return Finding("pool-relu", f"ReLU after max pooling ({pools})",
                   f"{pools} pass their output \"through a ReLU activation function\"; summary: "
                   f"\"{article.QUOTES['pool_relu']}\"",
                   "max pooling of ReLU outputs (all ≥ 0) is ≥ 0, so a ReLU after it is the identity. "
                   f"Computed on a seeded, narrowed copy of the article network: {changed} of {checked:,} "
                   f"pooled values changed by ReLU ({zeros:,} were already 0, the smallest is {lowest:g}). "
                   "S2 gets no such "
                   "ReLU in the text, which shows the inconsistency.",
                   "misleading" if changed == 0 else "correct")


def training_memory(spec: Spec, batch: int = TRAIN_BATCH) -> dict[str, int]:
    """A floor on training memory: weights, gradients and momentum, plus layer outputs kept for backward
    and their gradients (float32, no framework workspace, counting conv/linear outputs before ReLU too)."""
    book = ledger(spec)
    weights = book.total_params * BYTES_PER_FLOAT32
    per_image = spec.in_channels * book.input_size ** 2 * BYTES_PER_FLOAT32
    for layer, row in zip(spec.layers, book.rows):
        per_image += row.activation_bytes * (2 if layer.relu else 1)
    activations = per_image * batch
    return {"weights": weights, "weights_grads_momentum": 3 * weights, "activations": activations,
            "activation_grads": activations, "total": 3 * weights + 2 * activations, "per_image": per_image}


def _two_gpus() -> Finding:
    mem = training_memory(ARTICLE)
    paper = training_memory(PAPER)
    today = ", ".join(f"{mem['total'] / size:.0%} of a {name}" for name, size in TODAY_GPUS.items())
    return Finding("two-gpus", "\"requires at least two GPUs\"", article.QUOTES["two_gpus"],
                   f"weights alone: {fmt_bytes(mem['weights'])} (inference fits any GPU). Training at batch "
                   f"{TRAIN_BATCH}: weights + gradients + momentum {fmt_bytes(mem['weights_grads_momentum'])}, "
                   f"layer outputs and their gradients {fmt_bytes(2 * mem['activations'])}, at least "
                   f"{fmt_bytes(mem['total'])} in all ({mem['total'] / GTX580_BYTES:.0%} of one 3 GB GTX 580, "
                   f"before cuda-convnet's workspace; the paper's grouped network: {fmt_bytes(paper['total'])}); "
                   f"today that is {today}. The split was a 2012 memory and speed workaround; the network "
                   "itself runs on one device (this app runs it on a CPU).",
                   "misleading" if mem["total"] < min(TODAY_GPUS.values()) else "correct")


def _input_size() -> Finding:
    size = article.INPUT_HWC[0]
    c1 = ledger(ARTICLE, size).row("C1")
    pad = ARTICLE.layer("C1").padding
    paper_small = ledger(PAPER, size).row("C1")
    paper_own = ledger(PAPER).row("C1")
    return Finding("input-224", f"{size}×{size} input (the paper's {PAPER.input_size} puzzle)", article.QUOTES["input"],
                   f"with padding {pad}, {size} gives C1 {shape_text(c1.out_shape)}, as stated. The paper uses "
                   f"padding {PAPER.layer('C1').padding}: at {size} its C1 side is {paper_small.size_exact:g} → "
                   f"{paper_small.out_shape[1]}, only {PAPER.input_size} gives {paper_own.out_shape[1]}. The article "
                   f"quietly adds the padding of {pad} that makes {size} work.",
                   "correct" if c1.out_shape == article.layer("C1").out_chw else "wrong")


def _left_out() -> list[Finding]:
    a, p = ledger(ARTICLE), ledger(PAPER)
    grouped = [l.name for l in PAPER.layers if l.groups > 1]
    lrn = [l.name for l in PAPER.layers if l.lrn is not None]
    diff = ", ".join(f"{n} {a.row(n).params:,} vs {p.row(n).params:,}" for n in grouped)
    c3 = p.row("C3")
    norm = next(l.lrn for l in PAPER.layers if l.lrn is not None)
    return [
        Finding("grouping", "two-GPU grouping left out", "one tower: every kernel sees every input channel",
                f"the paper's {', '.join(grouped)} use groups={PAPER.layer(grouped[0]).groups} (each GPU's kernels "
                f"see only its own share of the channels): "
                f"{diff}; totals {a.total_params:,} (article) vs {p.total_params:,} (paper).", "left out"),
        Finding("lrn", "local response normalisation left out", "no LRN in any layer description",
                f"the paper normalises after the ReLU of {', '.join(lrn)} (k={norm.k:g}, n={norm.size}, "
                f"α={norm.alpha:g}, β={norm.beta:g}); it has no "
                "parameters, so the counts are unaffected, but the outputs differ.", "left out"),
        Finding("kernel-channels", "kernel channels = input channels", article.QUOTES["kernel_channels"],
                f"true for the article's one tower; in the paper's C3 each kernel has "
                f"{c3.in_shape[0] // c3.groups} channels for a {c3.in_shape[0]}-channel input (groups={c3.groups}).",
                "misleading" if grouped else "correct"),
    ]


def _zero_padded_pools() -> Finding:
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
                   "\"zero-padded\" can only mean a padding of zero.", "misleading" if padding_breaks else "correct")


def _figures() -> list[Finding]:
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
    return [
        Finding("figure2", f"Figure 2: a \"{out_ch}-channel ({out_side}×{out_side})\" result", f2.quote,
                f"one {f2.kernel_hwc[0]}×{f2.kernel_hwc[1]}×{f2.kernel_hwc[2]} kernel over a "
                f"{f2.input_hwc[0]}×{f2.input_hwc[1]}×{f2.input_hwc[2]} input gives an output of shape "
                f"{y.shape[0]}×{y.shape[1]}×1: the channel products are summed into one map; {out_ch} output "
                f"channels need {out_ch} kernels. The side is right with padding {f2.padding} (padding 1 would give "
                f"{padded.shape[0]}×{padded.shape[1]}).",
                "correct" if (y.shape[0], 1) == (out_side, out_ch) else "wrong"),
        Finding("figure3", f"Figure 3: {f3.input_hwc[0]}×{f3.input_hwc[1]}, {f3.kernel_hwc[0]}×{f3.kernel_hwc[1]} "
                f"window, stride {f3.stride}", f3.quote,
                f"{y3.shape[1]}×{y3.shape[2]}×{y3.shape[0]}; pooling works on each channel on its own, "
                "so the channel count is kept.", "correct" if y3.shape == article.chw(f3.out_hwc) else "wrong"),
        Finding("figure4", f"Figure 4: {' → '.join(map(str, sizes))} fully connected",
                "a ({}×1) input, a ({}×1) hidden layer and a ({}×1) output".format(*sizes), f"a forward pass gives {dense.hidden.size} hidden values and {dense.output.size} "
                f"outputs; the example has ({sizes[0]} + 1)·{sizes[1]} + ({sizes[1]} + 1)·{sizes[2]} = "
                f"{dense.params} parameters, which the figure does not mention.",
                "correct" if (dense.hidden.size, dense.output.size) == sizes[1:] else "wrong"),
    ]


def _summary_claims() -> list[Finding]:
    spec = ARTICLE
    pools = sorted({l.kernel for l in spec.layers if l.kind == "maxpool"})
    convs = sorted({l.kernel for l in spec.layers if l.kind == "conv"}, reverse=True)
    weighted = [l.name for l in spec.layers if l.has_params]
    dropout = [l.name for l in spec.layers if l.dropout]
    classes = spec.layers[-1].out
    return [
        Finding("pool-kernels", f"{article.POOL_KERNEL}×{article.POOL_KERNEL} max-pooling windows", article.QUOTES["pool_kernels"],
                f"spec: pooling windows {pools}", "correct" if pools == [article.POOL_KERNEL] else "wrong"),
        Finding("conv-kernels", ", ".join(f"{k}×{k}" for k in article.CONV_KERNELS) + " convolution kernels", article.QUOTES["conv_kernels"],
                f"spec: convolution kernels {convs}", "correct" if tuple(convs) == article.CONV_KERNELS else "wrong"),
        Finding("layer-count", f"{article.LAYER_COUNT} layers", article.QUOTES["layers"],
                f"{len(spec.layers)} numbered layers, of which {len(weighted)} have weights "
                f"({', '.join(weighted)}): the paper's \"eight learned layers\" counts only those.",
                "correct" if len(spec.layers) == article.LAYER_COUNT else "wrong"),
        Finding("dropout", "dropout in the first two FC layers", article.QUOTES["dropout"],
                f"spec: dropout in {', '.join(dropout)}",
                "correct" if tuple(dropout) == article.DROPOUT_LAYERS else "wrong"),
        Finding("classes", f"{article.CLASSES} classes", article.QUOTES["classes"], f"F11 has {classes} outputs",
                "correct" if classes == article.CLASSES else "wrong"),
        _same_op(),
    ]


def _same_op() -> Finding:
    book = ledger(ARTICLE)
    c5, c6 = book.row("C5"), book.row("C6")
    same = all(getattr(c5, f) == getattr(c6, f) for f in ("kernel", "stride", "padding", "out_shape"))
    return Finding("c6-same", "C6 \"performed the same convolution operation as layer C5\"",
                   "the same convolution operation as layer C5, which lead to the same output size",
                   f"same kernel, stride, padding and kernel count, hence the same {shape_text(c6.out_shape)} output; "
                   f"the parameters differ ({c5.params:,} vs {c6.params:,}) because C6's kernels have "
                   f"{c6.in_shape[0]} channels, C5's {c5.in_shape[0]}.", "correct" if same else "wrong")


@lru_cache(maxsize=1)
def findings() -> tuple[Finding, ...]:
    """All findings, in the article's reading order roughly: basics, walkthrough, analysis, summary."""
    items = [*_figures(), _formula_finding(), _pool_formula(), _input_size(), *_shape_findings(), _consistency(),
             _total_claim(),
             _missing_c4(), _pool_relu(), _zero_padded_pools(), *_left_out(), _two_gpus(), *_summary_claims()]
    return tuple(items)


def counts(items: tuple[Finding, ...] | None = None) -> dict[str, int]:
    """How many findings have each verdict."""
    items = findings() if items is None else items
    return {v: sum(f.verdict == v for f in items) for v in VERDICTS}


FORMATS = ("table", "json", "markdown")


def render(items: tuple[Finding, ...], fmt: str) -> str:
    """Findings as an aligned text table, JSON or Markdown."""
    if fmt == "json":
        return json.dumps({"counts": counts(items), "findings": [f.as_dict() for f in items]}, indent=2) + "\n"
    if fmt == "markdown":
        esc = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines = ["| verdict | topic | the article says | computed evidence |", "|---|---|---|---|"]
        lines += [f"| {f.verdict} | {esc(f.topic)} | {esc(f.claim)} | {esc(f.evidence)} |" for f in items]
        return "\n".join(lines) + "\n"
    blocks = [f"[{f.verdict.upper()}] {f.topic}\n  says:     {f.claim}\n  computed: {f.evidence}" for f in items]
    tally = ", ".join(f"{n} {v}" for v, n in counts(items).items())
    return f"The article checked: {len(items)} findings ({tally})\n\n" + "\n\n".join(blocks) + "\n"
