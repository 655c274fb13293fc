"""The training run: one function from a TrainConfig to a run directory.

A step is: a (global) batch split over the ranks, cross-entropy under optional bf16 autocast,
SGD. The run stops cleanly on Ctrl-C or SIGTERM (a flag; the step finishes, every rank agrees,
the last partial interval's metrics and the state are saved) or after --max-steps, and `--resume`
continues from the saved position exactly: the sampler skips what was done, the RNG comes back,
and each sample's augmentation depends only on (seed, epoch, index).
"""
from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from alexnet_viz.core.device import autocast_context, pick_device
from alexnet_viz.core.embed import param_shapes
from alexnet_viz.core.model import AlexNet, build_model
from alexnet_viz.core.spec import VARIANTS, Spec, get_spec
from alexnet_viz.errors import AlexVizError
from alexnet_viz.figures.mosaic import kernel_tiles
from alexnet_viz.train import ddp, runs
from alexnet_viz.train.config import PARENT_ENV, TrainConfig, load_config
from alexnet_viz.train.data import Augment, EpochSampler, FolderImages, Split, collate, discover, pca_lighting, shard
from alexnet_viz.train.sources import data_root
from alexnet_viz.train.structure import structure


@dataclass(frozen=True)
class RunResult:
    """How a call to train() ended."""

    run_dir: Path
    stopped: str  # "done", "interrupted" or "max_steps"
    epoch: int  # epochs completed
    global_step: int
    val_top1: float | None
    skipped: int  # unreadable images met in this invocation


def training_spec(config: TrainConfig, classes: int = 1000) -> Spec:
    """The variant's spec at the run's input size, dropout and head. By default F11 keeps its 1000
    outputs, so a checkpoint loads as that variant anywhere in the project (class i is unit i)."""
    spec = get_spec(config.variant)
    if config.fc_width is not None:
        spec = spec.with_layer("F9", out=config.fc_width).with_layer("F10", out=config.fc_width)
    if config.num_classes is not None:
        spec = spec.with_layer("F11", out=config.num_classes or classes)
    outputs = spec.layer("F11").out
    if outputs < classes:  # a label past the last output: cross-entropy's IndexError after the data had loaded
        raise AlexVizError(f"The data has {classes} classes but F11 has {outputs} outputs: give --num-classes "
                           f"{classes} or more (0: one per class).")
    if config.input_size is not None:
        spec = spec.with_input_size(config.input_size)
    if config.dropout is not None:
        for layer in spec.layers:
            if layer.dropout:
                spec = spec.with_layer(layer.name, dropout=config.dropout)
    return spec


def resume_config(run_dir: str | Path, **changes: object) -> TrainConfig:
    """The run's own config.json with resume on (plus e.g. max_steps or progress for this invocation)."""
    path = Path(run_dir) / runs.CONFIG
    if not path.is_file():
        raise AlexVizError(f"Nothing to resume in {run_dir}: it has no {runs.CONFIG}; give the run's directory.")
    given: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
    given.setdefault("max_steps", None)  # the stopping point of an earlier invocation is not this one's
    return replace(load_config(path), resume=True, **given)


class _Stop:
    """SIGINT turns into a flag checked between steps, so a step is never cut in half. A run started by a
    server (ALEXNET_TRAIN_PARENT) also stops once that server has gone: no run outlives its server."""

    def __init__(self) -> None:
        self.signalled = False
        parent = os.environ.get(PARENT_ENV, "")
        self.parent = int(parent) if parent.isdigit() else None

    @property
    def asked(self) -> bool:
        return self.signalled or (self.parent is not None and os.getppid() != self.parent)

    def __call__(self, signum: int, frame: object) -> None:
        if self.signalled:  # a second Ctrl-C: the user means it
            raise KeyboardInterrupt
        self.signalled = True


@contextmanager
def _sigint(stop: _Stop) -> Iterator[None]:
    """SIGINT and SIGTERM (the Training page's Stop, a service manager's stop) both ask for a clean stop."""
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _quiet_worker(_: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when to stop


def _loader(dataset: FolderImages | Subset, batch: int, config: TrainConfig, device: torch.device,
            sampler: EpochSampler | None = None, drop_last: bool = False) -> DataLoader:
    # fork: spawn would re-run `python -m alexnet_viz` in every worker
    context = multiprocessing.get_context("fork") if config.workers > 0 else None
    return DataLoader(dataset, batch_size=batch, sampler=sampler, shuffle=False, num_workers=config.workers,
                      collate_fn=collate, pin_memory=config.pin_memory and device.type == "cuda",
                      drop_last=drop_last, worker_init_fn=_quiet_worker if config.workers > 0 else None,
                      multiprocessing_context=context, persistent_workers=False,
                      generator=torch.Generator().manual_seed(config.seed))  # not the global RNG dropout uses


def _plain_state(model: AlexNet) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}


def _save_tensors(path: Path, obj: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


def _c1(model: AlexNet) -> np.ndarray:
    return cast(torch.Tensor, model.layer("C1").weight).detach().to("cpu", torch.float32).numpy()


def _save_filters(run: Path, model: AlexNet, epoch: int) -> None:
    weight = _c1(model)
    runs.save_filters(run, epoch, runs.npy_bytes(weight), kernel_tiles(weight, scale=4).png())


def _save_latest(run: Path, model: AlexNet, record: dict) -> None:
    """C1 now, for a page watching the run: filters/latest.npy, .png and .json (step, epoch, structure)."""
    weight = _c1(model)
    (run / runs.FILTERS).mkdir(exist_ok=True)
    runs.atomic_write(run / runs.FILTERS / runs.LATEST_NPY, runs.npy_bytes(weight))
    runs.atomic_write(run / runs.FILTERS / runs.LATEST_PNG, kernel_tiles(weight, scale=4).png())
    runs.atomic_write(run / runs.FILTERS / runs.LATEST_JSON,
                      json.dumps({**record, "structure": structure(weight)}, sort_keys=True).encode())


@torch.no_grad()
def rescale_head(model: AlexNet, seed: int) -> None:
    """A narrowed head gets He-scaled weights, N(0, 2/fan_in) (1/fan_in for F11), and zero biases.

    The variants' N(0, 0.01) suits 4096-wide layers; at 512 it shrinks the signal about 4x per
    layer, the logits start near zero and the loss sits at ln(classes) for hundreds of steps.
    """
    gen = torch.Generator().manual_seed(seed)
    for name, gain in (("F9", 2.0), ("F10", 2.0), ("F11", 1.0)):
        layer = cast(nn.Linear, model.layer(name))
        std = (gain / layer.in_features) ** 0.5
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * std)
        layer.bias.zero_()


@torch.no_grad()
def _rescale_convs(model: AlexNet, config: TrainConfig) -> None:
    """Convolutions N(0, 2/fan_in) (he_convs) and C1 N(0, c1_std^2), zero biases: the demo's start."""
    gen = torch.Generator().manual_seed(config.seed + 1)
    for layer in model.spec.layers:
        if layer.kind != "conv" or not (config.he_convs or layer.name == "C1"):
            continue
        conv = cast(nn.Conv2d, model.layer(layer.name))
        std = (2.0 / conv.weight[0].numel()) ** 0.5
        if layer.name == "C1" and config.c1_std is not None:
            std = config.c1_std
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * std)
        cast(torch.Tensor, conv.bias).zero_()


def initial_model(config: TrainConfig, spec: Spec) -> AlexNet:
    """The network a run starts from: the spec's initialisation drawn with the run's seed (and a narrowed
    head, or the demo's convolutions, rescaled); the app's before-and-after comparison rebuilds it."""
    model = build_model(spec, seed=config.seed)
    if config.fc_width is not None:
        rescale_head(model, config.seed)
    if config.he_convs or config.c1_std is not None:
        _rescale_convs(model, config)
    return model


class Trainer:
    """One run's model, optimiser, data and position; `run()` trains until done or stopped."""

    def __init__(self, config: TrainConfig) -> None:
        if config.threads:
            torch.set_num_threads(config.threads)
        self.config = config
        self.where = ddp.setup(pick_device(config.device))
        self.run_dir = Path(config.run_dir)
        if self.where.world > 1 and config.batch_size % self.where.world:
            raise AlexVizError(f"--batch-size {config.batch_size} is global and must divide by the "
                               f"{self.where.world} processes.")
        self.local_batch = config.batch_size // self.where.world
        self._prepare_files()
        self.split = self._split()
        self.model = initial_model(config, self.spec).to(self.where.device).train()
        if config.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.net: nn.Module = self.model
        if self.where.world > 1:
            ids = [self.where.device.index] if self.where.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        if config.compile:
            self.net = cast(nn.Module, torch.compile(self.net))
        # Fused: the whole update in one kernel instead of a few passes over every parameter (the demo
        # network's 7.5 M: 2.5 ms against 7.6 ms a step on a 2-core Xeon, the same numbers to the bit).
        fused = True if self.where.device.type in ("cpu", "cuda") else None
        self.opt = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum,
                                   weight_decay=config.weight_decay, fused=fused)
        self.sched: torch.optim.lr_scheduler.ReduceLROnPlateau | torch.optim.lr_scheduler.StepLR
        if config.schedule == "plateau":
            self.sched = torch.optim.lr_scheduler.ReduceLROnPlateau(self.opt, mode="min", factor=config.lr_factor,
                                                                    patience=config.patience)
        else:
            self.sched = torch.optim.lr_scheduler.StepLR(self.opt, step_size=config.step_size, gamma=config.lr_factor)
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self._next_snapshot = 0.0  # the first step's C1 is written at once
        torch.manual_seed(config.seed * 1000 + self.where.rank)  # dropout differs per rank, repeatably
        if config.resume:
            self._load_state()

    # --- setup -----------------------------------------------------------------------------
    def _prepare_files(self) -> None:
        config = self.config
        if self.where.main:
            if not config.resume and (self.run_dir / runs.STATE).exists():
                raise AlexVizError(f"{self.run_dir} already holds a run: add --resume to continue it, or choose "
                                   "another --run-dir.")
            self.run_dir.mkdir(parents=True, exist_ok=True)
            runs.atomic_write(self.run_dir / runs.CONFIG, config.to_json().encode())
            data_root(config)  # download or generate once, before the other ranks look
        ddp.barrier(self.where)

    def _split(self) -> Split:
        config = self.config
        split = discover(data_root(config), config.val_fraction, config.split_seed)
        self.spec = training_spec(config, len(split.classes))
        if self.where.main:
            runs.atomic_write(self.run_dir / runs.CLASSES, json.dumps(list(split.classes)).encode())
            shapes = param_shapes(self.spec)
            fits = [name for name, spec in VARIANTS.items() if param_shapes(spec) == shapes]
            runs.atomic_write(self.run_dir / runs.FITS, json.dumps(fits).encode())
        eigval, eigvec = pca_lighting([f for f, _ in split.train], seed=config.seed) if config.pca_std > 0 else (
            (0.0, 0.0, 0.0), ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
        self.aug = Augment(self.spec.input_size, max(config.resize, self.spec.input_size), config.crop, config.flip,
                           config.pca_std, eigval, eigvec)
        self.train_set = FolderImages(split.train, self.aug, config.seed, train=True)
        self.sampler = EpochSampler(len(self.train_set), rank=self.where.rank, world=self.where.world,
                                    seed=config.seed)
        if len(self.sampler.inner) < self.local_batch:
            raise AlexVizError(f"{len(split.train)} training images are fewer than one batch of "
                               f"{config.batch_size}; lower --batch-size.")
        return split

    def _load_state(self) -> None:
        path = self.run_dir / runs.STATE
        if not path.is_file():
            raise AlexVizError(f"Nothing to resume in {self.run_dir}: no {runs.STATE} was saved there yet.")
        state = torch.load(path, map_location="cpu", weights_only=True)
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        self.epoch, self.step_in_epoch, self.global_step = state["epoch"], state["step_in_epoch"], state["global_step"]
        rng = state["rng"]
        if len(rng) == self.where.world:
            torch.set_rng_state(rng[self.where.rank])
        if self.where.main:
            runs.truncate_metrics(self.run_dir, self.global_step)

    def _save_state(self) -> None:
        rngs: list[torch.Tensor] = [torch.get_rng_state()]
        if self.where.world > 1:
            gathered: list[object] = [None] * self.where.world
            torch.distributed.all_gather_object(gathered, rngs[0])
            rngs = [torch.as_tensor(t) for t in gathered]
        if not self.where.main:
            return
        plain = _plain_state(self.model)
        _save_tensors(self.run_dir / runs.WEIGHTS, plain)
        _save_tensors(self.run_dir / runs.STATE, {
            "model": plain, "optimizer": self.opt.state_dict(), "scheduler": self.sched.state_dict(), "rng": rngs,
            "epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step})

    # --- steps -----------------------------------------------------------------------------
    def train_step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, int]:
        """One SGD step; (sum of losses, correct, images) on this rank."""
        x = x.to(self.where.device, non_blocking=True)
        y = y.to(self.where.device, non_blocking=True)
        if self.config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast_context(self.where.device, self.config.autocast):
            logits = self.net(x)
            loss = F.cross_entropy(logits.float(), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        n = int(y.numel())
        return float(loss.detach()) * n, float((logits.argmax(1) == y).sum()), n

    @torch.no_grad()
    def evaluate(self, ten_crop: bool = False) -> dict[str, float] | None:
        """Top-1/top-5 and loss on this rank's share of the validation set, summed over ranks.

        With fewer than five classes "top-5" is top-all (always 1.0): k never exceeds the class count.
        """
        if not self.split.val:
            return None
        data = FolderImages(self.split.val, self.aug, self.config.seed, train=False, ten_crop=ten_crop)
        mine = Subset(data, shard(len(data), self.where.rank, self.where.world))
        totals = [0.0, 0.0, 0.0, 0.0]  # loss sum, top-1, top-5, images
        self.model.eval()
        try:
            for x, y, _ in _loader(mine, max(1, self.local_batch // (10 if ten_crop else 1)), self.config,
                                   self.where.device):
                if not len(y):
                    continue
                x, y = x.to(self.where.device), y.to(self.where.device)
                flat = x.flatten(0, 1) if ten_crop else x
                if self.config.channels_last:
                    flat = flat.contiguous(memory_format=torch.channels_last)
                with autocast_context(self.where.device, self.config.autocast):
                    out = self.model(flat).float()
                probs = out.softmax(1).view(len(y), -1, out.shape[-1]).mean(1) if ten_crop else out.softmax(1)
                top5 = probs.topk(min(5, probs.shape[1]), 1).indices
                totals[0] += float(F.nll_loss(probs.clamp_min(1e-12).log(), y, reduction="sum"))
                totals[1] += float((top5[:, 0] == y).sum())
                totals[2] += float((top5 == y[:, None]).any(1).sum())
                totals[3] += len(y)
        finally:
            self.model.train()
        loss, top1, top5, n = ddp.sum_all(totals, self.where)
        return {"loss": loss / n, "top1": top1 / n, "top5": top5 / n, "images": n} if n else None

    def _log(self, record: dict) -> None:
        if self.where.main:
            runs.append_metric(self.run_dir, record)

    def _log_interval(self, acc: list[float], seconds: float, steps_per_epoch: int, bar: tqdm) -> int:
        """One "train" line for the steps since the last (summed over ranks); the unreadable images met."""
        tot = ddp.sum_all(acc, self.where)
        if tot[2] and not math.isfinite(tot[0]):
            raise AlexVizError(f"The loss became {tot[0] / tot[2]} at step {self.global_step}: "
                               "training diverged; lower --lr (state.pt holds the last good epoch).")
        if tot[2]:
            self._log({"kind": "train", "epoch": self.epoch + self.step_in_epoch / steps_per_epoch,
                       "step": self.global_step, "loss": tot[0] / tot[2], "acc": tot[1] / tot[2],
                       "lr": self.opt.param_groups[0]["lr"], "images_per_s": tot[2] / seconds,
                       "skipped": int(tot[3]), "structure": structure(_c1(self.model)), "time": time.time()})
            bar.set_postfix(loss=f"{tot[0] / tot[2]:.3f}", acc=f"{tot[1] / tot[2]:.2f}")
        return int(tot[3])

    def _snapshot(self, steps_per_epoch: int, force: bool = False) -> None:
        """Every config.snapshot_s seconds, after the first step and at a stop: C1 now, for the Training page."""
        now = time.monotonic()
        if self.where.main and (force or now >= self._next_snapshot):
            _save_latest(self.run_dir, self.model, {
                "step": self.global_step, "epoch": self.epoch + self.step_in_epoch / steps_per_epoch})
            self._next_snapshot = now + self.config.snapshot_s

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> RunResult:
        config, stop = self.config, _Stop()
        if self.where.main and self.global_step == 0 and not runs.filter_file(self.run_dir, 0).exists():
            _save_filters(self.run_dir, self.model, 0)
        steps_per_epoch = len(self.sampler.inner) // self.local_batch
        stopped, steps_here, skipped, val = "done", 0, 0, None
        with _sigint(stop):
            while self.epoch < config.epochs:
                self.sampler.set_epoch(self.epoch, self.step_in_epoch * self.local_batch)
                loader = _loader(self.train_set, self.local_batch, config, self.where.device, self.sampler,
                                 drop_last=True)
                bar = tqdm(total=steps_per_epoch, initial=self.step_in_epoch, desc=f"epoch {self.epoch + 1}",
                           disable=not (config.progress and self.where.main), unit="step", leave=False)
                acc = [0.0, 0.0, 0.0, 0.0]  # loss sum, correct, images, skipped
                tick = time.perf_counter()
                for x, y, bad in loader:
                    loss_sum, correct, n = self.train_step(x, y) if len(y) else (0.0, 0.0, 0)
                    acc = [acc[0] + loss_sum, acc[1] + correct, acc[2] + n, acc[3] + bad]
                    self.step_in_epoch += 1
                    self.global_step += 1
                    steps_here += 1
                    bar.update(1)
                    last = self.step_in_epoch == steps_per_epoch
                    if ddp.any_rank(stop.asked, self.where):
                        stopped = "interrupted"
                    elif config.max_steps is not None and steps_here >= config.max_steps and not last:
                        stopped = "max_steps"
                    if self.global_step % config.log_every == 0 or last or stopped != "done":  # a stop logs
                        skipped += self._log_interval(acc, time.perf_counter() - tick, steps_per_epoch, bar)
                        acc, tick = [0.0, 0.0, 0.0, 0.0], time.perf_counter()  # the partial interval it ends
                    self._snapshot(steps_per_epoch, force=stopped != "done")
                    if stopped != "done":
                        break
                bar.close()
                del loader
                if stopped != "done":
                    self._save_state()
                    break
                val = self.evaluate()
                self.epoch, self.step_in_epoch = self.epoch + 1, 0
                lr = self.opt.param_groups[0]["lr"]
                if isinstance(self.sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    self.sched.step(1.0 - val["top1"] if val else 0.0)
                else:
                    self.sched.step()
                self._log({"kind": "val", "epoch": self.epoch, "step": self.global_step, "lr": lr,
                           **({f"val_{k}": v for k, v in val.items()} if val else {})})
                if self.where.main:
                    _save_filters(self.run_dir, self.model, self.epoch)
                self._save_state()
                if config.max_steps is not None and steps_here >= config.max_steps and self.epoch < config.epochs:
                    stopped = "max_steps"
                    break
        if stopped == "done" and config.ten_crop:
            ten = self.evaluate(ten_crop=True)
            if ten:
                self._log({"kind": "test", "epoch": self.epoch, "step": self.global_step,
                           **{f"ten_crop_{k}": v for k, v in ten.items()}})
        self._log({"kind": "end", "stopped": stopped, "epoch": self.epoch, "step": self.global_step})
        return RunResult(self.run_dir, stopped, self.epoch, self.global_step, val["top1"] if val else None, skipped)


def train(config: TrainConfig) -> RunResult:
    """Train per `config` (one process, or one rank of a torchrun launch) and return how it ended."""
    with ddp.leaving_together():
        return Trainer(config).run()
