"""A small labelled dataset made on the spot, so training works offline on a CPU in minutes.

Ten classes, each decided by one thing C1 can see: four grating orientations (random colours,
period and phase, so only orientation tells them apart), three blob colours (random place and
size on a noisy grey ground), three filled shapes (random colour and size). Written as PNG files
in the ImageFolder layout, so the demo goes through the same loader as a user's own folder.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

ORIENTATIONS = (0, 45, 90, 135)  # degrees; a horizontal flip swaps 45 and 135, so the demo trains without flips
BLOBS = {"red": (220, 40, 40), "green": (40, 190, 60), "blue": (40, 70, 220)}
SHAPES = ("circle", "square", "triangle")
CLASSES: tuple[str, ...] = (tuple(f"grating-{a:03d}" for a in ORIENTATIONS) + tuple(f"blob-{c}" for c in BLOBS)
                            + tuple(f"shape-{s}" for s in SHAPES))
SIZE = 72


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    return xs, ys


def _grating(rng: np.random.Generator, angle: float, size: int) -> np.ndarray:
    xs, ys = _grid(size)
    theta = np.deg2rad(angle + rng.normal(0, 4))
    period = rng.uniform(7, 14)
    phase = rng.uniform(0, 2 * np.pi)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * (xs * np.cos(theta) + ys * np.sin(theta)) / period + phase)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    while np.abs(a - b).sum() < 200:  # enough contrast for the stripes to be there
        b = rng.uniform(0, 255, 3)
    return a + (b - a) * wave[..., None]


def _ground(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.full((size, size, 3), rng.uniform(90, 170)) + rng.normal(0, 12, (size, size, 1))


def _blob(rng: np.random.Generator, colour: tuple[int, int, int], size: int) -> np.ndarray:
    xs, ys = _grid(size)
    cx, cy, r = rng.uniform(0.3, 0.7) * size, rng.uniform(0.3, 0.7) * size, rng.uniform(0.12, 0.25) * size
    mask = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r))[..., None]
    tint = np.clip(np.array(colour) + rng.normal(0, 20, 3), 0, 255)
    return _ground(rng, size) * (1 - mask) + tint * mask


def _shape(rng: np.random.Generator, kind: str, size: int) -> np.ndarray:
    xs, ys = _grid(size)
    cx, cy, r = rng.uniform(0.35, 0.65) * size, rng.uniform(0.35, 0.65) * size, rng.uniform(0.18, 0.3) * size
    dx, dy = xs - cx, ys - cy
    if kind == "circle":
        mask = dx ** 2 + dy ** 2 <= r * r
    elif kind == "square":
        mask = (np.abs(dx) <= r * 0.85) & (np.abs(dy) <= r * 0.85)
    else:  # upright triangle: below the apex, inside two slanted edges
        mask = (dy >= -r) & (dy <= r * 0.7) & (np.abs(dx) <= (dy + r) * 0.6)
    picture = _ground(rng, size)
    colour = rng.uniform(0, 255, 3)
    while np.abs(colour - picture.mean()).max() < 60:
        colour = rng.uniform(0, 255, 3)
    picture[mask] = colour
    return picture


def sample(label: int, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """One (size, size, 3) uint8 picture of class `label` (an index into CLASSES)."""
    name = CLASSES[label]
    if name.startswith("grating"):
        picture = _grating(rng, float(name.split("-")[1]), size)
    elif name.startswith("blob"):
        picture = _blob(rng, BLOBS[name.split("-")[1]], size)
    else:
        picture = _shape(rng, name.split("-")[1], size)
    return np.clip(picture + rng.normal(0, 6, picture.shape), 0, 255).astype(np.uint8)


def make_dataset(root: str | Path, *, per_class: int = 240, val_per_class: int = 40, seed: int = 0,
                 size: int = SIZE) -> Path:
    """Write root/train/<class>/*.png and root/val/<class>/*.png (skipped when already complete)."""
    root = Path(root)
    stamp = root / f".complete-{per_class}-{val_per_class}-{seed}-{size}"
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
