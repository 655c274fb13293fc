"""torchvision's ImageNet AlexNet weights described once: where they live, their hash, how to feed them, their scores.

torchvision keeps these facts in one enum entry, `AlexNet_Weights.IMAGENET1K_V1` (url, transforms,
categories, metrics). Importing torchvision costs each server process about 150 MiB, so the entry is
mirrored here as one frozen object; tests/test_pretrained.py holds every field equal to the enum, and
the 1000 class names ship in data/imagenet_categories.txt, written once from the enum's list.
This module imports no torch: the image code and the architecture pages read it for free.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from alexnet_viz.errors import WeightsError

URL_ENV_VAR = "ALEXNET_WEIGHTS_URL"  # for tests and mirrors only: fetch the ImageNet file from elsewhere
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.")
_CATEGORIES_FILE = Path(__file__).resolve().parent.parent / "data" / "imagenet_categories.txt"


@dataclass(frozen=True)
class Preprocess:
    """The input pipeline the weights were trained with: resize the shorter side, centre crop, normalise."""

    resize: int  # shorter side resized to this (bilinear, antialiased), ...
    crop: int  # ... then the centre crop×crop is kept
    mean: tuple[float, float, float]  # per-channel mean and std of ImageNet's RGB pixels in [0, 1]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"


@dataclass(frozen=True)
class PretrainedWeights:
    """One downloadable set of weights and everything known about it (like a torchvision Weights entry)."""

    name: str
    source: str  # who published it, for provenance lines
    url: str
    sha256: str | None  # the whole file's hash when known; the file name always carries its first 8 hex digits
    size_bytes: int | None
    transforms: Preprocess
    acc1: float  # reported ImageNet-1K validation top-1 and top-5 accuracy, percent
    acc5: float
    gflops: float  # one 224x224 forward pass, as torchvision's docs table reports it (meta "_ops")
    num_params: int
    min_size: tuple[int, int]  # smallest input (h, w) the network accepts
    recipe: str

    @property
    def filename(self) -> str:
        """The file's name in the cache: the last part of its URL, "<name>-<sha256 prefix>.pth"."""
        return self.url.rsplit("/", 1)[-1]

    @property
    def sha_prefix(self) -> str:
        """The hash prefix in the file name, which torch's hub checks and so do we."""
        prefix = hash_in_name(self.filename)
        if prefix is None:
            raise WeightsError(f"The weights file name {self.filename} carries no '-<sha256 prefix>.' to check "
                               f"it against; its URL must end like alexnet-owt-7be5be79.pth.")
        return prefix

    @property
    def metrics(self) -> dict[str, float]:
        """Reported accuracy, keyed as torchvision's meta["_metrics"]["ImageNet-1K"]."""
        return {"acc@1": self.acc1, "acc@5": self.acc5}

    @property
    def categories(self) -> tuple[str, ...]:
        """The 1000 ImageNet class names, in the order of the network's outputs."""
        return _categories()

    def accepts(self, sha256: str) -> bool:
        """Whether a file with this SHA-256 is these weights: the name's prefix, and the full hash when known."""
        return sha256.startswith(self.sha_prefix) and (self.sha256 is None or sha256 == self.sha256)

    def cache_path(self, cache_dir: str | Path | None = None) -> Path:
        """`<torch hub dir>/checkpoints/<file name>`: torchvision's own place, so both share one copy."""
        if cache_dir is None:
            import torch  # only here: the rest of this module stays free of torch

            cache_dir = torch.hub.get_dir()
        return Path(cache_dir) / "checkpoints" / self.filename

    def served_from(self, url: str) -> PretrainedWeights:
        """The same weights fetched from another address; the full hash and size hold only for the same file."""
        same = url.rsplit("/", 1)[-1] == self.filename
        return replace(self, url=url, sha256=self.sha256 if same else None,
                       size_bytes=self.size_bytes if same else None)


# torchvision's AlexNet_Weights.IMAGENET1K_V1, field by field (tests/test_pretrained.py compares them).
# torchvision checks only the 8 hex digits in the name; the full SHA-256 and size are the ones public
# projects pin for this same file (it has not changed since 2017); its meta's _file_size, 233.087 MB,
# is this size in MiB.
IMAGENET1K_V1 = PretrainedWeights(
    name="IMAGENET1K_V1",
    source="torchvision AlexNet_Weights.IMAGENET1K_V1",
    url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    sha256="7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
    size_bytes=244_408_911,
    transforms=Preprocess(resize=256, crop=224, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
    acc1=56.522,
    acc5=79.066,
    gflops=0.714,
    num_params=61_100_840,
    min_size=(63, 63),
    recipe="https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg",
)


def imagenet_weights() -> PretrainedWeights:
    """IMAGENET1K_V1, or the same file from $ALEXNET_WEIGHTS_URL (tests and mirrors) when that is set."""
    url = os.environ.get(URL_ENV_VAR, "").strip()
    return IMAGENET1K_V1.served_from(url) if url else IMAGENET1K_V1


def hash_in_name(filename: str) -> str | None:
    """The SHA-256 prefix a torchvision-style name ("alexnet-owt-7be5be79.pth") promises, if any."""
    match = _HASH_IN_NAME.search(filename)
    return match.group(1) if match else None


@lru_cache(maxsize=1)
def _categories() -> tuple[str, ...]:
    names = tuple(_CATEGORIES_FILE.read_text(encoding="utf-8").splitlines())
    if len(names) != 1000:
        raise WeightsError(f"{_CATEGORIES_FILE} holds {len(names)} class names, not 1000; reinstall alexnet_viz.")
    return names


__all__ = ["Preprocess", "PretrainedWeights", "IMAGENET1K_V1", "imagenet_weights", "hash_in_name", "URL_ENV_VAR"]
