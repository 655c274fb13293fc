"""The article's claims about AlexNet, checked against the paper and the PAPER spec.

Checking them against the ARTICLE spec would be circular: that spec was transcribed from the
article. Structural claims are computed from the paper's network; results and training settings
can only be compared with what the paper states (alexnet_viz/errata/paper.py), and say so (basis "paper").
"""
from __future__ import annotations

import math
from functools import lru_cache

from alexnet_viz.core.bookkeeping import ceil_out, conv_out, ledger
from alexnet_viz.core.spec import ARTICLE, KIND_NAMES, PAPER, TORCHVISION
from alexnet_viz.errata import article, code, paper
from alexnet_viz.errata.verdicts import Finding, Source
from alexnet_viz.report import shape_text

ARCH = paper.cite("architecture")


def _names(layers: list[str]) -> str:
    return ", ".join(layers) or "none"


def _times(n: int) -> str:
    return {1: "once", 2: "twice", 3: "three times"}.get(n, f"{n} times")


def summary_claims() -> list[Finding]:
    """The summary's kernels, layer count, dropout and classes, computed from the paper's network."""
    spec = PAPER
    pools = sorted({lay.kernel for lay in spec.layers if lay.kind == "maxpool"})
    convs = sorted({lay.kernel for lay in spec.layers if lay.kind == "conv"}, reverse=True)
    dropout = [lay.name for lay in spec.layers if lay.dropout]
    rates = sorted({lay.dropout for lay in spec.layers if lay.dropout})
    classes = spec.layers[-1].out
    q = article.QUOTES
    return [
        Finding("pool-kernels", f"{article.POOL_KERNEL}×{article.POOL_KERNEL} max-pooling windows", q["pool_kernels"],
                f"the paper's network pools with windows {pools}, stride {spec.layer('S2').stride} (z = 3, s = 2)",
                "correct" if pools == [article.POOL_KERNEL] else "wrong",
                Source(q["pool_kernels"], paper.cite("overlap"))),
        Finding("conv-kernels", ", ".join(f"{k}×{k}" for k in article.CONV_KERNELS) + " convolution kernels",
                q["conv_kernels"], f"the paper's network: convolution kernels {convs}",
                "correct" if tuple(convs) == article.CONV_KERNELS else "wrong", Source(q["conv_kernels"], ARCH)),
        layer_count(),
        Finding("dropout", "dropout in the first two FC layers", q["dropout"],
                f"the paper's network drops out in {_names(dropout)} with p = {', '.join(map(str, rates))}: "
                f"\"{paper.PASSAGES['dropout'].text}\"",
                "correct" if tuple(dropout) == article.DROPOUT_LAYERS else "wrong",
                Source(q["dropout"], paper.cite("dropout"))),
        Finding("classes", f"{article.CLASSES} classes", q["classes"], f"the paper's F11 has {classes} outputs "
                f"(a {paper.CLASSES}-way softmax)", "correct" if classes == article.CLASSES else "wrong",
                Source(q["classes"], paper.cite("abstract"))),
        same_op(),
    ]


def layer_count() -> Finding:
    """The paper counts eight learned layers; 11 is the article's count, the three pools added."""
    learned = [lay.name for lay in PAPER.layers if lay.has_params]
    pools = [lay.name for lay in PAPER.layers if lay.kind == "maxpool"]
    norms = [lay.name for lay in PAPER.layers if lay.lrn is not None]
    counted = len(learned) == paper.LEARNED_LAYERS and len(learned) + len(pools) == article.LAYER_COUNT
    return Finding("layer-count", f"{article.LAYER_COUNT} layers", article.QUOTES["layers"],
                   f"the paper: \"{paper.PASSAGES['learned_layers'].text}\" ({', '.join(learned)}). The article's "
                   f"{article.LAYER_COUNT} adds the {len(pools)} max-pooling layers ({', '.join(pools)}), numbering "
                   "them as LeNet-5 numbered its subsampling layers (C1, S2, …). It is a counting convention, not a "
                   f"different network: the paper calls its {len(norms)} response-normalisation steps (after "
                   f"{' and '.join(norms)}) layers too, and counting those as well gives "
                   f"{len(learned) + len(pools) + len(norms)}. \"The 11 layers of AlexNet\" without that caveat "
                   "contradicts the paper's eight.", "misleading" if counted else "wrong",
                   Source(article.QUOTES["layers"], paper.cite("learned_layers"),
                          other="LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document "
                                "recognition, Sec. II-B (LeNet-5: layers C1, S2, C3, S4, C5, F6)"), "paper")


def same_op() -> Finding:
    """C6 repeats C5's kernel, stride, padding and count; its parameters differ in both networks."""
    book, art = ledger(PAPER), ledger(ARTICLE)
    c5, c6 = book.row("C5"), book.row("C6")
    a5, a6 = art.row("C5"), art.row("C6")
    same = all(getattr(c5, f) == getattr(c6, f) for f in ("kernel", "stride", "padding", "out_shape"))
    quote = article.layer("C6").quote
    return Finding("c6-same", "C6 \"performed the same convolution operation as layer C5\"", quote,
                   f"same kernel, stride, padding and kernel count, hence the same {shape_text(c6.out_shape)} output "
                   f"in the paper's network too; the parameters differ in both networks. In the article's: C5 "
                   f"{a5.params:,} vs C6 {a6.params:,}, because C6's kernels see C5's {a6.in_shape[0]} output "
                   f"channels where C5's see S4's {a5.in_shape[0]}. In the paper's: C5 {c5.params:,} vs C6 "
                   f"{c6.params:,}, because C6 is split between the GPUs (groups={c6.groups}) and each kernel sees "
                   f"{c6.in_shape[0] // c6.groups} channels, C5's {c5.in_shape[0] // c5.groups}.",
                   "correct" if same else "wrong", Source(quote, ARCH))


def relu_layers() -> Finding:
    """'ReLU for convolutions' is true; the walkthrough gives F9 and F10 theirs too, as the paper does."""
    convs = [lay.name for lay in PAPER.layers if lay.kind == "conv"]
    conv_relu = [lay.name for lay in PAPER.layers if lay.kind == "conv" and lay.relu]
    fc_relu = [lay.name for lay in PAPER.layers if lay.kind == "fc" and lay.relu]
    said_fc = [a.name for a in article.LAYERS if ARTICLE.layer(a.name).kind == "fc" and a.relu_after]
    last = PAPER.layers[-1].name
    holds = conv_relu == convs and said_fc == fc_relu
    return Finding("relu-layers", "ReLU activations for convolutions", article.QUOTES["relu_convs"],
                   f"true: {_names(conv_relu)} all end in a ReLU in the paper's network. The summary names only the "
                   f"convolutions, but the walkthrough gives {_names(said_fc)} theirs too "
                   f"(\"{article.QUOTES['f9']}\"), "
                   f"as the paper does for {_names(fc_relu)} (\"{paper.PASSAGES['architecture'].text}\"). Read "
                   f"literally that sentence covers {last} too, but {last} feeds the softmax and has no ReLU in "
                   f"Krizhevsky's code ({code.FC_NO_RELU})", "correct" if holds else "wrong",
                   Source(article.QUOTES["relu_convs"], ARCH, code.FC_NO_RELU))


def fc_hidden() -> Finding:
    """A fully connected layer is one weight matrix and bias, not a network with hidden layers."""
    book = ledger(PAPER)
    fcs = [r for r in book.rows if r.kind == "fc"]
    shapes = "; ".join(f"{r.name}: one {r.in_shape[0]:,}×{r.out_shape[0]:,} weight matrix + {r.bias_params:,} biases"
                       for r in fcs)
    hidden = [r.name for r in fcs[:-1]]
    return Finding("fc-hidden", "a fully connected layer is a network with hidden layers",
                   article.QUOTES["fc_hidden"],
                   f"a fully connected layer is one layer: {shapes}. Stacked, the {len(fcs)} of them form a "
                   f"{len(fcs)}-layer perceptron whose hidden layers are {_names(hidden)}; the article's own Figure 4 "
                   "is such a two-layer stack, not one layer.",
                   "wrong" if all(r.weight_params == r.in_shape[0] * r.out_shape[0] for r in fcs) else "correct",
                   Source(article.QUOTES["fc_hidden"], ARCH))


def competition() -> Finding:
    """It was evaluated on ILSVRC-2010 data but entered, and won, ILSVRC-2012, with an ensemble."""
    said = article.COMPETITION
    ok = said.endswith(paper.COMPETITION_WON[-4:])
    return Finding("ilsvrc", f"designed for the {said} competition", article.QUOTES["overview"],
                   f"the paper's main results are on the {paper.COMPETITION_DATA} test set (one CNN: top-1 "
                   f"{paper.TOP1_2010} %, top-5 {paper.TOP5_2010} %, state of the art there; the abstract itself "
                   f"speaks of \"the ImageNet LSVRC-2010 contest\"), but the competition AlexNet took part in, and "
                   f"won, was {paper.COMPETITION_WON}: top-5 {paper.TOP5_2012} % on its test set against "
                   f"{paper.TOP5_2012_RUNNER_UP} % for the second-best entry. That {paper.TOP5_2012} % is the "
                   f"average of {paper.ENSEMBLE_CNNS} CNNs, {paper.ENSEMBLE_PRETRAINED} of them pre-trained on the "
                   "Fall 2011 release of ImageNet (15M images, 22K categories; the paper describes one such CNN, with "
                   "an extra sixth convolutional layer); the paper's own network, one CNN, scored "
                   f"{paper.TOP5_2012_ONE_CNN} % top-5 on the 2012 validation set.", "correct" if ok else "misleading",
                   Source(article.QUOTES["overview"],
                          f"{paper.cite('ilsvrc2012')}; {paper.cite('ensemble')}; {paper.cite('data2010')}"), "paper")


def multi_gpu() -> Finding:
    """'It also worked with multiple GPUs': two, and the split was written for two."""
    towers = max(lay.groups for lay in PAPER.layers)
    grouped = [lay.name for lay in PAPER.layers if lay.groups > 1]
    hidden = [lay.name for lay in PAPER.layers if lay.kind == "fc"][:-1]
    return Finding("multi-gpu", "\"it also worked with multiple GPUs\"", article.QUOTES["multi_gpu"],
                   f"it ran on {paper.GPUS} GTX 580 GPUs of 3 GB each, and the network is cut for exactly "
                   f"{towers}: half of every convolutional layer's kernels and of the neurons of "
                   f"{' and '.join(hidden)} on each GPU, {', '.join(grouped)} reading only their own "
                   f"GPU's half of the maps (groups={towers} in the paper variant). \"Multiple\" is true; the "
                   "number is two.", "correct" if towers == paper.GPUS else "wrong",
                   Source(article.QUOTES["multi_gpu"], paper.cite("two_gpus"), code.CROSSING), "paper")


def c1_padding() -> Finding:
    """The paper never states C1's padding; the article's 2 reproduces its 55 and its parameters."""
    c1, tv = PAPER.layer("C1"), TORCHVISION.layer("C1")
    said = article.layer("C1")
    size = paper.INPUT_SIDE
    unpadded = ceil_out(size, c1.kernel, c1.stride, c1.padding)
    padded = conv_out(size, said.kernel or c1.kernel, said.stride or c1.stride, said.padding or 0)[0]
    ours, theirs = ledger(PAPER).row("C1").params, ledger(ARTICLE).row("C1").params
    return Finding("c1-padding", f"C1 \"a padding of {said.padding}\"", article.QUOTES["c1"],
                   f"the paper never states C1's padding (\"{paper.PASSAGES['c1'].text}\"). The article's padding "
                   f"{said.padding} (torchvision's too: its C1 has padding {tv.padding}) reaches {padded} from the "
                   f"{size} input with PyTorch's floor rule, the paper's {said.out_hwc[0]}×{said.out_hwc[1]}, and "
                   f"padding adds no parameters ({theirs:,} either way); the size-formula finding explains both "
                   f"rounding rules. Krizhevsky's released config uses padding {c1.padding} with a ceiling rule: "
                   f"1 + ⌈({size} − {c1.kernel})/{c1.stride}⌉ = {unpadded}.",
                   "correct" if padded == said.out_hwc[0] and ours == theirs else "wrong",
                   Source(article.QUOTES["c1"], paper.cite("c1"), f"{code.CONV1_2GPU}; {code.CONV_CEIL}",
                          "torchvision.models.alexnet: features[0] = Conv2d(3, 64, kernel_size=11, stride=4, "
                          "padding=2)"))


def training_data() -> Finding:
    """Trained on ILSVRC-2010: true of the paper's main results; the winning entry used 2012's data and more."""
    return Finding("training-data", f"trained on the ImageNet {article.COMPETITION} dataset",
                   article.QUOTES["training"],
                   f"true of the network whose results the paper reports first: \"{paper.PASSAGES['data2010'].text}\" "
                   f"Left out: the {paper.COMPETITION_WON} entry was trained on the {paper.COMPETITION_WON} training "
                   f"set, and {paper.ENSEMBLE_PRETRAINED} of its {paper.ENSEMBLE_CNNS} CNNs were first trained on the "
                   "whole Fall 2011 release of ImageNet (15M images, 22K categories) and then fine-tuned.", "left out",
                   Source(article.QUOTES["training"], f"{paper.cite('data2010')}; {paper.cite('ensemble')}"), "paper")


def training() -> list[Finding]:
    """Batch, momentum, weight decay and initialisation, each against Sec. 5."""
    q = article.QUOTES
    pairs = (("batch", "batch size", article.BATCH_SIZE, paper.BATCH_SIZE, q["training"]),
             ("momentum", "momentum", article.MOMENTUM, paper.MOMENTUM, q["training"]),
             ("weight-decay", "weight decay", article.WEIGHT_DECAY, paper.WEIGHT_DECAY, q["training"]),
             ("init-std", "initial weights' standard deviation", article.INIT_STD, paper.INIT_STD, q["init"]))
    out = []
    for key, what, said, stated, quote in pairs:
        source = paper.cite("init" if key == "init-std" else "sgd")
        out.append(Finding(f"training-{key}", f"training: {what} {said:g}", quote,
                           f"the paper, {source}: {what} {stated:g}"
                           + (f" (zero mean: {paper.INIT_MEAN:g}, as the article says)" if key == "init-std" else ""),
                           "correct" if math.isclose(said, stated) else "wrong", Source(quote, source), "paper"))
    return out


def training_left_out() -> Finding:
    """The schedule, its length and the bias constants that the training paragraph leaves out."""
    ones = [lay.name for lay in PAPER.layers if lay.has_params and lay.bias_init == 1.0]
    zeros = [lay.name for lay in PAPER.layers if lay.has_params and lay.bias_init == 0.0]
    final_lr = paper.LEARNING_RATE / paper.LR_DIVISOR ** paper.LR_DROPS
    steps = paper.EPOCHS * paper.TRAIN_IMAGES // paper.BATCH_SIZE
    days = "–".join(map(str, paper.TRAINING_DAYS))
    return Finding("training-left-out", "training schedule and bias constants", article.QUOTES["training"],
                   f"left out: the learning rate starts at {paper.LEARNING_RATE:g} and is divided by "
                   f"{paper.LR_DIVISOR} {_times(paper.LR_DROPS)} when validation error stops improving (ending at "
                   f"{final_lr:.5f}); about {paper.EPOCHS} passes over {paper.TRAIN_IMAGES:,} images, i.e. about "
                   f"{steps:,} steps of {paper.BATCH_SIZE}, took {days} days on two GTX 580 3GB GPUs; biases start "
                   f"at 1 in {_names(ones)} (the paper's second, fourth and fifth convolutions and its hidden fully "
                   f"connected layers) and at 0 in {_names(zeros)}.", "left out",
                   Source(article.QUOTES["training"], paper.cite("schedule")), "paper")


@lru_cache(maxsize=1)
def pool_relu_check() -> tuple[int, int, int, float]:
    """Run a narrowed copy of the article network and compare each pool's output with ReLU of it.

    The biases are set to zero on purpose: the paper's constant-1 biases would leave hardly any
    negative value for the ReLU before the pool to clip, and the check would show nothing.
    """
    import torch
    from torch import nn

    from alexnet_viz.core.model import build_model

    narrow = {"C1": 8, "C3": 16, "C5": 16, "C6": 16, "C7": 16, "F9": 32, "F10": 32, "F11": 10}
    spec = ARTICLE
    for name, width in narrow.items():
        spec = spec.with_layer(name, out=width)
    model = build_model(spec, seed=0)
    with torch.no_grad():
        for name in spec.names:
            module = model.layer(name)
            if isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
                module.bias.zero_()
    x = torch.randn(4, 3, spec.input_size, spec.input_size, generator=torch.Generator().manual_seed(0))
    changed, checked, zeros, lowest = 0, 0, 0, math.inf
    paths = {name: model.part_paths(name)["pool"] for name in ("S4", "S8")}
    with torch.no_grad():
        for child, module in model.features.named_children():
            x = module(x)
            if f"features.{child}" in paths.values():
                changed += int((torch.relu(x) != x).sum())
                checked += x.numel()
                zeros += int((x == 0).sum())
                lowest = min(lowest, float(x.min()))
    return changed, checked, zeros, lowest


def pool_relu() -> Finding:
    changed, checked, zeros, lowest = pool_relu_check()
    pools = " and ".join(a.name for a in article.LAYERS if a.relu_after and ARTICLE.layer(a.name).kind == "maxpool")
    return Finding("pool-relu", f"ReLU after max pooling ({pools})",
                   f"{pools} pass their output \"through a ReLU activation function\"; summary: "
                   f"\"{article.QUOTES['pool_relu']}\"",
                   "max pooling of ReLU outputs (all ≥ 0) is ≥ 0, so a ReLU after it is the identity. Computed on a "
                   "seeded, narrowed copy of the article network with every bias set to 0 (so that the ReLUs before "
                   f"the pools do clip values to 0): {changed} of {checked:,} pooled values changed by ReLU "
                   f"({zeros:,} were already 0, the smallest is {lowest:g}). S2 gets no such ReLU in the text, which "
                   f"shows the inconsistency; in the paper the ReLU comes before each {KIND_NAMES['maxpool']}.",
                   "misleading" if changed == 0 else "correct", Source(article.QUOTES["pool_relu"], ARCH))

