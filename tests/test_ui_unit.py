"""ui/unit.py's server-side guard: feature visualisations run a bounded number at a time per process."""
from __future__ import annotations

import threading

import pytest

import alexnet_viz.analysis.featviz
import ui.unit as unit
from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.spec import ARTICLE, VARIANTS
from alexnet_viz.core.weightschoice import RANDOM
from alexnet_viz.errors import AlexVizError


def test_a_second_visitor_waits_for_the_slot_then_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    inside, release = threading.Event(), threading.Event()
    calls: list[tuple[str, int]] = []

    def slow(model: object, layer: str, channel: int, settings: object, progress: object = None) -> str:
        calls.append((layer, channel))
        inside.set()
        release.wait(30)
        return f"{layer}:{channel}"

    monkeypatch.setattr(alexnet_viz.analysis.featviz, "cached_visualize", slow)
    monkeypatch.setattr(unit, "shared_model", lambda key: object())
    monkeypatch.setattr(unit, "FEATVIZ_WAIT_S", 0.2)
    key = ModelKey(ARTICLE, RANDOM)
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


PHONE_COLUMN = 358  # px: a 390-px phone viewport less Streamlit's side padding (measured in screenshots)


@pytest.mark.parametrize("variant", ["article", "paper", "torchvision"])
def test_kernel_pictures_fit_a_phone(variant: str) -> None:
    """Each conv kernel view, and F9's, is drawn at a fixed width: it must fit the phone's column, not overflow it."""
    from alexnet_viz.core.bookkeeping import ledger

    key = ModelKey(VARIANTS[variant], RANDOM)
    for row in ledger(variant).rows:
        view = unit.kernel_view(key, row.name, 1)
        if row.kind in ("conv",) or row.name == "F9":
            assert view is not None and view.width <= PHONE_COLUMN, (row.name, view and view.width)
        else:
            assert view is None, row.name


def test_feature_visualisation_sets_and_patch_mosaics_fit_a_phone() -> None:
    import io

    import numpy as np
    from PIL import Image

    from alexnet_viz.analysis.featviz import FeatureVis, Settings
    from alexnet_viz.figures import mosaic

    four = FeatureVis("C3", 0, np.zeros((4, 128, 128, 3), np.uint8), (0.0,) * 4, 0.0, Settings(batch=4))
    assert Image.open(io.BytesIO(unit.featvis_png(four))).width <= PHONE_COLUMN
    sixteen = mosaic.tile_rgb(np.zeros((16, unit.PATCH, unit.PATCH, 3), np.uint8), cols=unit.PATCH_COLS,
                              gap=unit.PATCH_GAP)  # a 16-image index's mosaic, as patches() lays it out
    assert sixteen.image.shape[1] <= PHONE_COLUMN
