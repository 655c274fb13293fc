"""The overview's roofline lesson: each layer's arithmetic intensity from the ledger at once; this server's
roofs (its matmul peak and memory read bandwidth) and every layer's measured time when a visitor asks.

A measurement takes seconds of the server's CPU, so it runs only on the button, one at a time, and is kept
for the server process: every later visitor sees it without waiting (and without the measuring load).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

from alexnet_viz.analysis.roofline import PAPER_BATCH, LayerWork, RooflineBatch, layer_work, weight_read, weight_uses
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import AlexVizError
from alexnet_viz.figures.roofline import intensity_chart, roofline_chart
from ui.charts import FrozenFigure, frozen

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.analysis.bench import RooflineRun

MEASURE: dict = {"batches": (1, PAPER_BATCH), "repeats": 2}  # what the button measures (tests shrink it)
CONFIG = {"displayModeBar": False}


@dataclass(frozen=True)
class Measured:
    """One measurement and the figures drawn from it, kept for the server process."""

    run: RooflineRun
    roofline: FrozenFigure
    intensity: FrozenFigure
    when: str


@dataclass
class _Store:
    lock: threading.Lock = field(default_factory=threading.Lock)
    runs: dict[tuple, Measured] = field(default_factory=dict)


@st.cache_resource(show_spinner=False)
def _store() -> _Store:
    return _Store()


@st.cache_resource(show_spinner=False, max_entries=16)
def _ledger_view(spec: Spec) -> tuple[dict[int, tuple[LayerWork, ...]], FrozenFigure]:
    """Every layer's FLOPs and bytes at batch 1 and the paper's batch, and the intensities drawn (no ridge)."""
    book = ledger(spec)
    works = {batch: layer_work(book, batch) for batch in (1, PAPER_BATCH)}
    return works, frozen(intensity_chart(works))


def _key(spec: Spec, device: str) -> tuple:
    return spec, device, tuple(MEASURE["batches"]), MEASURE["repeats"]


def _measure(spec: Spec, device: str) -> Measured:
    """Measure now (one measurement at a time: two at once would slow each other), unless someone just did."""
    from alexnet_viz.analysis.bench import measure_roofline
    from alexnet_viz.core.device import pick_device

    store, key = _store(), _key(spec, device)
    with store.lock:
        if key not in store.runs:
            run = measure_roofline(spec, MEASURE["batches"], MEASURE["repeats"], device=pick_device(device))
            median, _ = run.machines
            works, _ = _ledger_view(spec)
            store.runs[key] = Measured(run=run, roofline=frozen(roofline_chart(median, run.batches)),
                                       intensity=frozen(intensity_chart(works, median.ridge)),
                                       when=time.strftime("%Y-%m-%d %H:%M %Z"))
        return store.runs[key]


def _names(run: RooflineBatch, bound: str) -> str:
    return ", ".join(x.name for x in run.layers if x.kind in ("conv", "fc") and x.bound == bound) or "none"


def _lesson(spec: Spec, works: dict[int, tuple[LayerWork, ...]]) -> str:
    """Why a convolution does many FLOPs per byte and a fully connected layer few, from the ledger."""
    book = ledger(spec)
    uses = weight_uses(book)
    one, many = works[1], works[PAPER_BATCH]
    conv = [w.intensity for w in one if w.kind == "conv"]
    fc, fc_many = ([w.intensity for w in row if w.kind == "fc"] for row in (one, many))
    widest = max((r for r in book.rows if r.kind == "conv"), key=lambda r: r.weight_params)
    fc_bytes = sum(w.weight_bytes for w in one if w.kind == "fc")
    return (f"A convolution uses each weight at every position of its output map: each of {widest.name}'s "
            f"{widest.weight_params:,} weights takes part in {uses[widest.name]:,} multiply-adds per image. So even "
            f"for one image the convolutions do **{min(conv):,.0f}–{max(conv):,.0f} FLOPs per byte**. A fully "
            f"connected weight is used once per image: the fully connected layers read {fc_bytes / 1e6:,.1f} MB of "
            f"weights for one image and do about **{max(fc):.1f} FLOP per byte**. In a batch the weights are read "
            f"once for all its images: at batch {PAPER_BATCH}, the batch the paper trained with (Sec. 5), the fully "
            f"connected layers reach **{min(fc_many):,.0f}–{max(fc_many):,.0f} FLOPs per byte**, "
            f"{min(fc_many) / max(fc):,.0f} times more, while the pooling layers stay below one: they do a few "
            f"comparisons per byte at any batch.")


def _verdict(measured: Measured) -> str:
    """This server's roofs and ridge, and which layers each roof holds back, in words."""
    run = measured.run
    machine, _ = run.machines
    bw = run.bandwidth
    cache = "" if bw.cache_bytes is None else f", {bw.buffer_bytes / bw.cache_bytes:.0f}× its last-level cache"
    lines = [f"**This server**: a peak of **{machine.peak_gflops:,.0f} GFLOP/s** (a {run.peak.side}×{run.peak.side} "
             f"float32 matrix product, the best-tuned arithmetic it has) and a memory read bandwidth of "
             f"**{machine.bandwidth_gbs:,.1f} GB/s** (summing a {bw.buffer_bytes / 2**20:,.0f} MiB buffer{cache}), "
             f"so its ridge is at **{machine.ridge:,.1f} FLOPs per byte**."]
    lines += [f"At batch {b.batch}: compute-bound {_names(b, 'compute')}; memory-bound {_names(b, 'memory')}."
              for b in run.batches]
    return "  \n".join(lines)


def _two_gpus(measured: Measured, works: dict[int, tuple[LayerWork, ...]]) -> str:
    """One more reason the paper's two GPUs mattered, in this server's own bandwidth."""
    machine, _ = measured.run.machines
    size, seconds = weight_read(works[1], machine)
    roof = sum(machine.seconds(w) for w in works[1])
    return (f"**One more reason the paper's two GPUs mattered.** The paper spread the network over two GTX 580s "
            f"because one card's 3 GB could not hold it for training, with half of every layer's neurons on each "
            f"GPU (Sec. 3.2), so each GPU also held half of every fully connected layer's weights. For one image "
            f"those layers are memory-bound: on this server, reading their {size / 1e6:,.0f} MB takes "
            f"**{seconds * 1e3:,.1f} ms** at {machine.bandwidth_gbs:,.1f} GB/s, {seconds / roof:.0%} of the whole "
            f"network's roofline time. Two memories that each read half finish in **{seconds * 1e3 / 2:,.1f} ms**: "
            f"splitting the weights doubled the bandwidth they are read with, not only the memory that holds them.")


def _table(measured: Measured) -> list[dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for b in measured.run.batches:
        for layer in b.layers:
            row = rows.setdefault(layer.name, {"layer": layer.name})
            row[f"FLOP/byte, batch {b.batch}"] = round(layer.intensity, 1)
            row[f"bound, batch {b.batch}"] = layer.bound
            row[f"ms, batch {b.batch}"] = round(layer.measured_ms, 3)
            row[f"% of roof, batch {b.batch}"] = f"{layer.share:.0%}"
    return list(rows.values())


def _measured_view(measured: Measured, works: dict[int, tuple[LayerWork, ...]]) -> None:
    run = measured.run
    st.markdown(_verdict(measured))
    st.plotly_chart(measured.roofline, key="roofline_measured", width="stretch", config=CONFIG)
    load = ("" if run.load_average is None
            else f", 1-minute load average {run.load_average:.1f} on {os.cpu_count()} CPUs")
    st.caption(f"The roof: the bandwidth's slope up to the ridge, then the flat peak. Each point is one layer timed "
               f"alone on its real input (the median of {MEASURE['repeats']} runs, each after a read that "
               f"empties the cache); the gap under the roof is how far it falls short. Measured {measured.when} on "
               f"{run.device}{load}: other work on the server slows the times, never the arithmetic. "
               f"`alexnet-viz bench` measures the same in more detail, in float32 and bf16.")
    rows = _table(measured)
    st.dataframe(rows, hide_index=True, width="stretch", height=36 * (len(rows) + 1))
    st.markdown(_two_gpus(measured, works))


def roofline_section(spec: Spec, device: str) -> None:
    """The lesson, the intensities at once, and the measured roofline once this server has been measured."""
    works, plain = _ledger_view(spec)
    st.markdown("#### Compute-bound or memory-bound: the roofline")
    st.markdown(
        "Every layer does two jobs: arithmetic, and moving bytes between memory and the processor (its weights, "
        "the map it reads, the map it writes). A machine has a top speed for each: its *peak*, in FLOP/s "
        "(floating-point operations per second; a multiply-add is two), and its memory *bandwidth*, in bytes per "
        "second. The slower of the two jobs sets the least time a layer can take: over all layers, that bound is "
        "the *roofline*.\n\n"
        "A layer's **arithmetic intensity** is its FLOPs per byte moved. The machine's **ridge point** is its peak "
        "divided by its bandwidth, the intensity at which both jobs take equally long. Right of the ridge a layer "
        "has more arithmetic than bytes: it is *compute-bound*. Left of it the processor waits for memory: it is "
        "*memory-bound*.")
    chart = st.container()
    st.markdown(_lesson(spec, works))
    store, key = _store(), _key(spec, device)
    measured = store.runs.get(key)
    if measured is None:
        offer = st.empty()  # cleared once the measurement is in
        with offer.container():
            st.markdown("Where the ridge falls depends on the machine. **Measuring this server** adds its two roofs: "
                        "the peak of its best matrix product and how fast it reads memory, so its ridge; then it "
                        f"times every layer alone at batch 1 and batch {MEASURE['batches'][-1]} and draws each "
                        "against its roof. It takes a few seconds (longer while the server is busy), runs once per "
                        "server, and every visitor after sees the result.")
            asked = st.button("Measure this machine", key="roofline_measure", type="primary")
        if asked:
            with st.spinner("Measuring this machine: its peak, its memory bandwidth, then every layer…"):
                try:
                    measured = _measure(spec, device)
                    offer.empty()
                except (AlexVizError, RuntimeError, MemoryError) as err:
                    st.error(f"The measurement failed ({err}). Try again when the server is less busy.")
    with chart:
        st.plotly_chart(plain if measured is None else measured.intensity, key="roofline_intensity", width="stretch",
                        config=CONFIG)
        st.caption("Each layer's intensity from the ledger, in float32: FLOPs are 2 × its multiply-adds (a pool: "
                   "its comparisons); bytes are its weights, read once per batch, and every image's input and output "
                   f"maps. Circles: one image; diamonds: a batch of {PAPER_BATCH}. Colours as in the 3-D blocks."
                   + ("" if measured is None else " Grey: left of this server's ridge, memory-bound."))
    if measured is not None:
        _measured_view(measured, works)
