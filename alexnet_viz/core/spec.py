"""The three AlexNets as data: the single source of truth for model, ledger, diagrams and errata.

A spec is a frozen, hashable value, so pages can cache on it and edits make new specs.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from alexnet_viz.errors import SpecError

LayerKind = Literal["conv", "maxpool", "avgpool", "fc"]
LAYER_KINDS: tuple[str, ...] = ("conv", "maxpool", "avgpool", "fc")
KIND_NAMES: dict[str, str] = {"conv": "convolution", "maxpool": "max pooling", "avgpool": "average pooling",
                             "fc": "fully connected"}  # how the pages and diagrams name each kind


@dataclass(frozen=True)
class LRN:
    """Local response normalisation, b_i = a_i / (k + c·Σ_j a_j²)^β over n neighbouring channels.

    The paper prints c = α = 1e-4 (Sec. 3.3). Krizhevsky's released code (cuda-convnet2, 2014;
    also the original cuda-convnet) divides its `scale` by n before use (cuda-convnet2 layer.py:1331,
    NormLayerParser), and its ImageNet config sets scale=0.0001, size 5, minDiv=2: c = α/n = 2e-5.
    That config departs from the paper in places (see PAPER.description) and the 2012 one was never
    published; `rule="code"`, the released code's reading, is the default; `rule="printed"` is the
    formula as printed.
    PyTorch's LocalResponseNorm divides its own `alpha` by n too, so `torch_alpha` = c·n.
    `groups` > 1 keeps each window inside one GPU's block of channels, as the two-GPU net did
    (rnorm1a/rnorm1b normalise 48 maps each in cuda-convnet2's layers-imagenet-2gpu-model.cfg).
    """

    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0
    rule: Literal["code", "printed"] = "code"
    groups: int = 1

    @property
    def coefficient(self) -> float:
        """c, what multiplies the sum of squares: α/n as the code computed it, α as the paper printed it."""
        return self.alpha / self.size if self.rule == "code" else self.alpha

    @property
    def torch_alpha(self) -> float:
        """The `alpha` that makes nn.LocalResponseNorm compute this rule (PyTorch divides alpha by n)."""
        return self.coefficient * self.size


@dataclass(frozen=True)
class LayerSpec:
    """One numbered AlexNet layer; its ReLU, LRN, dropout or adaptive pool belong to it."""

    name: str
    kind: LayerKind
    out: int = 0  # output channels (conv) or features (fc); ignored by pools
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    relu: bool = False
    lrn: LRN | None = None
    dropout: float = 0.0  # probability; the layer's own dropout
    adaptive: int | None = None  # pool only: followed by AdaptiveAvgPool2d((adaptive, adaptive))
    bias_init: float = 0.0  # used by the paper's initialisation

    @property
    def is_spatial(self) -> bool:
        """Convs and pools keep an (H, W) map; fully connected layers flatten it."""
        return self.kind != "fc"

    @property
    def has_params(self) -> bool:
        """Only convs and fc layers hold weights: what parameter counts and weight loading walk."""
        return self.kind in ("conv", "fc")


@dataclass(frozen=True)
class Spec:
    """A whole network: input geometry, layers in order, how to initialise and preprocess."""

    name: str
    title: str
    layers: tuple[LayerSpec, ...]
    input_size: int = 224
    in_channels: int = 3
    init: Literal["paper", "torchvision"] = "paper"
    dropout_first: bool = False  # torchvision applies dropout before its Linear, the paper after
    description: str = ""
    source: str = ""

    def layer(self, name: str) -> LayerSpec:
        """The layer called `name` (KeyError otherwise), for pages that start from a layer picker."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Layer names in network order, C1 .. F11 for the presets."""
        return tuple(layer.name for layer in self.layers)

    @property
    def init_label(self) -> str:
        """Whose initialisation random weights get, in words (sidebar and provenance)."""
        return ("the paper's initialisation" if self.init == "paper"
                else "torchvision's initialisation: PyTorch's defaults")

    def with_layer(self, name: str, **changes: Any) -> Spec:
        """A copy with one layer's fields changed (the architecture lab's edit)."""
        layers = tuple(replace(l, **changes) if l.name == name else l for l in self.layers)
        return replace(self, layers=layers)

    def with_input_size(self, size: int) -> Spec:
        """A copy for another input size (the layers stay; the ledger rechecks that they fit)."""
        return replace(self, input_size=size)


NAMES: tuple[str, ...] = ("C1", "S2", "C3", "S4", "C5", "C6", "C7", "S8", "F9", "F10", "F11")


def _alexnet(channels: tuple[int, int, int, int, int], *, c1_padding: int, groups: tuple[int, int, int, int, int],
             lrn: LRN | None, paper_bias: bool, adaptive: int | None) -> tuple[LayerSpec, ...]:
    c1, c3, c5, c6, c7 = channels
    one = 1.0 if paper_bias else 0.0
    return (
        LayerSpec("C1", "conv", c1, 11, 4, c1_padding, groups[0], relu=True, lrn=lrn),
        LayerSpec("S2", "maxpool", kernel=3, stride=2),
        LayerSpec("C3", "conv", c3, 5, 1, 2, groups[1], relu=True, lrn=lrn, bias_init=one),
        LayerSpec("S4", "maxpool", kernel=3, stride=2),
        LayerSpec("C5", "conv", c5, 3, 1, 1, groups[2], relu=True),
        LayerSpec("C6", "conv", c6, 3, 1, 1, groups[3], relu=True, bias_init=one),
        LayerSpec("C7", "conv", c7, 3, 1, 1, groups[4], relu=True, bias_init=one),
        LayerSpec("S8", "maxpool", kernel=3, stride=2, adaptive=adaptive),
        LayerSpec("F9", "fc", 4096, relu=True, dropout=0.5, bias_init=one),
        LayerSpec("F10", "fc", 4096, relu=True, dropout=0.5, bias_init=one),
        LayerSpec("F11", "fc", 1000),
    )


ARTICLE = Spec(
    name="article",
    title="Article (one tower)",
    layers=_alexnet((96, 256, 384, 384, 256), c1_padding=2, groups=(1, 1, 1, 1, 1), lrn=None,
                    paper_bias=True, adaptive=None),
    input_size=224,
    init="paper",
    description="The network as the Towards Data Science walkthrough tabulates it: one tower, "
                "no grouping, no LRN, 224x224x3 input with padding 2 in C1.",
    source="Azel Daniel, 'Understanding AlexNet: A Detailed Walkthrough' (2020)",
)

PAPER = Spec(
    name="paper",
    title="Paper (two GPUs, 2012)",
    layers=_alexnet((96, 256, 384, 384, 256), c1_padding=0, groups=(1, 2, 1, 2, 2), lrn=LRN(groups=2),
                    paper_bias=True, adaptive=None),
    input_size=227,
    init="paper",
    description="Krizhevsky, Sutskever and Hinton's network split over two GPUs: C3, C6 and C7 "
                "see only their own GPU's half of the channels (groups=2), and LRN follows the ReLU "
                "of C1 and C3, each GPU normalising only its own maps, with alpha/n as Krizhevsky's "
                "code computed it (the paper prints alpha without the 1/n). The paper's 224x224 input "
                "gives C1 55x55 without padding under cuda-convnet's ceiling rule, "
                "1 + ceil((224 - 11)/4); PyTorch rounds down, which gives 55 for inputs 227 to 230, so "
                "this variant takes 227x227. Where cuda-convnet2's later two-GPU config "
                "(layers-imagenet-2gpu-model.cfg) departs from the paper (C1 normalised before its "
                "ReLU, an extra spatial normalisation after C3, N(0, 0.03) weights in C5-C7), this "
                "variant follows the paper; inputs are normalised with ImageNet's per-channel mean "
                "and standard deviation like every variant here, where the paper only subtracted "
                "the mean image (Sec. 2).",
    source="Krizhevsky, Sutskever, Hinton, 'ImageNet Classification with Deep Convolutional "
           "Neural Networks', NIPS 2012",
)

TORCHVISION = Spec(
    name="torchvision",
    title="torchvision (based on One weird trick)",
    layers=_alexnet((64, 192, 384, 256, 256), c1_padding=2, groups=(1, 1, 1, 1, 1), lrn=None,
                    paper_bias=False, adaptive=6),
    input_size=224,
    init="torchvision",
    dropout_first=True,
    description="torchvision.models.alexnet: a narrower single-GPU network based on 'One weird "
                "trick for parallelizing convolutional neural networks', but not the same: its "
                "64/192/384/256/256 kernels (no LRN) follow cuda-convnet2's one-GPU configuration "
                "(layers-imagenet-1gpu.cfg, which does normalise), where that paper's footnote gives "
                "64/192/384/384/256 (pytorch/vision#463); an adaptive average pool sits before the "
                "classifier. Its ImageNet weights load unchanged.",
    source="torchvision.models.alexnet; based on Krizhevsky, arXiv:1404.5997 (2014)",
)

VARIANTS: dict[str, Spec] = {s.name: s for s in (ARTICLE, PAPER, TORCHVISION)}


def get_spec(variant: str | Spec) -> Spec:
    """Resolve a variant name (or pass a spec through) with a message listing the choices."""
    if isinstance(variant, Spec):
        return variant
    try:
        return VARIANTS[variant]
    except KeyError:
        raise SpecError(f"Unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}.") from None


__all__ = ["LRN", "LayerSpec", "Spec", "ARTICLE", "PAPER", "TORCHVISION", "VARIANTS", "NAMES",
           "LAYER_KINDS", "KIND_NAMES", "get_spec"]
