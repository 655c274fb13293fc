"""`alexnet-viz experiment relu-vs-tanh`: the paper's Figure 1, epochs to 25 % training error."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("experiment", help="relu-vs-tanh: the paper's Figure 1 (epochs to 25%% training error)")
    p.add_argument("name", choices=("relu-vs-tanh",))
    p.add_argument("--dataset", choices=("cifar10", "demo"), default="cifar10",
                   help="cifar10 (downloaded by torchvision; the demo set when that fails) or demo")
    p.add_argument("--epochs", type=int, default=30, metavar="N", help="most epochs per network")
    p.add_argument("--batch-size", type=int, default=64, metavar="N")
    p.add_argument("--images", type=int, default=5000, metavar="N", help="training images used")
    p.add_argument("--lrs", type=float, nargs="+", default=[0.003, 0.01, 0.03], metavar="LR",
                   help="learning rates tried for each network (one epoch each; the best is kept)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, metavar="T")
    p.add_argument("--out", default=None, metavar="FILE", help="default: $ALEXNET_RUNS/relu-vs-tanh.json")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from alexnet_viz.train import experiment

    result = experiment.run(dataset=args.dataset, epochs=args.epochs, batch=args.batch_size, images=args.images,
                            lrs=tuple(args.lrs), seed=args.seed, out=args.out, threads=args.threads)
    sys.stdout.write(experiment.describe(result))
    return 0
