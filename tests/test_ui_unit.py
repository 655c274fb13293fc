"""ui/unit.py's server-side guard: feature visualisations run a bounded number at a time per process."""
from __future__ import annotations

import threading

import pytest

import alexnet_viz.featviz
import ui.unit as unit
from alexnet_viz.errors import AlexVizError
from alexnet_viz.modelkey import ModelKey


def test_a_second_visitor_waits_for_the_slot_then_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    inside, release = threading.Event(), threading.Event()
    calls: list[tuple[str, int]] = []

    def slow(model: object, layer: str, channel: int, settings: object, progress: object = None) -> str:
        calls.append((layer, channel))
        inside.set()
        release.wait(30)
        return f"{layer}:{channel}"

    monkeypatch.setattr(alexnet_viz.featviz, "cached_visualize", slow)
    monkeypatch.setattr(unit, "shared_model", lambda key: object())
    monkeypatch.setattr(unit, "FEATVIZ_WAIT_S", 0.2)
    key = ModelKey("article", "random")
    results: list[object] = []
    first = threading.Thread(target=lambda: results.append(unit.compute_featvis(key, "C3", 1, print)))
    first.start()
    assert inside.wait(30)
    with pytest.raises(AlexVizError, match="being computed right now"):
        unit.compute_featvis(key, "C3", 2, print)
    release.set()
    first.join(30)
    assert results == ["C3:1"] and calls == [("C3", 1)]  # the refused visitor never started an optimisation
    assert unit.compute_featvis(key, "C3", 2, print) == "C3:2"  # the slot is free again afterwards
