"""What several commands share: the --variant, --weights and --device arguments and their help."""
from __future__ import annotations

import argparse

from alexnet_viz.core.spec import VARIANTS

DEVICE_HELP = "auto (default), cpu, cuda, cuda:N or mps"


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--variant, --weights and --device: the network every model-using subcommand takes."""
    p.add_argument("--variant", choices=list(VARIANTS), default="article")
    p.add_argument("--weights", default=None, metavar="imagenet|random|PATH",
                   help="default: $ALEXNET_WEIGHTS, else imagenet when it is already downloaded, else random")
    p.add_argument("--device", default=None, help=DEVICE_HELP)


__all__ = ["DEVICE_HELP", "add_model_arguments"]
