"""Ablation: the knocked-out prediction equals a forward recomputed by hand; the shared model is untouched."""
from __future__ import annotations

import pytest
import torch

from alexnet_viz.analysis.ablate import ablate, ablated_logits, tower_channels
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import PAPER
from alexnet_viz.errors import AlexVizError
from tests.helpers import assert_unchanged, picture, snapshot, tiny


def by_hand(model, x: torch.Tensor, layer: str, channels: list[int]) -> torch.Tensor:
    """The forward written out: run up to the layer's last module, zero the channels, run the rest."""
    path = list(model.part_paths(layer).values())[-1]
    where, idx = path.split(".")
    with torch.no_grad():
        if where == "features":
            h = model.features[: int(idx) + 1](x)
            h[:, channels] = 0
            h = model.classifier(torch.flatten(model.avgpool(model.features[int(idx) + 1:](h)), 1))
        else:
            h = model.classifier[: int(idx) + 1](torch.flatten(model.avgpool(model.features(x)), 1))
            h[:, channels] = 0
            h = model.classifier[int(idx) + 1:](h)
    return h


@pytest.mark.parametrize("layer, channels", [("C1", [0, 3]), ("S4", [5]), ("C7", [1, 2, 7]), ("F10", [4])])
def test_ablation_equals_the_forward_recomputed_by_hand(layer: str, channels: list[int]) -> None:
    model = build_model(tiny(), seed=0)
    x = picture()
    expected = by_hand(model, x, layer, channels)
    assert torch.allclose(ablated_logits(model, x, layer, channels), expected, atol=1e-5)
    with torch.no_grad():
        plain = model(x)
    assert not torch.allclose(plain, expected)  # the knock-out really changed something
    result = ablate(model, x, layer, channels, k=3)
    probs_after = torch.softmax(expected, 1)[0]
    probs_before = torch.softmax(plain, 1)[0]
    assert [s.index for s in result.after] == probs_after.argsort(descending=True)[:3].tolist()
    assert [s.index for s in result.before] == probs_before.argsort(descending=True)[:3].tolist()
    for s in result.before:
        assert s.before == pytest.approx(float(probs_before[s.index]), abs=1e-6)
        assert s.after == pytest.approx(float(probs_after[s.index]), abs=1e-6)
        assert s.delta == pytest.approx(s.after - s.before)


def test_knocking_out_a_whole_layer_makes_the_rest_blind_to_the_image() -> None:
    model = build_model(tiny(), seed=0)
    x, other = picture(), picture().flip(-1)
    everything = range(16)
    assert torch.allclose(ablated_logits(model, x, "C6", everything), ablated_logits(model, other, "C6", everything))


def test_a_gpu_tower_of_the_paper_network() -> None:
    spec = tiny(PAPER)
    assert tower_channels(spec, "C3", 0) == tuple(range(8)) and tower_channels(spec, "C3", 1) == tuple(range(8, 16))
    assert tower_channels(spec, "S2", 1) == tuple(range(4, 8))
    model = build_model(spec, seed=0)
    x = picture(227)
    chosen = list(tower_channels(spec, "C5", 1))
    assert torch.allclose(ablated_logits(model, x, "C5", chosen), by_hand(model, x, "C5", chosen), atol=1e-5)
    with pytest.raises(AlexVizError, match="paper"):
        tower_channels(tiny(), "C3", 0)


def test_the_shared_model_is_left_exactly_as_it_was() -> None:
    model = build_model(tiny(), seed=1)
    model.train()
    model.classifier.eval()
    before = snapshot(model)
    ablate(model, picture(), "C3", [0, 1])
    assert_unchanged(model, before)
    with torch.no_grad():  # and a plain forward afterwards is not ablated
        model.eval()
        assert torch.allclose(model(picture()), by_hand(model, picture(), "C3", []))


def test_bad_requests_are_library_errors() -> None:
    model = build_model(tiny(), seed=0)
    with pytest.raises(AlexVizError, match="0 to 15"):
        ablate(model, picture(), "C3", [16])
    with pytest.raises(AlexVizError, match="at least one"):
        ablate(model, picture(), "C3", [])
    with pytest.raises(AlexVizError, match="C4"):
        ablate(model, picture(), "C4", [0])
