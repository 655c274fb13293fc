"""Where the images come from: a user's folder, the generated demo set, or torchvision's downloaders.

torchvision is imported only here and only for --dataset, so the app never loads it.
"""
from __future__ import annotations

from pathlib import Path

from alexnet_viz.errors import AlexVizError
from alexnet_viz.train import demo
from alexnet_viz.train.config import TrainConfig, runs_root

DATASETS = ("cifar10", "imagenette")


def data_root(config: TrainConfig) -> Path:
    """The folder to read, fetching or generating it first when needed (call on rank 0, then barrier)."""
    if config.data:
        return Path(config.data).expanduser()
    cache = runs_root() / ".data"
    if config.demo:
        return demo.make_dataset(cache / f"demo{demo.VERSION}-{config.demo_per_class}", per_class=config.demo_per_class,
                                 val_per_class=max(1, config.demo_per_class // 6), seed=config.split_seed)
    if config.dataset == "cifar10":
        return _cifar10(cache / "cifar10")
    if config.dataset == "imagenette":
        return _imagenette(cache / "imagenette")
    raise AlexVizError(f"Unknown dataset {config.dataset!r}: choose one of {', '.join(DATASETS)}.")


def _cifar10(root: Path) -> Path:
    """CIFAR-10 through torchvision, written out once as PNG class folders (train/ and val/ = test)."""
    out = root / "folders"
    if (out / ".complete").is_file():
        return out
    try:
        from torchvision.datasets import CIFAR10

        splits = {"train": CIFAR10(str(root), train=True, download=True),
                  "val": CIFAR10(str(root), train=False, download=True)}
    except Exception as exc:  # offline, refused, or a broken archive: all mean "not available here"
        raise AlexVizError(f"Could not download CIFAR-10 ({exc}); use --data DIR with a copy, or --demo.") from exc
    for split, ds in splits.items():
        for i, (image, label) in enumerate(ds):
            folder = out / split / ds.classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            image.save(folder / f"{i:05d}.png")
    (out / ".complete").touch()
    return out


def _imagenette(root: Path) -> Path:
    """Imagenette (10 ImageNet classes, 320 px) through torchvision; already an ImageFolder layout."""
    try:
        from torchvision.datasets import Imagenette

        for split in ("train", "val"):
            Imagenette(str(root), split=split, size="320px", download=not (root / "imagenette2-320").is_dir())
    except Exception as exc:  # offline, refused, or a broken archive
        raise AlexVizError(f"Could not download Imagenette ({exc}); use --data DIR with a copy, or --demo.") from exc
    return root / "imagenette2-320"
