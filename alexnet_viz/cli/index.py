"""`alexnet-viz index FOLDER --out INDEX`: each channel's top images in a folder, for the unit page.

Under `torchrun --nproc_per_node=N -m alexnet_viz index ...` every rank runs this command: the
ranks share the folder, rank 0 writes the merged index, and they leave the process group together.
"""
from __future__ import annotations

import argparse
import os
import sys

from alexnet_viz.cli.common import add_model_arguments, chosen_weights, variant_spec
from alexnet_viz.core.precision import PRECISIONS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="dataset examples: each channel's top images in a folder, for the unit page",
                       description="Runs the network over every image under FOLDER and keeps, for each channel of "
                                   "each conv and pooling layer, the top-k images and the receptive-field box of "
                                   "the unit that fires most, in one .npz the app opens (offer it with "
                                   "ALEXNET_INDEX=PATH). Unreadable files get one error line each. Under "
                                   "`torchrun --nproc_per_node=N -m alexnet_viz index ...` the ranks share the "
                                   "folder and rank 0 writes the merged index.")
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument("--out", required=True, metavar="INDEX", help="the .npz file to write")
    p.add_argument("--top-k", type=int, default=16, metavar="K", help="images kept per channel")
    add_model_arguments(p)
    p.add_argument("--batch-size", type=int, default=32, metavar="N")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="image-decoding worker processes (default: min(2, CPU count))")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="weights cast once to this dtype, channels_last (bf16: the CPU's bf16 units)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build, save on rank 0, say what was done; under torchrun the ranks leave together."""
    from alexnet_viz.analysis.index import build_index, check_writable, save_index
    from alexnet_viz.train import ddp

    with ddp.leaving_together():
        if int(os.environ.get("RANK", "0")) == 0:
            check_writable(args.out)
        index = build_index(args.folder, spec=variant_spec(args.variant), weights=chosen_weights(args.weights),
                            device=args.device, k=args.top_k, batch_size=args.batch_size, workers=args.workers,
                            precision=args.precision)
        if index is not None:
            path = save_index(index, args.out)
            print(f"indexed {len(index.files) - len(index.errors)} images of {args.folder} ({len(index.errors)} "
                  f"unreadable) into {path}", file=sys.stderr)
        return 0
