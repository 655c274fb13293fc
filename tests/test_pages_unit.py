"""The unit page under AppTest: deep links, feature visualisation on demand then from disk, dataset patches
from an offered index, the kernel, ablation; and the links to it from the feature-map and filter pages."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from alexnet_viz.core.spec import ARTICLE
from alexnet_viz.core.weightschoice import RANDOM
from tests.helpers import open_page, texts
from tests.test_pages_image import FEATURES, FILTERS
from ui.navigation import PAGE_DIR

UNIT = f"{PAGE_DIR}/unit.py"
WORDS = ("caption", "markdown", "image")  # the unit page's text: its captions, markdown, pictures' captions


@pytest.fixture(autouse=True)
def _offline(random_weights_on_cpu, monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ALEXNET_INDEX", raising=False)


def test_a_deep_link_opens_the_unit_and_says_random_weights_mean_nothing() -> None:
    at = open_page(UNIT, {"layer": "C3", "channel": "17"})
    assert at.selectbox(key="unit_layer").value == "C3" and at.number_input(key="unit_channel").value == 17
    assert any("random" in w.value for w in at.warning)
    text = texts(at, WORDS)
    assert "No picture for C3 channel 17 yet" in text and "No dataset index" in at.info[0].value
    assert "input channels" in text  # the strongest slices of a deep kernel
    assert "C3 channel 17 over the image" in text
    assert len(at.dataframe) == 1  # the ablation table
    assert at.query_params.get("layer") == "C3" and at.query_params.get("channel") == "17"


@pytest.mark.slow
def test_the_feature_visualisation_is_computed_once_then_read_from_disk() -> None:
    at = open_page(UNIT, {"layer": "C1", "channel": "4"})
    at.button(key="unit_compute").click().run()
    assert not at.exception
    assert "An image optimised to excite C1 channel 4" in texts(at, WORDS)
    # issue 20: the offer goes in the run that shows the picture, not at the next rerun
    assert "No picture for" not in texts(at, WORDS) and not [b for b in at.button if b.key == "unit_compute"]
    again = open_page(UNIT, {"layer": "C1", "channel": "4"})  # a new session: the server's disk cache answers
    assert "An image optimised to excite C1 channel 4" in texts(again, WORDS)
    assert not [b for b in again.button if b.key == "unit_compute"]
    assert "colour picture" in texts(again, WORDS)  # C1's kernel in colour
    again.button(key="unit_diverse").click().run()
    assert not again.exception and "4 images for C1 channel 4, optimised together to differ" in texts(again, WORDS)
    assert "images optimised together, each for the unit" not in texts(again, WORDS)


def test_a_pooling_layer_has_no_kernel_and_the_paper_network_knocks_out_a_gpu() -> None:
    at = open_page(UNIT, {"layer": "S4", "channel": "3", "variant": "paper"})
    assert "pooling layer: it has no weights" in texts(at, WORDS)
    at.radio(key="unit_knock").set_value("tower1").run()
    assert not at.exception and "setting 128 channels of S4" in texts(at, WORDS)


def test_several_channels_are_knocked_out_together() -> None:
    """The page's numbers are the library's for channels 3, 5 and 9 of the default sample, recomputed here."""
    import torch

    from alexnet_viz.analysis.ablate import ablate
    from alexnet_viz.core.weights import load_model
    from alexnet_viz.inputs.images import load_image, to_tensor
    from ui.image_input import DEFAULT_SAMPLE, SAMPLES, SAMPLES_DIR

    at = open_page(UNIT, {"layer": "C3", "channel": "3"})
    at.radio(key="unit_knock").set_value("several").run()
    at.multiselect(key="unit_more").set_value([9, 5]).run()
    assert not at.exception and "setting 3 channels of C3" in texts(at, WORDS)
    shown = at.dataframe[0].value
    x = to_tensor(load_image(SAMPLES_DIR / SAMPLES[DEFAULT_SAMPLE][0]), ARTICLE)
    expected = ablate(load_model("article", "random", device="cpu"), x, "C3", (3, 5, 9))
    rows = {s.label: s for s in (*expected.before, *expected.after)}
    assert list(shown["class"]) == list(rows)
    assert torch.allclose(torch.tensor(list(shown["after"]), dtype=torch.float64),
                          torch.tensor([s.after * 100 for s in rows.values()], dtype=torch.float64), atol=1e-3)
    one = ablate(load_model("article", "random", device="cpu"), x, "C3", (3,))
    assert [s.after for s in one.before] != [s.after for s in expected.before]  # the others really were zeroed


@pytest.mark.slow
def test_an_offered_index_shows_the_top_patches(tmp_path, monkeypatch) -> None:
    from alexnet_viz.analysis.index import build_index, save_index
    from ui.image_input import SAMPLES_DIR

    index = build_index(SAMPLES_DIR, spec=ARTICLE, weights=RANDOM, k=3, workers=0)
    monkeypatch.setenv("ALEXNET_INDEX", str(save_index(index, tmp_path / "samples.npz")))
    at = open_page(UNIT, {"layer": "C5", "channel": "2"})
    text = texts(at, WORDS)
    assert "The 3 images of 4 in **samples.npz** where C5 channel 2 fires most" in text
    best = index.top("C5", 2)[0]
    assert f"row by row: {best[1]:.3g} {best[0].name};" in text


def _link_query(at: AppTest) -> dict[str, str]:
    links = [e for e in at.get("page_link") if "unit" in e.proto.page]
    assert links, "no link to the unit page"
    return {k: v[0] for k, v in parse_qs(links[0].proto.query_string).items()}


def test_the_feature_map_and_filter_pages_link_to_the_unit() -> None:
    at = open_page(FEATURES, {"layer": "C3", "channel": "5"})
    assert _link_query(at) == {"layer": "C3", "channel": "5", "variant": "article"}
    at = open_page(FILTERS, {"layer": "C5"})
    at.number_input(key="flt_kernel").set_value(7).run()
    assert _link_query(at) == {"layer": "C5", "channel": "7", "variant": "article"}


@pytest.mark.parametrize("layer", ["C1", "S8", "C7"])
def test_the_torchvision_network_and_a_broken_offered_index(layer, tmp_path, monkeypatch) -> None:
    (tmp_path / "broken.npz").write_bytes(b"not an index")
    monkeypatch.setenv("ALEXNET_INDEX", str(tmp_path / "broken.npz"))
    at = open_page(UNIT, {"layer": layer, "channel": "3", "variant": "torchvision"})
    assert not at.error and "No dataset index" in at.info[0].value and len(at.dataframe) == 1


def test_a_class_logit_is_a_unit_too() -> None:
    at = open_page(UNIT, {"layer": "F11", "channel": "281"})
    assert at.selectbox(key="unit_layer").value == "F11"
    text = texts(at, WORDS)
    assert "logit (score before the softmax) of class **tabby**" in text
    assert "No picture for F11 class 281 yet" in text and "a minute or two" in text
    assert "For this image the network gives **tabby** a logit of" in text
    assert not at.dataframe  # no ablation table, no kernel, no patches for a class


def test_a_fully_connected_unit_is_a_unit_too() -> None:
    """F9 and F10 units: a feature visualisation, no dataset patch, F9's weights as the S8 maps it reads."""
    import numpy as np

    from alexnet_viz.core.weights import load_model

    at = open_page(UNIT, {"layer": "F9", "channel": "5"})
    text = texts(at, WORDS)
    assert "F9 is a fully connected layer of 4096 units; each reads all 9,216 outputs" in text
    assert "No picture for F9 unit 5 yet" in text and "a minute or two" in text
    assert "there is no patch to show" in text and not at.info
    w = load_model("article", "random", device="cpu").weight("F9")[5].detach().numpy().reshape(256, 36)
    strongest = np.argsort(-np.linalg.norm(w, axis=1), kind="stable")[:8]  # S8's 256 maps of 6x6, flattened C-major
    assert f"S8 channels {', '.join(map(str, strongest))}:" in text
    assert "For this image F9 unit 5 is" in text and "rank" in text
    assert len(at.dataframe) == 1 and "setting 1 unit of F9" in text
    at = open_page(UNIT, {"layer": "F10", "channel": "7"})
    assert not at.exception and "F10 unit 7 has 4,096 weights" in texts(at, WORDS) and len(at.dataframe) == 1
