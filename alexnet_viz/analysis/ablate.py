"""Ablation: knock out channels of one layer (or a whole GPU tower) and see what the prediction loses.

The chosen channels of the layer's output (after its ReLU, LRN or pooling: what the next layer
reads) are set to zero for one forward pass. The zeroing is a hook on a twin of the model
(alexnet_viz.core.casting.twin), removed in `finally`, so the shared model never carries it, not even
while another session runs it at the same moment.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from alexnet_viz.analysis.probe import categories
from alexnet_viz.core.bookkeeping import ledger, split_groups
from alexnet_viz.core.casting import twin
from alexnet_viz.core.device import model_device
from alexnet_viz.core.model import AlexNet
from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import AlexVizError


@dataclass(frozen=True)
class ClassShift:
    """One class's probability with the channels and without them."""

    index: int
    label: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class Ablation:
    """The top-k before the knock-out (with their probabilities after it), and the top-k after."""

    layer: str
    channels: tuple[int, ...]
    before: tuple[ClassShift, ...]
    after: tuple[ClassShift, ...]

    @property
    def top_changed(self) -> bool:
        """Whether the network's first choice is a different class without these channels."""
        return self.before[0].index != self.after[0].index


def towers(spec: Spec) -> int:
    """How many GPUs the variant's kernels were split over: 2 for the paper's network, else 1."""
    return max(layer.groups for layer in spec.layers)


def tower_channels(spec: Spec, layer: str, tower: int) -> tuple[int, ...]:
    """The channels of `layer` that lived on GPU `tower` (0 or 1) in the paper's two-GPU network."""
    n = towers(spec)
    if n < 2:
        raise AlexVizError(f"The {spec.name} network has one tower; choose the paper variant to knock out a GPU.")
    if not 0 <= tower < n:
        raise AlexVizError(f"Tower {tower} does not exist: choose 0 to {n - 1}.")
    return tuple(split_groups(ledger(spec).row(layer).out_shape[0], n)[tower])


def _checked(model: AlexNet, layer: str, channels: Iterable[int]) -> tuple[int, ...]:
    if layer not in model.layer_names:
        raise AlexVizError(f"Unknown layer {layer!r}: choose one of {', '.join(model.layer_names)}.")
    units = ledger(model.spec).row(layer).out_shape[0]
    chosen = tuple(sorted({int(c) for c in channels}))
    if not chosen:
        raise AlexVizError("Choose at least one channel to knock out.")
    if chosen[0] < 0 or chosen[-1] >= units:
        raise AlexVizError(f"{layer} has channels 0 to {units - 1}; {chosen[-1] if chosen[-1] >= units else chosen[0]}"
                           " does not exist.")
    return chosen


def ablated_logits(model: AlexNet, x: torch.Tensor, layer: str, channels: Iterable[int]) -> torch.Tensor:
    """Logits (N, classes) with `channels` of `layer`'s output zeroed; the model is left as it was."""
    chosen = _checked(model, layer, channels)
    net = twin(model)
    output = net.get_submodule(list(net.part_paths(layer).values())[-1])
    index = torch.tensor(chosen, device=model_device(model))

    def zero(module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        out = out.clone()
        out.index_fill_(1, index, 0.0)
        return out

    handle = output.register_forward_hook(zero)
    try:
        with torch.inference_mode():
            return net(x.to(model_device(model)))
    finally:
        handle.remove()


def ablate(model: AlexNet, x: torch.Tensor, layer: str, channels: Iterable[int], k: int = 5) -> Ablation:
    """The top-k for one image (1, 3, H, W) with and without `channels` of `layer`."""
    if k < 1:
        raise AlexVizError(f"top-k must be at least 1, got {k}.")
    x = x.unsqueeze(0) if x.dim() == 3 else x
    chosen = _checked(model, layer, channels)
    with torch.inference_mode():
        before = torch.softmax(cast(nn.Module, twin(model))(x.to(model_device(model))).float(), dim=1)[0].cpu()
    after = torch.softmax(ablated_logits(model, x, layer, chosen).float(), dim=1)[0].cpu()
    names = categories(before.shape[0])
    k = min(k, before.shape[0])

    def shifts(order: torch.Tensor) -> tuple[ClassShift, ...]:
        return tuple(ClassShift(int(i), names[int(i)], float(before[i]), float(after[i])) for i in order[:k])

    return Ablation(layer=layer, channels=chosen, before=shifts(before.argsort(descending=True, stable=True)),
                    after=shifts(after.argsort(descending=True, stable=True)))


__all__ = ["Ablation", "ClassShift", "ablate", "ablated_logits", "tower_channels", "towers"]
