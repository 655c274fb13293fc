"""The benchmark runs and reports every figure (speed itself is never asserted: it is the bench's job)."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

from alexnet_viz.analysis import bench
from alexnet_viz.analysis.bench import render, run_bench
from alexnet_viz.cli import main
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.spec import get_spec
from alexnet_viz.errors import AlexVizError
from tests.helpers import tiny


@pytest.fixture(autouse=True)
def small_matmul(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 256-side peak matmul: the same code path at a 500th of the 2048-side cost."""
    monkeypatch.setattr(bench, "MATMUL_SIDE", 256)


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
                  "best/best", spec.name, "load average", f"{spec.name} bf16 b1:", "(goal >= 75%)"):
        assert field in text


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
    for v in doc["variants"]:
        assert {"latency_ms", "latency_best_ms", "throughput_img_s", "gflops_batch", "share_of_peak",
                "share_of_peak_batch1", "capture_ratio"} <= v.keys()


def test_bad_settings_are_library_errors(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(AlexVizError, match="at least 1"):
        run_bench([tiny()], repeats=0)
    with pytest.raises(AlexVizError, match="float32, bf16"):
        run_bench([tiny()], precisions=["fp8"])
    assert main(["bench", "--threads", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --threads")
