"""The roofline's arithmetic, against numbers worked out by hand from the article's layer table."""
from __future__ import annotations

import pytest

from alexnet_viz.analysis.roofline import Machine, layer_work, roofline_batch, roofline_table, weight_read, weight_uses
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.errors import AlexVizError
from alexnet_viz.figures.roofline import intensity_chart, roofline_chart

MACHINE = Machine(peak_gflops=100.0, bandwidth_gbs=10.0)  # ridge: 10 FLOP/byte


def _work(name: str, batch: int = 1, precision: str = "float32"):
    return next(w for w in layer_work(ledger("article"), batch, precision) if w.name == name)


def test_a_convolution_by_hand() -> None:
    # C1: 96 filters of 3x11x11 plus a bias over a 55x55 map = 290,400 outputs x 364 multiply-adds
    c1 = _work("C1")
    assert c1.flops == 2 * 290_400 * 364 == 211_411_200
    assert c1.weight_bytes == 34_944 * 4  # 96 x (363 + 1) parameters
    assert c1.activation_bytes == (3 * 224 * 224 + 96 * 55 * 55) * 4 == 1_763_712
    assert c1.bytes == 1_903_488 and c1.intensity == pytest.approx(111.065, abs=1e-3)
    assert MACHINE.seconds(c1) == pytest.approx(211_411_200 / 100e9)  # 2.11 ms of arithmetic > 0.19 ms of bytes
    assert MACHINE.bound(c1) == "compute"


def test_a_fully_connected_layer_by_hand() -> None:
    f9 = _work("F9")  # 9216 -> 4096: 37,752,832 parameters, one multiply-add each per image
    assert f9.flops == 75_505_664 and f9.bytes == 37_752_832 * 4 + (9216 + 4096) * 4 == 151_064_576
    assert f9.intensity == pytest.approx(0.4998, abs=1e-4)  # half a FLOP per byte
    assert MACHINE.seconds(f9) == pytest.approx(151_064_576 / 10e9)  # 15.1 ms of bytes > 0.76 ms of arithmetic
    assert MACHINE.bound(f9) == "memory"
    # the paper's batch in bf16: the weights are read once for 128 images, at 2 bytes each
    big = _work("F9", 128, "bf16")
    assert big.flops == 128 * 75_505_664 and big.bytes == 37_752_832 * 2 + 128 * (9216 + 4096) * 2 == 78_913_536
    assert big.intensity == pytest.approx(122.47, abs=0.01) and MACHINE.bound(big) == "compute"
    assert MACHINE.seconds(big) == pytest.approx(128 * 75_505_664 / 100e9)


def test_a_pool_counts_its_window_and_the_machine_its_ridge() -> None:
    s2 = _work("S2")  # 3x3 windows: 8 comparisons per output
    assert s2.flops == 8 * 96 * 27 * 27 and s2.bytes == (96 * 55 * 55 + 96 * 27 * 27) * 4
    assert MACHINE.ridge == 10.0
    assert MACHINE.attainable_gflops(0.5) == 5.0 and MACHINE.attainable_gflops(111.0) == 100.0


def test_shares_are_roofline_over_measured_time() -> None:
    book = ledger("article")
    works = layer_work(book)
    roof = [MACHINE.seconds(w) for w in works]
    measured = [(2 * t, 1.5 * t) for t in roof]  # every layer at half its roof, fastest runs at two thirds
    fast = Machine(200.0, 20.0)  # the fastest peak and bandwidth runs: every roof halves
    run = roofline_batch(book, 1, "float32", (MACHINE, fast), measured, (2 * sum(roof), sum(roof)))
    assert [layer.share for layer in run.layers] == pytest.approx([0.5] * len(works))
    assert [layer.share_best for layer in run.layers] == pytest.approx([1 / 3] * len(works))
    assert run.share == pytest.approx(0.5) and run.share_best == pytest.approx(0.5)
    assert run.roofline_ms == pytest.approx(1e3 * sum(roof))
    assert [layer.bound for layer in run.layers if layer.kind == "fc"] == ["memory"] * 3
    text = "\n".join(roofline_table([run]))
    assert "% roof b1 (best)" in text and "whole" in text and "50% (33%)" in text
    alone = roofline_batch(book, 1, "float32", (MACHINE, fast), measured)  # no whole pass timed: no whole share
    assert alone.share is None and alone.measured_ms is None


def test_bad_arguments_are_library_errors() -> None:
    with pytest.raises(AlexVizError, match="at least one image"):
        layer_work(ledger("article"), 0)
    with pytest.raises(AlexVizError, match="float32, bf16"):
        layer_work(ledger("article"), 1, "fp8")
    with pytest.raises(AlexVizError, match="layer times"):
        roofline_batch(ledger("article"), 1, "float32", (MACHINE, MACHINE), [(1.0, 1.0)])


def test_weight_reuse_and_the_fully_connected_read_by_hand() -> None:
    uses = weight_uses(ledger("article"))
    assert uses["C3"] == 27 * 27 and uses["C1"] == 55 * 55 and uses["F9"] == 1  # a map's positions; once
    size, seconds = weight_read(layer_work(ledger("article")), MACHINE)
    assert size == (37_752_832 + 16_781_312 + 4_097_000) * 4 == 234_524_576  # the 234 MB
    assert seconds == pytest.approx(234_524_576 / 10e9)


def test_the_figures_draw_one_point_per_layer_and_the_roof() -> None:
    book = ledger("article")
    works = {1: layer_work(book, 1), 128: layer_work(book, 128)}
    plain = intensity_chart(works)
    markers = [t for t in plain.data if t.mode == "markers"]
    assert [t.name for t in markers] == ["batch 1", "batch 128"]
    assert list(markers[0].y) == list(book.spec.names) and list(markers[1].x) == [w.intensity for w in works[128]]
    assert not plain.layout.shapes  # no machine, no ridge
    assert intensity_chart(works, ridge=10.0).layout.shapes  # the ridge and the memory-bound side shaded
    runs = [roofline_batch(book, n, "float32", (MACHINE, MACHINE), [(MACHINE.seconds(w) * 2,) * 2 for w in works[n]])
            for n in (1, 128)]
    fig = roofline_chart(MACHINE, runs)
    roof = fig.data[0]
    assert roof.name == "roof" and list(roof.x)[1] == MACHINE.ridge and list(roof.y)[1] == MACHINE.peak_gflops
    batch1 = fig.data[1]
    assert list(batch1.text) == list(book.spec.names)
    f9 = list(batch1.text).index("F9")  # at half its roof: 5 GB/s x 0.4998 FLOP/byte / 2
    assert batch1.y[f9] == pytest.approx(MACHINE.attainable_gflops(works[1][f9].intensity) / 2)
