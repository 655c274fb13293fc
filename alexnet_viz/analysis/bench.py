"""`python -m alexnet_viz bench`: how fast the networks run here, next to what the hardware can do.

Every figure comes from the same run on the same device, for float32 and bf16 alike: batch-1
latency and batch-N throughput per variant, the GFLOP/s that implies (2 x the ledger's
multiply-adds / time) as a share of a matmul's GFLOP/s *in the same precision*, measured
alongside as the practical peak, and what `capture` costs over a plain forward. The same run
measures the memory read bandwidth and times every layer alone, so each network is also reported
as a share of its roofline (analysis.roofline): layer by layer and whole, at batch 1 and batch N.
The networks run as batch work does (casting.twin: weights cast once, channels_last), not under
autocast, which re-casts every weight on every call. Medians throughout, so one hiccup from a
busy machine does not decide a figure, and the fastest runs beside them.
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
from functools import partial
from pathlib import Path

import torch
from torch import nn

from alexnet_viz.analysis.probe import capture
from alexnet_viz.analysis.roofline import (
    PAPER_BATCH,
    ROOFLINE_NOTE,
    Machine,
    RooflineBatch,
    columns,
    roofline_batch,
    roofline_table,
)
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.casting import cast_input, dtype_of, twin
from alexnet_viz.core.device import device_name, pick_device, synchronize
from alexnet_viz.core.model import AlexNet, build_model
from alexnet_viz.core.precision import PRECISIONS
from alexnet_viz.core.spec import ARTICLE, TORCHVISION, Spec
from alexnet_viz.errors import AlexVizError

MATMUL_SIDE = 2048  # the peak matmul grows to this side at most
MATMUL_FIRST_SIDE = 256
MATMUL_SECONDS = 2.0  # ... doubling its side while the next call (8x the work) would stay under this
BANDWIDTH_BYTES = 256 * 2**20  # the buffer summed for the read bandwidth: 8x a 32 MiB last-level cache
# issue 11's goals, as shares of the same precision's matmul peak (bf16 at batch 1: faster than float32)
GOALS = {("float32", "batch"): 0.75, ("float32", "batch1"): 0.60, ("bf16", "batch"): 0.50}
ROOFLINE_GOAL = 0.85  # issue 23: every variant and precision, batch 1 and batch N, as a share of its roofline
LAYOUTS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "A @ B": lambda a, b: a @ b, "A.T @ B": lambda a, b: a.T @ b}


@dataclass(frozen=True)
class Peak:
    """A precision's practical peak: the faster layout of a square matmul, grown until it is worth timing."""

    precision: str
    side: int
    layout: str
    gflops: float  # median run
    best_gflops: float  # fastest run


@dataclass(frozen=True)
class Bandwidth:
    """The memory read bandwidth: GB/s of summing a float32 buffer far larger than the last-level cache."""

    buffer_bytes: int
    cache_bytes: int | None  # the last-level cache the system reports, for comparison
    gbs: float  # median run
    best_gbs: float  # fastest run


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
    roofline: list[RooflineBatch] = field(default_factory=list)  # batch 1, then batch N


@dataclass(frozen=True)
class BenchResult:
    """One bench run: where it ran, each precision's matmul peak, the read bandwidth, each network's figures."""

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
    peaks: list[Peak] = field(default_factory=list)  # each precision's matmul: its side and layout too
    bandwidth: Bandwidth | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RooflineRun:
    """One network's layers on this machine's roofline, at each batch: what the overview page shows."""

    variant: str
    precision: str
    device: str
    peak: Peak
    bandwidth: Bandwidth
    batches: list[RooflineBatch]
    load_average: float | None

    @property
    def machines(self) -> tuple[Machine, Machine]:
        return _machines(self.peak, self.bandwidth)


def _load() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _times(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 2,
           between: Callable[[], object] | None = None) -> list[float]:
    """Wall-clock seconds of `repeats` calls after `warmup` untimed ones, the device synchronised;
    `between` runs untimed before each timed call."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        if between is not None:
            between()
            synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def _once(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds of one call after one untimed call."""
    return _times(fn, device, 1, warmup=1)[0]


def matmul_peak(device: torch.device, repeats: int, precision: str = "float32") -> Peak:
    """The practical peak: GFLOP/s of a square matmul in `precision`, the best-tuned kernel a device has.

    The side doubles from 256 up to MATMUL_SIDE while a call at the next side (8x the work) would
    take under MATMUL_SECONDS: a tuned kernel is timed at 2048, while one without hardware support
    (bf16 on a CPU without bf16 instructions runs PyTorch's own loops at a few GFLOP/s) is not left
    running for minutes. Speed depends on which operand is transposed, so both layouts are timed at
    the final side and the faster is kept.
    """
    dtype = dtype_of(precision)
    g = torch.Generator().manual_seed(0)

    def operands(side: int) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.randn(side, side, generator=g).to(device, dtype),
                torch.randn(side, side, generator=g).to(device, dtype))

    side = min(MATMUL_FIRST_SIDE, MATMUL_SIDE)
    a, b = operands(side)
    with torch.inference_mode():
        took = {name: _once(partial(f, a, b), device) for name, f in LAYOUTS.items()}
        layout = min(took, key=lambda name: took[name])
        seconds = took[layout]
        while side < MATMUL_SIDE and 8 * seconds < MATMUL_SECONDS:
            side = min(2 * side, MATMUL_SIDE)
            a, b = operands(side)
            seconds = _once(partial(LAYOUTS[layout], a, b), device)
        # The layouts again at the final side: which is faster at 256 says little about 2048 (float32 on a
        # Zen 3 EPYC: A.T @ B won at 256 and ran at 79 GFLOP/s at 2048, where A @ B ran at 146).
        timed = {name: _times(partial(f, a, b), device, repeats) for name, f in LAYOUTS.items()}
        layout = min(timed, key=lambda name: statistics.median(timed[name]))
        times = timed[layout]
    flops = 2 * side ** 3 / 1e9
    return Peak(precision=precision, side=side, layout=layout, gflops=flops / statistics.median(times),
                best_gflops=flops / min(times))


def last_level_cache(root: Path = Path("/sys/devices/system/cpu/cpu0/cache")) -> int | None:
    """The largest CPU cache Linux reports, in bytes (None where it reports none)."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    sizes = []
    for entry in root.glob("index*/size"):
        try:
            text = entry.read_text().strip()
        except OSError:
            continue
        number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
        if number.isdigit():
            sizes.append(int(number) * unit)
    return max(sizes, default=None)


def memory_buffer(device: torch.device) -> torch.Tensor:
    """BANDWIDTH_BYTES of float32 ones, every page written: what the bandwidth is read from."""
    return torch.ones(BANDWIDTH_BYTES // 4, device=device)


def read_bandwidth(buffer: torch.Tensor, device: torch.device, repeats: int) -> Bandwidth:
    """GB/s of summing `buffer` (median run, fastest run): a read of every byte, far more bytes than
    any cache holds, on all of torch's threads; the sum itself is a few adds per 16 bytes."""
    with torch.inference_mode():
        times = _times(buffer.sum, device, repeats)
    size = buffer.numel() * buffer.element_size()
    return Bandwidth(buffer_bytes=size, cache_bytes=last_level_cache(), gbs=size / statistics.median(times) / 1e9,
                     best_gbs=size / min(times) / 1e9)


def _flusher(buffer: torch.Tensor) -> Callable[[], object]:
    """A read of twice the last-level cache (all of `buffer` when the cache is unknown): after it, a
    layer finds its weights and input in memory, as the roofline counts them, not in the cache."""
    cache = last_level_cache()
    part = buffer if cache is None else buffer[: min(buffer.numel(), 2 * cache // buffer.element_size())]
    return part.sum


def _machines(peak: Peak, bandwidth: Bandwidth) -> tuple[Machine, Machine]:
    """(median figures, fastest figures) as roofline machines."""
    return Machine(peak.gflops, bandwidth.gbs), Machine(peak.best_gflops, bandwidth.best_gbs)


def layer_steps(model: AlexNet) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """Each ledger row's modules as one callable (conv+ReLU(+LRN), a pool, fc+ReLU(+dropout)), in running
    order; the first fc flattens its input as the model's forward does, so chained they are the forward."""
    steps: list[Callable[[torch.Tensor], torch.Tensor]] = []
    flat = False
    for layer in model.spec.layers:
        modules = list(model.parts(layer.name).values())
        if layer.kind == "fc" and not flat:
            flat = True
            steps.append(nn.Sequential(nn.Flatten(1), *modules))
        else:
            steps.append(nn.Sequential(*modules))
    return steps


def layer_seconds(model: AlexNet, x: torch.Tensor, device: torch.device, repeats: int,
                  flush: Callable[[], object] | None = None) -> list[tuple[float, float]]:
    """(median, fastest) seconds of each layer alone on its real input, `flush` run before each timed call."""
    out = []
    with torch.inference_mode():
        for step in layer_steps(model):
            times = _times(partial(step, x), device, repeats, warmup=1, between=flush)
            out.append((statistics.median(times), min(times)))
            x = step(x)
    return out


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


def _inputs(spec: Spec, device: torch.device, precision: str, batches: Sequence[int]) -> list[torch.Tensor]:
    """Seeded random images at each batch size, cast as the precision's twin expects them."""
    g = torch.Generator().manual_seed(0)
    size = spec.input_size
    return [cast_input(torch.randn(n, spec.in_channels, size, size, generator=g).to(device), precision)
            for n in batches]


def bench_variant(spec: Spec, device: torch.device, batch_size: int, repeats: int, peak: Peak,
                  bandwidth: Bandwidth, flush: Callable[[], object] | None = None) -> VariantResult:
    """Latency, throughput, GFLOP/s (and capture overhead, in float32) of one randomly initialised network
    in the peak's precision, and its roofline at batch 1 and batch N (each layer timed alone after `flush`)."""
    precision = peak.precision
    model = twin(build_model(spec, seed=0).to(device), precision)  # cast once, channels_last
    one, many = _inputs(spec, device, precision, (1, batch_size))
    with torch.inference_mode():
        single = _times(lambda: model(one), device, repeats)
        batches = _times(lambda: model(many), device, repeats, warmup=1)
    latency, batch = statistics.median(single), statistics.median(batches)
    ratio, ratio_best = (capture_ratio(model, one, device, max(2 * repeats, 5)) if precision == "float32"
                         else (None, None))
    book = ledger(spec)
    roofline = [roofline_batch(book, n, precision, _machines(peak, bandwidth),
                               layer_seconds(model, x, device, repeats, flush), (statistics.median(t), min(t)))
                for n, x, t in ((1, one, single), (batch_size, many, batches))]
    macs = book.total_macs_with_bias
    gflop = 2 * macs / 1e9
    gflops_batch1, gflops_batch = gflop / latency, gflop * batch_size / batch
    return VariantResult(
        variant=spec.name, precision=precision, input_size=spec.input_size, macs_per_image=macs,
        latency_ms=latency * 1000, latency_best_ms=min(single) * 1000, batch_ms=batch * 1000,
        batch_best_ms=min(batches) * 1000, throughput_img_s=batch_size / batch, gflops_batch1=gflops_batch1,
        gflops_batch=gflops_batch, share_of_peak_batch1=gflops_batch1 / peak.gflops,
        share_of_peak=gflops_batch / peak.gflops, share_of_peak_batch1_best=gflop / min(single) / peak.best_gflops,
        share_of_peak_best=gflop * batch_size / min(batches) / peak.best_gflops,
        capture_ratio=ratio, capture_ratio_best=ratio_best, roofline=roofline)


def _check(batch_size: int, repeats: int, precisions: Sequence[str]) -> None:
    """Bad settings fail before anything is measured."""
    if batch_size < 1 or repeats < 1:
        raise AlexVizError("--batch-size and --repeats must be at least 1.")
    if not precisions:
        raise AlexVizError(f"Name at least one precision: {', '.join(PRECISIONS)}.")
    for precision in precisions:
        dtype_of(precision)


def run_bench(specs: Sequence[Spec] = (ARTICLE, TORCHVISION), device: torch.device | None = None,
              batch_size: int = 16, repeats: int = 10, precisions: Sequence[str] = PRECISIONS,
              progress: Callable[[str], None] | None = None) -> BenchResult:
    """All figures, measured now on one device: each precision's peak, the read bandwidth, then every network."""
    _check(batch_size, repeats, precisions)
    device = device or pick_device()
    say = progress or (lambda message: None)
    load_before = _load()
    peaks: dict[str, Peak] = {}
    for precision in precisions:
        say(f"matmul peak in {precision}")
        peaks[precision] = matmul_peak(device, repeats, precision)
    say("memory read bandwidth")
    buffer = memory_buffer(device)
    bandwidth = read_bandwidth(buffer, device, repeats)
    results = []
    for spec in specs:
        for precision in precisions:
            say(f"{spec.name} in {precision}")
            results.append(bench_variant(spec, device, batch_size, repeats, peaks[precision], bandwidth,
                                         _flusher(buffer)))
    load_after = _load()
    return BenchResult(device=device_name(device), device_type=device.type, torch_version=torch.__version__,
                       platform=f"{platform.system()} {platform.machine()} {platform.processor() or ''}".strip(),
                       batch_size=batch_size, repeats=repeats, precisions=tuple(precisions),
                       matmul_gflops={p: peak.gflops for p, peak in peaks.items()},
                       matmul_best_gflops={p: peak.best_gflops for p, peak in peaks.items()},
                       load_average=None if load_before is None or load_after is None else (load_before, load_after),
                       variants=results, peaks=list(peaks.values()), bandwidth=bandwidth)


def measure_roofline(spec: Spec = ARTICLE, batches: Sequence[int] = (1, PAPER_BATCH), repeats: int = 2,
                     precision: str = "float32", device: torch.device | None = None) -> RooflineRun:
    """What the overview page measures when asked: this machine's peak and read bandwidth, then each layer
    alone at each batch. No whole forward pass: at batch 128 it would double a wait the learner sits through."""
    _check(min(batches, default=0), repeats, [precision])
    device = device or pick_device()
    load = _load()
    peak = matmul_peak(device, repeats, precision)
    buffer = memory_buffer(device)
    bandwidth = read_bandwidth(buffer, device, repeats)
    model = twin(build_model(spec, seed=0).to(device), precision)
    book = ledger(spec)
    runs = [roofline_batch(book, n, precision, _machines(peak, bandwidth),
                           layer_seconds(model, x, device, repeats, _flusher(buffer)), None)
            for n, x in zip(batches, _inputs(spec, device, precision, batches))]
    return RooflineRun(variant=spec.name, precision=precision, device=device_name(device), peak=peak,
                       bandwidth=bandwidth, batches=runs, load_average=load)


def _goals(result: BenchResult) -> list[str]:
    """Each variant against issue 11's goals and issue 23's roofline goal, in words: met or missed."""
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
        for run in v.roofline:
            if run.share is not None and run.share_best is not None:
                lines.append(f"  {v.variant} {v.precision} b{run.batch}: {run.share:.0%} of its roofline, fastest "
                             f"runs {run.share_best:.0%} (goal >= {ROOFLINE_GOAL:.0%}): "
                             + ("met" if run.share >= ROOFLINE_GOAL else "missed"))
    return lines


def _machine_lines(result: BenchResult) -> list[str]:
    lines = [f"matmul {p.side}x{p.side} {p.precision} ({p.layout}): {p.gflops:,.1f} GFLOP/s (practical peak; "
             f"fastest run {p.best_gflops:,.1f})" for p in result.peaks]
    bw = result.bandwidth
    if bw is not None:
        cache = "unknown" if bw.cache_bytes is None else f"{bw.cache_bytes / 2**20:,.0f} MiB"
        lines.append(f"memory read bandwidth: {bw.gbs:,.1f} GB/s (fastest run {bw.best_gbs:,.1f}): the sum of a "
                     f"{bw.buffer_bytes / 2**20:,.0f} MiB float32 buffer (last-level cache: {cache})")
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
    lines += _machine_lines(result)
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
    lines += ["", *columns(rows, left=2)]
    peaks = {p.precision: p for p in result.peaks}
    for v in result.variants:
        if result.bandwidth is not None and v.roofline:
            machine = Machine(peaks[v.precision].gflops, result.bandwidth.gbs)
            lines += ["", f"roofline of {v.variant} in {v.precision}: peak {machine.peak_gflops:,.1f} GFLOP/s, "
                          f"read {machine.bandwidth_gbs:,.1f} GB/s, ridge {machine.ridge:,.1f} FLOP/byte",
                      *roofline_table(v.roofline)]
    lines += ["", "against the goals:", *_goals(result), ""]
    lines.append("GFLOP/s = 2 x multiply-adds (bias adds included) / median time; % peak: of the matmul peak in the "
                 "same precision, medians (in brackets: fastest network run over fastest matmul run); "
                 "capture/plain: all layers captured to the CPU vs a plain forward, float32, batch 1, "
                 "median over interleaved pairs; best/best: fastest capture over fastest plain forward "
                 "(target <= 1.10x).")
    lines.append(ROOFLINE_NOTE)
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


__all__ = ["GOALS", "ROOFLINE_GOAL", "Bandwidth", "BenchResult", "Peak", "RooflineRun", "VariantResult",
           "bench_variant", "capture_ratio", "layer_seconds", "layer_steps", "matmul_peak", "measure_roofline",
           "read_bandwidth", "render", "report", "run_bench"]
