"""What the article leaves out of AlexNet, and its two-GPU claim measured against real training memory.

Each finding names the paper's section (and figure) and the article's sentence where the fact
belongs. Where a number can be recomputed (the 2048 crops, the neurons, the grouping, the
memory), it is; results of experiments can only be quoted, and say so (basis "paper").
"""
from __future__ import annotations

from dataclasses import replace

from alexnet_viz.analysis.training_memory import ASSUMPTIONS, training_memory
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.formatting import fmt_bytes
from alexnet_viz.core.spec import ARTICLE, PAPER, Spec
from alexnet_viz.errata import article, code, paper
from alexnet_viz.errata.verdicts import Finding, Source

TODAY_GPUS = {"a consumer card": 24 * 10**9, "a data-centre card": 80 * 10**9}
TRAIN_BATCH = paper.BATCH_SIZE
Q = article.QUOTES


def _gain(pair: tuple[float, float]) -> str:
    return f"{pair[0]} % top-1 and {pair[1]} % top-5"


def crossing(spec: Spec = PAPER) -> list[str]:
    """Layers whose weights read both GPUs' maps: every weighted layer after the first that is not grouped."""
    return [lay.name for lay in spec.layers[1:] if lay.has_params and lay.groups == 1]


def grouping() -> list[Finding]:
    a, p = ledger(ARTICLE), ledger(PAPER)
    grouped = [lay.name for lay in PAPER.layers if lay.groups > 1]
    across = crossing()
    convs = [n for n in across if PAPER.layer(n).kind == "conv"]
    diff = ", ".join(f"{n} {a.row(n).params:,} vs {p.row(n).params:,}" for n in grouped)
    fc1 = next(r for r in p.rows if r.kind == "fc")
    src = Source(Q["multi_gpu"], f"Sec. 3.2; {paper.cite('architecture')}", code.CROSSING)
    return [
        Finding("grouping", "two-GPU grouping left out", "one tower: every kernel sees every input channel",
                f"the paper's {', '.join(grouped)} use groups={PAPER.layer(grouped[0]).groups}: each GPU's kernels "
                f"see only their own GPU's share of the channels. Only {', '.join(convs)} (the paper's third "
                f"convolutional layer) and the fully connected {', '.join(n for n in across if n not in convs)} "
                f"read both GPUs' maps. Parameters: {diff}; totals {a.total_params:,} (article) vs "
                f"{p.total_params:,} (paper).", "left out", src),
        Finding("two-gpu-gain", "what the two-GPU split bought", Q["multi_gpu"],
                f"{_gain(paper.TWO_GPU_GAIN)} lower error than a one-GPU net with half as many kernels "
                f"in each convolutional layer, and slightly less training time. Not quite half everywhere: the "
                f"paper's footnote says \"{paper.PASSAGES['one_gpu_net'].text}\" The reason: the first fully connected "
                f"layer, which reads the last convolution, holds most of the parameters ({fc1.name}: "
                f"{fc1.params / p.total_params:.0%} of the paper's network here), so the one-GPU net keeps about "
                "as many parameters as the two-GPU one.", "left out",
                Source(Q["multi_gpu"], f"{paper.cite('two_gpu_gain')} and its footnote"), "paper"),
    ]


def lrn() -> Finding:
    """Left out by the article; the paper's printed α and the released code's α/n are both stated."""
    names = [lay.name for lay in PAPER.layers if lay.lrn is not None]
    norm = next(lay.lrn for lay in PAPER.layers if lay.lrn is not None)
    printed = replace(norm, rule="printed")
    return Finding("lrn", "local response normalisation left out", "no LRN in any layer description",
                   f"the paper normalises after the ReLU of {', '.join(names)} (k={norm.k:g}, n={norm.size}, "
                   f"α={norm.alpha:g}, β={norm.beta:g}: \"{paper.PASSAGES['lrn_formula'].text}\"), which lowered "
                   f"its error by {_gain(paper.LRN_GAIN)}. The printed formula multiplies the sum of squares by "
                   f"α = {printed.coefficient:g}. Krizhevsky's released code (cuda-convnet2, 2014; also the original "
                   f"cuda-convnet) divides its scale by n, and its ImageNet config sets scale {norm.alpha:g}, so "
                   f"c = α/n = {norm.coefficient:g}, each GPU normalising only its own maps. That config departs from "
                   "the paper in places (LRN before C1's ReLU, an extra spatial normalisation after C3), and the "
                   "2012 ImageNet config was never published. In PyTorch the code's reading is "
                   f"LocalResponseNorm({norm.size}, alpha={norm.torch_alpha:g}, beta={norm.beta:g}, k={norm.k:g}), the "
                   f"printed one alpha={printed.torch_alpha:g} (PyTorch's default k is 1); the paper "
                   "variant uses the code's. No parameters, so the counts "
                   "are unaffected, but the outputs differ.", "left out",
                   Source(Q["c1"], f"{paper.cite('lrn')}", f"{code.LRN}; {code.CFG_DEPARTS}",
                          code.ORIGINAL_LRN))


def overlapping_pooling() -> Finding:
    pools = [lay for lay in PAPER.layers if lay.kind == "maxpool"]
    shared = {lay.kernel - lay.stride for lay in pools}
    return Finding("overlap", "overlapping pooling left out", Q["s2"],
                   f"the numbers are right, the idea is missing: with a {pools[0].kernel}×{pools[0].kernel} window "
                   f"and stride {pools[0].stride}, neighbouring windows overlap by {', '.join(map(str, shared))} "
                   "pixel in each direction. The paper chose that over non-overlapping 2×2 windows with stride 2, "
                   f"which give the same output size, for {_gain(paper.OVERLAP_GAIN)} lower error.", "left out",
                   Source(Q["s2"], paper.cite("overlap")))


def relu_speed() -> Finding:
    return Finding("relu-speed", "why ReLU", Q["relu_convs"],
                   f"the paper's reason is left out: a four-layer network with ReLUs reached "
                   f"{paper.RELU_TARGET_ERROR} % training error on CIFAR-10 about {paper.RELU_SPEEDUP}× faster than "
                   "the same network with tanh, which saturates.", "left out",
                   Source(Q["relu_convs"], paper.cite("relu_speed")), "paper")


def augmentation() -> list[Finding]:
    offsets = paper.RESIZE - paper.CROP
    factor = offsets ** 2 * 2
    strict = (offsets + 1) ** 2 * 2
    return [
        Finding("augmentation", "data augmentation left out", Q["input"],
                f"the {paper.CROP}×{paper.CROP} inputs are random crops of {paper.RESIZE}×{paper.RESIZE} images and "
                f"their mirror images: ({paper.RESIZE} − {paper.CROP})² offsets × 2 flips = {factor:,}, the paper's "
                f"factor of {paper.AUGMENT_FACTOR:,} (counting both edges, {strict:,} crops fit); a second scheme "
                f"adds PCA colour noise to every pixel, lowering top-1 error by over {paper.PCA_COLOUR_TOP1_GAIN:g} %.",
                "left out" if factor == paper.AUGMENT_FACTOR else "wrong",
                Source(Q["input"], paper.cite("crops"))),
        Finding("ten-crops", "ten-crop testing left out", Q["f11"],
                f"at test time the paper averages the softmax over {paper.TEST_CROPS} crops: the 4 corners and "
                "the centre, and their mirror images.", "left out", Source(Q["f11"], paper.cite("ten_crops")),
                "paper"),
    ]


def dropout_cost() -> Finding:
    rates = sorted({lay.dropout for lay in PAPER.layers if lay.dropout})
    return Finding("dropout-cost", "dropout's rate and cost left out", Q["dropout"],
                   f"the paper's rate is p = {', '.join(map(str, rates))} (each hidden neuron is zeroed with that "
                   "probability in training; at test time all are used and their outputs halved, where PyTorch "
                   "instead doubles the kept ones in training), and it roughly doubles the iterations needed to "
                   "converge.", "left out" if rates == [paper.DROPOUT_P] else "wrong",
                   Source(Q["dropout"], paper.cite("dropout")))


def dataset() -> Finding:
    return Finding("dataset", "the data set's size left out", Q["training"],
                   f"about {paper.TRAIN_IMAGES:,} training, {paper.VAL_IMAGES:,} validation and "
                   f"{paper.TEST_IMAGES:,} test images in {paper.CLASSES:,} classes.", "left out",
                   Source(Q["training"], paper.cite("dataset")), "paper")


def neurons() -> Finding:
    book = ledger(PAPER)
    learned = [r for r in book.rows if r.kind in ("conv", "fc")]
    total = sum(r.activations for r in learned)
    listed = sum(paper.NEURONS_LISTED)
    c1 = learned[0]
    return Finding("neurons", "the network's size in neurons left out", article.TOTAL_PARAMS_QUOTE,
                   f"the paper also counts about {paper.NEURONS_STATED:,} neurons: the outputs of its eight learned "
                   f"layers add up to {total:,} here. (Its Sec. 3.5 list starts with {paper.NEURONS_LISTED[0]:,} for "
                   f"C1, where {c1.out_shape[1]}·{c1.out_shape[2]}·{c1.out_shape[0]} = {c1.activations:,}; the list "
                   f"sums to {listed:,}.)", "left out",
                   Source(article.TOTAL_PARAMS_QUOTE, f"{paper.cite('abstract')}; {paper.cite('neurons')}"))


def two_gpus() -> Finding:
    """'Requires at least two GPUs': measured training memory against the 3 GB cards and today's."""
    mem, pap = training_memory(ARTICLE, TRAIN_BATCH), training_memory(PAPER, TRAIN_BATCH)
    card = paper.GPU_MEMORY_BYTES
    today = ", ".join(f"{mem.estimate / size:.0%} of {size // 10**9} GB ({name})" for name, size in TODAY_GPUS.items())
    return Finding("two-gpus", "\"requires at least two GPUs\"", Q["two_gpus"],
                   f"weights alone: {fmt_bytes(mem.weights)} (inference fits any GPU). Training at batch "
                   f"{TRAIN_BATCH}, measured on a real model: autograd saves {fmt_bytes(mem.saved)} for backward "
                   f"({fmt_bytes(mem.saved_per_image)} per image); with weights, gradients and momentum "
                   f"({fmt_bytes(mem.weights_grads_momentum)}) that estimates the peak at {fmt_bytes(mem.estimate)}, "
                   f"{mem.estimate / card:.0%} of one 3 GB GTX 580 (a little high: the profiler's peak of one real "
                   "SGD step is checked to be at most this). Even adding the largest pair of activation gradients "
                   f"alive at once ({fmt_bytes(mem.gradient_pair)}), an upper bound, gives "
                   f"{fmt_bytes(mem.upper_bound)} ({mem.upper_bound / card:.0%}). The paper's grouped network with "
                   f"PyTorch's LRN (which saves several intermediate tensors): estimate {fmt_bytes(pap.estimate)} "
                   f"({pap.estimate / card:.0%}). Assumptions: {'; '.join(ASSUMPTIONS)}. The paper (Sec. 3.2): "
                   f"\"{paper.PASSAGES['two_gpus'].text}\" That sentence is about the paper's 2012 implementation, "
                   "whose own buffers and workspace are not in these counts; by these counts the network needs a "
                   f"fraction of one GPU today: {today}.",
                   "misleading" if mem.upper_bound < min(TODAY_GPUS.values()) else "correct",
                   Source(Q["two_gpus"], paper.cite("two_gpus")))

