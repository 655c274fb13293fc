"""How much of "AlexNet's ideas" a rerun skips, and what batching the ten test crops saves.

    ALEXNET_WEIGHTS=random python -m scripts.ideas_timing

Runs the page under Streamlit's AppTest (first run: the model, every cached result; rerun: caches
only), then times the ten crops as one batch against ten single forwards (medians of 5), and prints
the ratios from this one run.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main() -> int:
    os.environ.setdefault("ALEXNET_WEIGHTS", "random")
    os.environ.setdefault("ALEXNET_DEVICE", "cpu")
    import torch
    from streamlit.testing.v1 import AppTest

    from alexnet_viz.core.model import build_model
    from alexnet_viz.core.spec import ARTICLE
    from alexnet_viz.ideas.augment import base_image, ten_crops, to_batch
    from alexnet_viz.inputs.images import load_image

    at = AppTest.from_file(str(ROOT / "app_pages" / "ideas.py"), default_timeout=600)
    start = time.perf_counter()
    at.run()
    cold = time.perf_counter() - start
    if at.exception:
        print(at.exception[0].value, file=sys.stderr)
        return 1
    start = time.perf_counter()
    at.run()
    warm = time.perf_counter() - start
    print(f"ideas page: first run {cold:.2f} s, rerun {warm:.2f} s ({cold / warm:.0f}× less on a rerun)")

    model = build_model(ARTICLE, seed=0)
    x = to_batch(ten_crops(base_image(load_image(ROOT / "assets" / "samples" / "cat.jpg")), 224))
    with torch.inference_mode():
        model(x)
        batch = _median_ms(lambda: model(x))
        single = _median_ms(lambda: [model(x[i:i + 1]) for i in range(10)])
    print(f"ten crops: one batch {batch:.0f} ms, ten single forwards {single:.0f} ms ({single / batch:.2f}×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
