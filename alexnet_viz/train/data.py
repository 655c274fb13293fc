"""Images for training: an ImageFolder of our own, the paper's augmentations, resumable sampling.

The app must never import torchvision (tests/test_no_torchvision.py), so folders are read with
alexnet_viz.inputs.images.load_image, the same hardened decoder the app uses. Every random choice of an
augmentation comes from a generator seeded by (seed, epoch, sample index): a sample looks the same
whichever process or worker loads it, which is what makes a DDP run equal a one-process run and a
resumed run equal an uninterrupted one.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, DistributedSampler, Sampler

from alexnet_viz.errors import AlexVizError
from alexnet_viz.inputs.images import ACCEPTED_FORMATS, IMAGENET_MEAN, IMAGENET_STD, load_image

Sample = tuple[torch.Tensor, int] | None
_MEAN = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(3, 1, 1)
_STD = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(3, 1, 1)


@dataclass(frozen=True)
class Split:
    """Labelled files for training and validation, and the class names (index = output unit)."""

    classes: tuple[str, ...]
    train: tuple[tuple[str, int], ...]
    val: tuple[tuple[str, int], ...]


def _extensions() -> frozenset[str]:
    return frozenset(ext.lower() for ext, fmt in Image.registered_extensions().items() if fmt in ACCEPTED_FORMATS)


def _class_files(root: Path, classes: list[str]) -> list[tuple[str, int]]:
    ext = _extensions()
    return [(str(p), i) for i, c in enumerate(classes) for p in sorted((root / c).rglob("*"))
            if p.suffix.lower() in ext and p.is_file()]


def discover(root: str | Path, val_fraction: float = 0.1, seed: int = 0) -> Split:
    """ImageFolder layout: root/train/<class>/... and root/val/<class>/..., or root/<class>/... split
    per class by `seed` (val_fraction of each class, at least one image, goes to validation)."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise AlexVizError(f"No folder at {base}: --data needs a folder of class folders (or train/ and val/).")
    if (base / "train").is_dir() and (base / "val").is_dir():
        classes = sorted(d.name for d in (base / "train").iterdir() if d.is_dir())
        train, val = _class_files(base / "train", classes), _class_files(base / "val", classes)
    else:
        classes = sorted(d.name for d in base.iterdir() if d.is_dir())
        rng = np.random.default_rng(seed)
        train, val = [], []
        for i in range(len(classes)):
            files = _class_files(base, classes[i:i + 1])
            files = [(f, i) for f, _ in files]
            order = rng.permutation(len(files))
            n_val = max(1, round(val_fraction * len(files))) if len(files) > 1 else 0
            val += [files[j] for j in sorted(order[:n_val])]
            train += [files[j] for j in sorted(order[n_val:])]
    if not train:
        raise AlexVizError(f"No images in {base}: expected class folders of {', '.join(ACCEPTED_FORMATS)} files, "
                           "as root/<class>/<image> or root/train/<class>/<image> plus root/val/<class>/<image>.")
    if len(classes) > 1000:
        raise AlexVizError(f"{base} has {len(classes)} class folders; AlexNet has 1000 outputs.")
    return Split(tuple(classes), tuple(train), tuple(val))


@dataclass(frozen=True)
class Augment:
    """What a training sample goes through; eval uses only resize, size and the centre or 10 crops."""

    size: int
    resize: int
    crop: str = "random"  # "random": paper Sec 4.1; "random-resized": torchvision's RandomResizedCrop
    flip: bool = True
    pca_std: float = 0.0
    eigval: tuple[float, ...] = (0.0, 0.0, 0.0)  # three: one per RGB principal component
    eigvec: tuple[tuple[float, ...], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def _resize_shorter(image: Image.Image, side: int) -> Image.Image:
    w, h = image.size
    scale = side / min(w, h)
    size = (max(side, int(w * scale)), max(side, int(h * scale)))
    return image if size == (w, h) else image.resize(size, Image.Resampling.BILINEAR)


def _centre(image: Image.Image, side: int) -> Image.Image:
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side))


def _to_unit(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).to(torch.float32) / 255.0


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - _MEAN) / _STD  # the app's and predict's normalisation, so a checkpoint predicts there


def _random_resized(image: Image.Image, size: int, rng: np.random.Generator) -> Image.Image:
    """torchvision's RandomResizedCrop(scale=(0.08, 1), ratio=(3/4, 4/3)), with our generator."""
    w, h = image.size
    for _ in range(10):
        area = w * h * rng.uniform(0.08, 1.0)
        ratio = float(np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3))))
        cw, ch = round(float(np.sqrt(area * ratio))), round(float(np.sqrt(area / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            return image.crop((left, top, left + cw, top + ch)).resize((size, size), Image.Resampling.BILINEAR)
    return _centre(_resize_shorter(image, size), size)


def train_view(image: Image.Image, aug: Augment, rng: np.random.Generator) -> torch.Tensor:
    """One augmented training input (3, S, S), normalised."""
    if aug.crop == "random-resized":
        image = _random_resized(image, aug.size, rng)
    else:  # paper: shorter side to 256, the central 256x256, a random 224x224 patch of it
        image = _centre(_resize_shorter(image, aug.resize), aug.resize)
        left, top = (int(rng.integers(0, aug.resize - aug.size + 1)) for _ in range(2))
        image = image.crop((left, top, left + aug.size, top + aug.size))
    x = _to_unit(image)
    if aug.flip and rng.random() < 0.5:
        x = x.flip(-1)
    if aug.pca_std > 0:  # paper Sec 4.1: add [p1 p2 p3][a1 l1, a2 l2, a3 l3]^T to every pixel
        alpha = rng.normal(0.0, aug.pca_std, 3)
        shift = torch.tensor(aug.eigvec, dtype=torch.float32) @ torch.tensor(alpha * np.array(aug.eigval),
                                                                          dtype=torch.float32)
        x = x + shift.view(3, 1, 1)
    return _normalise(x)


def eval_view(image: Image.Image, aug: Augment, ten: bool = False) -> torch.Tensor:
    """The centre crop (3, S, S), or paper Sec 4.1's ten crops (10, 3, S, S): corners, centre, mirrored."""
    square = _centre(_resize_shorter(image, max(aug.resize, aug.size)), max(aug.resize, aug.size))
    if not ten:
        return _normalise(_to_unit(_centre(square, aug.size)))
    r, s = square.width, aug.size
    boxes = [(0, 0), (r - s, 0), (0, r - s), (r - s, r - s), ((r - s) // 2, (r - s) // 2)]
    crops = torch.stack([_to_unit(square.crop((x, y, x + s, y + s))) for x, y in boxes])
    return _normalise(torch.cat([crops, crops.flip(-1)]))


def pca_lighting(files: list[str], samples: int = 128,
                 seed: int = 0) -> tuple[tuple[float, ...], tuple[tuple[float, ...], ...]]:
    """Eigenvalues and eigenvectors of the RGB covariance of training pixels (in [0, 1]), from a
    seeded sample of the files: the paper's PCA "throughout the training set", estimated."""
    rng = np.random.default_rng(seed)
    chosen: list[int] = rng.choice(len(files), size=min(samples, len(files)), replace=False).tolist() if files else []
    pixels = []
    for i in chosen:
        try:
            img = _resize_shorter(load_image(files[int(i)]), 64)
        except (AlexVizError, OSError):
            continue
        pixels.append(np.asarray(img, dtype=np.float64).reshape(-1, 3) / 255.0)
    if not pixels:
        return (0.0, 0.0, 0.0), ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    val, vec = np.linalg.eigh(np.cov(np.concatenate(pixels), rowvar=False))
    return tuple(float(v) for v in np.clip(val, 0, None)), tuple(tuple(float(c) for c in row) for row in vec)


class FolderImages(Dataset):
    """Labelled image files; an item is ((index, epoch)) -> (input, label), or None for a bad file."""

    def __init__(self, items: tuple[tuple[str, int], ...], aug: Augment, seed: int, train: bool,
                 ten_crop: bool = False) -> None:
        self.items, self.aug, self.seed, self.train, self.ten_crop = items, aug, seed, train, ten_crop

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: tuple[int, int] | int) -> Sample:
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        path, label = self.items[index]
        try:
            image = load_image(path)
        except (AlexVizError, OSError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr, flush=True)
            return None
        if not self.train:
            return eval_view(image, self.aug, self.ten_crop), label
        rng = np.random.default_rng([self.seed, epoch, index])
        return train_view(image, self.aug, rng), label


def collate(batch: list[Sample]) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(inputs, labels, how many files of this batch were unreadable and skipped)."""
    good = [b for b in batch if b is not None]
    if not good:
        return torch.empty(0), torch.empty(0, dtype=torch.long), len(batch)
    return (torch.stack([x for x, _ in good]), torch.tensor([y for _, y in good], dtype=torch.long),
            len(batch) - len(good))


class EpochSampler(Sampler):
    """DistributedSampler's shard of one epoch as (index, epoch) pairs, starting `skip` items in.

    The permutation depends on (seed, epoch) only, and rank r takes every world-th index of it, so
    local batch i of every rank together is global batch i of a one-process run; `skip` is how a
    resumed run continues mid-epoch at the sample it stopped at.
    """

    def __init__(self, size: int, *, rank: int, world: int, seed: int, shuffle: bool = True,
                 drop_last: bool = True) -> None:
        indices: Any = range(size)  # DistributedSampler needs only len() of its dataset
        self.inner: DistributedSampler = DistributedSampler(indices, num_replicas=world, rank=rank, shuffle=shuffle,
                                                            seed=seed, drop_last=drop_last)
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip
        self.inner.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for i, index in enumerate(self.inner):
            if i >= self.skip:
                yield index, self.epoch

    def __len__(self) -> int:
        return len(self.inner) - self.skip


def shard(size: int, rank: int, world: int) -> list[int]:
    """Validation indices of one rank, without padding (counts are summed over ranks afterwards)."""
    return list(range(rank, size, world))
