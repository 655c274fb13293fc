"""Command line: `alexnet-viz` (or `python -m alexnet_viz`) summary|errata|predict|bench|weights|serve|visualize|index.

This module owns argument parsing; each handler calls one typed library function and turns the
library's errors into a one-line message and a non-zero exit, never a traceback. Handlers import
torch-heavy modules only when they run, so `summary` stays instant.
"""
from __future__ import annotations

import argparse
import sys

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.precision import AUTOCAST, PRECISIONS
from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.errata import FORMATS as ERRATA_FORMATS
from alexnet_viz.errors import AlexVizError
from alexnet_viz.report import FORMATS, render
from alexnet_viz.train.config import dropout_help

DEVICE_HELP = "auto (default), cpu, cuda, cuda:N or mps"


def _summary(args: argparse.Namespace) -> int:
    sys.stdout.write(render(ledger(args.variant, args.input_size), args.format))
    return 0


def _errata(args: argparse.Namespace) -> int:
    from alexnet_viz import errata

    sys.stdout.write(errata.render(errata.findings(), args.format))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from alexnet_viz.cli.predict import run

    return run(args.paths, variant=args.variant, weights=args.weights, device=args.device, topk=args.topk,
               batch_size=args.batch_size, workers=args.workers, autocast=args.autocast, precision=args.precision,
               fmt=args.format)


def _bench(args: argparse.Namespace) -> int:
    from alexnet_viz.analysis.bench import report

    sys.stdout.write(report(args.variants, device=args.device, batch_size=args.batch_size, repeats=args.repeats,
                            precisions=args.precisions, threads=args.threads, as_json=args.json))
    return 0


def _weights(args: argparse.Namespace) -> int:
    from alexnet_viz.core import weights

    if args.action == "where":
        print(weights.imagenet_path())
        return 0
    if args.action == "download":
        path, sha = weights.fetch_imagenet(progress=True, retry=True)
        print(f"{path}\nSHA-256 {sha} (verified)")
        return 0
    verdict = weights.verify_file(args.path)
    print(f"{verdict.path}\nSHA-256 {verdict.sha256}")
    if verdict.ok is None:
        print("No expected hash is known for this file name (torchvision-style names carry one: name-1234abcd.pth).")
        return 0
    print(f"OK: expected {verdict.expected}" if verdict.ok else f"MISMATCH: expected {verdict.expected}; do not use it")
    return 0 if verdict.ok else 1


def _serve(args: argparse.Namespace) -> int:
    from alexnet_viz.serving.serve import serve

    return serve(args.replicas, port=args.port, bind=args.bind, run_dir=args.run_dir)


def _visualize(args: argparse.Namespace) -> int:
    from alexnet_viz.analysis.featviz import Settings
    from alexnet_viz.analysis.gallery import gallery

    settings = Settings(steps=args.steps, size=args.size, lr=args.lr, seed=args.seed, batch=args.diversity,
                        diversity=1.0 if args.diversity > 1 else 0.0, precision=args.precision)
    folder = gallery(args.layer, args.channels, args.out, settings=settings, variant=args.variant,
                     weights=args.weights, device=args.device)
    print(f"gallery: {folder}")
    return 0


def _index(args: argparse.Namespace) -> int:
    from alexnet_viz.analysis.index import run

    return run(args.folder, args.out, variant=args.variant, weights=args.weights, device=args.device, k=args.top_k,
               batch_size=args.batch_size, workers=args.workers, precision=args.precision)


# --- train (issue 14): the paper's recipe by default; under torchrun each process runs this handler ---
def _train(args: argparse.Namespace) -> int:
    from alexnet_viz.train.config import FIELDS, resolve
    from alexnet_viz.train.loop import resume_config, train

    if args.resume:
        if not args.run_dir:
            raise AlexVizError("--resume needs --run-dir RUN, the directory of the run to continue.")
        config = resume_config(args.run_dir, max_steps=args.max_steps, epochs=args.epochs,
                               progress=not args.no_progress, workers=args.workers, threads=args.threads)
    else:
        given = {k: getattr(args, k) for k in FIELDS if k not in ("variant", "demo", "resume", "progress", "extras")
                 and getattr(args, k, None) is not None}
        config = resolve(args.variant, demo=args.demo, progress=not args.no_progress, **given)
    result = train(config)
    if result.stopped != "done":
        print(f"stopped ({result.stopped}) at epoch {result.epoch}, step {result.global_step}; continue with "
              f"--resume --run-dir {result.run_dir}", file=sys.stderr)
        return 130 if result.stopped == "interrupted" else 0
    elif result.val_top1 is not None:
        print(f"done: {result.epoch} epochs, validation top-1 {100 * result.val_top1:.1f}% in {result.run_dir}",
              file=sys.stderr)
    return 0


def _add_train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train AlexNet: the paper's recipe, a folder of images, torchrun-ready",
                       description="Defaults follow the paper (batch 128, SGD momentum 0.9, weight decay 5e-4, lr "
                                   "0.01 divided by 10 on a validation plateau, 90 epochs, random crops of the "
                                   "256-resized image, flips, PCA colour noise, 10-crop test) for --variant "
                                   "paper|article, torchvision's reference recipe for --variant torchvision. "
                                   "Launch with torchrun for DistributedDataParallel; --batch-size is global.")
    p.add_argument("--variant", choices=list(VARIANTS), default=None, help="default: article (demo: torchvision)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", metavar="DIR", help="ImageFolder: DIR/train/<class>/ and DIR/val/<class>/, or "
                                                   "DIR/<class>/ split by --split-seed")
    src.add_argument("--dataset", choices=("cifar10", "imagenette"), help="download through torchvision")
    p.add_argument("--demo", action="store_true", help="the CPU demo recipe, on a generated dataset unless --data "
                                                       "or --dataset is given; minutes on a CPU")
    p.add_argument("--run-dir", metavar="RUN", help="default: $ALEXNET_RUNS (else ./runs)/<recipe>-<variant>-<time>")
    p.add_argument("--resume", action="store_true", help="continue --run-dir exactly where it stopped")
    # (type, help): every default is the recipe's (paper, torchvision or demo), written to RUN/config.json.
    num: dict[str, tuple[type, str]] = {
        "epochs": (int, "passes over the training set (paper: 90)"),
        "batch_size": (int, "global batch, split over torchrun's processes (paper: 128)"),
        "lr": (float, "initial learning rate (paper: 0.01)"),
        "momentum": (float, "SGD momentum (paper: 0.9)"),
        "weight_decay": (float, "L2 weight decay (paper: 5e-4)"),
        "lr_factor": (float, "what each drop multiplies the lr by (paper: 0.1)"),
        "patience": (int, "plateau schedule: epochs without a better validation error before a drop"),
        "step_size": (int, "step schedule: epochs between drops"),
        "dropout": (float, dropout_help()),
        "input_size": (int, "crop side (default: the variant's own, 224 or 227)"),
        "resize": (int, "shorter side before cropping (paper: 256)"),
        "pca_std": (float, "sigma of the PCA colour noise (paper: 0.1; 0 turns it off)"),
        "seed": (int, "seed of weights, augmentation and sampling order"),
        "split_seed": (int, "seed of the train/val split of a folder without val/"),
        "val_fraction": (float, "share of a folder without val/ held out for validation"),
        "workers": (int, "DataLoader worker processes per training process"),
        "threads": (int, "CPU threads for torch"),
        "log_every": (int, "optimiser steps per line of metrics.jsonl"),
        "max_steps": (int, "stop (saving everything) after this many steps in this invocation"),
        "demo_per_class": (int, "training images per class of the generated demo set"),
        "fc_width": (int, "outputs of F9 and F10 (default: the variant's 4096)"),
        "num_classes": (int, "outputs of F11 (default: the variant's 1000, which fits every page; "
                        "0: the data's class count)"),
    }
    for name, (kind, help_text) in num.items():
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=None, metavar="N" if kind is int else "X",
                       help=help_text)
    p.add_argument("--schedule", choices=("plateau", "step"), default=None,
                   help="plateau: drop the lr when validation error stops improving (paper); step: every --step-size")
    p.add_argument("--crop", choices=("random", "random-resized"), default=None,
                   help="random: the paper's crops of the resized image; random-resized: torchvision's")
    p.add_argument("--autocast", choices=AUTOCAST, default=None, help="bf16 (CUDA or CPU) or fp16 (CUDA)")
    p.add_argument("--device", default=None, help=DEVICE_HELP)
    for name, help_text in (("flip", "horizontal flips"), ("ten-crop", "final 10-crop evaluation"),
                            ("channels-last", "channels_last memory format"), ("pin-memory", "pinned host memory"),
                            ("compile", "torch.compile the model")):
        p.add_argument("--" + name, dest=name.replace("-", "_"), action=argparse.BooleanOptionalAction,
                       default=None, help=help_text)
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    p.set_defaults(func=_train)


# --- experiment (issue 14): the paper's Figure 1, ReLU against tanh ---
def _experiment(args: argparse.Namespace) -> int:
    from alexnet_viz.train import experiment

    result = experiment.run(dataset=args.dataset, epochs=args.epochs, batch=args.batch_size, images=args.images,
                            lrs=tuple(args.lrs), seed=args.seed, out=args.out, threads=args.threads)
    sys.stdout.write(experiment.describe(result))
    return 0


def _add_experiment_parser(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(func=_experiment)


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--variant, --weights and --device: the ModelKey every model-using subcommand takes."""
    p.add_argument("--variant", choices=list(VARIANTS), default="article")
    p.add_argument("--weights", default=None, metavar="imagenet|random|PATH",
                   help="default: $ALEXNET_WEIGHTS, else imagenet when it is already downloaded, else random")
    p.add_argument("--device", default=None, help=DEVICE_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alexnet-viz", description="AlexNet, computed and explained.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("summary", help="the layer ledger: shapes, parameters, MACs, memory, receptive fields")
    p.add_argument("--variant", choices=list(VARIANTS), default="article")
    p.add_argument("--input-size", type=int, default=None, help="square input side (default: the variant's own)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=_summary)

    p = sub.add_parser("errata", help="every numeric claim of the article with computed evidence and a verdict")
    p.add_argument("--format", choices=ERRATA_FORMATS, default="table")
    p.set_defaults(func=_errata)

    p = sub.add_parser("predict", help="top-k ImageNet classes for images and folders of images",
                       description="Classify images. Folders are searched recursively for PNG, JPEG, WebP, GIF "
                                   "and BMP files; a file that cannot be read gets an error line and the rest go "
                                   "on. --format json prints one JSON document: a list with one object per image, "
                                   '{"path", "top": [{"label", "prob", "index"}, ...]} or {"path", "error"}.')
    p.add_argument("paths", nargs="+", metavar="IMAGE_OR_FOLDER")
    _add_model_arguments(p)
    p.add_argument("--topk", type=int, default=5, metavar="K")
    p.add_argument("--batch-size", type=int, default=16, metavar="N")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="image-decoding worker processes (default: min(2, CPU count))")
    p.add_argument("--autocast", choices=AUTOCAST, default=None, help="mixed precision (CUDA, or bf16 on CPU)")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="weights cast once to this dtype, channels_last (bf16: the CPU's bf16 units)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_predict)

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
    p.set_defaults(func=_bench)

    p = sub.add_parser("weights", help="the ImageNet weights file: download it, show where it goes, check a file",
                       description="download: fetch torchvision's ImageNet AlexNet weights into the torch hub cache "
                                   "(TORCH_HOME) with a progress bar and check their SHA-256; where: print that "
                                   "path; verify [PATH]: hash a weights file (default: the cached one) and compare "
                                   "it with the hash its name promises. Exit status 1 on a mismatch.")
    p.add_argument("action", choices=("download", "where", "verify"))
    p.add_argument("path", nargs="?", default=None, metavar="PATH", help="the file to verify")
    p.set_defaults(func=_weights)

    p = sub.add_parser("serve", help="N Streamlit processes behind HAProxy: the layout for a whole class",
                       description="Starts --replicas Streamlit processes on loopback ports and HAProxy in front "
                                   "(sticky sessions, websockets, upload limits, health checks, /_stcore/metrics "
                                   "kept private); restarts a replica that exits. See docs/SERVING.md.")
    p.add_argument("--replicas", type=int, default=2, metavar="N")
    p.add_argument("--port", type=int, default=8501, help="the port people open (default 8501)")
    p.add_argument("--bind", default="127.0.0.1", help="the proxy's address; 0.0.0.0 to serve the network")
    p.add_argument("--run-dir", default=None, metavar="DIR",
                   help="haproxy.cfg and logs (default /tmp/alexnet-serve-PORT)")
    p.set_defaults(func=_serve)

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
    _add_model_arguments(p)
    p.set_defaults(func=_visualize)

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
    _add_model_arguments(p)
    p.add_argument("--batch-size", type=int, default=32, metavar="N")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="image-decoding worker processes (default: min(2, CPU count))")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="weights cast once to this dtype, channels_last (bf16: the CPU's bf16 units)")
    p.set_defaults(func=_index)

    _add_train_parser(sub)
    _add_experiment_parser(sub)
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
