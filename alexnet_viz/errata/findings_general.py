"""The article's general sentences about CNNs (its basics section), its closing pointers and its reference.

None of these is about AlexNet's numbers, so the paper rarely speaks to them: each is checked by a
small computation where one can decide it (stride, the dot product, pooling and shifts) and
otherwise against the publication or library it concerns, named in the finding's source.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from alexnet_viz.core.bookkeeping import conv_out, ledger
from alexnet_viz.core.spec import ARTICLE, KIND_NAMES, PAPER, TORCHVISION
from alexnet_viz.errata import article, paper
from alexnet_viz.errata.verdicts import Finding, Source
from alexnet_viz.ideas.operations import pool, random_values

Q = article.QUOTES
NEOCOGNITRON = ("Fukushima (1980), Neocognitron: a self-organizing neural network model for a mechanism of pattern "
                "recognition unaffected by shift in position, Biological Cybernetics 36; Hubel & Wiesel (1962), "
                "Receptive fields, binocular interaction and functional architecture in the cat's visual cortex, "
                "J. Physiology 160; Hubel & Wiesel (1968), Receptive fields and functional architecture of monkey "
                "striate cortex, J. Physiology 195; LeCun et al. (1989), Backpropagation applied to handwritten zip "
                "code recognition, Neural Computation 1")
LENET5 = ("LeCun, Bottou, Bengio & Haffner (1998), Gradient-based learning applied to document recognition, "
          "Proc. IEEE 86, Sec. II-B (LeNet-5)")
MLP = "Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors, Nature 323"
KERAS = ("Keras Applications (keras.io/api/applications, tf.keras.applications): VGG, ResNet, Inception, "
         "MobileNet, DenseNet, EfficientNet and others; no AlexNet")
TORCHVISION_SRC = "torchvision.models.alexnet with AlexNet_Weights.IMAGENET1K_V1"


def _hwc(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def biology() -> Finding:
    """Proposed as a model of the (cat and monkey) visual cortex; LeCun's trained CNNs are engineering."""
    return Finding("biology", "CNNs were designed to mimic human vision", Q["biology"],
                   "overstated. The ancestor, Fukushima's neocognitron (1980), was proposed as a model of the visual "
                   "cortex: \"a neural network model for a mechanism of visual pattern recognition\" whose structure "
                   "is \"similar to the hierarchy model of the visual nervous system proposed by Hubel and Wiesel\" "
                   "(its abstract). That hierarchy (local receptive fields, simple cells feeding complex cells that "
                   "tolerate small shifts) was found in the cat's and the monkey's cortex, not the human's. LeCun's "
                   "convolutional networks (1989), AlexNet's direct line, kept the layout and learned the kernels by "
                   "backpropagation: engineering, not a model of the cortex. The AlexNet paper motivates its choices "
                   "by speed and error rates; its one biological remark is that response normalisation is \"a form "
                   "of lateral inhibition inspired by the type found in real neurons\" (Sec. 3.3).", "misleading",
                   Source(Q["biology"], "Sec. 3.3", other=NEOCOGNITRON), "literature")


def layer_types() -> Finding:
    """Three layer kinds: true of CNNs (and of AlexNet), not of 'traditional neural networks'."""
    kinds = Counter(lay.kind for lay in PAPER.layers)
    listed = ", ".join(f"{n} {KIND_NAMES[k]}" for k, n in kinds.items())
    return Finding("layer-types", "three types of layers", Q["layer_types"],
                   f"true of CNNs: LeNet-5 has these three kinds, and so does the paper's network ({listed}; its "
                   "response normalisation and dropout hold no weights and sit inside those layers here). Not of "
                   "\"traditional neural networks\": a multilayer perceptron has only fully connected layers; "
                   "convolution and subsampling are what make a network convolutional.",
                   "misleading" if set(kinds) == {"conv", "maxpool", "fc"} else "wrong",
                   Source(Q["layer_types"], "Sec. 3.5", other=LENET5))


def stride() -> Finding:
    """A larger stride: fewer placements and a smaller output, computed for C1."""
    c1 = ARTICLE.layer("C1")
    size = ARTICLE.input_size
    sides = {s: conv_out(size, c1.kernel, s, c1.padding)[0] for s in (1, 2, 4, 8)}
    shrinks = all(a > b for a, b in zip(list(sides.values()), list(sides.values())[1:]))
    return Finding("stride", "a larger stride: fewer convolutions, a smaller output", Q["stride"],
                   f"C1's {c1.kernel}×{c1.kernel} kernel over the {size}×{size} input with padding {c1.padding}: "
                   + "; ".join(f"stride {s} → {n}×{n} output, {n * n:,} placements" for s, n in sides.items())
                   + ". Each doubling of the stride roughly quarters the placements.",
                   "correct" if shrinks else "wrong", Source(Q["stride"]))


def dot_product() -> Finding:
    """One placement: every input value times its weight, all summed, plus the bias (checked against torch)."""
    import torch
    import torch.nn.functional as F

    f2 = article.FIGURE2
    x = random_values((f2.input_hwc[2], *f2.input_hwc[:2]), seed=0)
    w = random_values((f2.kernel_hwc[2], *f2.kernel_hwc[:2]), seed=1)
    bias = 0.5
    k = w.shape[1]
    products = x[:, :k, :k] * w
    by_hand = float(products.sum()) + bias
    with torch.no_grad():
        ref = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w)[None], torch.tensor([bias], dtype=torch.float64))
    forward = float(ref[0, 0, 0, 0])
    return Finding("dot-product", "\"a multiplication operation\" per placement", Q["multiply"],
                   f"not one multiplication: at each placement every input value under the kernel is multiplied by "
                   f"its weight and the products are summed, a dot product. On a seeded example of Figure 2's shape "
                   f"({_hwc(f2.input_hwc)} input, {_hwc(f2.kernel_hwc)} kernel, bias {bias:g}) that is "
                   f"{products.size} products ({w.shape[0]} channels × {k} × {k}) added up, plus the bias: "
                   f"{by_hand:g} by hand, {forward:g} from PyTorch's conv2d at the same place. The channels are "
                   "summed too, which is why one kernel gives one map (see the Figure 2 finding).",
                   "misleading" if abs(by_hand - forward) < 1e-9 else "wrong", Source(Q["multiply"]))


def position() -> Finding:
    """Pooling makes a map tolerate small shifts; it does not remove where things are."""
    x = np.abs(np.random.default_rng(0).normal(size=(8, 27, 27)))  # positive, all distinct
    base, by1, by2 = x[:, :25, 0:25], x[:, :25, 1:26], x[:, :25, 2:27]  # square views, shifted sideways
    p0, p1, p2 = (pool(m, "max", 3, 2) for m in (base, by1, by2))
    kept, stay = float((p0 == p1).mean()), float((base == by1).mean())
    moved = bool((p2[:, :, :-1] == p0[:, :, 1:]).all())
    s8 = ledger(ARTICLE).row("S8")
    return Finding("position", "pooling removes \"position reliance\"", Q["position"],
                   "it reduces it, for shifts smaller than the window. A seeded 25×25 map (8 channels of positive "
                   f"values) moved one pixel sideways: {stay:.0%} of its values stay in place, but {kept:.0%} of its "
                   "3×3 stride-2 max-pooled outputs are unchanged. Moved two pixels (the stride), the pooled map "
                   f"{'moves by exactly one cell' if moved else 'changes'}: position is kept, at a coarser grain. "
                   f"AlexNet's classifier still sees where things are: F9 weights each of S8's "
                   f"{s8.out_shape[1]}×{s8.out_shape[2]} positions separately.",
                   "misleading" if moved and stay < kept < 1 else "correct", Source(Q["position"], "Sec. 3.4"))


def pool_types() -> Finding:
    """Average and max pooling, the two common kinds, both computed on seeded values of Figure 3's shape."""
    f3 = article.FIGURE3
    x = random_values((f3.input_hwc[2], *f3.input_hwc[:2]), seed=2)
    mx, av = pool(x, "max", f3.kernel_hwc[0], f3.stride), pool(x, "avg", f3.kernel_hwc[0], f3.stride)
    maxed = [lay.name for lay in TORCHVISION.layers if lay.kind == "maxpool"]
    averaged = [lay.name for lay in TORCHVISION.layers if lay.adaptive is not None]
    return Finding("pool-types", "two conventional types: average and max pooling", Q["pool_types"],
                   f"the two common kinds: on a seeded example of Figure 3's shape ({_hwc(f3.input_hwc)} input, "
                   f"{f3.kernel_hwc[0]}×{f3.kernel_hwc[1]} window, stride {f3.stride}) the first window gives max "
                   f"{mx[0, 0, 0]:g} and average {av[0, 0, 0]:g}. AlexNet pools by the maximum (Sec. 3.4); LeNet-5 "
                   "subsampled by a scaled sum, an average with a trainable weight; torchvision's AlexNet uses both "
                   f"(max pooling in "
                   f"{', '.join(maxed)}, an adaptive average pool after {', '.join(averaged)}). Other kinds exist "
                   "(L2 pooling, stochastic pooling) but are rarer.",
                   "correct" if mx[0, 0, 0] >= av[0, 0, 0] else "wrong", Source(Q["pool_types"], "Sec. 3.4",
                                                                               other=LENET5))


def pool_params() -> Finding:
    """LeNet-5's subsampling layers had a trainable coefficient and bias; AlexNet's pools have none."""
    pools = [r for r in ledger(PAPER).rows if r.kind == "maxpool"]
    return Finding("pool-params", "some pooling layers have trainable parameters", Q["pool_params"],
                   "true: in LeNet-5 each subsampling map adds its four inputs, multiplies the sum by a trainable "
                   "coefficient and adds a trainable bias (2 parameters per map). AlexNet's max pooling has none: "
                   + ", ".join(f"{r.name} {r.params}" for r in pools) + " parameters in the ledger.",
                   "correct" if all(r.params == 0 for r in pools) else "wrong",
                   Source(Q["pool_params"], "Sec. 3.4", other=LENET5), "literature")


def fc_ununique() -> Finding:
    """Fully connected layers are the layers of any multilayer perceptron."""
    fcs = [r for r in ledger(PAPER).rows if r.kind == "fc"]
    plain = all(r.weight_params == r.in_shape[0] * r.out_shape[0] for r in fcs)
    return Finding("fc-ununique", "fully connected layers are not unique to CNNs", Q["fc_ununique"],
                   "true (\"ununique\": not unique): a fully connected layer is the layer of an ordinary multilayer "
                   "perceptron, trained by backpropagation since the 1980s. AlexNet's "
                   + ", ".join(r.name for r in fcs) + " are exactly that: each is one weight matrix (inputs × outputs "
                   "weights) and a bias per output.", "correct" if plain else "wrong",
                   Source(Q["fc_ununique"], "Sec. 3.5", other=MLP), "literature")


def prebuilt() -> Finding:
    """torchvision's prebuilt AlexNet is not the article's network; Keras Applications has none."""
    tv, art = ledger(TORCHVISION), ledger(ARTICLE)
    widths = "/".join(str(lay.out) for lay in TORCHVISION.layers if lay.kind == "conv")
    ours = "/".join(str(lay.out) for lay in ARTICLE.layers if lay.kind == "conv")
    return Finding("prebuilt", "prebuilt AlexNet models in PyTorch or Keras", Q["prebuilt"],
                   f"half true. PyTorch's torchvision has one with ImageNet weights, but it is a narrower network "
                   f"(convolutions {widths} wide against the article's {ours}, no LRN, an adaptive average pool; "
                   f"{tv.total_params:,} parameters against {art.total_params:,}), based on Krizhevsky's 2014 "
                   "\"One weird trick\" paper. Keras Applications has no AlexNet at all; in Keras one builds it "
                   "from layers.", "misleading", Source(Q["prebuilt"], other=f"{TORCHVISION_SRC}; {KERAS}"),
                   "literature")


def reference() -> Finding:
    """Its one reference garbles the second author's name."""
    authors = ", ".join(article.REFERENCE_AUTHORS)
    return Finding("reference", "its reference [1]", Q["reference"],
                   f"title, venue and year are right ({paper.TITLE}, Advances in Neural Information Processing "
                   f"Systems 25, {paper.VENUE}), but the authors are printed as {authors}: the second author is "
                   "Ilya Sutskever, so \"S. Ilya\" swaps his given name and surname (\"I. Sutskever\"). It is the "
                   "article's only reference: its claims about CNNs in general (biology, pooling, LeNet-style "
                   "layers) cite nothing.", "wrong" if "S. Ilya" in article.REFERENCE_AUTHORS else "correct",
                   Source(Q["reference"], "title page", other=f"{paper.AUTHORS}, {paper.TITLE}, {paper.VENUE}"),
                   "paper")


def basics() -> list[Finding]:
    """The basics section's general claims, in reading order."""
    return [biology(), layer_types(), stride(), dot_product()]


def subsampling() -> list[Finding]:
    """The subsampling paragraph's general claims, in reading order."""
    return [position(), pool_types(), pool_params()]
