"""Look inside a running network: every layer's activations and its top-k predictions.

The model handed in is usually the app's shared, cached one, used by several sessions (threads)
at once. So nothing here changes it for longer than a call: hooks are removed in `finally`,
modules switched to eval are switched back one by one, and hooks only record forwards made by
the thread that registered them, so another session's forward cannot leak into a capture.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from alexnet_viz.core.device import autocast_context, device_name, model_device, synchronize
from alexnet_viz.core.model import AlexNet
from alexnet_viz.core.pretrained import IMAGENET1K_V1
from alexnet_viz.errors import AlexVizError, SpecError


class _Done(Exception):
    """Raised by the last hook a capture needs: the rest of the forward would be wasted work."""


# --- capture -------------------------------------------------------------------------------

@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Run with every module in eval mode, then put back exactly the modules that were training.

    A shared model is already in eval mode, so this normally changes nothing at all.
    """
    training = [m for m in model.modules() if m.training]
    for m in training:
        m.training = False
    try:
        yield
    finally:
        for m in training:
            m.training = True


def capture_plan(model: AlexNet, layers: Sequence[str] | None = None) -> dict[str, str]:
    """Qualified module name -> capture key for the layers asked for (all of them by default).

    "<name>" is the output of the layer's last module (its ReLU, LRN, adaptive pool or dropout,
    which is the identity in eval mode); "<name>.pre" is its conv/linear output before the ReLU.
    """
    names = list(model.layer_names) if layers is None else [layers] if isinstance(layers, str) else list(layers)
    plan: dict[str, str] = {}
    for name in names:
        if name not in model.layer_names:
            raise SpecError(f"Unknown layer {name!r}: choose from {', '.join(model.layer_names)}.", layer=name)
        paths = model.part_paths(name)
        plan[list(paths.values())[-1]] = name
        if "relu" in paths:
            plan[paths["conv"] if "conv" in paths else paths["linear"]] = f"{name}.pre"
    return plan


def capture(model: AlexNet, x: torch.Tensor, layers: Sequence[str] | None = None, *,
            grad: bool = False) -> dict[str, torch.Tensor]:
    """Each asked-for layer's activations for input `x`, keyed "C1", "C1.pre", ..., "F11" (logits).

    With `grad=False` (the default) the tensors are detached, on the CPU and held by nothing else,
    so they are safe to keep and to modify. With `grad=True` they are the live tensors of the
    forward pass on the model's device, still in the autograd graph with `retain_grad()` set, so
    a caller can backprop from "F11" (or any key) and read `.grad` of the others; they require
    grad only if `x` or the weights do, and the model must have no in-place modules (ours have none).

    The forward stops once the last requested layer has run, so asking for C1 costs C1 only.
    The model keeps its mode, hooks and parameters: see the module docstring.
    """
    plan = capture_plan(model, layers)
    modules = dict(model.named_modules())
    device = model_device(model)
    x = _prepare_input(x, device)
    store: dict[str, torch.Tensor] = {}
    owner = threading.get_ident()

    def hook_for(key: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            if threading.get_ident() != owner:
                return  # another session's forward on the shared model
            if grad:
                if output.requires_grad:
                    output.retain_grad()
                store[key] = output
            else:
                store[key] = output.detach().clone()  # a later in-place op cannot change it
            if len(store) == len(plan):
                raise _Done

        return hook

    handles = []
    try:
        for path, key in plan.items():
            handles.append(modules[path].register_forward_hook(hook_for(key)))
        with evaluating(model), (torch.enable_grad() if grad else torch.no_grad()):
            try:
                model(x)
            except _Done:
                pass
    finally:
        for handle in handles:
            handle.remove()
    ordered = {key: store[key] for key in _key_order(model, plan)}
    if grad:
        return ordered
    return {key: value.cpu() for key, value in ordered.items()}


def _key_order(model: AlexNet, plan: dict[str, str]) -> list[str]:
    """Keys in network order, each layer's ".pre" before its output."""
    wanted = set(plan.values())
    keys = []
    for name in model.layer_names:
        keys += [k for k in (f"{name}.pre", name) if k in wanted]
    return keys


# --- predictions ---------------------------------------------------------------------------

def categories(n: int) -> list[str]:
    """Class names: ImageNet's 1000 (shipped with the weights' description, pretrained.py) or numbers."""
    if n == 1000:
        return list(IMAGENET1K_V1.categories)
    return [f"class {i}" for i in range(n)]


@dataclass(frozen=True)
class Prediction:
    """The top-k classes of one image, best first, and what it took to compute them."""

    indices: tuple[int, ...]
    labels: tuple[str, ...]
    probs: tuple[float, ...]  # softmax probabilities
    latency_ms: float
    device_name: str

    def as_dict(self) -> dict:
        return {"top": [{"index": i, "label": l, "prob": p} for i, l, p in zip(self.indices, self.labels, self.probs)],
                "latency_ms": self.latency_ms, "device": self.device_name}


def _prepare_input(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    x = x.unsqueeze(0) if x.dim() == 3 else x
    if x.dim() != 4:
        raise AlexVizError(f"Expected an image tensor of shape (N, 3, H, W), got {tuple(x.shape)}.")
    x = x.to(device)
    if device.type == "cuda":
        # The input only: the shared model's memory format is chosen where it is loaded.
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _check_k(k: int) -> None:
    """Refuse a bad k before any forward pass is spent on it."""
    if k < 1:
        raise AlexVizError(f"top-k must be at least 1, got {k}.")


def _top_k(logits: torch.Tensor, k: int) -> list[tuple[tuple[int, ...], tuple[float, ...]]]:
    probs = torch.softmax(logits.float(), dim=1)
    values, indices = probs.topk(min(k, probs.shape[1]), dim=1)
    return [(tuple(i.tolist()), tuple(v.tolist())) for i, v in zip(indices.cpu(), values.cpu())]


def _predictions(logits: torch.Tensor, k: int, latency_ms: float, name: str) -> list[Prediction]:
    names = categories(logits.shape[1])
    return [Prediction(indices=idx, labels=tuple(names[i] for i in idx), probs=probs, latency_ms=latency_ms,
                       device_name=name) for idx, probs in _top_k(logits, k)]


def predict(model: AlexNet, x: torch.Tensor, k: int = 5, *, autocast: str | None = None) -> Prediction:
    """Top-k for one image (1, 3, H, W) on the model's own device, with its warm latency.

    One warm-up forward first (allocator, kernels, autotuning), then the timed forward with the
    device synchronised before and after, so `latency_ms` is the work and not the launch.
    """
    _check_k(k)
    device = model_device(model)
    x = _prepare_input(x, device)
    if x.shape[0] != 1:
        raise AlexVizError(f"predict takes one image; got a batch of {x.shape[0]} (use predict_batch).")
    with torch.inference_mode(), evaluating(model), autocast_context(device, autocast):
        model(x)
        synchronize(device)
        start = time.perf_counter()
        logits = model(x)
        synchronize(device)
        latency_ms = (time.perf_counter() - start) * 1000.0
    return _predictions(logits, k, latency_ms, device_name(device))[0]


def predict_batch(model: AlexNet, x: torch.Tensor, k: int = 5, *, autocast: str | None = None) -> list[Prediction]:
    """Top-k for every row of a batch (the CLI's path): one forward, no warm-up.

    Each row's `latency_ms` is the batch's forward time divided by the batch size.
    """
    _check_k(k)
    device = model_device(model)
    x = _prepare_input(x, device)
    with torch.inference_mode(), evaluating(model), autocast_context(device, autocast):
        synchronize(device)
        start = time.perf_counter()
        logits = model(x)
        synchronize(device)
        latency_ms = (time.perf_counter() - start) * 1000.0 / x.shape[0]
    return _predictions(logits, k, latency_ms, device_name(device))


__all__ = ["Prediction", "capture", "capture_plan", "categories", "evaluating", "predict", "predict_batch"]
