"""`python -m alexnet_viz bench`: how fast the networks run here, next to what the hardware can do.

Every figure comes from the same run on the same device: batch-1 latency and batch-N throughput
per variant, the GFLOP/s that implies (2 x the ledger's multiply-adds / time) against a 2048x2048
matmul measured alongside as the practical peak, and what `capture` costs over a plain forward.
Medians throughout, so one hiccup from a busy machine does not decide a figure.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch

from .errors import AlexVizError
from .bookkeeping import ledger
from .model import build_model
from .probe import AUTOCAST_DTYPES, autocast_context, capture, device_name, pick_device, synchronize
from .spec import Spec, get_spec

MATMUL_SIDE = 2048


@dataclass(frozen=True)
class VariantResult:
    """One network's figures; GFLOP/s count a multiply-add as two operations."""

    variant: str
    input_size: int
    macs_per_image: int  # the ledger's count (torchinfo's: bias adds included)
    latency_ms: float  # batch 1, median
    latency_best_ms: float  # batch 1, fastest run: what the network costs when nothing else competes
    batch_ms: float  # batch N, median
    throughput_img_s: float
    gflops_batch1: float
    gflops_batch: float
    share_of_peak: float  # batch-N GFLOP/s over the matmul peak
    capture_ratio: float  # median over interleaved pairs of capture time / plain forward time, batch 1
    capture_ratio_best: float  # fastest capture / fastest plain forward: robust to a busy machine


@dataclass(frozen=True)
class BenchResult:
    """One bench run: where it ran, the matmul peak it is compared with, and each network's figures."""

    device: str
    device_type: str
    torch_version: str
    platform: str
    batch_size: int
    repeats: int
    autocast: str | None
    matmul_gflops: float  # float32
    matmul_autocast_gflops: float | None  # in the autocast dtype, when one is used
    load_average: tuple[float, float] | None  # 1-minute load before and after: a busy machine reads slow
    variants: list[VariantResult] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _load() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _times(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 2) -> list[float]:
    """Wall-clock seconds of `repeats` calls after `warmup` untimed ones, the device synchronised."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def matmul_gflops(device: torch.device, repeats: int, dtype: torch.dtype = torch.float32) -> float:
    """The practical peak: GFLOP/s of a 2048x2048 matmul, the best-tuned kernel a device has."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(MATMUL_SIDE, MATMUL_SIDE, generator=g).to(device, dtype)
    b = torch.randn(MATMUL_SIDE, MATMUL_SIDE, generator=g).to(device, dtype)
    with torch.inference_mode():
        t = statistics.median(_times(lambda: a @ b, device, repeats))
    return 2 * MATMUL_SIDE ** 3 / t / 1e9


def capture_ratio(model: torch.nn.Module, x: torch.Tensor, device: torch.device, pairs: int) -> tuple[float, float]:
    """(median of capture/plain over interleaved pairs, fastest capture / fastest plain).

    Interleaving makes slow spells hit both alike; on a shared machine a run can still land in
    one, and the ratio of the fastest runs is then the steadier estimate of capture's own cost.
    """
    def plain() -> None:
        with torch.no_grad():
            model(x)
        synchronize(device)

    def probe() -> None:
        capture(model, x)  # ends with a copy to the CPU, which waits for the device
        synchronize(device)

    plain(), probe()
    ratios, plains, probes = [], [], []
    for i in range(pairs):
        order = (plain, probe) if i % 2 == 0 else (probe, plain)
        took = {}
        for fn in order:
            start = time.perf_counter()
            fn()
            took[fn] = time.perf_counter() - start
        ratios.append(took[probe] / took[plain])
        plains.append(took[plain])
        probes.append(took[probe])
    return statistics.median(ratios), min(probes) / min(plains)


def bench_variant(spec: Spec, device: torch.device, batch_size: int, repeats: int, peak: float,
                  autocast: str | None = None) -> VariantResult:
    """Latency, throughput, GFLOP/s and capture overhead of one randomly initialised network."""
    model = build_model(spec, seed=0).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    g = torch.Generator().manual_seed(0)
    size = spec.input_size
    one = torch.randn(1, 3, size, size, generator=g).to(device)
    many = torch.randn(batch_size, 3, size, size, generator=g).to(device)
    if device.type == "cuda":
        one, many = (t.contiguous(memory_format=torch.channels_last) for t in (one, many))
    with torch.inference_mode(), autocast_context(device, autocast):
        single = _times(lambda: model(one), device, repeats)
        batch = statistics.median(_times(lambda: model(many), device, repeats, warmup=1))
    latency = statistics.median(single)
    ratio, ratio_best = capture_ratio(model, one, device, max(2 * repeats, 5))
    macs = ledger(spec).total_macs_with_bias
    gflops_batch = 2 * macs * batch_size / batch / 1e9
    return VariantResult(
        variant=spec.name, input_size=size, macs_per_image=macs, latency_ms=latency * 1000,
        latency_best_ms=min(single) * 1000, batch_ms=batch * 1000, throughput_img_s=batch_size / batch,
        gflops_batch1=2 * macs / latency / 1e9, gflops_batch=gflops_batch, share_of_peak=gflops_batch / peak,
        capture_ratio=ratio, capture_ratio_best=ratio_best)


def run_bench(variants: Sequence[str | Spec] = ("article", "torchvision"), device: torch.device | None = None,
              batch_size: int = 16, repeats: int = 10, autocast: str | None = None,
              progress: Callable[[str], None] | None = None) -> BenchResult:
    """All figures, measured now on one device."""
    if batch_size < 1 or repeats < 1:
        raise AlexVizError("--batch-size and --repeats must be at least 1.")
    device = device or pick_device()
    say = progress or (lambda message: None)
    load_before = _load()
    say("matmul peak")
    peak = matmul_gflops(device, repeats)
    peak_autocast = None
    if autocast is not None:
        with autocast_context(device, autocast):  # validates the name
            pass
        peak_autocast = matmul_gflops(device, repeats, AUTOCAST_DTYPES[autocast])
    results = []
    for variant in variants:
        spec = get_spec(variant)
        say(spec.name)
        results.append(bench_variant(spec, device, batch_size, repeats, peak_autocast or peak, autocast))
    return BenchResult(device=device_name(device), device_type=device.type, torch_version=torch.__version__,
                       platform=f"{platform.system()} {platform.machine()} {platform.processor() or ''}".strip(),
                       batch_size=batch_size, repeats=repeats, autocast=autocast, matmul_gflops=peak,
                       matmul_autocast_gflops=peak_autocast,
                       load_average=None if load_before is None else (load_before, _load()), variants=results)


def render(result: BenchResult) -> str:
    """The human-readable report."""
    n = result.batch_size
    lines = [
        f"device: {result.device} · torch {result.torch_version} · {result.platform}",
        f"batch {n} for throughput · medians of {result.repeats} runs"
        + (f" · autocast {result.autocast}" if result.autocast else ""),
        f"matmul {MATMUL_SIDE}x{MATMUL_SIDE} float32: {result.matmul_gflops:,.1f} GFLOP/s (practical peak)",
    ]
    if result.load_average is not None:
        lines.insert(2, f"load average (1 min) before/after: {result.load_average[0]:.2f} / {result.load_average[1]:.2f}"
                        f" on {os.cpu_count()} CPUs")
    if result.matmul_autocast_gflops is not None:
        lines.append(f"matmul {MATMUL_SIDE}x{MATMUL_SIDE} {result.autocast}: {result.matmul_autocast_gflops:,.1f} GFLOP/s")
    header = ("variant", "input", "GMAC/img", "b1 ms", "b1 best", f"b{n} img/s", "GFLOP/s b1", f"GFLOP/s b{n}",
              "% peak", "capture/plain", "best/best")
    rows = [header]
    for v in result.variants:
        rows.append((v.variant, str(v.input_size), f"{v.macs_per_image / 1e9:.3f}", f"{v.latency_ms:.2f}",
                     f"{v.latency_best_ms:.2f}", f"{v.throughput_img_s:,.1f}", f"{v.gflops_batch1:,.1f}",
                     f"{v.gflops_batch:,.1f}", f"{v.share_of_peak * 100:.0f}%", f"{v.capture_ratio:.3f}x",
                     f"{v.capture_ratio_best:.3f}x"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines.append("")
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    lines.append("")
    lines.append("GFLOP/s = 2 x multiply-adds (bias adds included) / median time; capture/plain: all layers "
                 "captured to the CPU vs a plain forward, batch 1, median over interleaved pairs; best/best: "
                 "fastest capture over fastest plain forward (target <= 1.10x).")
    return "\n".join(lines) + "\n"


def report(variants: list[str], *, device: str | None = None, batch_size: int = 16, repeats: int = 10,
           autocast: str | None = None, threads: int | None = None, as_json: bool = False) -> str:
    """Measure (progress lines on stderr), then return the table or one JSON document."""
    dev = pick_device(device)
    if threads is not None:
        if threads < 1:
            raise AlexVizError("--threads must be at least 1.")
        torch.set_num_threads(threads)  # this process only; shown in the device line
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # this process only: let cuDNN pick its fastest kernels
    result = run_bench(variants, dev, batch_size, repeats, autocast,
                       progress=lambda what: print(f"measuring {what}…", file=sys.stderr))
    return json.dumps(result.as_dict(), indent=2) + "\n" if as_json else render(result)


__all__ = ["BenchResult", "VariantResult", "bench_variant", "capture_ratio", "matmul_gflops", "render", "run_bench",
           "report"]
