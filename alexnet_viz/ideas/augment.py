"""The paper's data augmentation (Sec. 4.1) on any photo: 256 base, random crops and flips, PCA colour
noise, and the ten test crops with their averaged prediction.

Images are uint8 (H, W, 3) arrays; every random draw takes a seed so a page (and a test) shows the
same handful of crops on every rerun.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from alexnet_viz.analysis.probe import categories, evaluating
from alexnet_viz.core.device import model_device
from alexnet_viz.errors import SpecError
from alexnet_viz.inputs.images import IMAGENET_MEAN, IMAGENET_STD, center_crop, resize_shorter

# ImageNet's RGB eigen-decomposition on pixels in [0, 1], as fb.resnet.torch publishes it
# (datasets/imagenet.lua, `pca`; columns of the matrix are the eigenvectors). The paper gives no numbers.
IMAGENET_EIGVAL: tuple[float, float, float] = (0.2175, 0.0188, 0.0045)
IMAGENET_EIGVEC: tuple[tuple[float, float, float], ...] = ((-0.5675, 0.7192, 0.4009),
                                                            (-0.5808, -0.0045, -0.8140),
                                                            (-0.5836, -0.6948, 0.4203))
IMAGENET_PCA_SOURCE = "fb.resnet.torch, datasets/imagenet.lua (pca.eigval, pca.eigvec), pixels in [0, 1]"


def base_image(image: Image.Image, side: int = 256) -> np.ndarray:
    """Sec. 4.1's fixed resolution: shorter side rescaled to `side`, then the central side×side patch."""
    resized = resize_shorter(image.convert("RGB"), side)
    return np.asarray(center_crop(resized, side, side), dtype=np.uint8)


@dataclass(frozen=True)
class CropCount:
    """How many distinct training patches one image gives."""

    base: int
    crop: int
    paper: int  # (base − crop)² · 2: the paper's 2048 for 256 and 224
    positions: int  # (base − crop + 1)² · 2: every offset 0..base−crop, with its flip


def crop_count(base: int = 256, crop: int = 224) -> CropCount:
    """The paper counts 32 offsets per axis; offsets 0..32 are in fact 33, so 2·33² distinct crops exist."""
    if not 0 < crop <= base:
        raise SpecError(f"A {crop}×{crop} crop does not fit a {base}×{base} image; choose a crop of at most {base}.")
    d = base - crop
    return CropCount(base=base, crop=crop, paper=2 * d * d, positions=2 * (d + 1) ** 2)


@dataclass(frozen=True)
class Crop:
    """One patch: where it starts in the base image, whether it is mirrored, and its pixels."""

    top: int
    left: int
    flip: bool
    pixels: np.ndarray


def _cut(base: np.ndarray, top: int, left: int, crop: int, flip: bool) -> Crop:
    patch = base[top:top + crop, left:left + crop]
    return Crop(top, left, flip, np.ascontiguousarray(patch[:, ::-1] if flip else patch))


def random_crops(base: np.ndarray, crop: int = 224, count: int = 6, seed: int = 0) -> list[Crop]:
    """`count` training patches: uniform offsets in 0..side−crop and a coin flip for the reflection."""
    side = min(base.shape[:2])
    crop_count(side, crop)
    rng = np.random.default_rng(seed)
    return [_cut(base, int(rng.integers(0, base.shape[0] - crop + 1)), int(rng.integers(0, base.shape[1] - crop + 1)),
                 crop, bool(rng.integers(0, 2))) for _ in range(count)]


TEN_CROP_NAMES = ("top left", "top right", "bottom left", "bottom right", "centre")


def ten_crops(base: np.ndarray, crop: int = 224) -> list[Crop]:
    """Sec. 4.1's test patches: four corners and the centre, then the same five mirrored."""
    h, w = base.shape[:2]
    crop_count(min(h, w), crop)
    corners = [(0, 0), (0, w - crop), (h - crop, 0), (h - crop, w - crop),
               (round((h - crop) / 2), round((w - crop) / 2))]
    return [_cut(base, top, left, crop, flip) for flip in (False, True) for top, left in corners]


# --- PCA colour noise ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ColourPCA:
    """The 3×3 covariance of an image's RGB values (in [0, 1]) and its eigen-decomposition, largest first."""

    mean: np.ndarray  # (3,)
    covariance: np.ndarray  # (3, 3)
    eigvals: np.ndarray  # (3,), descending
    eigvecs: np.ndarray  # (3, 3), column i is p_i


def colour_pca(pixels: np.ndarray) -> ColourPCA:
    """Every pixel is one sample of (R, G, B); the paper does this over all of ImageNet's training set."""
    rgb = np.asarray(pixels, dtype=np.float64).reshape(-1, 3) / 255.0
    if rgb.shape[0] < 2:
        raise SpecError("A colour covariance needs at least two pixels.")
    cov = np.cov(rgb, rowvar=False)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    return ColourPCA(mean=rgb.mean(axis=0), covariance=cov, eigvals=vals[order], eigvecs=vecs[:, order])


def colour_shift(eigvals: np.ndarray, eigvecs: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Σ α_i λ_i p_i: one RGB offset (in [0, 1] units) added to every pixel of the image."""
    return np.asarray(eigvecs, dtype=np.float64) @ (np.asarray(alphas, dtype=np.float64) * np.asarray(eigvals))


def draw_alphas(seed: int, std: float = 0.1) -> np.ndarray:
    """α_i ~ N(0, 0.1²), standard deviation 0.1 (Sec. 4.1): one draw per image (per epoch, in the paper)."""
    return np.random.default_rng(seed).normal(0.0, std, size=3)


def add_colour(pixels: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The image with one RGB offset added to every pixel, clipped back to 0..255."""
    out = np.asarray(pixels, dtype=np.float64) + 255.0 * np.asarray(shift)[None, None, :]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# --- ten-crop testing ----------------------------------------------------------------------------

def to_batch(crops: list[Crop]) -> torch.Tensor:
    """Crops as one normalised (N, 3, S, S) batch, with the same arithmetic as images.to_tensor."""
    x = torch.from_numpy(np.stack([c.pixels for c in crops])).permute(0, 3, 1, 2).to(torch.float32) / 255.0
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


@dataclass(frozen=True)
class TenCrop:
    """Softmax of every crop, their average, and the top classes of the average and of the centre alone."""

    probs: np.ndarray  # (10, classes)
    average: np.ndarray  # (classes,)
    top: tuple[tuple[int, str, float, float], ...]  # (class, name, averaged prob, centre-crop prob), best first
    centre_top: tuple[int, str, float]
    agree_with_centre: int  # how many of the ten crops have the centre crop's top class as their own


def ten_crop_prediction(model: torch.nn.Module, crops: list[Crop], k: int = 5) -> TenCrop:
    """One batched forward of the ten crops (the shared model is only read) and the averaged softmax."""
    if len(crops) != 10:
        raise SpecError(f"Ten-crop testing needs 10 crops, not {len(crops)}.")
    x = to_batch(crops).to(model_device(model))
    with torch.inference_mode(), evaluating(model):
        probs = torch.softmax(model(x).float(), dim=1).cpu().numpy()
    average = probs.mean(axis=0)
    names = categories(probs.shape[1])
    centre = probs[4]
    best = np.argsort(average)[::-1][:k]
    c = int(np.argmax(centre))
    return TenCrop(probs=probs, average=average,
                   top=tuple((int(i), names[i], float(average[i]), float(centre[i])) for i in best),
                   centre_top=(c, names[c], float(centre[c])),
                   agree_with_centre=int((probs.argmax(axis=1) == c).sum()))
