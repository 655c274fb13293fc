"""`alexnet-viz errata`: every numeric claim of the article with computed evidence and a verdict."""
from __future__ import annotations

import argparse
import sys

from alexnet_viz.errata import FORMATS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("errata", help="every numeric claim of the article with computed evidence and a verdict")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alexnet_viz import errata

    sys.stdout.write(errata.render(errata.findings(), args.format))
    return 0
