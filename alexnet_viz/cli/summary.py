"""`alexnet-viz summary`: the layer ledger (shapes, parameters, MACs, memory, receptive fields) as text."""
from __future__ import annotations

import argparse
import sys

from alexnet_viz.cli.common import variant_spec
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.report import FORMATS, render


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="the layer ledger: shapes, parameters, MACs, memory, receptive fields")
    p.add_argument("--variant", choices=list(VARIANTS), default="article")
    p.add_argument("--input-size", type=int, default=None, help="square input side (default: the variant's own)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(render(ledger(variant_spec(args.variant), args.input_size), args.format))
    return 0
