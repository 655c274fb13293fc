"""`alexnet-viz weights download|where|verify`: the ImageNet weights file, fetched and checked."""
from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="the ImageNet weights file: download it, show where it goes, check a file",
                       description="download: fetch torchvision's ImageNet AlexNet weights into the torch hub cache "
                                   "(TORCH_HOME) with a progress bar and check their SHA-256; where: print that "
                                   "path; verify [PATH]: hash a weights file (default: the cached one) and compare "
                                   "it with the hash its name promises. Exit status 1 on a mismatch.")
    p.add_argument("action", choices=("download", "where", "verify"))
    p.add_argument("path", nargs="?", default=None, metavar="PATH", help="the file to verify")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
