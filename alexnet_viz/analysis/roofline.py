"""The roofline: the least time each layer can take on a machine of a given compute peak and memory bandwidth.

A layer must do its arithmetic and move its bytes. At the machine's peak the arithmetic takes
FLOPs / peak; at its bandwidth the bytes take bytes / bandwidth; the larger of the two is the
layer's roofline time (Williams, Waterman and Patterson, "Roofline", CACM 2009). Which one is
larger depends on the layer's arithmetic intensity, FLOPs per byte moved, against the machine's
ridge point, peak / bandwidth: above the ridge a layer is compute-bound, below it memory-bound.

Everything here is arithmetic on the ledger (no torch), so a page can place the layers before
anything is measured. The bytes are the fewest a layer must move: its weights read once per
batch, its input read once and its output written once per image; ReLU, LRN and dropout are
taken as fused into the layer (they touch the same bytes) and their few operations per element
as free. FLOPs are 2 x the ledger's multiply-adds (bias adds included, as torchinfo and `bench`
count them); a pooling window of k x k does k^2 - 1 comparisons (or additions) per output.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alexnet_viz.core.bookkeeping import Ledger, Row
from alexnet_viz.errors import AlexVizError

BYTES_PER_ELEMENT = {"float32": 4, "bf16": 2}
PAPER_BATCH = 128  # Krizhevsky et al. 2012, Sec. 5: "a batch size of 128 examples"


@dataclass(frozen=True, slots=True)
class LayerWork:
    """What one layer must compute and move for a whole batch."""

    name: str
    kind: str
    batch: int
    flops: int
    weight_bytes: int  # parameters x bytes per element, read once per batch
    activation_bytes: int  # input and output maps, every image of the batch

    @property
    def bytes(self) -> int:
        return self.weight_bytes + self.activation_bytes

    @property
    def intensity(self) -> float:
        """FLOPs per byte moved: where the layer sits on the roofline's horizontal axis."""
        return self.flops / self.bytes


@dataclass(frozen=True, slots=True)
class Machine:
    """A compute peak (GFLOP/s) and a memory read bandwidth (GB/s): the two roofs."""

    peak_gflops: float
    bandwidth_gbs: float

    @property
    def ridge(self) -> float:
        """The intensity (FLOP/byte) where the two roofs meet: below it bytes decide, above it FLOPs."""
        return self.peak_gflops / self.bandwidth_gbs

    def attainable_gflops(self, intensity: float) -> float:
        """The roof over an intensity: the bandwidth's slope below the ridge, the flat peak above."""
        return min(self.peak_gflops, intensity * self.bandwidth_gbs)

    def seconds(self, work: LayerWork) -> float:
        """The roofline time: the larger of the arithmetic at the peak and the bytes at the bandwidth."""
        return max(work.flops / (self.peak_gflops * 1e9), work.bytes / (self.bandwidth_gbs * 1e9))

    def bound(self, work: LayerWork) -> str:
        """'compute' or 'memory': which roof the layer sits under."""
        return "compute" if work.intensity >= self.ridge else "memory"


def _elements(shape: tuple[int, ...]) -> int:
    n = 1
    for side in shape:
        n *= side
    return n


def _flops(row: Row) -> int:
    if row.kind in ("conv", "fc"):
        return 2 * row.macs_with_bias
    return (row.kernel * row.kernel - 1) * row.activations  # one pooling window per output


def layer_work(book: Ledger, batch: int = 1, precision: str = "float32") -> tuple[LayerWork, ...]:
    """Every layer's FLOPs and bytes for `batch` images in `precision` (float32: 4 bytes, bf16: 2)."""
    if batch < 1:
        raise AlexVizError(f"The batch must hold at least one image, not {batch}.")
    try:
        size = BYTES_PER_ELEMENT[precision]
    except KeyError:
        raise AlexVizError(f"Unknown precision {precision!r}: use one of {', '.join(BYTES_PER_ELEMENT)}.") from None
    return tuple(LayerWork(name=r.name, kind=r.kind, batch=batch, flops=batch * _flops(r),
                           weight_bytes=r.params * size,
                           activation_bytes=batch * (_elements(r.in_shape) + _elements(r.out_shape)) * size)
                 for r in book.rows)


def weight_uses(book: Ledger) -> dict[str, int]:
    """How many multiply-adds each weight of a layer takes part in, per image: a convolution's weight
    at every position of its output map, a fully connected layer's once."""
    return {r.name: r.macs_without_bias // r.weight_params for r in book.rows if r.weight_params}


def weight_read(works: Sequence[LayerWork], machine: Machine, kind: str = "fc") -> tuple[int, float]:
    """The bytes of the `kind` layers' weights and the seconds the machine's bandwidth needs to read them."""
    size = sum(w.weight_bytes for w in works if w.kind == kind)
    return size, size / (machine.bandwidth_gbs * 1e9)


@dataclass(frozen=True)
class LayerShare:
    """One layer at one batch: its roofline time next to its measured time (median and fastest run)."""

    name: str
    kind: str
    flops: int
    bytes: int
    intensity: float  # FLOP/byte
    bound: str  # "compute" or "memory", against the ridge of the machine's median figures
    roofline_ms: float  # from the median peak and bandwidth
    measured_ms: float  # median run
    measured_best_ms: float  # fastest run
    share: float  # roofline_ms / measured_ms: 1.0 is running at the roof
    share_best: float  # the roofline from the fastest peak and bandwidth runs over the fastest run


@dataclass(frozen=True)
class RooflineBatch:
    """Every layer at one batch, and the whole network: the sum of the layers' roofline times over
    the measured time of one whole forward pass (None where no whole pass was timed)."""

    batch: int
    layers: list[LayerShare]
    roofline_ms: float
    roofline_best_ms: float
    measured_ms: float | None  # one whole forward, median run
    measured_best_ms: float | None
    share: float | None
    share_best: float | None


def roofline_batch(book: Ledger, batch: int, precision: str, machine: tuple[Machine, Machine],
                   layer_seconds: list[tuple[float, float]],
                   whole_seconds: tuple[float, float] | None = None) -> RooflineBatch:
    """Shares of the roofline from measured times: `machine` is (median figures, fastest figures);
    `layer_seconds` holds each ledger row's (median, fastest) time, `whole_seconds` the whole forward's."""
    median, best = machine
    works = layer_work(book, batch, precision)
    if len(works) != len(layer_seconds):
        raise AlexVizError(f"{len(layer_seconds)} layer times for {len(works)} layers.")
    layers = [LayerShare(name=w.name, kind=w.kind, flops=w.flops, bytes=w.bytes, intensity=w.intensity,
                         bound=median.bound(w), roofline_ms=median.seconds(w) * 1e3, measured_ms=t * 1e3,
                         measured_best_ms=fastest * 1e3, share=median.seconds(w) / t,
                         share_best=best.seconds(w) / fastest)
              for w, (t, fastest) in zip(works, layer_seconds)]
    roof = sum(median.seconds(w) for w in works)
    roof_best = sum(best.seconds(w) for w in works)
    if whole_seconds is None:
        return RooflineBatch(batch=batch, layers=layers, roofline_ms=roof * 1e3, roofline_best_ms=roof_best * 1e3,
                             measured_ms=None, measured_best_ms=None, share=None, share_best=None)
    whole, whole_best = whole_seconds
    return RooflineBatch(batch=batch, layers=layers, roofline_ms=roof * 1e3, roofline_best_ms=roof_best * 1e3,
                         measured_ms=whole * 1e3, measured_best_ms=whole_best * 1e3, share=roof / whole,
                         share_best=roof_best / whole_best)


ROOFLINE_NOTE = (
    "roofline: each layer's least time, the larger of its FLOPs at the matmul peak and its bytes (weights once "
    "per batch, input and output maps) at the read bandwidth; % roof = that time / the layer's measured time "
    "(median of runs, each alone on its real input after a read that empties the cache; in brackets: from the "
    "fastest runs); whole = the layers' roofline times summed / one whole forward pass. A layer can pass 100 % "
    "where the bytes it moves stay in the cache or its FLOPs beat the matmul.")


def columns(rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Rows as aligned text: the first `left` columns to the left, numbers to the right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
            for r in rows]


def _pct(value: float | None, best: float | None) -> str:
    return "-" if value is None or best is None else f"{value:.0%} ({best:.0%})"


def roofline_table(batches: list[RooflineBatch]) -> list[str]:
    """One line per layer, each batch's intensity, bound, roofline and measured times, share; then the whole net."""
    header = ("layer", *(c for b in batches for c in (f"FLOP/B b{b.batch}", "bound", "roof ms", f"ms b{b.batch}",
                                                         f"% roof b{b.batch} (best)")))
    rows: list[tuple[str, ...]] = [header]
    for i, layer in enumerate(batches[0].layers):
        cells = [layer.name]
        for b in batches:
            at = b.layers[i]
            cells += [f"{at.intensity:,.1f}", at.bound, f"{at.roofline_ms:,.3f}", f"{at.measured_ms:,.3f}",
                      _pct(at.share, at.share_best)]
        rows.append(tuple(cells))
    whole = ["whole"]
    for b in batches:
        whole += ["", "", f"{b.roofline_ms:,.3f}", "-" if b.measured_ms is None else f"{b.measured_ms:,.3f}",
                  _pct(b.share, b.share_best)]
    rows.append(tuple(whole))
    return columns(rows)


__all__ = ["BYTES_PER_ELEMENT", "PAPER_BATCH", "ROOFLINE_NOTE", "LayerShare", "LayerWork", "Machine", "RooflineBatch",
           "columns", "layer_work", "roofline_batch", "roofline_table", "weight_read", "weight_uses"]
