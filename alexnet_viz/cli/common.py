"""What several commands share: the --variant, --weights and --device arguments, and where they are resolved.

The command line is an edge: a variant name becomes a Spec here (`variant_spec`) and --weights a
WeightsChoice (`chosen_weights`, through the library's one parser), once, and the commands pass
those typed values inward.
"""
from __future__ import annotations

import argparse

from alexnet_viz.core.spec import VARIANTS, Spec, get_spec
from alexnet_viz.core.weightschoice import WeightsChoice, parse_weights

DEVICE_HELP = "auto (default), cpu, cuda, cuda:N or mps"


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--variant, --weights and --device: the network every model-using subcommand takes."""
    p.add_argument("--variant", choices=list(VARIANTS), default="article")
    p.add_argument("--weights", default=None, metavar="imagenet|random|PATH",
                   help="default: $ALEXNET_WEIGHTS, else imagenet when it is already downloaded, else random")
    p.add_argument("--device", default=None, help=DEVICE_HELP)


def variant_spec(name: str) -> Spec:
    """A --variant (or --variants) name as its spec: the command line's one resolution of a variant."""
    return get_spec(name)


def chosen_weights(text: str | None) -> WeightsChoice:
    """--weights parsed by the library's parser; absent or empty: $ALEXNET_WEIGHTS, else imagenet when cached,
    else random (alexnet_viz.core.weights.default_weights)."""
    if text:
        return parse_weights(text)
    from alexnet_viz.core.weights import default_weights

    return default_weights()


__all__ = ["DEVICE_HELP", "add_model_arguments", "chosen_weights", "variant_spec"]
