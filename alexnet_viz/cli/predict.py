"""`alexnet-viz predict`: classify images and folders, one bad file never stops the rest.

The files are decoded in worker processes and classified in batches (alexnet_viz.analysis.classify);
this module reads the command line and prints the results as a table or one JSON document.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from alexnet_viz.cli.common import add_model_arguments, chosen_weights, variant_spec
from alexnet_viz.core.precision import AUTOCAST, PRECISIONS
from alexnet_viz.errors import AlexVizError, ImageError

FORMATS = ("table", "json")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="top-k ImageNet classes for images and folders of images",
                       description="Classify images. Folders are searched recursively for PNG, JPEG, WebP, GIF "
                                   "and BMP files; a file that cannot be read gets an error line and the rest go "
                                   "on. --format json prints one JSON document: a list with one object per image, "
                                   '{"path", "top": [{"label", "prob", "index"}, ...]} or {"path", "error"}.')
    p.add_argument("paths", nargs="+", metavar="IMAGE_OR_FOLDER")
    add_model_arguments(p)
    p.add_argument("--topk", type=int, default=5, metavar="K")
    p.add_argument("--batch-size", type=int, default=16, metavar="N")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="image-decoding worker processes (default: min(2, CPU count))")
    p.add_argument("--autocast", choices=AUTOCAST, default=None, help="mixed precision (CUDA, or bf16 on CPU)")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="weights cast once to this dtype, channels_last (bf16: the CPU's bf16 units)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=run)


def _table(results: list[dict], header: list[str]) -> str:
    lines = [*header, ""]
    for result in results:
        lines.append(result["path"])
        if "error" in result:
            lines.append(f"  error: {result['error']}")
            continue
        for rank, top in enumerate(result["top"], 1):
            lines.append(f"  {rank:>2}. {top['prob'] * 100:6.2f}%  {top['label']}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Classify every input and print the results; exit 0 when at least one image was classified.

    The network runs as a twin in `--precision` (weights cast once, channels_last): bf16 uses the
    CPU's bf16 units where it has them, at about a third of a float32 logit's precision.
    """
    from alexnet_viz.analysis.classify import classify
    from alexnet_viz.core.casting import dtype_of, twin
    from alexnet_viz.core.device import device_name, pick_device
    from alexnet_viz.core.weights import load_model
    from alexnet_viz.inputs.imagefiles import collect

    if args.topk < 1 or args.batch_size < 1 or (args.workers is not None and args.workers < 0):
        raise AlexVizError("--topk and --batch-size must be at least 1, --workers at least 0.")
    spec, weights = variant_spec(args.variant), chosen_weights(args.weights)
    entries = collect(args.paths)
    dev = pick_device(args.device)
    dtype_of(args.precision)  # an unknown name fails before any file is read
    model = twin(load_model(spec, weights, device=dev), args.precision)
    n_workers = min(2, os.cpu_count() or 1) if args.workers is None else args.workers
    files = [path for path, error in entries if error is None]
    classified = iter(classify(files, model, topk=args.topk, batch_size=args.batch_size, workers=n_workers,
                               autocast=args.autocast, precision=args.precision))
    results = [next(classified) if error is None else {"path": path, "error": error} for path, error in entries]
    provenance = model.provenance
    if provenance is None:  # load_model always records it; a model built another way has none to show
        raise AlexVizError("The model has no weights provenance; load it with alexnet_viz.load_model.")
    header = [f"weights: {provenance.describe()}", f"device: {device_name(dev)} · {args.precision}"]
    if args.format == "json":
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        print("\n".join(header), file=sys.stderr)
    else:
        sys.stdout.write(_table(results, header))
    if provenance.source == "random":
        print("warning: the weights are random, so these predictions mean nothing; use --weights imagenet "
              "(or a file) for real ones.", file=sys.stderr)
    if not any("top" in r for r in results):
        raise ImageError(f"None of the {len(results)} input(s) could be classified; see the errors above.")
    return 0
