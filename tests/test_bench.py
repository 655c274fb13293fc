"""The benchmark runs and reports every figure (speed itself is never asserted: it is the bench's job)."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from alexnet_viz.analysis import bench
from alexnet_viz.analysis.bench import (
    last_level_cache,
    layer_steps,
    matmul_peak,
    measure_roofline,
    render,
    run_bench,
)
from alexnet_viz.analysis.roofline import Machine, layer_work
from alexnet_viz.cli import main
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.casting import cast_input, twin
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import get_spec
from alexnet_viz.errors import AlexVizError
from tests.helpers import tiny


@pytest.fixture(autouse=True)
def small_matmul(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 256-side peak matmul and an 8 MiB bandwidth buffer: the same code paths at a fraction of the cost."""
    monkeypatch.setattr(bench, "MATMUL_SIDE", 256)
    monkeypatch.setattr(bench, "BANDWIDTH_BYTES", 8 * 2**20)


def test_run_bench_measures_every_figure_in_both_precisions() -> None:
    spec = tiny()
    result = run_bench([spec], batch_size=3, repeats=2)
    assert result.device_type == "cpu" and result.device.startswith("CPU (")
    assert result.precisions == ("float32", "bf16") and set(result.matmul_gflops) == {"float32", "bf16"}
    f32, b16 = result.variants
    assert (f32.precision, b16.precision) == ("float32", "bf16")
    macs = 2 * ledger(spec).total_macs_with_bias  # flops per image, from the ledger
    for v in (f32, b16):
        peak, best = result.matmul_gflops[v.precision], result.matmul_best_gflops[v.precision]
        assert best >= peak
        assert v.variant == spec.name and v.macs_per_image * 2 == macs
        assert all(math.isfinite(x) and x > 0 for x in (v.latency_ms, v.batch_ms, v.throughput_img_s,
                                                         v.gflops_batch1, v.gflops_batch))
        assert v.latency_best_ms <= v.latency_ms
        assert v.throughput_img_s == pytest.approx(3 / (v.batch_ms / 1000))
        assert v.gflops_batch == pytest.approx(macs * 3 / (v.batch_ms / 1000) / 1e9)
        assert v.gflops_batch1 == pytest.approx(macs / (v.latency_ms / 1000) / 1e9)
        assert v.share_of_peak == pytest.approx(v.gflops_batch / peak)  # each against its own precision's peak
        assert v.share_of_peak_batch1 == pytest.approx(v.gflops_batch1 / peak)
        assert v.share_of_peak_best == pytest.approx(macs * 3 / (v.batch_best_ms / 1000) / 1e9 / best)
        assert v.share_of_peak_batch1_best == pytest.approx(macs / (v.latency_best_ms / 1000) / 1e9 / best)
    assert f32.capture_ratio is not None and f32.capture_ratio > 0 and b16.capture_ratio is None
    text = render(result)
    assert result.load_average is not None and len(result.load_average) == 2
    for field in ("matmul 256x256 float32", "matmul 256x256 bf16", "% peak b1 (best)", "b3 img/s", "capture/plain",
                  "best/best", spec.name, "load average", f"{spec.name} bf16 b1:", "(goal >= 75%)",
                  "memory read bandwidth",
                  f"roofline of {spec.name} in bf16", "% roof b3 (best)", "of its roofline", "(goal >= 85%)"):
        assert field in text


def test_the_roofline_is_measured_in_the_same_run() -> None:
    """Each variant and precision at batch 1 and N: every layer's roofline time over its measured time."""
    result = run_bench([tiny()], batch_size=3, repeats=2, precisions=["float32"])
    assert result.bandwidth is not None and result.bandwidth.buffer_bytes == 8 * 2**20
    assert result.bandwidth.best_gbs >= result.bandwidth.gbs > 0
    (peak,) = result.peaks
    assert (peak.precision, peak.side) == ("float32", 256) and peak.gflops == result.matmul_gflops["float32"]
    (v,) = result.variants
    assert [run.batch for run in v.roofline] == [1, 3]
    machine = Machine(peak.gflops, result.bandwidth.gbs)
    for run, works in zip(v.roofline, (layer_work(ledger(tiny()), 1), layer_work(ledger(tiny()), 3))):
        assert [layer.name for layer in run.layers] == list(tiny().names)
        for layer, work in zip(run.layers, works):
            assert layer.roofline_ms == pytest.approx(machine.seconds(work) * 1e3)
            assert layer.share == pytest.approx(layer.roofline_ms / layer.measured_ms)
            assert layer.measured_best_ms <= layer.measured_ms
        assert run.roofline_ms == pytest.approx(sum(layer.roofline_ms for layer in run.layers))
        assert run.measured_ms is not None and run.share == pytest.approx(run.roofline_ms / run.measured_ms)
    assert v.roofline[0].measured_ms == pytest.approx(v.latency_ms)  # the same whole-forward runs as the latency
    assert v.roofline[1].measured_ms == pytest.approx(v.batch_ms)


@pytest.mark.parametrize("variant", ["article", "paper", "torchvision"])
def test_layers_timed_alone_chain_into_the_forward_pass(variant: str) -> None:
    """What is timed layer by layer is the network itself: LRN, groups, the adaptive pool, the flatten."""
    spec = tiny(get_spec(variant))
    model = twin(build_model(spec, seed=0), "float32")
    size = spec.input_size
    x = cast_input(torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0)), "float32")
    y = x
    with torch.inference_mode():
        for step in layer_steps(model):
            y = step(y)
        assert torch.equal(y, model(x))


def test_the_peak_matmul_grows_until_it_is_worth_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "MATMUL_FIRST_SIDE", 32)
    monkeypatch.setattr(bench, "MATMUL_SIDE", 128)
    monkeypatch.setattr(bench, "MATMUL_SECONDS", math.inf)  # no call too long: up to the largest side
    assert matmul_peak(torch.device("cpu"), 1).side == 128
    monkeypatch.setattr(bench, "MATMUL_SECONDS", 0.0)  # any larger call too long: the first side
    peak = matmul_peak(torch.device("cpu"), 2, "bf16")
    assert (peak.side, peak.precision) == (32, "bf16") and peak.layout in bench.LAYOUTS
    assert peak.best_gflops >= peak.gflops > 0


def test_the_last_level_cache_is_the_largest_linux_reports(tmp_path: Path) -> None:
    for index, size in enumerate(("32K", "512K", "32768K", "junk")):
        (tmp_path / f"index{index}").mkdir()
        (tmp_path / f"index{index}" / "size").write_text(size + "\n")
    assert last_level_cache(tmp_path) == 32 * 2**20
    assert last_level_cache(tmp_path / "absent") is None


def test_the_overview_measurement_times_layers_at_each_batch() -> None:
    run = measure_roofline(tiny(), batches=(1, 2), repeats=1)
    assert [b.batch for b in run.batches] == [1, 2] and run.precision == "float32"
    assert all(b.share is None and len(b.layers) == len(tiny().names) for b in run.batches)  # no whole pass
    median, best = run.machines
    assert median.peak_gflops == run.peak.gflops and best.bandwidth_gbs == run.bandwidth.best_gbs


def test_bench_cli_json_has_both_networks(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's wiring, on tiny stand-ins for the two networks (the measuring itself is tested above)."""
    from alexnet_viz.cli import bench as bench_command

    monkeypatch.setattr(bench_command, "variant_spec", lambda v: replace(tiny(get_spec(v)), name=v))
    threads = torch.get_num_threads()
    try:
        code = main(["bench", "--repeats", "1", "--batch-size", "2", "--json", "--precisions", "bf16",
                     "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["device"] == "CPU (1 thread)"
    assert [(v["variant"], v["precision"]) for v in doc["variants"]] == [("article", "bf16"), ("torchvision", "bf16")]
    assert doc["batch_size"] == 2 and doc["precisions"] == ["bf16"] and list(doc["matmul_gflops"]) == ["bf16"]
    assert doc["bandwidth"]["gbs"] > 0 and [p["precision"] for p in doc["peaks"]] == ["bf16"]
    for v in doc["variants"]:
        assert {"latency_ms", "latency_best_ms", "throughput_img_s", "gflops_batch", "share_of_peak",
                "share_of_peak_batch1", "capture_ratio", "roofline"} <= v.keys()
        assert [run["batch"] for run in v["roofline"]] == [1, 2]
        for run in v["roofline"]:
            assert run["share"] > 0 and run["share_best"] > 0 and len(run["layers"]) == 11
            assert {"name", "intensity", "bound", "roofline_ms", "measured_ms", "share", "share_best"} <= \
                run["layers"][0].keys()


def test_bad_settings_are_library_errors(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(AlexVizError, match="at least 1"):
        run_bench([tiny()], repeats=0)
    with pytest.raises(AlexVizError, match="float32, bf16"):
        run_bench([tiny()], precisions=["fp8"])
    assert main(["bench", "--threads", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --threads")
