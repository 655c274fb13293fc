"""Feature visualisation: the optimised image excites its unit, the disk cache, the shared model untouched."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from alexnet_viz.analysis import featviz
from alexnet_viz.analysis.featviz import FourierImage, Settings, cached_visualize, load_cached, unit_value, visualize
from alexnet_viz.core.model import build_model
from alexnet_viz.errors import AlexVizError
from tests.helpers import assert_unchanged, snapshot, tiny

FAST = Settings(steps=48, size=64, seed=0)


@pytest.fixture(scope="module")
def model():
    return build_model(tiny(), seed=0)


@pytest.mark.slow
def test_the_optimised_image_excites_its_channel_more_than_the_start_and_than_other_channels_images(model) -> None:
    layer, channels = "C3", (2, 5, 9)
    results = {c: visualize(model, layer, c, FAST) for c in channels}
    for c, res in results.items():
        assert res.images.shape == (1, 64, 64, 3) and res.images.dtype == np.uint8
        recomputed = unit_value(model, layer, c, res.images)[0]  # the stored uint8 picture, recomputed
        assert recomputed > res.start_value
        assert recomputed == pytest.approx(res.values[0], rel=0.05, abs=1e-3)
        for other in channels:
            if other != c:
                assert recomputed > unit_value(model, layer, c, results[other].images)[0], (c, other)


@pytest.mark.slow
def test_a_class_logit_and_a_pooling_layer_can_be_visualised(model) -> None:
    res = visualize(model, "F11", 3, replace(FAST, steps=24))
    assert res.images.shape == (1, 64, 64, 3) and res.values[0] > res.start_value  # drawn at 64, seen at 224
    pooled = visualize(model, "S4", 1, replace(FAST, steps=24))
    assert pooled.values[0] > pooled.start_value


def test_bf16_runs_and_still_climbs(model) -> None:
    res = visualize(model, "C1", 4, replace(FAST, precision="bf16"))
    assert res.values[0] > res.start_value
    assert all(p.dtype == torch.float32 for p in model.parameters())


@pytest.mark.slow
def test_diversity_makes_the_set_less_alike_than_the_same_run_without_it(model) -> None:
    plain = visualize(model, "C3", 1, replace(FAST, batch=3, steps=32))
    diverse = visualize(model, "C3", 1, replace(FAST, batch=3, steps=32, diversity=5.0))
    assert diverse.images.shape[0] == 3 and len(diverse.values) == 3

    def similarity(images: np.ndarray) -> float:
        net = featviz.twin(model, "float32")
        forward, _ = featviz._head(net, "C3")
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)
        mean, std = torch.tensor(featviz.IMAGENET_MEAN), torch.tensor(featviz.IMAGENET_STD)
        with torch.no_grad():
            return float(featviz._diversity(forward((x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1))))

    assert similarity(diverse.images) < similarity(plain.images)


def test_seeded_runs_repeat_exactly(model) -> None:
    a = visualize(model, "C1", 0, replace(FAST, steps=8))
    b = visualize(model, "C1", 0, replace(FAST, steps=8))
    assert np.array_equal(a.images, b.images)


def test_the_shared_model_is_left_exactly_as_it_was() -> None:
    model = build_model(tiny(), seed=1)
    model.layer("C1").weight.requires_grad_(False)  # a mixed state must come back as it was
    before = snapshot(model)
    calls = []
    visualize(model, "C3", 0, replace(FAST, steps=4), progress=lambda i, n: calls.append((i, n)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert_unchanged(model, before)


def test_bad_requests_are_library_errors(model) -> None:
    with pytest.raises(AlexVizError, match="0 to 15"):
        visualize(model, "C3", 16, FAST)
    with pytest.raises(AlexVizError, match="C4"):
        visualize(model, "C4", 0, FAST)
    with pytest.raises(AlexVizError, match="steps"):
        visualize(model, "C3", 0, replace(FAST, steps=0))
    with pytest.raises(AlexVizError, match="Diversity"):
        visualize(model, "C3", 0, replace(FAST, diversity=1.0))


def test_results_are_cached_on_disk_by_weights_and_settings(model, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(featviz.CACHE_ENV, str(tmp_path))
    settings = replace(FAST, steps=4)
    assert load_cached(model, "C1", 1, settings) is None
    first = cached_visualize(model, "C1", 1, settings)
    files = list((tmp_path / "featviz").glob("*.npz"))
    assert len(files) == 1
    again = load_cached(model, "C1", 1, settings)
    assert again is not None and np.array_equal(again.images, first.images) and again.values == first.values
    calls = []
    cached_visualize(model, "C1", 1, settings, progress=lambda i, n: calls.append(i))
    assert calls == []  # read, not recomputed
    assert load_cached(model, "C1", 1, replace(settings, seed=1)) is None
    assert load_cached(build_model(tiny(), seed=2), "C1", 1, settings) is None  # other weights


def test_the_fourier_image_is_a_valid_picture_with_most_energy_at_low_frequencies() -> None:
    gen = torch.Generator().manual_seed(0)
    param = FourierImage(1, 64, gen, sd=1.0)
    with torch.no_grad():
        img = param()
    assert img.shape == (1, 3, 64, 64) and float(img.min()) >= 0 and float(img.max()) <= 1
    spec = torch.fft.rfft2(img - img.mean()).abs()[0].mean(0)
    assert float(spec[1:4, 1:4].mean()) > float(spec[20:30, 20:30].mean())
