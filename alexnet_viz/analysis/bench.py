"""`python -m alexnet_viz bench`: how fast the networks run here, next to what the hardware can do.

Every figure comes from the same run on the same device, for float32 and bf16 alike: batch-1
latency and batch-N throughput per variant, the GFLOP/s that implies (2 x the ledger's
multiply-adds / time) as a share of a 2048x2048 matmul's GFLOP/s *in the same precision*, measured
alongside as the practical peak, and what `capture` costs over a plain forward. The networks run
as batch work does (casting.twin: weights cast once, channels_last), not under autocast, which
re-casts every weight on every call. Medians throughout, so one hiccup from a busy machine does
not decide a figure.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch

from alexnet_viz.analysis.probe import capture
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.casting import cast_input, dtype_of, twin
from alexnet_viz.core.device import device_name, pick_device, synchronize
from alexnet_viz.core.model import AlexNet, build_model
from alexnet_viz.core.precision import PRECISIONS
from alexnet_viz.core.spec import ARTICLE, TORCHVISION, Spec
from alexnet_viz.errors import AlexVizError

MATMUL_SIDE = 2048
# issue 11's goals, as shares of the same precision's matmul peak (bf16 at batch 1: faster than float32)
GOALS = {("float32", "batch"): 0.75, ("float32", "batch1"): 0.60, ("bf16", "batch"): 0.50}


@dataclass(frozen=True)
class VariantResult:
    """One network in one precision; GFLOP/s count a multiply-add as two operations."""

    variant: str
    precision: str
    input_size: int
    macs_per_image: int  # the ledger's count (torchinfo's: bias adds included)
    latency_ms: float  # batch 1, median
    latency_best_ms: float  # batch 1, fastest run: what the network costs when nothing else competes
    batch_ms: float  # batch N, median
    batch_best_ms: float  # batch N, fastest run
    throughput_img_s: float
    gflops_batch1: float
    gflops_batch: float
    share_of_peak_batch1: float  # batch-1 GFLOP/s over this precision's matmul peak (medians)
    share_of_peak: float  # batch-N GFLOP/s over this precision's matmul peak (medians)
    share_of_peak_batch1_best: float  # the same from the fastest runs of both: steadier on a busy machine
    share_of_peak_best: float
    capture_ratio: float | None  # float32 only: median over interleaved pairs of capture / plain forward, batch 1
    capture_ratio_best: float | None  # fastest capture / fastest plain forward: robust to a busy machine


@dataclass(frozen=True)
class BenchResult:
    """One bench run: where it ran, each precision's matmul peak, and each network's figures."""

    device: str
    device_type: str
    torch_version: str
    platform: str
    batch_size: int
    repeats: int
    precisions: tuple[str, ...]
    matmul_gflops: dict[str, float]  # precision -> practical peak (median run), measured in this run
    matmul_best_gflops: dict[str, float]  # precision -> the fastest matmul run
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


def matmul_gflops(device: torch.device, repeats: int, precision: str = "float32") -> tuple[float, float]:
    """The practical peak: GFLOP/s of a 2048x2048 matmul in `precision` (median run, fastest run),
    the best-tuned kernel a device has."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(MATMUL_SIDE, MATMUL_SIDE, generator=g).to(device, dtype_of(precision))
    b = torch.randn(MATMUL_SIDE, MATMUL_SIDE, generator=g).to(device, dtype_of(precision))
    with torch.inference_mode():
        times = _times(lambda: a @ b, device, repeats)
    flops = 2 * MATMUL_SIDE ** 3 / 1e9
    return flops / statistics.median(times), flops / min(times)


def capture_ratio(model: AlexNet, x: torch.Tensor, device: torch.device, pairs: int) -> tuple[float, float]:
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

    plain()  # one untimed round each: allocations, hooks
    probe()
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


def bench_variant(spec: Spec, device: torch.device, batch_size: int, repeats: int, peak: tuple[float, float],
                  precision: str = "float32") -> VariantResult:
    """Latency, throughput, GFLOP/s (and capture overhead, in float32) of one randomly initialised network."""
    model = twin(build_model(spec, seed=0).to(device), precision)  # cast once, channels_last
    g = torch.Generator().manual_seed(0)
    size = spec.input_size
    one = cast_input(torch.randn(1, 3, size, size, generator=g).to(device), precision)
    many = cast_input(torch.randn(batch_size, 3, size, size, generator=g).to(device), precision)
    with torch.inference_mode():
        single = _times(lambda: model(one), device, repeats)
        batches = _times(lambda: model(many), device, repeats, warmup=1)
    latency, batch = statistics.median(single), statistics.median(batches)
    ratio, ratio_best = (capture_ratio(model, one, device, max(2 * repeats, 5)) if precision == "float32"
                         else (None, None))
    macs = ledger(spec).total_macs_with_bias
    gflop = 2 * macs / 1e9
    gflops_batch1, gflops_batch = gflop / latency, gflop * batch_size / batch
    peak_median, peak_best = peak
    return VariantResult(
        variant=spec.name, precision=precision, input_size=size, macs_per_image=macs, latency_ms=latency * 1000,
        latency_best_ms=min(single) * 1000, batch_ms=batch * 1000, batch_best_ms=min(batches) * 1000,
        throughput_img_s=batch_size / batch, gflops_batch1=gflops_batch1, gflops_batch=gflops_batch,
        share_of_peak_batch1=gflops_batch1 / peak_median, share_of_peak=gflops_batch / peak_median,
        share_of_peak_batch1_best=gflop / min(single) / peak_best,
        share_of_peak_best=gflop * batch_size / min(batches) / peak_best,
        capture_ratio=ratio, capture_ratio_best=ratio_best)


def run_bench(specs: Sequence[Spec] = (ARTICLE, TORCHVISION), device: torch.device | None = None,
              batch_size: int = 16, repeats: int = 10, precisions: Sequence[str] = PRECISIONS,
              progress: Callable[[str], None] | None = None) -> BenchResult:
    """All figures, measured now on one device: each precision's peak, then every network in it."""
    if batch_size < 1 or repeats < 1:
        raise AlexVizError("--batch-size and --repeats must be at least 1.")
    if not precisions:
        raise AlexVizError(f"Name at least one precision: {', '.join(PRECISIONS)}.")
    for precision in precisions:
        dtype_of(precision)  # an unknown name fails before anything is measured
    device = device or pick_device()
    say = progress or (lambda message: None)
    load_before = _load()
    peaks: dict[str, tuple[float, float]] = {}
    for precision in precisions:
        say(f"matmul peak in {precision}")
        peaks[precision] = matmul_gflops(device, repeats, precision)
    results = []
    for spec in specs:
        for precision in precisions:
            say(f"{spec.name} in {precision}")
            results.append(bench_variant(spec, device, batch_size, repeats, peaks[precision], precision))
    load_after = _load()
    return BenchResult(device=device_name(device), device_type=device.type, torch_version=torch.__version__,
                       platform=f"{platform.system()} {platform.machine()} {platform.processor() or ''}".strip(),
                       batch_size=batch_size, repeats=repeats, precisions=tuple(precisions),
                       matmul_gflops={p: median for p, (median, _) in peaks.items()},
                       matmul_best_gflops={p: best for p, (_, best) in peaks.items()},
                       load_average=None if load_before is None or load_after is None else (load_before, load_after),
                       variants=results)


def _goals(result: BenchResult) -> list[str]:
    """Each variant against issue 11's goals, in words: met or missed, with the measured figure."""
    lines = []
    by = {(v.variant, v.precision): v for v in result.variants}
    for v in result.variants:
        for (precision, which), goal in GOALS.items():
            if v.precision == precision:
                share, best = ((v.share_of_peak, v.share_of_peak_best) if which == "batch"
                               else (v.share_of_peak_batch1, v.share_of_peak_batch1_best))
                size = f"b{result.batch_size}" if which == "batch" else "b1"
                lines.append(f"  {v.variant} {precision} {size}: {share:.0%} of its peak, fastest runs {best:.0%} "
                             f"(goal >= {goal:.0%}): " + ("met" if share >= goal else "missed"))
        f32 = by.get((v.variant, "float32"))
        if v.precision == "bf16" and f32 is not None:
            lines.append(f"  {v.variant} bf16 b1: {v.latency_ms:.1f} ms vs float32 {f32.latency_ms:.1f} ms "
                         f"(goal: faster): " + ("met" if v.latency_ms < f32.latency_ms else "missed"))
    return lines


def render(result: BenchResult) -> str:
    """The human-readable report."""
    n = result.batch_size
    lines = [
        f"device: {result.device} · torch {result.torch_version} · {result.platform}",
        f"batch {n} for throughput · medians of {result.repeats} runs · weights cast once, channels_last",
    ]
    if result.load_average is not None:
        before, after = result.load_average
        lines.append(f"load average (1 min) before/after: {before:.2f} / {after:.2f} on {os.cpu_count()} CPUs")
    for precision, peak in result.matmul_gflops.items():
        lines.append(f"matmul {MATMUL_SIDE}x{MATMUL_SIDE} {precision}: {peak:,.1f} GFLOP/s (practical peak; fastest "
                     f"run {result.matmul_best_gflops[precision]:,.1f})")
    header = ("variant", "precision", "GMAC/img", "b1 ms", "b1 best", "GFLOP/s b1", "% peak b1 (best)",
              f"b{n} img/s", f"GFLOP/s b{n}", f"% peak b{n} (best)", "capture/plain", "best/best")
    rows = [header]
    for v in result.variants:
        capture_cells = ("-", "-") if v.capture_ratio is None or v.capture_ratio_best is None else (
            f"{v.capture_ratio:.3f}x", f"{v.capture_ratio_best:.3f}x")
        rows.append((v.variant, v.precision, f"{v.macs_per_image / 1e9:.3f}", f"{v.latency_ms:.2f}",
                     f"{v.latency_best_ms:.2f}", f"{v.gflops_batch1:,.1f}",
                     f"{v.share_of_peak_batch1:.0%} ({v.share_of_peak_batch1_best:.0%})",
                     f"{v.throughput_img_s:,.1f}", f"{v.gflops_batch:,.1f}",
                     f"{v.share_of_peak:.0%} ({v.share_of_peak_best:.0%})",
                     *capture_cells))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines.append("")
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    lines += ["", "against the goals:", *_goals(result), ""]
    lines.append("GFLOP/s = 2 x multiply-adds (bias adds included) / median time; % peak: of the matmul peak in the "
                 "same precision, medians (in brackets: fastest network run over fastest matmul run); "
                 "capture/plain: all layers captured to the CPU vs a plain forward, float32, batch 1, "
                 "median over interleaved pairs; best/best: fastest capture over fastest plain forward "
                 "(target <= 1.10x).")
    return "\n".join(lines) + "\n"


def report(specs: Sequence[Spec], *, device: str | None = None, batch_size: int = 16, repeats: int = 10,
           precisions: Sequence[str] = PRECISIONS, threads: int | None = None, as_json: bool = False) -> str:
    """Measure (progress lines on stderr), then return the table or one JSON document."""
    dev = pick_device(device)
    if threads is not None:
        if threads < 1:
            raise AlexVizError("--threads must be at least 1.")
        torch.set_num_threads(threads)  # this process only; shown in the device line
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # this process only: let cuDNN pick its fastest kernels
    result = run_bench(specs, dev, batch_size, repeats, precisions,
                       progress=lambda what: print(f"measuring {what}…", file=sys.stderr))
    return json.dumps(result.as_dict(), indent=2) + "\n" if as_json else render(result)


__all__ = ["GOALS", "BenchResult", "VariantResult", "bench_variant", "capture_ratio", "matmul_gflops", "render",
           "report", "run_bench"]
