"""One run, two questions: how long one channel's feature visualisation takes, and what indexing costs.

    .venv/bin/python -m scripts.bench_unit [--images 64] [--threads T] [--json]

Feature visualisation: wall seconds for one channel at the default settings (256 steps, 128 px)
of C3 and C7, float32 and bfloat16 (weights cast once), after one short warm-up.
Index: over the same N photos (random crops of the bundled samples, written to a temporary
folder), images/s of (a) the DataLoader alone (decode + preprocess, 2 workers), (b) a plain
forward of the conv stack the index runs (to S8) over the already-decoded batches, (c) the
index's forward with its bookkeeping over the same batches ((b) and (c) alternated three times,
medians), and (d) the whole `index` pipeline, loader included. The ratio (c)/(b) is the
bookkeeping's cost; (a) against (b) names the bottleneck.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from alexnet_viz.analysis.featviz import Settings, visualize
from alexnet_viz.analysis.index import Tracker, build_index, index_batches, spatial_layers
from alexnet_viz.core.casting import cast_input, twin
from alexnet_viz.core.precision import PRECISIONS
from alexnet_viz.core.weights import load_model
from alexnet_viz.core.weightschoice import RANDOM
from alexnet_viz.inputs.imagefiles import ImageFiles, collect, loader

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "assets" / "samples"


def _photos(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    sources = [Image.open(p).convert("RGB") for p in sorted(SAMPLES.glob("*.jpg"))]
    for i in range(n):
        img = sources[i % len(sources)]
        w, h = img.size
        side = int(min(w, h) * rng.uniform(0.6, 1.0))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        img.crop((x, y, x + side, y + side)).save(folder / f"p{i:04d}.jpg", quality=90)


def featviz_seconds(model) -> dict[str, float]:
    out = {}
    visualize(model, "C3", 0, Settings(steps=8))  # warm-up: allocator, kernels
    for layer in ("C3", "C7"):
        for precision in PRECISIONS:
            start = time.perf_counter()
            visualize(model, layer, 0, Settings(precision=precision))
            out[f"{layer} {precision}"] = time.perf_counter() - start
    return out


def index_rates(model, folder: Path, batch: int) -> dict[str, float]:
    files = [p for p, err in collect([str(folder)]) if err is None]
    dataset = ImageFiles(files, model.spec)
    start = time.perf_counter()
    batches = [(np.asarray(ids), x) for ids, x, _ in loader(dataset, batch, 2)]
    decoded = len(files) / (time.perf_counter() - start)
    tracker = Tracker(spatial_layers(model), 16)
    # Like for like: the index stops after the last conv/pool layer and runs a float32 channels_last
    # twin, so the plain pass is that twin's conv stack (features and the adaptive pool) alone.
    net = twin(model, "float32")

    def plain_pass() -> None:
        with torch.inference_mode():
            for _, x in batches:
                net.avgpool(net.features(cast_input(x, "float32")))

    plain_times, index_times = [], []
    plain_pass()  # warm-up
    for _ in range(3):  # alternated, so a busy moment on a shared machine hits both alike
        start = time.perf_counter()
        plain_pass()
        plain_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        index_batches(model, batches, tracker)
        index_times.append(time.perf_counter() - start)
    plain = len(files) / float(np.median(plain_times))
    indexed = len(files) / float(np.median(index_times))
    start = time.perf_counter()
    build_index(folder, spec=model.spec, weights=RANDOM, batch_size=batch, workers=2)
    pipeline = len(files) / (time.perf_counter() - start)
    return {"loader img/s": decoded, "plain forward img/s": plain, "index forward img/s": indexed,
            "index / plain": indexed / plain, "whole index command img/s": pipeline}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads; 1 is steadier on a busy machine")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model("article", "random")
    result: dict[str, object] = {"threads": torch.get_num_threads(), "load average": os.getloadavg()[0]}
    result["featviz seconds"] = featviz_seconds(model)
    with tempfile.TemporaryDirectory() as tmp:
        _photos(Path(tmp), args.images)
        result["index"] = index_rates(model, Path(tmp), args.batch_size)
    result["load average after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            if isinstance(value, dict):
                for k, v in value.items():
                    print(f"{key}: {k}: {v:.2f}")
            else:
                print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
