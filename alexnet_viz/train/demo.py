"""A small labelled dataset made on the spot, so training works offline on a CPU in minutes.

Designed so that what C1 must learn is what AlexNet's C1 learned from ImageNet (the paper's Figure
3): oriented edges, and colour opponency. Twelve classes, each one orientation (0, 45, 90 or 135
degrees) of one colour axis: light against dark, red against green, or blue against yellow. A
picture is either a grating (random period and phase) or a single edge at a random place, between
two colours that differ only along the class's axis, around a random mean colour, with pixel noise.
So neither the orientation alone nor the colours alone name the class: a unit has to respond to
an oriented change along one colour axis, which is what an oriented, colour-opponent filter does.

What it does not have: objects, textures, scale changes, anything a layer above C1 would need; the
classes are easy enough that a small network learns them without C1 becoming as clean as a week of
ImageNet training makes it. Written as PNG files in the ImageFolder layout, so the demo goes through
the same loader as a user's own folder.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

VERSION = 2  # part of the cache folder's name: a set made by another design is never reused
ORIENTATIONS = (0, 45, 90, 135)  # degrees; a horizontal flip swaps 45 and 135, so the demo trains without flips
# Unit directions in RGB: brightness; red minus green; yellow (red + green) minus blue.
AXES = {"light-dark": (1.0, 1.0, 1.0), "red-green": (1.0, -1.0, 0.0), "yellow-blue": (1.0, 1.0, -2.0)}
CLASSES: tuple[str, ...] = tuple(f"{axis}-{angle:03d}" for axis in AXES for angle in ORIENTATIONS)
SIZE = 72
EDGE_SHARE = 0.5  # the share of pictures holding one edge instead of a grating


def _wave(rng: np.random.Generator, angle: float, size: int) -> np.ndarray:
    """Values in [-1, 1] that change across lines at `angle`: a sine grating or one soft edge."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) - (size - 1) / 2
    theta = np.deg2rad(angle + rng.normal(0, 4))
    across = xs * np.cos(theta) + ys * np.sin(theta)  # distance across the stripes' direction
    if rng.random() < EDGE_SHARE:
        offset = rng.uniform(-0.3, 0.3) * size  # where the edge lies
        return np.tanh((across - offset) / rng.uniform(0.6, 1.5)) * rng.choice([-1.0, 1.0])
    return np.sin(2 * np.pi * across / rng.uniform(6, 14) + rng.uniform(0, 2 * np.pi))


def sample(label: int, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """One (size, size, 3) uint8 picture of class `label` (an index into CLASSES)."""
    axis_name, angle = CLASSES[label].rsplit("-", 1)
    axis = np.array(AXES[axis_name])
    axis /= np.linalg.norm(axis)
    mean = rng.uniform(95, 160) + rng.normal(0, 10, 3)  # a greyish colour, a little tinted
    amplitude = rng.uniform(35, 60)
    picture = mean + amplitude * _wave(rng, float(angle), size)[..., None] * axis
    return np.clip(picture + rng.normal(0, 8, picture.shape), 0, 255).astype(np.uint8)


def make_dataset(root: str | Path, *, per_class: int = 240, val_per_class: int = 40, seed: int = 0,
                 size: int = SIZE) -> Path:
    """Write root/train/<class>/*.png and root/val/<class>/*.png (skipped when already complete)."""
    root = Path(root)
    stamp = root / f".complete-v{VERSION}-{per_class}-{val_per_class}-{seed}-{size}"
    if stamp.is_file():
        return root
    for split, count, offset in (("train", per_class, 0), ("val", val_per_class, 1)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            rng = np.random.default_rng([seed, offset, label])
            for i in range(count):
                Image.fromarray(sample(label, rng, size)).save(folder / f"{i:05d}.png", compress_level=1)
    stamp.touch()
    return root
