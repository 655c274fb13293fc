"""The benchmark runs and reports every figure (speed itself is never asserted: it is the bench's job)."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

from alexnet_viz.bench import render, run_bench
from alexnet_viz.cli import main
from alexnet_viz.errors import AlexVizError
from alexnet_viz.bookkeeping import ledger
from alexnet_viz.spec import ARTICLE, Spec


def tiny(base: Spec = ARTICLE) -> Spec:
    widths = {"C1": 8, "C3": 16, "C5": 16, "C6": 16, "C7": 8, "F9": 32, "F10": 32, "F11": 10}
    layers = tuple(replace(l, out=widths[l.name]) if l.name in widths else l for l in base.layers)
    return replace(base, name="tiny", layers=layers)


def test_run_bench_measures_every_figure_consistently() -> None:
    result = run_bench([tiny()], batch_size=3, repeats=2)
    assert result.device_type == "cpu" and result.device.startswith("CPU (") and result.matmul_gflops > 0
    (v,) = result.variants
    assert v.variant == "tiny" and v.macs_per_image == ledger(tiny()).total_macs_with_bias
    assert all(math.isfinite(x) and x > 0 for x in (v.latency_ms, v.batch_ms, v.throughput_img_s, v.gflops_batch1,
                                                     v.gflops_batch, v.share_of_peak, v.capture_ratio,
                                                     v.capture_ratio_best))
    assert v.latency_best_ms <= v.latency_ms
    assert v.throughput_img_s == pytest.approx(3 / (v.batch_ms / 1000))
    assert v.gflops_batch == pytest.approx(2 * v.macs_per_image * 3 / (v.batch_ms / 1000) / 1e9)
    assert v.share_of_peak == pytest.approx(v.gflops_batch / result.matmul_gflops)
    text = render(result)
    assert result.load_average is not None and len(result.load_average) == 2
    for field in ("matmul 2048x2048 float32", "GFLOP/s", "b3 img/s", "capture/plain", "best/best", "tiny",
                  "load average"):
        assert field in text


def test_bench_cli_json_has_both_networks(capsys: pytest.CaptureFixture) -> None:
    threads = torch.get_num_threads()
    try:
        code = main(["bench", "--repeats", "1", "--batch-size", "2", "--json", "--autocast", "bf16", "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["device"] == "CPU (1 thread)"
    assert [v["variant"] for v in doc["variants"]] == ["article", "torchvision"]
    assert doc["batch_size"] == 2 and doc["autocast"] == "bf16" and doc["matmul_autocast_gflops"] > 0
    for v in doc["variants"]:
        assert {"latency_ms", "latency_best_ms", "throughput_img_s", "gflops_batch", "share_of_peak", "capture_ratio",
                "capture_ratio_best"} <= v.keys()


def test_bad_settings_are_library_errors(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(AlexVizError, match="at least 1"):
        run_bench([tiny()], repeats=0)
    assert main(["bench", "--threads", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --threads")
