"""Training throughput on this machine, one run: ours (float32, bf16) against a plain PyTorch loop
of the same model, batch and data; the data loader alone; 2-process DDP against 1 process.

    python -m scripts.train_bench [--steps 20] [--batch 32]

Uses the demo dataset and the demo recipe's network (torchvision convolutions at 64 px, 512-wide
head). Prints images/s and the ratios written up in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from alexnet_viz.core.model import build_model
from alexnet_viz.train.config import resolve
from alexnet_viz.train.data import collate
from alexnet_viz.train.loop import Trainer, rescale_head

ROOT = Path(__file__).resolve().parent.parent

def timed(batches, step, steps: int, warm: int = 3) -> float:
    it = iter(batches)
    for _ in range(warm):
        x, y, *_ = next(it)
        step(x, y)
    start, images = time.perf_counter(), 0
    for _ in range(steps):
        x, y, *_ = next(it)
        step(x, y)
        images += len(y)
    return images / (time.perf_counter() - start)


def ours(runs: Path, batch: int, steps: int, autocast: str | None) -> float:
    config = resolve(demo=True, run_dir=str(runs / f"ours-{autocast}"), batch_size=batch, workers=2, autocast=autocast,
                     progress=False)
    t = Trainer(config)
    t.sampler.set_epoch(0)
    loader = DataLoader(t.train_set, batch_size=batch, sampler=t.sampler, num_workers=2, collate_fn=collate,
                        drop_last=True)
    return timed(loader, t.train_step, steps)


def plain(runs: Path, batch: int, steps: int) -> tuple[float, float]:
    """A textbook loop: same dataset object, network and optimiser; float32, default memory format."""
    config = resolve(demo=True, run_dir=str(runs / "plain"), batch_size=batch, workers=2, progress=False)
    t = Trainer(config)  # only for its dataset and spec
    model = build_model(t.spec, seed=0).train()
    rescale_head(model, 0)
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)

    def step(x: torch.Tensor, y: torch.Tensor) -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    t.sampler.set_epoch(0)
    loader = DataLoader(t.train_set, batch_size=batch, sampler=t.sampler, num_workers=2, collate_fn=collate,
                        drop_last=True)
    loader_only = timed(loader, lambda x, y: None, steps * 2)
    return timed(loader, step, steps), loader_only


def ddp(runs: Path, nproc: int, steps: int, batch: int) -> float:
    run = runs / f"ddp{nproc}"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"] if nproc > 1 \
        else [sys.executable]
    env = {**os.environ, "ALEXNET_RUNS": str(runs), "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // nproc))}
    subprocess.run([*cmd, "-m", "alexnet_viz", "train", "--demo", "--run-dir", str(run), "--batch-size", str(batch),
                    "--max-steps", str(steps), "--log-every", str(steps // 2), "--workers", "1", "--no-progress"],
                   check=True, cwd=ROOT, env=env, capture_output=True)
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in lines if r["kind"] == "train"][-1]["images_per_s"]  # second interval: warm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        os.environ["ALEXNET_RUNS"] = str(runs)
        base, loader = plain(runs, args.batch, args.steps)
        fp32 = ours(runs, args.batch, args.steps, None)
        bf16 = ours(runs, args.batch, args.steps, "bf16")
        one = ddp(runs, 1, args.steps, args.batch)
        two = ddp(runs, 2, args.steps, args.batch)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"{args.steps} timed steps")
    print(f"plain PyTorch loop, float32    {base:7.1f} img/s")
    print(f"ours, float32 (channels_last)  {fp32:7.1f} img/s  {fp32 / base:.2f}x plain")
    print(f"ours, bf16 autocast            {bf16:7.1f} img/s  {bf16 / base:.2f}x plain")
    print(f"data loader alone (2 workers)  {loader:7.1f} img/s")
    print(f"train CLI, 1 process           {one:7.1f} img/s")
    print(f"train CLI, 2 processes (DDP)   {two:7.1f} img/s  {two / one:.2f}x 1 process")


if __name__ == "__main__":
    main()
