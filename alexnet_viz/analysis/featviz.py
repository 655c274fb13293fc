"""Feature visualisation: an image optimised to excite one channel (or one class logit).

The method is Lucid's (Olah, Mordvintsev, Schubert, "Feature Visualization", Distill 2017), as
its PyTorch port lucent implements it (github.com/greentfrapp/lucent: lucent/optvis/param/
spatial.py `fft_image`, param/color.py `to_valid_rgb`, transform.py `standard_transforms`):

- the image is parameterised by its 2-D Fourier spectrum, each frequency scaled by 1/f, so
  gradient steps move low frequencies as easily as high ones instead of painting noise;
- colours are decorrelated with the square root of ImageNet's colour-correlation matrix (the
  same 3x3 numbers lucent's color.py uses), then squashed into [0, 1] with a sigmoid;
- each step sees the image padded, jittered, scaled and rotated at random, so only patterns
  that survive small shifts win (robust images, not adversarial noise);
- Adam on the spectrum for a few hundred steps.

The code here is our own. The objective is a channel's mean over all positions of its
pre-ReLU output (a pooling layer's own output), so a silent unit still has a gradient; for a
fully connected layer it is one unit, F11's being a class logit.

The network is a twin of the shared model (alexnet_viz.analysis.explain.twin) whose weight tensors are
re-wrapped without requires_grad (or cast once to bfloat16), so the shared model's parameters,
modes and hooks are never touched and no weight gradient is ever computed. Results are cached on
disk by (weights, variant, layer, channel, settings): a second visit, even after a restart, is
a file read.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.casting import twin
from alexnet_viz.core.device import model_device
from alexnet_viz.core.model import AlexNet
from alexnet_viz.core.precision import PRECISIONS
from alexnet_viz.core.provenance import weights_id
from alexnet_viz.errors import AlexVizError
from alexnet_viz.inputs.images import IMAGENET_MEAN, IMAGENET_STD

CACHE_ENV = "ALEXNET_CACHE"
Progress = Callable[[int, int], None]

# sqrt of ImageNet's colour correlation (from its SVD), as Lucid and lucent's color.py give it.
_COLOR_SQRT = np.asarray([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32)
_COLOR = _COLOR_SQRT / np.max(np.linalg.norm(_COLOR_SQRT, axis=0))
# lucent's standard_transforms: pad 12, jitter 8, scale 0.9..1.1, rotate -10..10 degrees, jitter 4.
_PAD, _JITTER1, _JITTER2 = 12, 8, 4
_SCALES = tuple(1 + (i - 5) / 50 for i in range(11))
_ANGLES = tuple(range(-10, 11)) + (0,) * 5


@dataclass(frozen=True)
class Settings:
    """Everything that changes the picture; part of the cache key."""

    steps: int = 256
    size: int | None = None  # image side; None: 128 for conv/pool layers, the network's input for fc ones
    lr: float = 0.05
    seed: int = 0
    batch: int = 1  # >1: a "diversity" set of different images for the same unit
    diversity: float = 0.0  # weight of the penalty on similar images in the set (lucent's `diversity`)
    precision: str = "float32"  # one of precision.PRECISIONS: the twin's weights are cast once
    decorrelate: bool = True
    transforms: bool = True

    def checked(self) -> Settings:
        """Refuse settings that cannot work, with what to do instead."""
        if self.steps < 1 or self.batch < 1 or self.lr <= 0:
            raise AlexVizError("Feature visualisation needs steps >= 1, batch >= 1 and a positive learning rate.")
        if self.size is not None and not 32 <= self.size <= 512:
            raise AlexVizError(f"Image size {self.size} is out of range: choose 32 to 512 pixels.")
        if self.precision not in PRECISIONS:
            raise AlexVizError(f"Unknown precision {self.precision!r}: use {' or '.join(PRECISIONS)}.")
        return self


DEFAULT = Settings()  # what the page shows and the CLI uses unless told otherwise


@dataclass(frozen=True)
class FeatureVis:
    """The optimised images and how strongly each excites its unit (objective, un-transformed image)."""

    layer: str
    channel: int
    images: np.ndarray  # uint8 (batch, S, S, 3)
    values: tuple[float, ...]  # the objective for each final image
    start_value: float  # the objective for the first image of the random start
    settings: Settings


# --- the image parameterisation ----------------------------------------------------------------

def _freqs(h: int, w: int) -> np.ndarray:
    """|f| of each rfft2 coefficient of an (h, w) image (cycles per pixel)."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return np.sqrt(fx * fx + fy * fy)


class FourierImage(nn.Module):
    """A batch of RGB images in [0, 1] from a learnable, 1/f-scaled spectrum with decorrelated colours."""

    def __init__(self, batch: int, size: int, generator: torch.Generator, decorrelate: bool = True,
                 sd: float = 0.01) -> None:
        super().__init__()
        self.size = size
        freqs = _freqs(size, size)
        scale = 1.0 / np.maximum(freqs, 1.0 / size)  # 1/f, capped at the lowest non-zero frequency
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32)[None, None, :, :, None])
        self.spectrum = nn.Parameter(torch.randn(batch, 3, *freqs.shape, 2, generator=generator) * sd)
        colour = _COLOR if decorrelate else np.eye(3, dtype=np.float32)
        self.register_buffer("colour", torch.tensor(colour.T))

    def forward(self) -> torch.Tensor:
        scale: torch.Tensor = self.scale  # type: ignore[assignment]  # a buffer, typed loosely by nn.Module
        spectrum = torch.view_as_complex((scale * self.spectrum).contiguous())
        image = torch.fft.irfftn(spectrum, s=(self.size, self.size), norm="ortho") / 4.0  # Lucid's constant 4
        image = (image.permute(0, 2, 3, 1) @ self.colour).permute(0, 3, 1, 2)
        return torch.sigmoid(image)


def _transform(image: torch.Tensor, out: int, generator: torch.Generator) -> torch.Tensor:
    """Pad, jitter, scale, rotate and jitter again (one draw per step), then resize to `out` pixels."""
    def pick(options: tuple) -> float:
        return options[int(torch.randint(len(options), (1,), generator=generator))]

    def jitter(x: torch.Tensor, d: int) -> torch.Tensor:
        dy, dx = (int(v) for v in torch.randint(d, (2,), generator=generator))
        return x[..., dy:x.shape[-2] - d + dy, dx:x.shape[-1] - d + dx]

    x = F.pad(image, (_PAD,) * 4, mode="constant", value=0.5)
    x = jitter(x, _JITTER1)
    scale, angle = pick(_SCALES), math.radians(pick(_ANGLES))
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=x.dtype).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    x = jitter(x, _JITTER2)
    return F.interpolate(x, size=(out, out), mode="bilinear", align_corners=False)


# --- the network -------------------------------------------------------------------------------

def _head(net: AlexNet, layer: str) -> tuple[Callable[[torch.Tensor], torch.Tensor], bool]:
    """The forward up to the layer's objective tensor (conv before its ReLU, pool, linear); spatial?"""
    if layer not in net.layer_names:
        raise AlexVizError(f"Unknown layer {layer!r}: choose one of {', '.join(net.layer_names)}.")
    paths = net.part_paths(layer)
    role = next(r for r in ("conv", "pool", "linear") if r in paths)
    where, index = paths[role].split(".")
    if where == "features":
        part = net.features[: int(index) + 1]
        return part, True
    classifier = net.classifier[: int(index) + 1]

    def forward(x: torch.Tensor) -> torch.Tensor:
        return classifier(torch.flatten(net.avgpool(net.features(x)), 1))

    return forward, False


def _units(net: AlexNet, layer: str) -> int:
    """How many channels (or fc units) the layer has, from the ledger."""
    return ledger(net.spec).row(layer).out_shape[0]


def _objective(acts: torch.Tensor, channel: int, spatial: bool) -> torch.Tensor:
    """Per image: the channel's mean over positions, or the unit's value."""
    return acts[:, channel].float().mean(dim=(1, 2)) if spatial else acts[:, channel].float()


def _diversity(acts: torch.Tensor) -> torch.Tensor:
    """Mean pairwise cosine similarity of the images' Gram matrices (lucent's objectives.diversity)."""
    b, c = acts.shape[:2]
    flat = acts.float().reshape(b, c, -1)
    gram = F.normalize((flat @ flat.transpose(1, 2)).reshape(b, -1), dim=1)
    sim = gram @ gram.T
    return (sim.sum() - sim.diagonal().sum()) / (b * (b - 1))


def visualize(model: AlexNet, layer: str, channel: int, settings: Settings = DEFAULT,
              progress: Progress | None = None) -> FeatureVis:
    """Optimise `settings.batch` images to excite one unit; `progress(step, steps)` after each step."""
    settings = settings.checked()
    net = twin(model, settings.precision)
    forward, spatial = _head(net, layer)
    units = _units(net, layer)
    if not 0 <= channel < units:
        raise AlexVizError(f"{layer} has units 0 to {units - 1}; {channel} does not exist.")
    if settings.diversity and (settings.batch < 2 or not spatial):
        raise AlexVizError("Diversity needs a batch of at least 2 images and a conv or pooling layer.")
    device = model_device(model)
    size = settings.size or (128 if spatial else net.spec.input_size)
    net_size = size if spatial else net.spec.input_size
    dtype = torch.bfloat16 if settings.precision == "bf16" else torch.float32
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    gen = torch.Generator().manual_seed(settings.seed)
    with torch.inference_mode(False), torch.enable_grad():
        param = FourierImage(settings.batch, size, gen, settings.decorrelate).to(device)
        optimiser = torch.optim.Adam(param.parameters(), lr=settings.lr)

        def run(image: torch.Tensor) -> torch.Tensor:
            if image.shape[-1] != net_size:  # an fc unit drawn smaller than the network's input
                image = F.interpolate(image, size=(net_size, net_size), mode="bilinear", align_corners=False)
            return forward(((image - mean) / std).to(dtype))

        with torch.no_grad():
            start = float(_objective(run(param()), channel, spatial)[0])
        for step in range(settings.steps):
            image = param()
            if settings.transforms:
                image = _transform(image, net_size, gen)
            acts = run(image)
            loss = -_objective(acts, channel, spatial).sum()
            if settings.diversity:
                loss = loss + settings.diversity * settings.batch * _diversity(acts)
            (grad,) = torch.autograd.grad(loss, [param.spectrum])
            param.spectrum.grad = grad
            optimiser.step()
            param.spectrum.grad = None
            if progress is not None:
                progress(step + 1, settings.steps)
        with torch.no_grad():
            final = param()
            values = _objective(run(final), channel, spatial)
    images = (final.permute(0, 2, 3, 1).float().cpu().numpy() * 255.0).round().clip(0, 255).astype(np.uint8)
    return FeatureVis(layer=layer, channel=channel, images=images, values=tuple(float(v) for v in values),
                      start_value=start, settings=settings)


def unit_value(model: AlexNet, layer: str, channel: int, images: np.ndarray) -> np.ndarray:
    """The objective of `channel` for uint8 (N, S, S, 3) images (fc layers: resized to the input)."""
    net = twin(model, "float32")
    forward, spatial = _head(net, layer)
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255.0)
    if not spatial:
        x = F.interpolate(x, size=(net.spec.input_size,) * 2, mode="bilinear", align_corners=False)
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.inference_mode():
        return _objective(forward(x.to(model_device(model))), channel, spatial).cpu().numpy()


# --- the disk cache ----------------------------------------------------------------------------

def cache_dir() -> Path:
    """$ALEXNET_CACHE, else ~/.cache/alexnet_viz: where results outlive the server."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "alexnet_viz")


def cache_path(model: AlexNet, layer: str, channel: int, settings: Settings) -> Path:
    """The file one result lives in, named by a hash of everything that makes it."""
    what = {"weights": weights_id(model), "variant": model.spec.name, "spec": repr(model.spec), "layer": layer,
            "channel": int(channel), "settings": asdict(settings), "version": 1}
    name = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:32]
    return cache_dir() / "featviz" / f"{model.spec.name}_{layer}_{channel}_{name}.npz"


def load_cached(model: AlexNet, layer: str, channel: int, settings: Settings = DEFAULT) -> FeatureVis | None:
    """The stored result, or None when it was never computed (or its file is unreadable)."""
    path = cache_path(model, layer, channel, settings)
    try:
        with np.load(path, allow_pickle=False) as data:
            return FeatureVis(layer=layer, channel=channel, images=data["images"],
                              values=tuple(float(v) for v in data["values"]),
                              start_value=float(data["start_value"]), settings=settings)
    except (OSError, KeyError, ValueError):
        return None


def cached_visualize(model: AlexNet, layer: str, channel: int, settings: Settings = DEFAULT,
                     progress: Progress | None = None) -> FeatureVis:
    """`visualize`, read from the disk cache when it was computed before and stored there after."""
    found = load_cached(model, layer, channel, settings)
    if found is not None:
        return found
    result = visualize(model, layer, channel, settings, progress)
    path = cache_path(model, layer, channel, settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial.npz")
        np.savez_compressed(partial, images=result.images, values=np.asarray(result.values),
                            start_value=np.asarray(result.start_value))
        os.replace(partial, path)  # readers see the whole file or none
    except OSError:
        pass  # a read-only cache costs a recomputation next time, never the result
    return result


__all__ = [
    "CACHE_ENV",
    "DEFAULT",
    "PRECISIONS",
    "FeatureVis",
    "FourierImage",
    "Settings",
    "cache_dir",
    "cache_path",
    "cached_visualize",
    "load_cached",
    "unit_value",
    "visualize",
]
