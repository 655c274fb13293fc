"""What a learner sees in the first minutes of a run started from the Training page, measured once.

    python -m scripts.watch_bench [--minutes 5] [--runs DIR]

Starts the demo recipe as the page's Start button does (alexnet_viz.train.manager, 5 epochs), in
DIR (default: a new temporary folder, so the demo images are made first, as on a server's very
first run; a DIR whose .data/ holds them skips that), reads the run directory every half second
as the page's fragment does, and presses Stop after --minutes. Prints when the demo images were
ready, the first redrawn filters and the first loss appeared, the filter structure, loss and
accuracy minute by minute, and the load average and CPU beside them (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from alexnet_viz.train import manager, runs


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _state(run: Path) -> tuple[dict | None, dict | None]:
    """The newest snapshot's {step, epoch, structure} and the newest loss line."""
    latest = runs.latest_filters(run)
    train = [r for r in runs.read_metrics(run) if r.get("kind") == "train"]
    return (latest[1] if latest else None), (train[-1] if train else None)


def watch(root: Path, minutes: float) -> None:
    os.environ.pop(manager.PERMISSION_ENV, None)
    load = os.getloadavg()
    start = time.monotonic()
    active = manager.start(root, epochs=5)
    marks: dict[str, float] = {}
    report_at = 60.0
    while time.monotonic() - start < minutes * 60 and manager.check(root).active is not None:
        now = time.monotonic() - start
        snap, line = _state(active.path)
        if "images" not in marks and (active.path / runs.CLASSES).is_file():
            marks["images"] = now
        if "filters" not in marks and snap is not None:
            marks["filters"] = now
        if "loss" not in marks and line is not None:
            marks["loss"] = now
        if now >= report_at and line is not None:
            print(f"{now / 60:4.1f} min  step {line['step']:4d}  epoch {line['epoch']:.2f}  loss {line['loss']:.3f}  "
                  f"train top-1 {line['acc']:.0%}  structure {line.get('structure', float('nan')):.3f}  "
                  f"{line['images_per_s']:.0f} img/s", flush=True)
            report_at += 60.0
        time.sleep(0.5)
    manager.stop(root)
    while manager.check(root).active is not None:
        time.sleep(0.5)
    snap, line = _state(active.path)
    val = [r for r in runs.read_metrics(active.path) if r.get("kind") == "val" and "val_top1" in r]
    print(f"demo images ready {marks.get('images', float('nan')):.1f} s after Start; first redrawn filters "
          f"{marks.get('filters', float('nan')):.1f} s; first loss {marks.get('loss', float('nan')):.1f} s")
    if line is not None and snap is not None:
        print(f"stopped after {minutes:g} min at step {line['step']} (epoch {line['epoch']:.2f}): structure "
              f"{snap['structure']:.3f} (initialisation: {_initial_structure(active.path):.3f}), last loss "
              f"{line['loss']:.3f}" + (f", validation top-1 {val[-1]['val_top1']:.0%} after epoch "
                                        f"{val[-1]['epoch']}" if val else ""))
    print(f"load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after; {_cpu()}, {os.cpu_count()} cores; "
          f"run in {active.path}")


def _initial_structure(run: Path) -> float:
    import numpy as np

    from alexnet_viz.train.structure import structure

    return structure(np.load(runs.filter_file(run, 0)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--runs", type=Path, default=None, help="runs folder (default: a new temporary one)")
    args = ap.parse_args(argv)
    watch(args.runs or Path(tempfile.mkdtemp(prefix="watch-bench-")), args.minutes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
