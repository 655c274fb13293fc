"""`alexnet-viz bench`: latency, throughput and GFLOP/s against a matmul peak, measured in one run."""
from __future__ import annotations

import argparse
import sys

from alexnet_viz.cli.common import DEVICE_HELP, variant_spec
from alexnet_viz.core.precision import PRECISIONS
from alexnet_viz.core.spec import VARIANTS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="latency, throughput, GFLOP/s against a matmul peak, capture overhead",
                       description="Measures, in one run on one device: batch-1 latency and batch-N throughput of "
                                   "each variant in float32 and bf16 (weights cast once, channels_last), the GFLOP/s "
                                   "they achieve as a share of a 2048x2048 matmul in the same precision, and how "
                                   "much activation capture costs over a plain forward.")
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    p.add_argument("--batch-size", type=int, default=16, metavar="N", help="batch for the throughput figure")
    p.add_argument("--repeats", type=int, default=10, metavar="R", help="timed runs per figure (median reported)")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["article", "torchvision"])
    p.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=list(PRECISIONS),
                   help="each measured against its own matmul peak (default: all)")
    p.add_argument("--threads", type=int, default=None, metavar="T",
                   help="CPU threads for torch (default: torch's own choice); 1 is steadier on a busy machine")
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alexnet_viz.analysis.bench import report

    specs = [variant_spec(v) for v in args.variants]
    sys.stdout.write(report(specs, device=args.device, batch_size=args.batch_size, repeats=args.repeats,
                            precisions=args.precisions, threads=args.threads, as_json=args.json))
    return 0
