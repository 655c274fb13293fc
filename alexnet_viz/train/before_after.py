"""Before and after training: one photo, layer and channel through the untrained initialisation and
through a trained checkpoint the server has (ImageNet's file, or a training run's last.pt).

A run's "before" is that run's own initialisation, rebuilt from its config.json (seed, head), so the
pair shows exactly what training changed (tests check its C1 equals the run's filters/epoch-000).
ImageNet's "before" is the variant's initialisation with seed 0, the app's random weights: the scheme
torchvision's training started from, not its very numbers (those were never published).

A run whose classifier was narrowed (the demo's 512-wide head and 12 classes) still compares: its
convolutions have the variant's shapes, and the network is built with the run's head at the
variant's input size, so the same photo goes through both at the size the app uses everywhere.
Its classes are the run's (classes.json), not ImageNet's.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import AlexVizError
from alexnet_viz.train import runs

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from alexnet_viz.core.model import AlexNet
    from alexnet_viz.train.config import TrainConfig

IMAGENET = "imagenet"


@dataclass(frozen=True)
class Trained:
    """A trained network to set beside its initialisation."""

    ident: str  # "imagenet", or the path of a run's last.pt
    label: str
    spec: Spec  # the variant the page shows
    run: str | None  # the run directory; None for ImageNet
    stamp: float  # the checkpoint file's mtime: a newer save is another network


def _run_spec(run: Path, variant: Spec) -> tuple[TrainConfig, Spec] | None:
    """The run's config and its network at `variant`'s input size, or None when that is not its network."""
    from alexnet_viz.core.embed import param_shapes
    from alexnet_viz.train.config import load_config
    from alexnet_viz.train.loop import training_spec

    try:
        config = load_config(run / runs.CONFIG)
        classes = json.loads((run / runs.CLASSES).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None
    if config.variant != variant.name or not isinstance(classes, list):
        return None
    try:
        trained = training_spec(config, len(classes))
        spec = training_spec(replace(config, input_size=None), len(classes))
    except AlexVizError:  # a config no network can be built from
        return None
    if param_shapes(spec) != param_shapes(trained) or spec.input_size != variant.input_size:
        return None  # its classifier's input depends on the size it trained at
    return config, spec


def choices(variant: Spec, root: str | Path, imagenet: Path | None) -> list[Trained]:
    """What the server has for `variant`: ImageNet's file when `imagenet` exists, then runs' checkpoints
    (newest first) whose convolutions are the variant's. Reads small files only, never a checkpoint."""
    found = []
    if imagenet is not None and imagenet.is_file():
        found.append(Trained(IMAGENET, "ImageNet (torchvision's trained weights)", variant, None,
                             imagenet.stat().st_mtime))
    for info in runs.list_runs(root):
        if not info.has_weights or info.variant != variant.name or _run_spec(info.path, variant) is None:
            continue
        stamp = info.weights.stat().st_mtime
        saved = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))
        found.append(Trained(str(info.weights), f"{info.name} (a training run's last.pt, saved {saved})", variant,
                             str(info.path), stamp))
    return found


def networks(trained: Trained, device: str = "cpu") -> tuple[AlexNet, AlexNet]:
    """(before, after): the initialisation and the trained network, in eval mode on `device`."""
    from alexnet_viz.core.weights import load_model
    from alexnet_viz.core.weightschoice import IMAGENET, RANDOM, WeightsChoice
    from alexnet_viz.train.loop import initial_model

    if trained.run is None:
        return (load_model(trained.spec, RANDOM, seed=0, device=device),
                load_model(trained.spec, IMAGENET, device=device, progress=False))
    made = _run_spec(Path(trained.run), trained.spec)
    if made is None:
        raise AlexVizError(f"{trained.run} is no longer a {trained.spec.name} run with a readable config.json.")
    config, spec = made
    before = initial_model(config, spec).to(device).eval()
    return before, load_model(spec, WeightsChoice.file(trained.ident), device=device)


def class_names(trained: Trained, outputs: int) -> list[str]:
    """The names of the trained network's outputs: a run's classes.json, ImageNet's otherwise."""
    if trained.run is not None:
        with open(Path(trained.run) / runs.CLASSES, encoding="utf-8") as fh:
            names = [str(n) for n in json.load(fh)]
        if len(names) == outputs:
            return names
    from alexnet_viz.analysis.probe import categories

    return categories(outputs)


def activation(model: AlexNet, x: torch.Tensor, layer: str, channel: int) -> np.ndarray:
    """One channel's output for input `x` (1, 3, S, S): an (H, W) map, or a 0-d value for a dense layer."""
    from alexnet_viz.analysis.probe import capture

    out = capture(model, x, [layer])[layer][0].float().numpy()
    return np.asarray(out[channel], dtype=np.float32)


def weights(model: AlexNet, layer: str) -> np.ndarray | None:
    """A layer's weights as float32 (None for a pooling layer)."""
    module = model.layer(layer)
    weight = getattr(module, "weight", None)
    return None if weight is None else weight.detach().to("cpu").float().numpy()


def top(model: AlexNet, x: torch.Tensor, names: list[str], k: int = 5) -> list[tuple[str, float]]:
    """The k most probable classes with their probabilities (k capped at the class count)."""
    import torch

    with torch.no_grad():
        probs = model(x.to(next(model.parameters()).device)).float().softmax(1)[0]
    values, indices = probs.topk(min(k, probs.numel()))
    return [(names[int(i)], float(v)) for v, i in zip(values, indices, strict=True)]
