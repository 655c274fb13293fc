"""Command line: `alexnet-viz COMMAND` (or `python -m alexnet_viz COMMAND`).

One module per command, each with its parser (`add_parser`) and its handler (`run`); this package
only composes them. A handler calls typed library functions and the library's errors become a
one-line message and a non-zero exit, never a traceback. Handlers import torch-heavy modules only
when they run, so `summary` stays instant.
"""
from __future__ import annotations

import argparse
import sys

from alexnet_viz.cli import (
    bench,
    errata,
    experiment,
    index,
    loadtest,
    predict,
    serve,
    summary,
    train,
    visualize,
    weights,
)
from alexnet_viz.errors import AlexVizError

COMMANDS = (summary, errata, predict, bench, weights, serve, loadtest, visualize, index, train, experiment)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alexnet-viz", description="AlexNet, computed and explained.")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except AlexVizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


__all__ = ["COMMANDS", "build_parser", "main"]
