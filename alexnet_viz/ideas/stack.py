"""What runs inside each numbered layer, and on which GPU, read from the spec (no torch needed).

The architecture pages import no torch, so the stack is derived from the spec with the same rules
model.py builds modules by; tests/test_ideas.py holds the two equal for every variant and layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import Spec


@dataclass(frozen=True)
class Stage:
    """One module of a layer, in running order: its role (as AlexNet.part_paths names it) and words."""

    role: str  # conv, linear, pool, relu, lrn, dropout, adaptive
    text: str


def layer_stack(spec: Spec, name: str) -> tuple[Stage, ...]:
    """The modules of layer `name` in the order they run, with their settings."""
    book = ledger(spec)
    layer, row = spec.layer(name), book.row(name)
    stages: list[Stage] = []
    if layer.kind == "conv":
        grouped = f", groups {layer.groups} (each half of the kernels sees half the input)" if layer.groups > 1 else ""
        stages.append(Stage("conv", f"Conv2d {row.in_shape[0]}→{layer.out}, {layer.kernel}×{layer.kernel}, stride "
                                    f"{layer.stride}, padding {layer.padding}{grouped}"))
    elif layer.kind == "fc":
        stages.append(Stage("linear", f"Linear {row.in_shape[0]:,}→{layer.out:,}"))
    else:
        what = "MaxPool2d" if layer.kind == "maxpool" else "AvgPool2d"
        stages.append(Stage("pool", f"{what} {layer.kernel}×{layer.kernel}, stride {layer.stride}"
                                    + (f", padding {layer.padding}" if layer.padding else "")
                                    + (" (overlapping: stride < window)" if layer.stride < layer.kernel else "")))
    if layer.relu:
        stages.append(Stage("relu", "ReLU: max(x, 0)"))
    if layer.lrn is not None:
        lrn = layer.lrn
        how = "α/n, as Krizhevsky's code computed it" if lrn.rule == "code" else "α, as Sec. 3.3 prints it"
        per_gpu = f", within each GPU's {layer.out // lrn.groups} maps" if lrn.groups > 1 else ""
        stages.append(Stage("lrn", f"LocalResponseNorm n = {lrn.size}, α = {lrn.alpha:g} applied as {how} (torch "
                                   f"alpha {lrn.torch_alpha:g}), β = {lrn.beta:g}, k = {lrn.k:g}{per_gpu}"))
    if layer.dropout:
        drop = Stage("dropout", f"Dropout p = {layer.dropout:g} (training only)")
        stages.insert(0, drop) if spec.dropout_first else stages.append(drop)
    if layer.adaptive is not None:
        stages.append(Stage("adaptive", f"AdaptiveAvgPool2d → {layer.adaptive}×{layer.adaptive}"))
    return tuple(stages)


Link = Literal["image", "own", "across", "one"]


@dataclass(frozen=True)
class TowerRow:
    """One layer of a two-GPU network: how its outputs are split and where its inputs come from."""

    name: str
    paper_name: str  # the paper's own numbering: conv1..conv5, fc6..fc8 (pools have none)
    link: Link  # image: both GPUs read the whole input; own: its GPU's half only; across: both halves
    split: str  # "48 + 48 kernels", "2,048 + 2,048 neurons", ...
    text: str


def towers(spec: Spec) -> int:
    """How many GPUs the spec's grouped convolutions stand for (1: a single-tower network)."""
    return max(layer.groups for layer in spec.layers)


def tower_plan(spec: Spec) -> tuple[TowerRow, ...]:
    """Per layer of a two-tower spec: which layers talk across GPUs (groups = 1 after the first) and which
    stay on their own (grouped convs, and pools, which work channel by channel)."""
    n = towers(spec)
    if n == 1:
        return ()
    rows: list[TowerRow] = []
    weighted = 0
    book = ledger(spec)
    for i, layer in enumerate(spec.layers):
        out = book.row(layer.name).out_shape[0]
        unit = "neurons" if layer.kind == "fc" else "kernels" if layer.kind == "conv" else "maps"
        last = i == len(spec.layers) - 1
        split = f"{out:,} {unit} (one block)" if last else " + ".join([f"{out // n:,}"] * n) + f" {unit}"
        paper_name = ""
        if layer.has_params:
            weighted += 1
            paper_name = f"{'conv' if layer.kind == 'conv' else 'fc'}{weighted}"
        if i == 0:
            link: Link = "image"
            text = "both GPUs read the whole image"
        elif not layer.has_params:
            link, text = "own", "pools each GPU's own maps, channel by channel: no traffic"
        elif layer.groups == n:
            per = book.row(layer.name).in_shape[0] // n
            link, text = "own", f"each kernel sees only its own GPU's {per} input maps"
        else:
            link = "one" if last else "across"
            text = f"reads all {book.row(layer.name).in_shape[0]:,} inputs of both GPUs: the GPUs exchange data here"
        if layer.lrn is not None and layer.lrn.groups == n:
            text += f"; its LRN normalises each GPU's {out // n} maps on their own"
        rows.append(TowerRow(layer.name, paper_name, link, split, text))
    return tuple(rows)
