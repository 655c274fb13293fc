"""Command line: `python -m alexnet_viz summary|errata|predict|bench`.

Each subcommand's work lives in the library; this module parses arguments and turns the
library's errors into a one-line message and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable

from .errors import AlexVizError
from .ledger import ledger
from .report import FORMATS, render
from .spec import VARIANTS


def _summary(args: argparse.Namespace) -> int:
    sys.stdout.write(render(ledger(args.variant, args.input_size), args.format))
    return 0


def _delegate(module: str) -> Callable[[argparse.Namespace], int]:
    """Subcommands whose work needs torch import it only when they run."""
    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(f".{module}", __package__).run_cli(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alexnet_viz", description="AlexNet, computed and explained.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("summary", help="the layer ledger: shapes, parameters, MACs, memory, receptive fields")
    p.add_argument("--variant", choices=list(VARIANTS), default="article")
    p.add_argument("--input-size", type=int, default=None, help="square input side (default: the variant's own)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=_summary)

    p = sub.add_parser("errata", help="every numeric claim of the article with computed evidence and a verdict")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.set_defaults(func=_delegate("errata"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except AlexVizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
