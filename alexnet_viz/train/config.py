"""Training recipes as data: the paper's, torchvision's reference and the CPU demo's.

Every field is a command-line flag; `resolve` starts from a recipe and applies only the flags
a user gave, and the resolved config is written into the run directory as config.json.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.errors import AlexVizError

RUNS_ENV = "ALEXNET_RUNS"
PARENT_ENV = "ALEXNET_TRAIN_PARENT"  # set by train.manager: the server process whose run this is
Schedule = Literal["plateau", "step"]
Crop = Literal["random", "random-resized"]


@dataclass(frozen=True)
class TrainConfig:
    """One training run, fully resolved. Batch size is global: split over the processes of a DDP run."""

    variant: str = "article"
    recipe: str = "paper"
    data: str | None = None  # ImageFolder root: train/ and val/, or one folder split by split_seed
    dataset: str | None = None  # cifar10 | imagenette through torchvision's downloaders
    demo: bool = False
    demo_per_class: int = 160  # training images per class of the generated demo set (validation: a sixth)
    val_fraction: float = 0.1
    split_seed: int = 0
    run_dir: str = ""
    epochs: int = 90
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: Schedule = "plateau"
    lr_factor: float = 0.1
    patience: int = 3  # plateau: epochs without a better validation error before the lr drops
    step_size: int = 30  # step: epochs between drops
    dropout: float | None = None  # None: the variant's own (0.5)
    fc_width: int | None = None  # F9 and F10 outputs; None: the variant's own 4096
    he_convs: bool = False  # convolutions drawn N(0, 2/fan_in) with zero biases instead of the variant's init
    c1_std: float | None = None  # C1's weights drawn N(0, c1_std^2) with zero biases; None: as the other convs
    num_classes: int | None = None  # F11 outputs; None: the variant's 1000 (the checkpoint then fits the variant
    # everywhere in the project), 0: as many as the data has classes
    input_size: int | None = None  # None: the variant's own (224, or 227 for paper)
    resize: int = 256  # shorter side before cropping
    crop: Crop = "random"
    flip: bool = True
    pca_std: float = 0.1  # paper Sec 4.1: alpha ~ N(0, 0.1²), standard deviation 0.1, along the RGB components
    ten_crop: bool = True  # paper Sec 4.1: final evaluation averages 10 crops
    seed: int = 0
    workers: int = 2
    pin_memory: bool = True
    autocast: str | None = None
    channels_last: bool = True
    compile: bool = False
    device: str | None = None
    threads: int | None = None
    log_every: int = 10  # optimiser steps per metrics line
    snapshot_s: float = 5.0  # seconds between snapshots of C1 (filters/latest.*) for a page watching the run
    max_steps: int | None = None  # stop (saving everything) after this many steps in this invocation
    resume: bool = False
    progress: bool = True
    extras: dict = field(default_factory=dict)  # recipe notes written with the run

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


# Krizhevsky et al. 2012, Sec 2 (shorter side rescaled to 256, the central 256x256 patch), Sec 5
# (SGD, batch 128, momentum 0.9, weight decay 0.0005, lr 0.01 divided by 10 when the validation error
# stopped improving, ~90 epochs), Sec 4.1 (random 224 crops of the 256x256 image plus horizontal
# reflections; PCA colour noise, standard deviation 0.1; 10-crop test), Sec 4.2 (dropout 0.5). The
# N(0, 0.01) weights and bias constants come from model.build_model. One departure, on purpose: Sec 2
# subtracts the mean image (the mean activity over the training set at each pixel) and nothing else;
# this recipe normalises each channel with ImageNet's mean and standard deviation (data._normalise),
# the input every page, `predict` and the feature visualisation feed the network, so a checkpoint
# trained here predicts there. PREPROCESSING says so in every run's config.json.
PREPROCESSING = ("departs from the paper's Sec 2: the paper subtracts the mean image (the mean activity over the "
                 "training set at each pixel, no scaling); this run normalises each RGB channel with ImageNet's "
                 "mean and standard deviation (torchvision's), as the app and predict do")
PAPER_RECIPE = TrainConfig(recipe="paper", extras={
    "source": "Krizhevsky, Sutskever, Hinton (2012), Sec 2, 4.1, 4.2 and 5",
    "patience": "the paper gives no patience for 'stopped improving'; 3 epochs is our choice",
    "preprocessing": PREPROCESSING})

# torchvision references/classification: README ("AlexNet and VGG ... --lr 1e-2", 8 GPUs x batch 32)
# and train.py defaults (90 epochs, momentum 0.9, wd 1e-4, StepLR 30 x 0.1, RandomResizedCrop 224
# plus flips, eval resize 256 and centre crop 224).
TORCHVISION_RECIPE = TrainConfig(recipe="torchvision", batch_size=256, weight_decay=1e-4, schedule="step",
                                 step_size=30, crop="random-resized", pca_std=0.0, ten_crop=False,
                                 extras={"source": "torchvision references/classification (README, train.py)"})

# The offline CPU demo: the synthetic dataset of demo.py at 72 px, cropped to 64. Changed from the
# paper, and why: torchvision's convolutions (its adaptive pool accepts a 64 px input; C1 keeps its
# 64 11x11 filters), F9/F10 narrowed to 512 and F11 to the 12 classes with He-scaled weights (the
# 58M-parameter head would cost most of a CPU step and learn slowly from 1,920 images; so the
# checkpoint is not a full torchvision network), He-scaled convolutions (PyTorch's default init
# shrinks the signal ~6x a layer: the loss sat at ln 12 for 120 steps, measured) with C1 at the
# paper's N(0, 0.01) (its filters start as faint noise, so what training adds shows in minutes:
# after 120 steps at lr 0.02, structure 0.58 against 0.03 with C1 He-scaled too), 64 px crops, batch
# 32, the paper's lr 0.01 (from this start lr 0.02 blew up in epoch 3: loss 1.6 -> 4.6, measured),
# step drop after 4 epochs, no flips (a flip turns a 45 degree edge into a 135 degree one), no PCA
# noise (colour is a class here), 5 epochs.
DEMO_RECIPE = TrainConfig(variant="torchvision", recipe="demo", demo=True, epochs=5, batch_size=32, lr=0.01,
                          schedule="step", step_size=4, input_size=64, resize=72, flip=False, pca_std=0.0,
                          ten_crop=False, fc_width=512, num_classes=0, log_every=10, he_convs=True, c1_std=0.01,
                          extras={"source": "alexnet_viz demo (see alexnet_viz/train/config.py)"})

RECIPES: dict[str, TrainConfig] = {"paper": PAPER_RECIPE, "torchvision": TORCHVISION_RECIPE, "demo": DEMO_RECIPE}
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TrainConfig))


def dropout_help() -> str:
    """`train --dropout`'s help, per variant: the paper's network drops F9's and F10's outputs, after their
    ReLU (Sec 4.2, cuda-convnet2's dropout layers take the FC outputs); torchvision's drops their inputs."""
    after = [name for name, spec in VARIANTS.items() if not spec.dropout_first]
    before = [name for name, spec in VARIANTS.items() if spec.dropout_first]
    layers = " and ".join(f"{lay.name}'s" for lay in VARIANTS[after[0]].layers if lay.dropout)
    return (f"dropout probability (paper: 0.5). --variant {'/'.join(after)}: on {layers} outputs, after their ReLU "
            f"(paper Sec 4.2); --variant {'/'.join(before)}: on their inputs, before each Linear")


def runs_root() -> Path:
    """Where runs go by default and where the app looks: $ALEXNET_RUNS, else ./runs."""
    return Path(os.environ.get(RUNS_ENV) or "runs")


def resolve(variant: str | None = None, *, demo: bool = False, **given: object) -> TrainConfig:
    """The recipe for `variant` (paper's for paper/article, torchvision's for torchvision, demo's with
    demo=True) with the given overrides applied; None means "not given"."""
    if variant is not None and variant not in VARIANTS:
        raise AlexVizError(f"Unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}.")
    if demo:
        base = DEMO_RECIPE
    else:
        base = TORCHVISION_RECIPE if variant == "torchvision" else PAPER_RECIPE
    unknown = sorted(set(given) - set(FIELDS))
    if unknown:
        raise AlexVizError(f"Unknown training options: {', '.join(unknown)}.")
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if variant is not None:
        changes["variant"] = variant
    config = replace(base, **changes)
    if not config.demo and not config.data and not config.dataset:
        raise AlexVizError("No training data: give --data DIR (an ImageFolder: train/ and val/, or one folder "
                           "of class folders), --dataset cifar10|imagenette, or --demo.")
    if config.batch_size < 1 or config.epochs < 1 or config.lr <= 0:
        raise AlexVizError("--batch-size and --epochs must be at least 1 and --lr positive.")
    if not 0.0 < config.val_fraction < 1.0:
        raise AlexVizError("--val-fraction must be between 0 and 1.")
    if not config.run_dir:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        config = replace(config, run_dir=str(runs_root() / f"{config.recipe}-{config.variant}-{stamp}"))
    return config


def load_config(path: str | Path) -> TrainConfig:
    """A run's config.json back as a TrainConfig (resume reads the run's own settings)."""
    raw = json.loads(Path(path).read_text())
    return TrainConfig(**{k: v for k, v in raw.items() if k in FIELDS})
