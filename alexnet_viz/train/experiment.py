"""The paper's Figure 1: a four-layer CNN with ReLUs reaches 25 % training error on CIFAR-10 about
six times faster than the same network with tanh units (Krizhevsky et al. 2012, Sec 3.1).

The paper does not give that network's layers; ours is cuda-convnet-style (three 5x5 convolutions
of 32, 32 and 64 filters, each followed by 3x3 stride-2 max pooling, then a 10-way linear layer;
our choice). As in the paper, no regularisation of any kind and each network gets its own
learning rate: a short sweep picks, for each, the rate with the lowest training error after one
epoch. Training error is measured as the paper's curve is, over each epoch's training batches.
CIFAR-10 is used when torchvision can fetch it; offline, the demo dataset at 32 px, and the result
says so.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alexnet_viz.errors import AlexVizError
from alexnet_viz.train import demo
from alexnet_viz.train.config import TrainConfig, runs_root
from alexnet_viz.train.data import discover
from alexnet_viz.train.runs import RESULT_FILE, atomic_write
from alexnet_viz.train.sources import data_root

PAPER_CLAIM = "six times faster (Krizhevsky et al. 2012, Sec 3.1 and Figure 1)"
TARGET = 0.25


def four_layer(activation: str, classes: int = 10) -> nn.Sequential:
    """Three conv + pool stages and a linear classifier, with ReLU or tanh after each convolution."""
    act: type[nn.Module] = nn.ReLU if activation == "relu" else nn.Tanh
    layers: list[nn.Module] = []
    for c_in, c_out in ((3, 32), (32, 32), (32, 64)):
        layers += [nn.Conv2d(c_in, c_out, 5, padding=2), act(), nn.MaxPool2d(3, 2, padding=1)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, classes))


@dataclass(frozen=True)
class Curve:
    activation: str
    lr: float
    train_error: list[float]  # per epoch
    epochs_to_target: int | None  # first epoch whose training error is <= TARGET


@dataclass(frozen=True)
class Result:
    dataset: str
    note: str
    curves: list[Curve]
    ratio: float | None  # tanh epochs / ReLU epochs to the target
    claim: str = PAPER_CLAIM
    target: float = TARGET
    seconds: float = 0.0


def _demo_tensors(per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(demo.CLASSES)), per_class)
    pictures = np.stack([demo.sample(int(label), rng, 32) for label in labels])
    return torch.from_numpy(pictures).permute(0, 3, 1, 2).float().div(255), torch.from_numpy(labels).long()


def _cifar_tensors(limit: int) -> tuple[torch.Tensor, torch.Tensor]:
    from alexnet_viz.inputs.images import load_image

    split = discover(data_root(TrainConfig(dataset="cifar10")))
    items = split.train[:: max(1, len(split.train) // limit)][:limit]
    x = torch.stack([torch.from_numpy(np.asarray(load_image(f), dtype=np.uint8)) for f, _ in items])
    return x.permute(0, 3, 1, 2).float().div(255), torch.tensor([label for _, label in items])


def _epoch(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, batch: int,
           gen: torch.Generator) -> float:
    order = torch.randperm(len(x), generator=gen)
    wrong = 0
    for i in range(0, len(x) - batch + 1, batch):
        idx = order[i:i + batch]
        logits = model(x[idx])
        loss = F.cross_entropy(logits, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        wrong += int((logits.argmax(1) != y[idx]).sum())
    return wrong / (len(x) // batch * batch)


def _train(activation: str, lr: float, x: torch.Tensor, y: torch.Tensor, epochs: int, batch: int, seed: int,
           stop_at_target: bool) -> list[float]:
    torch.manual_seed(seed)
    model = four_layer(activation, int(y.max()) + 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    errors = []
    for _ in range(epochs):
        errors.append(_epoch(model, opt, x, y, batch, gen))
        if stop_at_target and errors[-1] <= TARGET:
            break
    return errors


def run(*, dataset: str = "cifar10", epochs: int = 30, batch: int = 64, images: int = 5000,
        lrs: tuple[float, ...] = (0.003, 0.01, 0.03), seed: int = 0, out: str | Path | None = None,
        threads: int | None = None) -> Result:
    """Train both networks to the target (or `epochs`), write the result JSON, return it."""
    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    note = ""
    if dataset == "cifar10":
        try:
            x, y = _cifar_tensors(images)
            note = f"CIFAR-10, {len(x)} training images"
        except AlexVizError as exc:
            print(f"note: {exc}", file=sys.stderr)
            dataset, note = "demo", "CIFAR-10 could not be downloaded here (offline); "
    if dataset == "demo":
        x, y = _demo_tensors(max(1, images // len(demo.CLASSES)), seed)
        note += f"the demo dataset at 32 px ({len(x)} images, {len(demo.CLASSES)} classes), not CIFAR-10"
    elif dataset != "cifar10":
        raise AlexVizError(f"Unknown dataset {dataset!r}: choose cifar10 or demo.")
    x = (x - x.mean((0, 2, 3), keepdim=True)) / x.std((0, 2, 3), keepdim=True)
    curves = []
    for activation in ("relu", "tanh"):
        best = min(lrs, key=lambda lr: _train(activation, lr, x, y, 1, batch, seed, False)[-1]) if len(lrs) > 1 \
            else lrs[0]
        errors = _train(activation, best, x, y, epochs, batch, seed, True)
        hit = next((i + 1 for i, e in enumerate(errors) if e <= TARGET), None)
        curves.append(Curve(activation, best, errors, hit))
    relu, tanh = curves
    ratio = tanh.epochs_to_target / relu.epochs_to_target if relu.epochs_to_target and tanh.epochs_to_target \
        else None
    result = Result(dataset, note, curves, ratio, seconds=time.perf_counter() - start)
    path = Path(out) if out else runs_root() / RESULT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(asdict(result), indent=2).encode())
    return result


def describe(result: Result) -> str:
    lines = [f"ReLU vs tanh, four-layer CNN, {result.note}; target {100 * result.target:.0f}% training error"]
    for c in result.curves:
        reached = f"{c.epochs_to_target} epochs" if c.epochs_to_target else f"not within {len(c.train_error)} epochs"
        errors = " ".join(f"{e:.2f}" for e in c.train_error)
        lines.append(f"  {c.activation:4s} lr {c.lr:g}: {reached}; errors {errors}")
    lines.append(f"  tanh/ReLU epochs: {result.ratio:.1f}x" if result.ratio else
                 "  tanh/ReLU epochs: not measured (one did not reach the target; raise --epochs)")
    lines.append(f"  the paper: {result.claim}")
    return "\n".join(lines) + "\n"
