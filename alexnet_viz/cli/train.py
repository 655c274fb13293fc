"""`alexnet-viz train`: AlexNet trained with the paper's recipe by default; under torchrun each process runs it."""
from __future__ import annotations

import argparse
import sys

from alexnet_viz.cli.common import DEVICE_HELP
from alexnet_viz.core.precision import AUTOCAST
from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.errors import AlexVizError
from alexnet_viz.train.config import dropout_help


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train AlexNet: the paper's recipe, a folder of images, torchrun-ready",
                       description="Defaults follow the paper (batch 128, SGD momentum 0.9, weight decay 5e-4, lr "
                                   "0.01 divided by 10 on a validation plateau, 90 epochs, random crops of the "
                                   "256-resized image, flips, PCA colour noise, 10-crop test) for --variant "
                                   "paper|article, torchvision's reference recipe for --variant torchvision. "
                                   "Launch with torchrun for DistributedDataParallel; --batch-size is global.")
    p.add_argument("--variant", choices=list(VARIANTS), default=None, help="default: article (demo: torchvision)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", metavar="DIR", help="ImageFolder: DIR/train/<class>/ and DIR/val/<class>/, or "
                                                   "DIR/<class>/ split by --split-seed")
    src.add_argument("--dataset", choices=("cifar10", "imagenette"), help="download through torchvision")
    p.add_argument("--demo", action="store_true", help="the CPU demo recipe, on a generated dataset unless --data "
                                                       "or --dataset is given; minutes on a CPU")
    p.add_argument("--run-dir", metavar="RUN", help="default: $ALEXNET_RUNS (else ./runs)/<recipe>-<variant>-<time>")
    p.add_argument("--resume", action="store_true", help="continue --run-dir exactly where it stopped")
    # (type, help): every default is the recipe's (paper, torchvision or demo), written to RUN/config.json.
    num: dict[str, tuple[type, str]] = {
        "epochs": (int, "passes over the training set (paper: 90)"),
        "batch_size": (int, "global batch, split over torchrun's processes (paper: 128)"),
        "lr": (float, "initial learning rate (paper: 0.01)"),
        "momentum": (float, "SGD momentum (paper: 0.9)"),
        "weight_decay": (float, "L2 weight decay (paper: 5e-4)"),
        "lr_factor": (float, "what each drop multiplies the lr by (paper: 0.1)"),
        "patience": (int, "plateau schedule: epochs without a better validation error before a drop"),
        "step_size": (int, "step schedule: epochs between drops"),
        "dropout": (float, dropout_help()),
        "input_size": (int, "crop side (default: the variant's own, 224 or 227)"),
        "resize": (int, "shorter side before cropping (paper: 256)"),
        "pca_std": (float, "sigma of the PCA colour noise (paper: 0.1; 0 turns it off)"),
        "seed": (int, "seed of weights, augmentation and sampling order"),
        "split_seed": (int, "seed of the train/val split of a folder without val/"),
        "val_fraction": (float, "share of a folder without val/ held out for validation"),
        "workers": (int, "DataLoader worker processes per training process"),
        "threads": (int, "CPU threads for torch"),
        "log_every": (int, "optimiser steps per line of metrics.jsonl"),
        "max_steps": (int, "stop (saving everything) after this many steps in this invocation"),
        "demo_per_class": (int, "training images per class of the generated demo set"),
        "fc_width": (int, "outputs of F9 and F10 (default: the variant's 4096)"),
        "num_classes": (int, "outputs of F11 (default: the variant's 1000, which fits every page; "
                        "0: the data's class count)"),
    }
    for name, (kind, help_text) in num.items():
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=None, metavar="N" if kind is int else "X",
                       help=help_text)
    p.add_argument("--schedule", choices=("plateau", "step"), default=None,
                   help="plateau: drop the lr when validation error stops improving (paper); step: every --step-size")
    p.add_argument("--crop", choices=("random", "random-resized"), default=None,
                   help="random: the paper's crops of the resized image; random-resized: torchvision's")
    p.add_argument("--autocast", choices=AUTOCAST, default=None, help="bf16 (CUDA or CPU) or fp16 (CUDA)")
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    for name, help_text in (("flip", "horizontal flips"), ("ten-crop", "final 10-crop evaluation"),
                            ("channels-last", "channels_last memory format"), ("pin-memory", "pinned host memory"),
                            ("compile", "torch.compile the model")):
        p.add_argument("--" + name, dest=name.replace("-", "_"), action=argparse.BooleanOptionalAction,
                       default=None, help=help_text)
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alexnet_viz.train.config import FIELDS, resolve
    from alexnet_viz.train.loop import resume_config, train

    if args.resume:
        if not args.run_dir:
            raise AlexVizError("--resume needs --run-dir RUN, the directory of the run to continue.")
        config = resume_config(args.run_dir, max_steps=args.max_steps, epochs=args.epochs,
                               progress=not args.no_progress, workers=args.workers, threads=args.threads)
    else:
        given = {k: getattr(args, k) for k in FIELDS if k not in ("variant", "demo", "resume", "progress", "extras")
                 and getattr(args, k, None) is not None}
        config = resolve(args.variant, demo=args.demo, progress=not args.no_progress, **given)
    result = train(config)
    if result.stopped != "done":
        print(f"stopped ({result.stopped}) at epoch {result.epoch}, step {result.global_step}; continue with "
              f"--resume --run-dir {result.run_dir}", file=sys.stderr)
        return 130 if result.stopped == "interrupted" else 0
    elif result.val_top1 is not None:
        print(f"done: {result.epoch} epochs, validation top-1 {100 * result.val_top1:.1f}% in {result.run_dir}",
              file=sys.stderr)
    return 0
