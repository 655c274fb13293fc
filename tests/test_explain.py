"""Grad-CAM, occlusion and saliency: shape, range, agreement with hand-made versions, model untouched."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alexnet_viz.analysis.explain import grad_cam, occlusion, saliency, twin
from alexnet_viz.analysis.probe import capture
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import ARTICLE, PAPER, TORCHVISION, Spec
from alexnet_viz.errors import AlexVizError
from tests.helpers import assert_unchanged, picture, snapshot, tiny


def kaiming(net: nn.Module, seed: int) -> nn.Module:
    """He-normal weights, zero biases: a signal that survives eight narrow layers."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                m.bias.zero_()
    return net


METHODS = {"grad_cam": grad_cam, "occlusion": occlusion, "saliency": saliency}


@pytest.fixture(scope="module")
def model() -> nn.Module:
    return kaiming(build_model(tiny(), seed=0), 0)


# occlusion at its default window runs 169 forwards per map: with the slow tests (its whole-image and bf16
# cases stay in the fast loop)
@pytest.mark.parametrize("method", ["grad_cam", "saliency", pytest.param("occlusion", marks=pytest.mark.slow)])
@pytest.mark.parametrize("base", [ARTICLE, PAPER, TORCHVISION], ids=lambda s: s.name)
def test_maps_are_float32_in_unit_range_at_input_resolution_and_not_flat(method: str, base: Spec) -> None:
    net = kaiming(build_model(tiny(base), seed=1), 1)
    x = picture(base.input_size)
    with torch.no_grad():
        top = int(net(x).argmax())  # the predicted class: the one with positive evidence somewhere
    a = METHODS[method](net, x, top)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    assert a.shape == (base.input_size, base.input_size)
    assert np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 1.0
    assert a.max() == pytest.approx(1.0) and a.std() > 0.01


def test_the_model_is_left_as_it_was(model: nn.Module) -> None:
    model.train()
    model.features.eval()  # a mixed state, and frozen weights, must both survive
    model.layer("C3").weight.requires_grad_(False)
    try:
        before = snapshot(model)
        for method in METHODS.values():
            method(model, picture(), 2)
        assert_unchanged(model, before)
    finally:
        model.eval()
        model.layer("C3").weight.requires_grad_(True)


def test_twin_shares_weights_and_carries_no_hooks(model: nn.Module) -> None:
    handle = model.layer("C1").register_forward_hook(lambda *args: None)
    try:
        double = twin(model)
    finally:
        handle.remove()
    assert double is not model and double.layer("C1") is not model.layer("C1")
    assert all(a is b for a, b in zip(double.parameters(), model.parameters()))
    assert not any(m._forward_hooks for m in double.modules())
    assert not double.training


def test_grad_cam_equals_the_definition_computed_from_capture(model: nn.Module) -> None:
    x = picture()
    out = capture(model, x.clone().requires_grad_(True), ["C7", "F11"], grad=True)
    out["F11"][0, 4].backward()
    acts, grads = out["C7"].detach(), out["C7"].grad
    cam = torch.relu((grads.mean(dim=(2, 3), keepdim=True) * acts).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=(224, 224), mode="bilinear", align_corners=False)[0, 0]
    for p in model.parameters():
        p.grad = None
    expected = (cam / cam.max()).numpy()
    assert np.allclose(grad_cam(model, x, 4, "C7"), expected, atol=1e-5)


def test_grad_cam_depends_on_the_class_and_works_on_other_layers(model: nn.Module) -> None:
    x = picture()
    maps = [grad_cam(model, x, t) for t in range(4)]
    assert any(np.abs(maps[0] - m).max() > 0.05 for m in maps[1:])
    for layer in ("C1", "C5", "S8"):
        a = grad_cam(model, x, 1, layer)
        assert a.shape == (224, 224) and np.isfinite(a).all() and 0 <= a.min() <= a.max() <= 1


def test_saliency_equals_the_largest_absolute_input_gradient(model: nn.Module) -> None:
    x = picture().requires_grad_(True)
    model(x)[0, 5].backward()
    for p in model.parameters():
        p.grad = None
    g = x.grad[0].abs().amax(dim=0)
    assert np.allclose(saliency(model, picture(), 5), (g / g.max()).numpy(), atol=1e-6)


def test_occlusion_of_the_whole_image_is_one_number(model: nn.Module) -> None:
    """One window covering everything: every pixel gets the same drop (scaled to 1, or 0 if none)."""
    x = picture()
    with torch.no_grad():
        drop = float(model(x)[0, 6] - model(torch.zeros_like(x))[0, 6])
    a = occlusion(model, x, 6, window=224, stride=224)
    assert np.all(a == (1.0 if drop > 0 else 0.0))


def test_callers_inside_inference_mode_still_get_gradients(model: nn.Module) -> None:
    with torch.inference_mode():
        x = picture()
        assert grad_cam(model, x, 1).max() <= 1.0
        assert saliency(model, x, 1).max() == pytest.approx(1.0)


@pytest.mark.parametrize("call, message", [
    (lambda m, x: grad_cam(m, x, 10), "classes 0 to 9"),
    (lambda m, x: saliency(m, x, -1), "does not exist"),
    (lambda m, x: grad_cam(m, x, 0, "F9"), "spatial layer"),
    (lambda m, x: grad_cam(m, x, 0, "C4"), "spatial layer"),
    (lambda m, x: occlusion(m, x, 0, window=300), "window"),
    (lambda m, x: occlusion(m, x, 0, window=16, stride=0), "stride"),
    (lambda m, x: saliency(m, torch.cat([x, x]), 0), "one image"),
])
def test_bad_requests_are_library_errors(model: nn.Module, call, message: str) -> None:
    with pytest.raises(AlexVizError, match=message):
        call(model, picture())


def test_occlusion_in_bf16_agrees_with_float32_and_leaves_the_model_alone(model: nn.Module) -> None:
    """bf16 runs on a cast twin: the same map up to bf16 rounding; the shared float32 weights stay as they were."""
    before = snapshot(model)
    x = picture()
    full = occlusion(model, x, 0, window=56, stride=56)
    half = occlusion(model, x, 0, window=56, stride=56, precision="bf16")
    assert half.dtype == np.float32 and half.shape == full.shape
    # bf16 keeps 8 bits of mantissa: logit drops differ by ~1 %, which moves single windows of the
    # max-normalised map by up to ~0.2 while the map as a whole stays the same.
    assert np.corrcoef(full.ravel(), half.ravel())[0, 1] > 0.95 and np.abs(full - half).max() < 0.25
    assert_unchanged(model, before)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    with pytest.raises(AlexVizError, match="float32, bf16"):
        occlusion(model, x, 0, precision="fp8")
