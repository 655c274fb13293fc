"""capture / predict / pick_device / categories: what they return, and that the model is untouched."""
from __future__ import annotations

import threading
from functools import partial

import pytest
import torch
from torch import nn

from alexnet_viz import ledger
from alexnet_viz.analysis.probe import capture, categories, predict, predict_batch
from alexnet_viz.core.device import pick_device
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import ARTICLE, PAPER, TORCHVISION, Spec
from alexnet_viz.errors import AlexVizError, DeviceError, SpecError
from tests import helpers
from tests.helpers import assert_unchanged, snapshot

# The variant's own initialisation (the paper's: C3's bias of 1 below) and ImageNet's 1000 classes.
tiny = partial(helpers.tiny, classes=1000, init=None)


def image(size: int = 224, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, size, size, generator=g)


@pytest.mark.parametrize("base", [ARTICLE, PAPER, TORCHVISION], ids=lambda s: s.name)
def test_every_layer_is_captured_with_the_ledgers_shape(base: Spec) -> None:
    spec = tiny(base)
    model = build_model(spec, seed=0)
    out = capture(model, image(spec.input_size))
    book = ledger(spec)
    relu = {l.name for l in spec.layers if l.relu}
    expected = [k for l in spec.layers for k in ((f"{l.name}.pre",) if l.relu else ()) + (l.name,)]
    assert list(out) == expected
    for row in book.rows:
        assert tuple(out[row.name].shape[1:]) == row.out_shape, row.name
        if row.name in relu:
            assert out[f"{row.name}.pre"].shape == out[row.name].shape or "lrn" in model.parts(row.name)
    for value in out.values():
        assert value.device.type == "cpu" and not value.requires_grad


def test_logits_equal_a_plain_forward_and_relu_outputs_are_the_relu_of_pre() -> None:
    model = build_model(tiny(), seed=1)
    x = image(seed=1)
    out = capture(model, x)
    with torch.no_grad():
        assert torch.allclose(out["F11"], model(x))
    for name in ("C1", "C3", "C5", "F9", "F10"):
        assert torch.equal(out[name], torch.relu(out[f"{name}.pre"]))


def test_c1_pre_relu_map_has_negative_values_and_c1_has_none() -> None:
    """Regression: an in-place ReLU once made the captured 'pre-ReLU' map identical to the output."""
    model = build_model(ARTICLE, seed=0)
    out = capture(model, image(), ["C1"])
    assert set(out) == {"C1.pre", "C1"}
    assert float(out["C1.pre"].min()) < 0
    assert float(out["C1"].min()) == 0.0


def test_inplace_relu_does_not_overwrite_the_captured_pre_map() -> None:
    model = build_model(tiny(), seed=0)
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = True
    out = capture(model, image(), ["C1", "C5"])
    assert float(out["C1.pre"].min()) < 0 and float(out["C5.pre"].min()) < 0  # C3's bias of 1 keeps it positive
    assert float(out["C1"].min()) == 0.0


def test_a_subset_matches_the_full_capture() -> None:
    model = build_model(tiny(), seed=2)
    x = image(seed=2)
    full = capture(model, x)
    part = capture(model, x, ["S4", "C7"])
    assert list(part) == ["S4", "C7.pre", "C7"]
    assert all(torch.equal(part[k], full[k]) for k in part)
    assert list(capture(model, x, "S8")) == ["S8"]


def test_unknown_layer_is_a_library_error_and_leaves_no_hook() -> None:
    model = build_model(tiny(), seed=0)
    before = snapshot(model)
    with pytest.raises(SpecError, match="C4"):
        capture(model, image(), ["C1", "C4"])
    assert_unchanged(model, before)


def test_a_shared_model_is_left_exactly_as_it_was() -> None:
    model = build_model(tiny(), seed=3)
    model.train()
    model.classifier.eval()  # a mixed state must come back as it was, module by module
    model.layer("C1").weight.requires_grad_(False)
    before = snapshot(model)
    x = image(seed=3)
    out = capture(model, x)
    assert_unchanged(model, before)
    # dropout was off during the capture (eval), so it is repeatable
    assert torch.equal(capture(model, x)["F11"], out["F11"])
    out = capture(model, x.clone().requires_grad_(True), grad=True)
    out["F11"][0, 1].backward()
    for p in model.parameters():  # the test's own backward filled .grad; the capture itself did not
        p.grad = None
    assert_unchanged(model, before)


def test_grad_mode_keeps_the_graph_for_attribution() -> None:
    model = build_model(tiny(), seed=4)
    before = snapshot(model)
    x = image(seed=4).requires_grad_(True)
    out = capture(model, x, ["C7", "F11"], grad=True)
    assert out["C7"].requires_grad and out["F11"].requires_grad
    out["F11"][0, 3].backward()
    assert out["C7"].grad is not None and out["C7"].grad.shape == out["C7"].shape
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    for p in model.parameters():
        p.grad = None
    assert_unchanged(model, before)


def test_another_threads_forward_is_not_recorded() -> None:
    """The app's model is shared: a forward from another session during a capture must not leak in."""
    model = build_model(tiny(), seed=5)
    x, other = image(seed=5), image(seed=6)
    with torch.no_grad():
        expected = model(x)
    fired = []

    def interleave(module, inputs, output):
        if not fired:
            fired.append(True)
            worker = threading.Thread(target=lambda: model(other))
            worker.start()
            worker.join()

    handle = model.layer("C1").register_forward_hook(interleave)
    try:
        out = capture(model, x)
    finally:
        handle.remove()
    assert fired and torch.equal(out["F11"], expected)


def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")
    assert pick_device("auto") == torch.device("cpu")
    assert pick_device("CPU") == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert pick_device() == torch.device("cuda")
    assert pick_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(DeviceError, match="cuda:0 to cuda:0"):
        pick_device("cuda:1")


@pytest.mark.parametrize("name", ["cuda", "mps", "tpu", "gpu please", "xla"])
def test_pick_device_refuses_what_the_machine_lacks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(DeviceError) as info:
        pick_device(name)
    assert isinstance(info.value, AlexVizError) and "cpu" in str(info.value)


def test_categories() -> None:
    names = categories(1000)
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[0] == "tench" and names[281] == "tabby"
    assert categories(3) == ["class 0", "class 1", "class 2"]


def test_categories_are_the_weights_own() -> None:
    """Read from torchvision's data file without importing torchvision; still the enum's list."""
    from torchvision.models import AlexNet_Weights

    assert categories(1000) == list(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


def test_predict_matches_the_softmax_of_the_logits() -> None:
    model = build_model(tiny(), seed=7)
    before = snapshot(model)
    x = image(seed=7)
    pred = predict(model, x, k=5)
    with torch.no_grad():
        probs = torch.softmax(model(x), dim=1)[0]
    top = probs.topk(5)
    assert pred.indices == tuple(top.indices.tolist())
    assert pred.probs == pytest.approx(tuple(top.values.tolist()), abs=1e-6)
    assert list(pred.probs) == sorted(pred.probs, reverse=True)
    assert pred.labels == tuple(categories(1000)[i] for i in pred.indices)
    assert pred.latency_ms > 0 and pred.device_name.startswith("CPU (")
    assert_unchanged(model, before)


def test_predict_batch_agrees_with_predict_row_by_row() -> None:
    model = build_model(tiny(classes=10), seed=8)
    x = torch.cat([image(seed=s) for s in range(3)])
    rows = predict_batch(model, x, k=3)
    assert len(rows) == 3
    for i, row in enumerate(rows):
        single = predict(model, x[i:i + 1], k=3)
        assert row.indices == single.indices and row.probs == pytest.approx(single.probs, abs=1e-5)
        assert row.labels[0].startswith("class ")
    assert len(predict(model, x[:1], k=50).indices) == 10  # k is capped at the number of classes


def test_predict_with_bf16_autocast_on_cpu_and_refusals() -> None:
    model = build_model(tiny(), seed=9)
    x = image(seed=9)
    pred = predict(model, x, k=3, autocast="bf16")
    assert len(pred.indices) == 3 and all(0 <= p <= 1 for p in pred.probs)
    with pytest.raises(AlexVizError, match="autocast"):
        predict(model, x, autocast="int4")
    with pytest.raises(AlexVizError, match="predict_batch"):
        predict(model, torch.cat([x, x]))
    with pytest.raises(AlexVizError, match="at least 1"):
        predict(model, x, k=0)
