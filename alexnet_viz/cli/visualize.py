"""`alexnet-viz visualize`: a folder of feature visualisations, images optimised to excite units of a layer."""
from __future__ import annotations

import argparse

from alexnet_viz.cli.common import add_model_arguments, chosen_weights, variant_spec
from alexnet_viz.core.precision import PRECISIONS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("visualize", help="feature visualisations: images optimised to excite units of a layer",
                       description="For each unit, an image optimised (Lucid-style: Fourier parameterisation, "
                                   "decorrelated colour, random jitter/scale/rotation, Adam) to excite it: a conv "
                                   "or pool channel's mean, or one fc unit (F11: a class logit). One PNG per unit "
                                   "and gallery.png in --out; rerunning skips finished units.")
    p.add_argument("--layer", required=True, metavar="NAME", help="C1, S2, C3, ... or F11 for class logits")
    p.add_argument("--channels", default="all", metavar="LIST", help="e.g. 0-31 or 3,7,9-11 (default: all)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--steps", type=int, default=256, metavar="N", help="optimisation steps per unit")
    p.add_argument("--size", type=int, default=None, metavar="PX",
                   help="image side (default: 128 for conv/pool layers, the network's input for fc ones)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--diversity", type=int, default=1, metavar="K", help="K different images per unit (K > 1)")
    p.add_argument("--precision", choices=PRECISIONS, default="float32", help="bf16: weights cast once")
    add_model_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alexnet_viz.analysis.featviz import Settings
    from alexnet_viz.figures.gallery import gallery

    settings = Settings(steps=args.steps, size=args.size, lr=args.lr, seed=args.seed, batch=args.diversity,
                        diversity=1.0 if args.diversity > 1 else 0.0, precision=args.precision)
    folder = gallery(args.layer, args.channels, args.out, settings=settings, spec=variant_spec(args.variant),
                     weights=chosen_weights(args.weights), device=args.device)
    print(f"gallery: {folder}")
    return 0
